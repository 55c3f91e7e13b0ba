"""Standard errors against numpy and against the known sampling distribution of a normal sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers import common


def test_mean_and_se_match_numpy():
    values = torch.randn(1000, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mean, se = common.mean_and_se(values)
    np.testing.assert_allclose(mean.numpy(), values.numpy().mean(0))
    np.testing.assert_allclose(se.numpy(), values.numpy().std(0, ddof=1) / math.sqrt(1000))


def test_variance_se_matches_the_normal_theory_value():
    # for a normal sample, SE(s^2) = sigma^2 sqrt(2 / n); our estimate uses the sample's 4th moment, whose
    # relative SE is sqrt((105 - 9) / 9 / n) = 0.7% at n = 2e5, so the SE estimate is within ~0.4% (1 SE): 2% is 5 SE
    values = 3.0 * torch.randn(200_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    var, se = common.variance_and_se(values)
    assert float(se) == pytest.approx(9.0 * math.sqrt(2 / 200_000), rel=0.02)
    assert abs(float(var) - 9.0) < 4.5 * float(se)


def test_z_scores_and_too_few_values():
    assert float(common.z_scores(torch.tensor(3.0), torch.tensor(0.5), torch.tensor(2.0))) == 2.0
    with pytest.raises(ValueError, match="at least 2"):
        common.mean_and_se(torch.ones(1))


def test_interval_table_lists_every_quantity_with_its_half_width():
    table = common.interval_table(
        {"a": (torch.tensor([1.0, 2.0]), torch.tensor([0.1, 0.2]))}, torch.tensor([1.05, 2.1]), ["x", "y"]
    )
    assert "x" in table and "y" in table and "1.0000 ± 0.1960" in table and "2.0000 ± 0.3920" in table
    assert table.splitlines()[0].startswith("(± 95%)")  # the table says what its ± means


def test_interval_table_columns_stay_aligned_with_long_quantity_names():
    rows = {"estimator": (torch.tensor([1.0, 2.0]), torch.tensor([0.1, 0.2]))}
    table = common.interval_table(rows, torch.tensor([1.05, 2.1]), ["a", "a much longer quantity name"])
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1  # every row as wide as the header
    assert len({line.index(".") for line in lines[1:]}) == 1  # the reference column's decimal points line up


def test_total_variance_is_the_trace_of_the_covariance():
    cov = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]], dtype=torch.float64)
    dist = torch.distributions.MultivariateNormal(torch.zeros(3, dtype=torch.float64), cov)
    torch.manual_seed(0)
    draws = dist.sample((20_000,))
    value, se = common.total_variance_and_se(draws)
    torch.testing.assert_close(value, torch.diagonal(torch.cov(draws.T)).sum())  # the unbiased sample trace
    assert abs(float(value) - 3.5) < 4.5 * float(se)
    pairs = common.total_variance_from_pairs(draws[::2], draws[1::2])
    mean, pair_se = common.mean_and_se(pairs)
    assert abs(float(mean) - 3.5) < 4.5 * float(pair_se)
    with pytest.raises(ValueError, match="R >= 2"):
        common.total_variance_terms(draws[:1])


def test_ratio_standard_errors_paired_and_unpaired():
    g = torch.Generator().manual_seed(1)
    n = 4_000
    b = 2.0 + torch.randn(n, generator=g, dtype=torch.float64)
    a = 3.0 * b + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)  # strongly paired
    r, se = common.paired_ratio_and_se(a, b)
    assert abs(r - 3.0) < 4.5 * se and se < 0.01  # pairing removes most of the noise
    (ma, sa), (mb, sb) = common.mean_and_se(a), common.mean_and_se(b)
    r_u, se_u = common.ratio_and_se(ma, sa, mb, sb)
    assert math.isclose(float(r_u), r) and float(se_u) > 10 * se  # treating them as independent is conservative
    # the delta-method SE of the paired ratio is the spread of ratios over replications
    ratios = []
    for _ in range(200):
        bb = 2.0 + torch.randn(200, generator=g, dtype=torch.float64)
        aa = 3.0 * bb + torch.randn(200, generator=g, dtype=torch.float64)
        ratios.append(common.paired_ratio_and_se(aa, bb))
    spread = float(torch.tensor([r for r, _ in ratios]).std())
    mean_se = sum(s for _, s in ratios) / len(ratios)
    assert abs(mean_se / spread - 1) < 0.2  # the SE of a standard deviation from 200 replications is 5%


def test_exact_variance_se_is_the_normal_theory_value():
    # for a normal sample mu4 = 3 sigma^4 and Var(s^2) = 2 sigma^4 / (n - 1) exactly
    for n in (2, 5, 1000):
        se = common.exact_variance_se(9.0, 3 * 81.0, n)
        assert float(se) == pytest.approx(math.sqrt(2 * 81.0 / (n - 1)), rel=1e-12)


def test_exact_variance_se_matches_a_simulation_of_small_uniform_samples():
    # uniform(0, 1): sigma^2 = 1/12, mu4 = 1/80; n = 4, where (n - 3)/(n - 1) differs most from 1. The empirical
    # variance of 400,000 replicated s^2 is compared in units of its own (large-sample) SE: 4.5 SE
    values = torch.rand(400_000, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    s2 = values.var(1)
    var_s2, var_s2_se = common.variance_and_se(s2)
    exact = float(common.exact_variance_se(1 / 12, 1 / 80, 4)) ** 2
    assert abs(float(var_s2) - exact) < 4.5 * float(var_s2_se)
    assert abs(float(s2.mean()) - 1 / 12) < 4.5 * float(s2.std()) / math.sqrt(400_000)  # s^2 is unbiased


def test_mean_central_moments_of_exponential_draws_are_the_gamma_moments():
    # the mean of m Exponential(1) draws is Gamma(m, rate m): variance 1/m, fourth central moment 3 (m + 2) / m^3
    for m in (1, 3, 10):
        var, mu4 = common.mean_central_moments(1.0, 9.0, m)
        assert float(var) == pytest.approx(1 / m, rel=1e-12)
        assert float(mu4) == pytest.approx(3 * (m + 2) / m**3, rel=1e-12)


# ------------------------------------------------------------------------------------------------- the verdict rule


def test_quantile_interval_covers_the_population_quantile_at_its_level():
    """Coverage of the order-statistics interval for the median and the 0.9-quantile of an exponential sample,
    over 4,000 replications: at least the level, within 4.5 binomial SEs (the interval is conservative)."""
    import math

    from helpers import common

    g = torch.Generator().manual_seed(0)
    reps, n = 4_000, 60
    for q in (0.5, 0.9):
        truth = -math.log(1 - q)  # the q-quantile of Exp(1)
        draws = -torch.log(torch.rand((reps, n), generator=g, dtype=torch.float64))
        covered = 0
        for row in draws:
            est, low, high = common.quantile_interval(row, q)
            assert low <= est <= high
            covered += low <= truth <= high
        rate = covered / reps
        assert rate > 0.95 - 4.5 * math.sqrt(0.95 * 0.05 / reps), (q, rate)
    with pytest.raises(ValueError, match="needs more entries"):
        common.quantile_interval(torch.arange(5.0), 0.5)
    with pytest.raises(ValueError, match=r"\bq\b"):
        common.quantile_interval(torch.arange(50.0), 1.5)
