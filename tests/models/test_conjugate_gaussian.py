"""helpers.models.ConjugateGaussian: its evidence against quadrature, its posterior and evidence through Bayes' rule."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import generator
from scipy import integrate

from helpers.models import ConjugateGaussian

DT = torch.float64


def _model(dim: int = 2) -> ConjugateGaussian:
    x = torch.randn((5, dim), generator=generator(0), dtype=DT) + 1.5
    return ConjugateGaussian(x, prior_mean=0.3, prior_sd=1.3, noise_sd=0.8)


def test_evidence_matches_quadrature_in_one_dimension():
    model = _model(dim=1)
    shift, centre = 11.0, float(model.posterior()[0])  # integrate e^(log p + shift), of order one, around the peak
    value, _ = integrate.quad(
        lambda z: math.exp(float(model.log_joint(torch.tensor([z], dtype=DT))) + shift),
        centre - 10,
        centre + 10,
        points=[centre],
        epsabs=1e-14,
        epsrel=1e-12,
    )
    assert math.isclose(model.log_evidence(), math.log(value) - shift, rel_tol=1e-10)


def test_bayes_rule_holds_at_any_z():
    # log p(x, z) - log p(z | x) = log p(x) for every z: checks posterior and evidence together
    model = _model(dim=3)
    m, s = model.posterior()
    z = torch.randn((7, 3), generator=generator(1), dtype=DT) * 2
    log_post = (-0.5 * ((z - m) / s) ** 2 - torch.log(s) - 0.5 * math.log(2 * math.pi)).sum(-1)
    torch.testing.assert_close(model.log_joint(z) - log_post, torch.full((7,), model.log_evidence(), dtype=DT))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="prior_sd"):
        ConjugateGaussian(torch.zeros(3, 1), prior_sd=-1.0)
    with pytest.raises(ValueError, match="shape"):
        ConjugateGaussian(torch.zeros(3))
    with pytest.raises(ValueError, match="prior_mean"):
        ConjugateGaussian(torch.zeros(3, 1), prior_mean=float("nan"))
