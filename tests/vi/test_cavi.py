"""CAVI for the Normal–Gamma model: the closed-form ELBO against Monte Carlo and 2-D quadrature, the updates
against their fixed-point equations, monotone ascent below the exact log evidence, and the mean-field optimum."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import Z_TOL, generator
from scipy import integrate, special, stats

from helpers import common, models, vi

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)  # the course assignment's prior


def _data(n: int, seed: int = 0) -> torch.Tensor:
    return 2.0 + 0.7 * torch.randn(n, dtype=DT, generator=generator(seed))


# a q that is not the optimum, so the checks do not rely on any property of the CAVI fixed point
Q = {"mu_N": 1.7, "lambda_N": 8.0, "a_N": 4.0, "b_N": 2.5}


def test_elbo_matches_monte_carlo_within_standard_errors():
    x = _data(10)
    elbo = float(vi.normal_gamma_elbo(x, PRIOR, **Q))
    g = generator(1)
    s = 200_000
    mu = Q["mu_N"] + torch.randn(s, dtype=DT, generator=g) / math.sqrt(Q["lambda_N"])
    tau = torch.distributions.Gamma(torch.tensor(Q["a_N"], dtype=DT), torch.tensor(Q["b_N"], dtype=DT))
    torch.manual_seed(2)  # torch's Gamma sampler takes no generator
    tau_draws = tau.sample((s,))
    q_mu = torch.distributions.Normal(torch.tensor(Q["mu_N"], dtype=DT), torch.tensor(Q["lambda_N"], dtype=DT).rsqrt())
    log_q = q_mu.log_prob(mu) + tau.log_prob(tau_draws)  # float64 parameters (Python floats would become float32)
    values = PRIOR.log_joint(x, mu, tau_draws) - log_q
    mean, se = common.mean_and_se(values)
    assert abs(float(mean) - elbo) < Z_TOL * float(se)


@pytest.mark.parametrize("q", [Q, {"mu_N": 2.1, "lambda_N": 30.0, "a_N": 7.0, "b_N": 3.0}])
def test_elbo_matches_two_dimensional_quadrature(q):
    """The ELBO as the integral of q(mu) q(tau) [log p(x, mu, tau) - log q(mu) - log q(tau)], written with scalars."""
    x = _data(10)
    xs = x.tolist()
    m, lam, a, b = q["mu_N"], q["lambda_N"], q["a_N"], q["b_N"]
    sd = 1.0 / math.sqrt(lam)

    def log_joint(mu: float, tau: float) -> float:
        log_lik = sum(0.5 * math.log(tau / (2 * math.pi)) - 0.5 * tau * (xn - mu) ** 2 for xn in xs)
        log_mu = 0.5 * math.log(PRIOR.lambda0 * tau / (2 * math.pi)) - 0.5 * PRIOR.lambda0 * tau * (mu - PRIOR.mu0) ** 2
        log_tau = (
            PRIOR.a0 * math.log(PRIOR.b0) - math.lgamma(PRIOR.a0) + (PRIOR.a0 - 1) * math.log(tau) - PRIOR.b0 * tau
        )
        return log_lik + log_mu + log_tau

    def integrand(mu: float, tau: float) -> float:
        log_q = stats.norm.logpdf(mu, m, sd) + stats.gamma.logpdf(tau, a, scale=1.0 / b)
        return math.exp(log_q) * (log_joint(mu, tau) - log_q)

    tau_hi = special.gammaincinv(a, 1.0 - 1e-15) / b
    value, error = integrate.dblquad(integrand, 1e-12, tau_hi, m - 12 * sd, m + 12 * sd, epsabs=1e-11, epsrel=1e-12)
    assert error < 1e-9
    assert float(vi.normal_gamma_elbo(x, PRIOR, **q)) == pytest.approx(value, abs=1e-8)


def test_elbo_is_the_evidence_minus_the_kl_to_the_exact_posterior():
    """log p(x) - ELBO = KL(q || p(mu, tau | x)) >= 0; the KL by Monte Carlo from q's draws."""
    x = _data(10)
    fit = vi.cavi_normal_gamma(x, PRIOR, num_iters=30)
    mu, tau = fit.sample(200_000, generator=generator(4))
    log_ratio = fit.log_prob(mu, tau) - PRIOR.posterior(x).log_prob(mu, tau)
    kl, se = common.mean_and_se(log_ratio)
    gap = PRIOR.log_evidence(x) - float(fit.elbo[-1])
    assert gap > 0
    assert abs(float(kl) - gap) < Z_TOL * float(se)


