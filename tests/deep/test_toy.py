"""Tests of helpers.deep.toy against independent references (quadrature, Bayes' rule, Monte Carlo)."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import Z_TOL, generator

from helpers.deep.toy import (
    elbo_gradient_terms,
    elbo_gradient_variance,
    gaussian_iwelbo,
    gaussian_log_weights,
)
from helpers.models import ConjugateGaussian

DT = torch.float64


def _model(dim: int = 2) -> ConjugateGaussian:
    x = torch.randn((5, dim), generator=generator(0), dtype=DT) + 1.5
    return ConjugateGaussian(x, prior_mean=0.3, prior_sd=1.3, noise_sd=0.8)


def test_log_weights_are_constant_at_the_posterior_and_the_iwelbo_is_exact():
    model = _model()
    m, s = model.posterior()
    eps = torch.randn((100, 2), generator=generator(2), dtype=DT)
    torch.testing.assert_close(
        gaussian_log_weights(model, m, s, eps), torch.full((100,), model.log_evidence(), dtype=DT)
    )
    torch.testing.assert_close(
        gaussian_iwelbo(model, m, s, 7, 3, generator=generator(3)), torch.full((3,), model.log_evidence(), dtype=DT)
    )


def test_iwelbo_one_sample_is_the_elbo_and_bounds_increase():
    model = _model()
    m, s = model.posterior()
    loc, scale = m + 1.0, s * 0.5
    l1 = gaussian_iwelbo(model, loc, scale, 1, 20_000, generator=generator(4))
    # closed-form ELBO = log p(x) - KL(q || posterior)
    kl = (torch.log(s / scale) + (scale**2 + (loc - m) ** 2) / (2 * s**2) - 0.5).sum()
    assert abs(float(l1.mean()) - (model.log_evidence() - float(kl))) < Z_TOL * float(l1.std()) / math.sqrt(len(l1))
    # non-decreasing in K and below log p(x), judged in standard errors (independent draws for each K)
    draws = [gaussian_iwelbo(model, loc, scale, k, 4000, generator=generator(5 + k)) for k in (1, 10, 100)]
    means = [float(d.mean()) for d in draws]
    ses = [float(d.std()) / math.sqrt(len(d)) for d in draws]
    for i in (0, 1):
        assert means[i + 1] - means[i] > -Z_TOL * math.hypot(ses[i], ses[i + 1])
    assert means[2] < model.log_evidence() + Z_TOL * ses[2]
    assert means[2] - means[0] > Z_TOL * math.hypot(ses[0], ses[2])  # and strictly larger: q is poor here


def test_gradient_terms_are_unbiased_and_have_the_exact_variance():
    model = _model()
    m, s = model.posterior()
    loc, scale = m + torch.tensor([0.4, -0.2], dtype=DT), s * torch.tensor([0.7, 1.4], dtype=DT)
    eps = torch.randn((40_000, 2), generator=generator(6), dtype=DT)
    exact_total, exact_path = elbo_gradient_variance(model, loc, scale)
    # the exact ELBO gradient: ELBO = log p(x) - KL(q || N(m, s^2))
    grad_loc = -(loc - m) / s**2
    grad_scale = 1 / scale - scale / s**2
    reference = torch.cat([grad_loc, grad_scale])
    for path, exact in ((False, exact_total), (True, exact_path)):
        terms = elbo_gradient_terms(model, loc, scale, eps, path_derivative=path)
        mean, se = terms.mean(0), terms.std(0) / math.sqrt(len(terms))
        assert ((mean - reference).abs() < Z_TOL * se).all()
        var = terms.var(0)
        var_se = torch.sqrt(((terms - mean) ** 4).mean(0) - var**2) / math.sqrt(len(terms))
        assert ((var - exact).abs() < Z_TOL * var_se).all()


def test_path_derivative_is_zero_at_the_posterior_and_total_derivative_is_not():
    model = _model()
    m, s = model.posterior()
    eps = torch.randn((1000, 2), generator=generator(7), dtype=DT)
    path = elbo_gradient_terms(model, m, s, eps, path_derivative=True)
    total = elbo_gradient_terms(model, m, s, eps)
    assert path.abs().max() < 1e-12
    assert total.var(0).min() > 0.1
    exact_total, exact_path = elbo_gradient_variance(model, m, s)
    assert (exact_path == 0).all() and (exact_total > 0).all()


def test_bad_input_raises():
    model = _model()
    with pytest.raises(ValueError, match="scale"):
        gaussian_iwelbo(model, torch.zeros(2, dtype=DT), -torch.ones(2, dtype=DT), 5, 5)
    with pytest.raises(ValueError, match="num_samples"):
        gaussian_iwelbo(model, torch.zeros(2, dtype=DT), torch.ones(2, dtype=DT), 0, 5)
    with pytest.raises(ValueError, match="eps"):  # (S, 1) would broadcast silently over D = 2 coordinates
        gaussian_log_weights(model, torch.zeros(2, dtype=DT), torch.ones(2, dtype=DT), torch.zeros(5, 1, dtype=DT))
