"""NormalGamma against independent references: torch.distributions, 2-D quadrature, sampling, Bayes' rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _shared import Z_TOL, generator
from scipy import integrate
from torch.distributions import Gamma, Normal

from helpers import models

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)  # the course assignment's prior


def _data(n: int, seed: int = 0) -> torch.Tensor:
    return 2.0 + 0.7 * torch.randn(n, dtype=DT, generator=generator(seed))


def _draws(seed: int = 1, s: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    g = generator(seed)
    return 3.0 * torch.randn(s, dtype=DT, generator=g), 0.05 + 5.0 * torch.rand(s, dtype=DT, generator=g)


def test_log_prob_matches_torch_distributions():
    mu, tau = _draws()
    reference = Normal(PRIOR.mu0, 1.0 / torch.sqrt(PRIOR.lambda0 * tau)).log_prob(mu) + Gamma(
        torch.tensor(PRIOR.a0, dtype=DT), torch.tensor(PRIOR.b0, dtype=DT)
    ).log_prob(tau)
    torch.testing.assert_close(PRIOR.log_prob(mu, tau), reference, rtol=1e-12, atol=1e-12)


def test_log_likelihood_matches_a_sum_of_normal_log_densities():
    x = _data(13)
    mu, tau = _draws()
    reference = Normal(mu[:, None], 1.0 / torch.sqrt(tau)[:, None]).log_prob(x).sum(-1)
    torch.testing.assert_close(PRIOR.log_likelihood(x, mu, tau), reference, rtol=1e-12, atol=1e-10)


def test_density_is_minus_infinity_outside_the_support():
    out = PRIOR.log_joint(_data(3), torch.tensor([0.0, 0.0]), torch.tensor([0.0, -1.0]))
    assert torch.equal(out, torch.full((2,), -math.inf, dtype=DT))


@pytest.mark.parametrize("n", [1, 10, 100])
def test_bayes_rule_holds_pointwise(n):
    """p(mu, tau | x) = p(x, mu, tau) / p(x): checks posterior() and log_evidence() together, at many points."""
    x = _data(n)
    post = PRIOR.posterior(x)
    mu, tau = _draws()
    torch.testing.assert_close(
        post.log_prob(mu, tau), PRIOR.log_joint(x, mu, tau) - PRIOR.log_evidence(x), rtol=1e-10, atol=1e-9
    )


def test_log_evidence_matches_two_dimensional_quadrature():
    x = _data(10)
    post = PRIOR.posterior(x)
    shift = PRIOR.log_evidence(x)  # only rescales the integrand to order one; the integral is independent of it

    xs = x.tolist()

    def integrand(mu: float, tau: float) -> float:
        # log p(x, mu, tau) written out with scalars, independently of NormalGamma.log_joint
        log_lik = sum(0.5 * math.log(tau / (2 * math.pi)) - 0.5 * tau * (xn - mu) ** 2 for xn in xs)
        log_mu = 0.5 * math.log(PRIOR.lambda0 * tau / (2 * math.pi)) - 0.5 * PRIOR.lambda0 * tau * (mu - PRIOR.mu0) ** 2
        log_tau = (
            PRIOR.a0 * math.log(PRIOR.b0) - math.lgamma(PRIOR.a0) + (PRIOR.a0 - 1) * math.log(tau) - PRIOR.b0 * tau
        )
        return math.exp(log_lik + log_mu + log_tau - shift)

    sd_mu = math.sqrt(post.var_mu)
    integral, error = integrate.dblquad(
        integrand,
        1e-9,
        post.mean_tau + 30 * math.sqrt(post.var_tau),
        post.mu0 - 30 * sd_mu,
        post.mu0 + 30 * sd_mu,
        epsabs=1e-10,
        epsrel=1e-10,
    )
    assert error < 1e-8
    assert math.log(integral) == pytest.approx(0.0, abs=1e-7)


def test_log_evidence_equals_the_product_of_posterior_predictives():
    """Chain rule p(x) = prod_n p(x_n | x_<n): each factor a Student-t with 2a degrees of freedom (Murphy 2007)."""
    x = _data(7)
    total, current = 0.0, PRIOR
    for n in range(x.numel()):
        scale = math.sqrt(current.b0 * (current.lambda0 + 1.0) / (current.a0 * current.lambda0))
        t = torch.distributions.StudentT(*(torch.tensor(v, dtype=DT) for v in (2.0 * current.a0, current.mu0, scale)))
        total += float(t.log_prob(x[n]))
        current = current.posterior(x[n : n + 1])
    assert PRIOR.log_evidence(x) == pytest.approx(total, rel=1e-12)


def test_posterior_of_two_batches_is_the_posterior_of_both():
    x = _data(20)
    twice = PRIOR.posterior(x[:8]).posterior(x[8:])
    once = PRIOR.posterior(x)
    for name in ("mu0", "lambda0", "a0", "b0"):
        assert getattr(twice, name) == pytest.approx(getattr(once, name), rel=1e-12)


def test_moments_match_samples_within_standard_errors():
    dist = models.NormalGamma(mu0=-0.5, lambda0=2.0, a0=6.0, b0=3.0)
    mu, tau = dist.sample(200_000, generator=generator(3))
    for draws, mean, var in ((mu, dist.mean_mu, dist.var_mu), (tau, dist.mean_tau, dist.var_tau)):
        se = math.sqrt(var / draws.numel())
        assert abs(float(draws.mean()) - mean) < Z_TOL * se
        # the sample variance's SE needs the fourth moment; estimate it from the draws
        centred = (draws - draws.mean()) ** 2
        se_var = float(centred.std()) / math.sqrt(draws.numel())
        assert abs(float(centred.mean()) - var) < Z_TOL * se_var


def test_sampling_is_reproducible_with_a_generator():
    a = PRIOR.sample(5, generator=generator(9))
    b = PRIOR.sample(5, generator=generator(9))
    assert all(torch.equal(u, v) for u, v in zip(a, b))


def test_var_mu_is_infinite_when_a0_at_most_one():
    assert PRIOR.var_mu == math.inf
    assert np.isfinite(PRIOR.posterior(_data(3)).var_mu)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lambda0": -1.0}, "lambda0 must be strictly positive"),
        ({"a0": 0.0}, "a0 must be strictly positive"),
        ({"b0": -2.0}, "b0 is the Gamma rate"),
        ({"mu0": float("nan")}, "mu0 must be a finite real number"),
        ({"b0": "2"}, "b0 must be a finite real number"),
    ],
)
def test_bad_parameters_raise_naming_the_argument(kwargs, match):
    params = {"mu0": 1.0, "lambda0": 0.1, "a0": 1.0, "b0": 2.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        models.NormalGamma(**params)


@pytest.mark.parametrize(
    ("x", "match"),
    [([], "non-empty 1-D"), ([[1.0, 2.0]], "non-empty 1-D"), ([1.0, float("nan")], "x must be finite")],
)
def test_bad_data_raise_naming_the_argument(x, match):
    with pytest.raises(ValueError, match=match):
        PRIOR.posterior(x)
