"""helpers.vi.natgrad: the Gamma exponential family and Fisher matrices against autograd, quadrature and Monte Carlo;
the Gamma fits against Newton's method and scipy; natural-gradient VI against CAVI; the log-normal q's gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch.autograd.functional import hessian, jacobian

from helpers import models, vi
from helpers.common.sampling import sample_gamma
from helpers.common.stats import mean_and_se

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)


def _eta_of(theta, parameterization):
    a, b = theta[0], theta[1]
    beta = b if parameterization == "rate" else 1.0 / b
    return torch.stack([a - 1.0, -beta])


@pytest.mark.parametrize("alpha, beta", [(3.0, 2.0), (0.7, 5.0), (20.0, 20.0)])
def test_fisher_closed_forms_against_autograd(alpha, beta):
    eta = vi.gamma_natural_params(alpha, beta)
    torch.testing.assert_close(vi.gamma_fisher(eta, "natural"), hessian(vi.gamma_log_partition, eta))
    torch.testing.assert_close(
        vi.gamma_mean_sufficient(alpha, beta), torch.autograd.functional.jacobian(vi.gamma_log_partition, eta)
    )
    f_eta = vi.gamma_fisher(eta, "natural")
    for name, theta in (("rate", [alpha, beta]), ("scale", [alpha, 1.0 / beta])):
        th = torch.tensor(theta, dtype=DT)
        jac = jacobian(lambda t, name=name: _eta_of(t, name), th)  # d eta / d theta
        expected = jac.T @ f_eta @ jac
        torch.testing.assert_close(vi.gamma_fisher(th, name), expected)
        torch.testing.assert_close(vi.fisher_in(th, name), expected)
        if name == "scale":  # the published slip: J^-1 = J holds for the rate map only
            assert not torch.allclose(torch.linalg.inv(jac), jac)
            wrong = torch.linalg.inv(jac).T @ f_eta @ torch.linalg.inv(jac)
            assert not torch.allclose(wrong, expected, rtol=1e-3)
        else:
            torch.testing.assert_close(torch.linalg.inv(jac), jac)
    assert vi.gamma_fisher([alpha, beta], "rate")[0, 1] < 0 < vi.gamma_fisher([alpha, 1 / beta], "scale")[0, 1]


def test_mean_sufficient_statistics_by_quadrature():
    alpha, beta = 3.0, 2.0
    pdf = lambda x: stats.gamma.pdf(x, alpha, scale=1 / beta)  # noqa: E731
    e_log = integrate.quad(lambda x: math.log(x) * pdf(x), 0, np.inf, epsabs=1e-12)[0]
    e_x = integrate.quad(lambda x: x * pdf(x), 0, np.inf, epsabs=1e-12)[0]
    torch.testing.assert_close(vi.gamma_mean_sufficient(alpha, beta), torch.tensor([e_log, e_x], dtype=DT))


def test_fisher_is_the_covariance_of_the_score_by_monte_carlo():
    alpha, beta = 3.0, 2.0
    x = sample_gamma(alpha, beta, 200_000, torch.Generator().manual_seed(0))
    score = torch.stack([x.log(), x], -1) - vi.gamma_mean_sufficient(alpha, beta)  # grad_eta log p, (S, 2)
    outer = (score[:, :, None] * score[:, None, :]).reshape(-1, 4)
    mean, se = mean_and_se(outer)
    z = (mean - vi.gamma_fisher(vi.gamma_natural_params(alpha, beta), "natural").reshape(4)) / se
    assert z.abs().max() < 4.5, z


def test_nll_and_its_derivatives():
    x = sample_gamma(3.0, 2.0, 500, torch.Generator().manual_seed(1))
    theta = torch.tensor([2.2, 1.3], dtype=DT)
    ref = -stats.gamma.logpdf(x.numpy(), 2.2, scale=1 / 1.3).sum()
    assert abs(float(vi.gamma_nll(x, theta)) - ref) < 1e-8 * abs(ref)
    ref_scale = -stats.gamma.logpdf(x.numpy(), 2.2, scale=1.3).sum()  # (alpha, s) = (2.2, 1.3): a different Gamma
    assert abs(float(vi.gamma_nll(x, theta, "scale")) - ref_scale) < 1e-8 * abs(ref_scale)
    for p in vi.GAMMA_PARAMETERIZATIONS:
        th = theta.clone()
        torch.testing.assert_close(vi.gamma_nll_grad(x, th, p), jacobian(lambda t, p=p: vi.gamma_nll(x, t, p), th))
    for p in ("rate", "scale"):
        torch.testing.assert_close(
            vi.gamma_nll_hessian(x, theta, p), hessian(lambda t, p=p: vi.gamma_nll(x, t, p), theta)
        )
    # rate: the Hessian is N F for any data; scale: not (theta is not the MLE)
    torch.testing.assert_close(vi.gamma_nll_hessian(x, theta, "rate"), x.numel() * vi.gamma_fisher(theta, "rate"))
    assert not torch.allclose(vi.gamma_nll_hessian(x, theta, "scale"), x.numel() * vi.gamma_fisher(theta, "scale"))


def test_natural_gradient_direction_is_invariant_and_the_plain_gradient_is_not():
    x = sample_gamma(3.0, 2.0, 300, torch.Generator().manual_seed(2))
    alpha, beta = 1.7, 3.1
    rate, scale = torch.tensor([alpha, beta], dtype=DT), torch.tensor([alpha, 1 / beta], dtype=DT)
    k = torch.diag(torch.tensor([1.0, -1.0 / beta**2], dtype=DT))  # d(alpha, s) / d(alpha, beta)
    nat_rate = torch.linalg.solve(vi.gamma_fisher(rate, "rate"), vi.gamma_nll_grad(x, rate))
    nat_scale = torch.linalg.solve(vi.gamma_fisher(scale, "scale"), vi.gamma_nll_grad(x, scale, "scale"))
    torch.testing.assert_close(k @ nat_rate, nat_scale)
    assert not torch.allclose(k @ vi.gamma_nll_grad(x, rate), vi.gamma_nll_grad(x, scale, "scale"), rtol=1e-2)


def test_natural_step_of_one_is_newton_in_rate_and_reaches_the_mle():
    x = sample_gamma(3.0, 2.0, 1000, torch.Generator().manual_seed(3))
    start = torch.tensor([2.5, 1.8], dtype=DT)
    fit = vi.fit_gamma(x, start, 1.0, 1)
    newton = start - torch.linalg.solve(vi.gamma_nll_hessian(x, start), vi.gamma_nll_grad(x, start))
    torch.testing.assert_close(fit.trajectory[1], newton)
    fit = vi.fit_gamma(x, [0.5, 8.0], [0.5, 1.0], 200)
    a, _, sc = stats.gamma.fit(x.numpy(), floc=0)
    for k in range(2):
        torch.testing.assert_close(fit.trajectory[-1, k], torch.tensor([a, 1 / sc], dtype=DT), rtol=1e-5, atol=0)
    assert fit.halvings.sum() > 0 and (vi.to_shape_rate(fit.trajectory, "rate") > 0).all()
    gd = vi.fit_gamma(x, [0.5, 8.0], 1.0, 200, method="gradient")
    assert float(gd.nll[-1]) > float(fit.nll[-1, 1])  # 200 plain steps are not yet at the MLE
    assert (gd.nll.diff() <= 1e-12).all()


def test_every_parameterization_has_the_same_continuous_path():
    x = sample_gamma(20.0, 20.0, 2000, torch.Generator().manual_seed(4))
    ends = {}
    for p in vi.GAMMA_PARAMETERIZATIONS:
        fine = vi.fit_gamma(x, [1.0, 1.0], 0.5 / 400, 4000, parameterization=p)
        ends[p] = vi.to_shape_rate(fine.trajectory[-1], p)
    for p in vi.GAMMA_PARAMETERIZATIONS:
        torch.testing.assert_close(ends[p], ends["rate"], rtol=2e-2, atol=0)
    coarse = [
        vi.to_shape_rate(vi.fit_gamma(x, [1.0, 1.0], 0.5, 10, parameterization=p).trajectory[-1], p)
        for p in ("rate", "scale")
    ]
    assert (coarse[0] - coarse[1]).abs().max() > 0.3


def _q_of_eta(eta):
    return vi.normal_gamma_from_natural(eta)


def test_natural_gradient_of_the_elbo_is_target_minus_eta_and_step_one_is_cavi():
    x = 2.0 + 0.5 * torch.randn(50, dtype=DT, generator=torch.Generator().manual_seed(5))
    omega = torch.tensor([1.5, 20.0, 4.0, 3.0], dtype=DT)
    eta = vi.normal_gamma_natural_params(omega)
    grad = jacobian(lambda e: vi.normal_gamma_elbo(x, PRIOR, *_q_of_eta(e).unbind(-1)), eta)
    fisher = hessian(vi.normal_gamma_log_partition, eta)
    assert fisher[:2, 2:].abs().max() == 0  # mean-field: block diagonal
    natural = torch.linalg.solve(fisher, grad)
    target = vi.conjugate_targets(x.numel(), x.sum(), (x**2).sum(), PRIOR, omega)
    torch.testing.assert_close(natural, target - eta)
    # a sweep of unit steps, q(mu) then q(tau), is CAVI's first sweep from E[tau] = a/b
    fit = vi.cavi_normal_gamma(x, PRIOR, 2, init=4.0 / 3.0)
    after_mu = torch.cat([target[:2], eta[2:]])
    t2 = vi.conjugate_targets(x.numel(), x.sum(), (x**2).sum(), PRIOR, vi.normal_gamma_from_natural(after_mu))
    torch.testing.assert_close(vi.normal_gamma_from_natural(torch.cat([target[:2], t2[2:]])), fit.trace[0])


def test_svi_converges_to_the_cavi_solution():
    x = 2.0 + 0.5 * torch.randn(1000, dtype=DT, generator=torch.Generator().manual_seed(6))
    cavi = vi.cavi_normal_gamma(x, PRIOR, 20)
    run = vi.svi_normal_gamma(x, PRIOR, 1500, 100, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(run.params[-1], cavi.trace[-1], rtol=2e-2, atol=0)
    assert float(cavi.elbo[-1] - run.elbo[-1]) < 0.1
    adam = vi.bbvi_adam_normal_gamma(x, PRIOR, 600, 50, lr=0.1, generator=torch.Generator().manual_seed(8))
    assert float(cavi.elbo[-1] - adam.elbo[-1]) < 2.0 and float(adam.elbo[-1]) > float(adam.elbo[0]) + 100


def test_lognormal_elbo_and_reparameterization_gradient():
    model = models.GammaPoisson()
    loc, log_scale = torch.tensor([1.4, -0.1], dtype=DT), torch.tensor([-1.5, -1.8], dtype=DT)
    torch.testing.assert_close(
        vi.lognormal_elbo(model, loc, log_scale), model.exact_elbo(loc, log_scale.exp(), family="lognormal")
    )
    exact = jacobian(lambda t: vi.lognormal_elbo(model, t[:2], t[2:]), torch.cat([loc, log_scale]))
    eps = torch.randn((400, 500, 2), dtype=DT, generator=torch.Generator().manual_seed(9))  # 400 estimates of S = 500
    estimates = vi.lognormal_reparam_gradient(model, loc, log_scale, eps)  # (400, 4)
    mean, se = mean_and_se(estimates)
    assert ((mean - exact) / se).abs().max() < 4.5


def test_lognormal_q_fit_reaches_the_optimum_and_first_hit():
    model = models.GammaPoisson()
    init = torch.tensor([0.0, 0.0, math.log(0.1), math.log(0.1)], dtype=DT)
    fits = {
        m: vi.lognormal_q_fit(model, init, 300, 10, s, method=m, num_runs=3, generator=torch.Generator().manual_seed(1))
        for m, s in (("gradient", 0.005), ("natural", 0.3), ("adam", 0.05))
    }
    for fit in fits.values():
        assert fit.params.shape == (301, 3, 4) and fit.elbo.shape == (301, 3)
        assert float(fit.elbo[-50:].mean()) > -26.2  # the optimum is about -25.566
    values = torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.5, 0.1], [3.0, 0.7, 0.2]])
    assert vi.first_hit(values, 1.0).tolist() == [1, 0, 3]  # 3 = T + 1: never reached
    assert vi.first_hit(values, 1.0, stay=True).tolist() == [1, 3, 3]  # column 2 leaves the level again


def test_bad_input_raises():
    with pytest.raises(ValueError, match="parameterization"):
        vi.gamma_fisher([1.0, 1.0], "shape-scale")
    with pytest.raises(ValueError, match="alpha"):
        vi.gamma_fisher([-1.0, 1.0], "rate")
    with pytest.raises(ValueError, match="step_size"):
        vi.fit_gamma([1.0, 2.0], [1.0, 1.0], -0.1, 3)
    with pytest.raises(ValueError, match="x"):
        vi.fit_gamma([1.0, -2.0], [1.0, 1.0], 0.1, 3)
    with pytest.raises(ValueError, match="forgetting"):
        vi.svi_normal_gamma([1.0, 2.0], PRIOR, 3, 1, forgetting=0.4)
    with pytest.raises(TypeError, match="model"):
        vi.lognormal_q_fit("model", torch.zeros(4), 3, 2, 0.1)
    with pytest.raises(ValueError, match="method"):
        vi.fit_gamma([1.0, 2.0], [1.0, 1.0], 0.1, 3, method="newton")


@pytest.mark.parametrize("parameterization", vi.GAMMA_PARAMETERIZATIONS)
def test_the_fast_step_direction_equals_fisher_solve(parameterization):
    from helpers.vi.natgrad import _direction

    x = sample_gamma(3.0, 2.0, 200, torch.Generator().manual_seed(10))
    st = vi.GammaStats.from_x(x)
    theta = torch.tensor([[1.3, 0.9], [2.0, 1.7]], dtype=DT)
    grad = vi.gamma_nll_grad(x, theta, parameterization) / x.numel()
    torch.testing.assert_close(_direction(st, theta, parameterization, "gradient"), grad)
    natural = torch.linalg.solve(vi.fisher_in(theta, parameterization), grad[..., None])[..., 0]
    torch.testing.assert_close(_direction(st, theta, parameterization, "natural"), natural)


def test_bad_input_is_refused_where_it_used_to_give_nan_or_garbage():
    with pytest.raises(ValueError, match="theta = .*'scale' coordinates"):
        vi.to_shape_rate(torch.tensor([1.0, 0.0], dtype=DT), "scale")  # was (1, inf)
    with pytest.raises(ValueError, match="theta must have shape"):
        vi.gamma_nll([1.0, 2.0], torch.ones(3, dtype=DT))  # was read in part
    with pytest.raises(ValueError, match="eta = .* not the natural parameter"):
        vi.normal_gamma_from_natural(torch.tensor([0.0, 0.5, 1.0, -1.0], dtype=DT))  # was lambda_N = -1
    with pytest.raises(ValueError, match="max_halvings"):  # was a trajectory leaving alpha, beta > 0
        vi.fit_gamma([1.0, 2.0], [0.5, 8.0], 1.0, 3, max_halvings=0)


def test_minibatch_sums_always_meet_the_cauchy_schwarz_check():
    x = 2.0 + 0.5 * torch.randn(50, dtype=DT, generator=torch.Generator().manual_seed(11))
    idx = torch.randint(0, 50, (200, 1), generator=torch.Generator().manual_seed(12))  # B = 1: equality
    omega = torch.tensor([1.5, 20.0, 4.0, 3.0], dtype=DT)
    for row in idx:
        xb = x[row]
        vi.conjugate_targets(50, xb.sum() * 50, (xb**2).sum() * 50, PRIOR, omega)  # does not raise
    with pytest.raises(ValueError, match="swapped"):
        vi.conjugate_targets(50, (x**2).sum(), x.sum(), PRIOR, omega)


def test_a_diverged_log_normal_run_is_kept_and_never_reaches_a_level():
    model = models.GammaPoisson()
    init = torch.tensor([0.0, 0.0, math.log(0.1), math.log(0.1)], dtype=DT)
    fit = vi.lognormal_q_fit(model, init, 30, 2, 5.0, method="gradient", generator=torch.Generator().manual_seed(0))
    assert not torch.isfinite(fit.elbo[-1]).all()
    assert (vi.first_hit(fit.elbo, -26.0) == 31).all()


def test_validation_keeps_autograd_working():
    eta = vi.gamma_natural_params(3.0, 2.0).requires_grad_()
    vi.gamma_log_partition(eta).backward()
    torch.testing.assert_close(eta.grad, vi.gamma_mean_sufficient(3.0, 2.0))