def test_elbo_is_differentiable_and_broadcasts():
    x = _data(10)
    params = {k: torch.tensor([v, v + 0.5], dtype=DT, requires_grad=True) for k, v in Q.items()}
    elbo = vi.normal_gamma_elbo(x, PRIOR, **params)
    assert elbo.shape == (2,)
    elbo.sum().backward()
    # d ELBO / d mu_N in closed form: -E[tau] (N (mu_N - xbar) + lambda_0 (mu_N - mu_0))
    e_tau = params["a_N"].detach() / params["b_N"].detach()
    m = params["mu_N"].detach()
    expected = -e_tau * (x.numel() * (m - x.mean()) + PRIOR.lambda0 * (m - PRIOR.mu0))
    torch.testing.assert_close(params["mu_N"].grad, expected, rtol=1e-12, atol=1e-12)
    for value in params.values():
        assert torch.isfinite(value.grad).all()


@pytest.mark.parametrize(
    ("n", "init"),
    [(n, init) for n in (1, 10, 100) for init in ("prior", "data", 0.01, 50.0) if not (init == "data" and n < 2)],
)
def test_elbo_never_decreases_and_stays_below_the_evidence(n, init):
    x = _data(n)
    fit = vi.cavi_normal_gamma(x, PRIOR, num_iters=40, init=init)
    assert fit.elbo.shape == (40,) and fit.elbo.dtype == DT
    tol = 1e-12 * fit.elbo.abs().max()
    assert (fit.elbo.diff() >= -tol).all()
    assert (fit.elbo <= PRIOR.log_evidence(x)).all()
    torch.testing.assert_close(fit.elbo, vi.normal_gamma_elbo(x, PRIOR, *fit.trace.unbind(-1)))


def test_fixed_point_satisfies_the_updates():
    x = _data(25)
    fit = vi.cavi_normal_gamma(x, PRIOR, num_iters=100)
    n, xbar = x.numel(), float(x.mean())
    l0, m0 = PRIOR.lambda0, PRIOR.mu0
    assert fit.mu_N == pytest.approx((l0 * m0 + n * xbar) / (l0 + n), rel=1e-12)
    assert fit.lambda_N == pytest.approx((l0 + n) * fit.a_N / fit.b_N, rel=1e-10)
    assert fit.a_N == pytest.approx(PRIOR.a0 + (n + 1) / 2, rel=1e-14)
    e_sq = float(((x - fit.mu_N) ** 2).sum()) + n / fit.lambda_N + l0 * ((fit.mu_N - m0) ** 2 + 1 / fit.lambda_N)
    assert fit.b_N == pytest.approx(PRIOR.b0 + 0.5 * e_sq, rel=1e-10)
    # trace and summaries agree with the final parameters
    assert fit.trace[-1].tolist() == [fit.mu_N, fit.lambda_N, fit.a_N, fit.b_N]
    assert fit.mean_tau_trace[-1] == pytest.approx(fit.mean_tau)
    assert fit.mean_mu_trace[-1] == fit.mean_mu


@pytest.mark.parametrize("n", [1, 10, 100])
def test_fixed_point_against_the_exact_posterior(n):
    """The chapter's proposition: a_N = a + 1/2, b_N = b (2a + 1) / (2a), exact means, variance ratios 1 - 1/a and
    2a / (2a + 1), with (a, b) the exact posterior's Gamma parameters."""
    x = _data(n, seed=3)
    fit = vi.cavi_normal_gamma(x, PRIOR, num_iters=60)
    post = PRIOR.posterior(x)
    a, b = post.a0, post.b0
    assert fit.a_N == pytest.approx(a + 0.5, rel=1e-14)
    assert fit.b_N == pytest.approx(b * (2 * a + 1) / (2 * a), rel=1e-12)
    assert fit.lambda_N == pytest.approx(post.lambda0 * a / b, rel=1e-12)
    assert fit.mean_mu == pytest.approx(post.mean_mu, rel=1e-14)
    assert fit.mean_tau == pytest.approx(post.mean_tau, rel=1e-12)
    assert fit.var_tau / post.var_tau == pytest.approx(2 * a / (2 * a + 1), rel=1e-12)
    if a > 1:
        assert fit.var_mu / post.var_mu == pytest.approx(1 - 1 / a, rel=1e-12)


