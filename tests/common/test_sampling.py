"""helpers.common.sampling: the one Gamma sampler of the course, against scipy's Gamma distribution."""

from __future__ import annotations

import pytest
from _shared import Z_TOL, generator
from scipy import stats

from helpers import common
from helpers.common.sampling import sample_gamma


@pytest.mark.parametrize("shape", [0.4, 1.0, 51.5])
def test_gamma_sampler_matches_scipy(shape):
    draws = sample_gamma(shape, 2.5, 20_000, generator(3))
    assert draws.shape == (20_000,)
    assert stats.kstest(draws.numpy(), stats.gamma(shape, scale=1 / 2.5).cdf).pvalue > 1e-4
    mean, se = common.mean_and_se(draws)
    assert abs(float(mean) - shape / 2.5) < Z_TOL * float(se)


def test_sampling_is_reproducible_with_a_generator():
    assert (sample_gamma(0.7, 1.0, 100, generator(5)) == sample_gamma(0.7, 1.0, 100, generator(5))).all()


@pytest.mark.parametrize(
    ("shape", "rate", "match"), [(0.0, 1.0, "shape"), (2.0, -1.0, "rate"), (float("nan"), 1.0, "shape")]
)
def test_bad_parameters_raise_naming_the_argument(shape, rate, match):
    with pytest.raises(ValueError, match=match):
        sample_gamma(shape, rate, 3)
