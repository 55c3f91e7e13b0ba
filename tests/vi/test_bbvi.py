"""helpers.vi.bbvi against independent references: autograd, scipy, the closed-form ELBO (helpers.vi.cavi) and Pyro."""

from __future__ import annotations

import math

import pyro_normal_gamma
import pytest
import torch
from _shared import Z_TOL, generator

from helpers import common, models, vi

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)
OMEGA = torch.tensor([1.8, 40.0, 20.0, 9.0], dtype=DT)  # a q away from the optimum: gradients are not zero


def _data(n: int = 100, seed: int = 0) -> torch.Tensor:
    return 2.0 + 0.7 * torch.randn(n, dtype=DT, generator=generator(seed))


def _exact_gradient(x: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """grad_theta of the closed-form ELBO, theta = (mu_N, log lambda_N, log a_N, log b_N)."""
    theta = vi.to_unconstrained(omega).requires_grad_(True)
    elbo = vi.normal_gamma_elbo(x, PRIOR, *vi.from_unconstrained(theta).unbind())
    return torch.autograd.grad(elbo, theta)[0]


# ------------------------------------------------------------------------------------------ the family
@pytest.mark.parametrize("parameterization", ["precision", "sd"])
def test_score_matches_autograd(parameterization):
    omega = OMEGA.clone() if parameterization == "precision" else torch.tensor([1.8, 0.15, 20.0, 9.0], dtype=DT)
    mu, tau = torch.tensor([1.5, 2.2, 1.9], dtype=DT), torch.tensor([1.7, 2.5, 2.1], dtype=DT)
    for s in range(3):
        p = omega.clone().requires_grad_(True)
        prec = p[1] if parameterization == "precision" else 1.0 / p[1] ** 2
        value = torch.distributions.Normal(p[0], 1.0 / torch.sqrt(prec)).log_prob(mu[s])
        value = value + torch.distributions.Gamma(p[2], p[3]).log_prob(tau[s])
        (auto,) = torch.autograd.grad(value, p)
        torch.testing.assert_close(vi.q_score(mu[s : s + 1], tau[s : s + 1], omega, parameterization)[0], auto)


def test_log_q_and_unconstrained_score_match_torch_distributions_and_autograd():
    mu, tau = vi.sample_q(OMEGA, 5, generator(1))
    reference = torch.distributions.Normal(OMEGA[0], OMEGA[1] ** -0.5).log_prob(mu)
    reference = reference + torch.distributions.Gamma(OMEGA[2], OMEGA[3]).log_prob(tau)
    torch.testing.assert_close(vi.log_q(mu, tau, OMEGA), reference)
    theta = vi.to_unconstrained(OMEGA).requires_grad_(True)
    for s in range(5):
        (auto,) = torch.autograd.grad(vi.log_q(mu[s], tau[s], vi.from_unconstrained(theta)), theta)
        torch.testing.assert_close(vi.unconstrained_q_score(mu[s : s + 1], tau[s : s + 1], OMEGA)[0], auto)


def test_log_joint_factors_sum_to_the_models_log_joint():
    x = _data(30)
    mu, tau = vi.sample_q(OMEGA, 50, generator(2))
    factors = vi.log_joint_factors(vi.NormalGammaData.from_x(x), PRIOR, mu, tau)
    torch.testing.assert_close(factors.sum(-1), PRIOR.log_joint(x, mu, tau))
    torch.testing.assert_close(factors[:, 0], PRIOR.log_likelihood(x, mu, tau))


# ------------------------------------------------------------------------------------------ the estimator
def test_fast_gradient_equals_the_composition_of_the_documented_pieces():
    x = _data()
    data = vi.NormalGammaData.from_x(x)
    theta = vi.to_unconstrained(OMEGA)
    for rb in (False, True):
        fast, w_fast = vi.normal_gamma_gradient(data, PRIOR, theta, 50, rao_blackwellize=rb, generator=generator(4))
        mu, tau = vi.sample_q(OMEGA, 50, generator(4))
        factors = vi.log_joint_factors(data, PRIOR, mu, tau)
        lq_mu, lq_tau = vi.log_q_parts(mu, tau, OMEGA)
        w = factors.sum(-1) - lq_mu - lq_tau
        weights = w
        if rb:
            groups = vi.rao_blackwellized_weights(factors, torch.stack([lq_mu, lq_tau], -1), vi.NORMAL_GAMMA_BLANKET)
            weights = groups[:, vi.NORMAL_GAMMA_GROUPS]
        slow = vi.bbvi_terms(vi.unconstrained_q_score(mu, tau, OMEGA), weights, "leave-one-out").mean(0)
        torch.testing.assert_close(fast, slow)
        torch.testing.assert_close(w_fast, w)


def test_leave_one_out_coefficient_equals_the_coefficient_recomputed_without_each_draw():
    terms, scores = (
        torch.randn((7, 3), generator=generator(5), dtype=DT),
        torch.randn((7, 3), generator=generator(6), dtype=DT),
    )
    loo = vi.control_variate_coefficients(terms, scores, "leave-one-out")
    for s in range(7):
        keep = torch.arange(7) != s
        torch.testing.assert_close(loo[s], vi.control_variate_coefficients(terms[keep], scores[keep], "same-draws")[0])


@pytest.mark.parametrize(("control_variate", "rb"), [(None, False), ("leave-one-out", False), ("leave-one-out", True)])
def test_gradient_estimates_are_unbiased(control_variate, rb):
    x = _data()
    data, theta = vi.NormalGammaData.from_x(x), vi.to_unconstrained(OMEGA)
    g = generator(7)
    estimates = torch.stack(
        [
            vi.normal_gamma_gradient(
                data, PRIOR, theta, 20, coefficient=control_variate, rao_blackwellize=rb, generator=g
            )[0]
            for _ in range(2000)
        ]
    )
    mean, se = common.mean_and_se(estimates)
    assert (common.z_scores(mean, se, _exact_gradient(x, OMEGA)).abs() < Z_TOL).all()


def test_monte_carlo_elbo_matches_the_closed_form():
    x = _data()
    _, w = vi.normal_gamma_gradient(
        vi.NormalGammaData.from_x(x), PRIOR, vi.to_unconstrained(OMEGA), 20_000, generator=generator(8)
    )
    mean, se = common.mean_and_se(w)
    assert abs(float(mean - vi.normal_gamma_elbo(x, PRIOR, *OMEGA))) < Z_TOL * float(se)


# ------------------------------------------------------------------------------------------ the contract
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bbvi_reaches_the_cavi_solution_with_default_step_sizes(seed):
    x = _data(100, seed)
    cavi = vi.cavi_normal_gamma(x, PRIOR, num_iters=50)
    fit = vi.bbvi_normal_gamma(
        x, PRIOR, num_iters=2000, num_samples=100, control_variate=True, generator=generator(100 + seed)
    )
    assert abs(fit.mu_N - cavi.mu_N) < 0.05
    assert abs(fit.a_N / fit.b_N - cavi.a_N / cavi.b_N) < 0.1 * cavi.a_N / cavi.b_N
    assert fit.params_trace.shape == (2001, 4) and fit.elbo.shape == fit.elbo_se.shape == (2000,)
    assert fit.mean_tau_trace.shape == fit.mean_mu_trace.shape == (2001,)
    gap = float(cavi.elbo[-1] - vi.normal_gamma_elbo(x, PRIOR, fit.mu_N, fit.lambda_N, fit.a_N, fit.b_N))
    assert -1e-9 < gap < 0.05  # CAVI's fixed point maximizes the ELBO over this family


def test_bad_input_raises_a_value_error_naming_the_argument():
    x = _data(10)
    with pytest.raises(ValueError, match="lambda_N"):
        vi.bbvi_normal_gamma(x, PRIOR, 5, init=[1.0, -2.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="b_N.*RATE"):
        vi.check_q_params([1.0, 2.0, 1.0, 0.0])
    with pytest.raises(TypeError, match="control_variate"):  # a flag: a string is the wrong type
        vi.bbvi_normal_gamma(x, PRIOR, 5, control_variate="optimal")
    with pytest.raises(ValueError, match="coefficient"):
        vi.bbvi_normal_gamma(x, PRIOR, 5, coefficient="optimal")
    with pytest.raises(TypeError, match="prior"):
        vi.bbvi_normal_gamma(x, (1.0, 0.1, 1.0, 2.0), 5)
    with pytest.raises(ValueError, match="num_samples"):
        vi.bbvi_normal_gamma(x, PRIOR, 5, num_samples=2)
    with pytest.raises(ValueError, match="decay"):
        vi.bbvi_normal_gamma(x, PRIOR, 5, decay=2.0)
    with pytest.raises(ValueError, match="rate"):
        common.sample_gamma(2.0, -1.0, 3)


# ------------------------------------------------------------------------------------------ hierarchical model
def test_hierarchical_model_elbo_and_rao_blackwellized_gradient_against_the_closed_form():
    model = models.HierarchicalModel.simulate(4, 6, generator(9))
    theta = model.init() + 0.3 * torch.randn(model.num_params, generator=generator(10), dtype=DT)
    _, w = vi.grouped_gradient(model, theta, 20_000, generator=generator(11))
    mean, se = common.mean_and_se(w)
    assert abs(float(mean - model.exact_elbo(theta))) < Z_TOL * float(se)
    t = theta.clone().requires_grad_(True)
    (exact,) = torch.autograd.grad(model.exact_elbo(t), t)
    g = generator(12)
    for rb in (False, True):
        est = torch.stack(
            [
                vi.grouped_gradient(model, theta, 20, coefficient="leave-one-out", rao_blackwellize=rb, generator=g)[0]
                for _ in range(800)
            ]
        )
        mean, se = common.mean_and_se(est)
        assert (common.z_scores(mean, se, exact).abs() < Z_TOL).all()


def test_hierarchical_blanket_leaves_out_the_likelihood_for_w1():
    model = models.HierarchicalModel.simulate(3, 2, generator(0))
    blanket = model.blanket()
    assert blanket.shape == (6, 9)
    assert blanket[0].nonzero().flatten().tolist() == [0, 3, 4, 5]  # p(w_1) and p(z_k | w_1): no likelihood
    assert blanket[2].nonzero().flatten().tolist() == [3, 6]  # z_1: its prior and its own group's likelihood


# ------------------------------------------------------------------------------------------ Pyro cross-check
def _pyro_model_and_guide(x: torch.Tensor, omega: torch.Tensor, reparameterized: bool):
    pytest.importorskip("pyro")
    return pyro_normal_gamma.model_and_guide(x, PRIOR, omega, reparameterized=reparameterized)


def test_pyro_trace_elbo_agrees_with_the_closed_form_and_with_bbvi():
    x = _data()
    pyro, model, guide = _pyro_model_and_guide(x, OMEGA, reparameterized=True)
    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    loss = pyro.infer.Trace_ELBO(num_particles=500, vectorize_particles=True, max_plate_nesting=1)
    pyro_elbo = torch.tensor([-loss.loss(model, guide) for _ in range(40)], dtype=DT)
    p_mean, p_se = common.mean_and_se(pyro_elbo)
    _, w = vi.normal_gamma_gradient(
        vi.NormalGammaData.from_x(x), PRIOR, vi.to_unconstrained(OMEGA), 20_000, generator=generator(13)
    )
    b_mean, b_se = common.mean_and_se(w)
    exact = float(vi.normal_gamma_elbo(x, PRIOR, *OMEGA))
    assert abs(float(p_mean) - exact) < Z_TOL * float(p_se)
    assert abs(float(b_mean) - exact) < Z_TOL * float(b_se)
    assert abs(float(p_mean - b_mean)) < Z_TOL * math.hypot(float(p_se), float(b_se))


def test_pyro_tracegraph_score_function_gradient_agrees_with_bbvi():
    """Pyro's surrogate-loss gradient (score function, no reparameterization, costs limited to each site's
    dependents) and
    ours (score function, Rao-Blackwellized, no control variate) estimate the same gradient, the exact one."""
    x = _data()
    pyro, model, guide = _pyro_model_and_guide(x, OMEGA, reparameterized=False)
    pyro.clear_param_store()
    pyro.set_rng_seed(1)
    loss = pyro.infer.TraceGraph_ELBO(num_particles=400, vectorize_particles=True, max_plate_nesting=1)
    names = ("mu_N", "lambda_N", "a_N", "b_N")
    grads = []
    for _ in range(150):
        loss.loss_and_grads(model, guide)  # backpropagates Pyro's surrogate loss into the unconstrained params
        unconstrained = [pyro.get_param_store().get_param(n).unconstrained() for n in names]
        grads.append(-torch.cat([u.grad.reshape(1) for u in unconstrained]))  # the loss is -ELBO
        for u in unconstrained:
            u.grad = None
    pyro_grad = torch.stack(grads)
    p_mean, p_se = common.mean_and_se(pyro_grad)
    exact = _exact_gradient(x, OMEGA)
    assert (common.z_scores(p_mean, p_se, exact).abs() < Z_TOL).all()
    data, theta, g = vi.NormalGammaData.from_x(x), vi.to_unconstrained(OMEGA), generator(14)
    ours = torch.stack(
        [
            vi.normal_gamma_gradient(data, PRIOR, theta, 400, coefficient=None, rao_blackwellize=True, generator=g)[0]
            for _ in range(150)
        ]
    )
    o_mean, o_se = common.mean_and_se(ours)
    assert ((p_mean - o_mean).abs() < Z_TOL * torch.sqrt(p_se**2 + o_se**2)).all()