@pytest.mark.parametrize("init", [1e-3, 0.5, 1e3])
def test_error_of_b_N_shrinks_by_one_over_two_a_N_per_sweep(init):
    """After the first sweep, b_N <- b + b_N / (2 a_N): an affine contraction with factor 1 / (2 a_N)."""
    x = _data(10)
    fit = vi.cavi_normal_gamma(x, PRIOR, num_iters=6, init=init)
    post = PRIOR.posterior(x)
    err = fit.trace[:, 3] - post.b0 * (2 * post.a0 + 1) / (2 * post.a0)
    ratios = err[1:4] / err[:3]  # errors well above rounding for these sweeps
    torch.testing.assert_close(ratios, torch.full_like(ratios, 1 / (2 * fit.a_N)), rtol=1e-8, atol=0)


def test_optimum_is_a_maximum_along_each_factor():
    """At the mean-field optimum, perturbing either factor's parameters (the other held fixed) lowers the ELBO."""
    x = _data(10)
    fit = vi.cavi_normal_gamma(x, PRIOR, num_iters=100)
    best = float(vi.normal_gamma_elbo(x, PRIOR, fit.mu_N, fit.lambda_N, fit.a_N, fit.b_N))
    base = {"mu_N": fit.mu_N, "lambda_N": fit.lambda_N, "a_N": fit.a_N, "b_N": fit.b_N}
    for factor in (("mu_N", "lambda_N"), ("a_N", "b_N")):
        for d0, d1 in ((0.03, 0.0), (-0.03, 0.0), (0.0, 0.03), (0.0, -0.03), (0.02, 0.02), (0.02, -0.02)):
            q = dict(base)
            q[factor[0]] *= 1 + d0
            q[factor[1]] *= 1 + d1
            assert float(vi.normal_gamma_elbo(x, PRIOR, **q)) < best


def test_q_approaches_the_exact_posterior_for_large_n():
    x = _data(20_000, seed=5)
    fit = vi.cavi_normal_gamma(x, PRIOR, num_iters=50)
    post = PRIOR.posterior(x)
    assert fit.mean_mu == pytest.approx(post.mean_mu, rel=1e-12)  # exactly equal for this model
    assert fit.mean_tau == pytest.approx(post.mean_tau, rel=1e-3)
    assert fit.var_mu == pytest.approx(post.var_mu, rel=1e-3)
    assert fit.var_tau == pytest.approx(post.var_tau, rel=1e-3)
    assert fit.mean_tau == pytest.approx(1 / 0.49, rel=0.05)  # the data's true precision


def test_init_options_converge_to_the_same_fit():
    x = _data(10)
    fits = [vi.cavi_normal_gamma(x, PRIOR, num_iters=60, init=i) for i in ("prior", "data", 1e-3, 1e3)]
    assert fits[0].init_mean_tau == PRIOR.mean_tau
    assert fits[1].init_mean_tau == pytest.approx(1.0 / float(x.var()))
    for fit in fits[1:]:
        assert fit.lambda_N == pytest.approx(fits[0].lambda_N, rel=1e-10)
        assert fit.b_N == pytest.approx(fits[0].b_N, rel=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_iters": 0}, ValueError, "num_iters must be an integer >= 1"),
        ({"num_iters": 2.5}, ValueError, "num_iters must be an integer"),
        ({"x": [[1.0, 2.0]]}, ValueError, "non-empty 1-D"),
        ({"x": []}, ValueError, "non-empty 1-D"),
        ({"x": [1.0, float("nan")]}, ValueError, "x must be finite"),
        ({"prior": (1.0, 0.1, 1.0, 2.0)}, TypeError, "prior must be a NormalGamma"),
        ({"init": "posterior"}, ValueError, "init must be 'prior', 'data'"),
        ({"init": -1.0}, ValueError, "init must be > 0.*'prior', 'data'"),
        ({"x": [1.0], "init": "data"}, ValueError, "needs at least two distinct"),
    ],
)
def test_bad_input_raises_a_clear_error(kwargs, error, match):
    args = {"x": [1.0, 2.0, 3.0], "prior": PRIOR, "num_iters": 5, **kwargs}
    with pytest.raises(error, match=match):
        vi.cavi_normal_gamma(**args)


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [("lambda_N", -1.0, "lambda_N must be strictly positive"), ("b_N", 0.0, "b_N is the Gamma rate")],
)
def test_elbo_rejects_bad_q_parameters(name, value, match):
    with pytest.raises(ValueError, match=match):
        vi.normal_gamma_elbo([1.0, 2.0], PRIOR, **{**Q, name: value})
