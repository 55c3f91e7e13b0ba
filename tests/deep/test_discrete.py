"""Tests of helpers.deep.discrete (the chapter-facing estimators) against exact enumeration, an independent brute
force, the hand formulas at replayed draws, and the objective values they wrap."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import Z_TOL, generator

from helpers import deep
from helpers.common.densities import bernoulli_log_prob
from helpers.deep import discrete as D

DT = torch.float64
N, B = 5, 3


def _problem(seed: int = 0):
    g = generator(seed)
    w = torch.randn((N, 4), generator=g, dtype=DT)
    x = torch.randn((B, 4), generator=g, dtype=DT)
    logits = torch.randn((B, N), generator=g, dtype=DT)

    def f(z):  # a nonlinear function of the bits, (S, B, N) -> (S, B)
        return torch.tanh(z @ w + x).sum(-1) + (z.sum(-1) - 2.0) ** 2

    return f, logits


def _brute_force_gradient(f, logits):
    # an independent route: dF/dalpha_i = p_i (1 - p_i) sum_{z_-i} q(z_-i) (f(z_-i, 1) - f(z_-i, 0)), by loops
    p = torch.sigmoid(logits)  # (B, N)
    grad = torch.zeros_like(logits)
    for k in range(2**N):
        z = torch.tensor([(k >> (N - 1 - i)) & 1 for i in range(N)], dtype=DT)
        for i in range(N):
            if z[i] == 1:
                continue
            others = torch.prod(torch.where(z.bool(), p, 1 - p), -1) / (1 - p[:, i])  # q(z_-i), z_i = 0
            z1 = z.clone()
            z1[i] = 1.0
            diff = f(z1.expand(1, B, N))[0] - f(z.expand(1, B, N))[0]
            grad[:, i] += p[:, i] * (1 - p[:, i]) * others * diff
    return grad


def test_binary_states_enumerate_every_vector_once():
    states = D.binary_states(4)
    assert states.shape == (16, 4)
    assert len({tuple(r.tolist()) for r in states}) == 16
    with pytest.raises(ValueError, match="n must be <="):
        D.binary_states(17)


def test_exact_gradient_matches_an_independent_brute_force():
    f, logits = _problem()
    torch.testing.assert_close(D.exact_gradient(f, logits), _brute_force_gradient(f, logits))


@pytest.mark.parametrize("estimator", ["reinforce", "leave-one-out", "arm", "disarm"])
def test_unbiased_estimators_agree_with_enumeration(estimator):
    f, logits = _problem(2)
    exact = D.exact_gradient(f, logits)
    reps = 40_000
    g = generator(3)
    alpha = logits.expand(reps, B, N)
    if estimator in ("reinforce", "leave-one-out"):
        draws = D.bernoulli_score_function_gradient(
            f, alpha, 2, baseline="leave-one-out" if estimator == "leave-one-out" else None, generator=g
        )
    else:
        draws = (D.arm_gradient if estimator == "arm" else D.disarm_gradient)(f, alpha, 1, generator=g)
    mean, se = draws.mean(0), draws.std(0) / math.sqrt(reps)
    assert ((mean - exact).abs() / se).max() < Z_TOL


@pytest.mark.parametrize("estimator", ["exact", "reinforce", "leave-one-out", "arm", "disarm", "nvil"])
def test_surrogate_gradient_is_the_estimator(estimator):
    f, logits = _problem(4)
    reps = 20_000
    alpha = logits.expand(reps, B, N).clone().requires_grad_(True)
    baseline = torch.full((reps, B), 1.5, dtype=DT) if estimator == "nvil" else None
    out = D.expectation_surrogate(f, alpha, estimator, 2, baseline=baseline, center=True, generator=generator(5))
    assert out.shape == (reps, B)
    (grad,) = torch.autograd.grad(out.sum(), alpha)
    exact = D.exact_gradient(f, logits)
    if estimator == "exact":
        torch.testing.assert_close(grad[0], exact)
        return
    mean, se = grad.mean(0), grad.std(0) / math.sqrt(reps)
    assert ((mean - exact).abs() / se).max() < Z_TOL
    value, value_se = out.detach().mean(0), out.detach().std(0) / math.sqrt(reps)
    assert ((value - D.exact_expectation(f, logits)).abs() / value_se).max() < Z_TOL


def test_disarm_has_lower_variance_than_arm_and_the_relaxation_is_biased():
    f, logits = _problem(6)
    alpha = logits.expand(20_000, B, N)
    arm = D.arm_gradient(f, alpha, 1, generator=generator(7))
    disarm = D.disarm_gradient(f, alpha, 1, generator=generator(8))
    assert (disarm.var(0).sum() < arm.var(0).sum()).item()
    leaf = alpha.clone().requires_grad_(True)
    (relaxed,) = torch.autograd.grad(
        D.expectation_surrogate(f, leaf, "gumbel", temperature=1.0, generator=generator(9)).sum(), leaf
    )
    z = (relaxed.mean(0) - D.exact_gradient(f, logits)) / (relaxed.std(0) / math.sqrt(len(relaxed)))
    assert z.abs().max() > 10  # a clearly measurable bias at tau = 1


def _uniforms(seed: int, shape) -> torch.Tensor:
    """The draws of the module, replayed: u = torch.rand((S, *logits.shape)) from a generator with the same seed."""
    return torch.rand(shape, generator=generator(seed), dtype=DT)


def test_every_estimator_replays_its_documented_draws():
    """Each function's result is the hand formula at u = torch.rand((S, *logits.shape), generator) (same seed)."""
    f, logits = _problem(20)
    S = 3
    u = _uniforms(21, (S, B, N))
    p = torch.sigmoid(logits)
    z = (u < p).to(DT)
    torch.testing.assert_close(D.sample_bernoulli(logits, S, generator=generator(21)), z)
    fz = f(z)
    by_hand = (fz[..., None] * (z - p)).mean(0)
    torch.testing.assert_close(D.bernoulli_score_function_gradient(f, logits, S, generator=generator(21)), by_hand)
    loo = (fz.sum(0) - fz) / (S - 1)
    torch.testing.assert_close(
        D.bernoulli_score_function_gradient(f, logits, S, baseline="leave-one-out", generator=generator(21)),
        ((fz - loo)[..., None] * (z - p)).mean(0),
    )
    z1, z2 = (u > torch.sigmoid(-logits)).to(DT), (u < p).to(DT)
    arm = ((f(z1) - f(z2))[..., None] * (u - 0.5)).mean(0)
    torch.testing.assert_close(D.arm_gradient(f, logits, S, generator=generator(21)), arm)
    b, bt = (u < p).to(DT), (1 - u < p).to(DT)
    disarm = (0.5 * (f(b) - f(bt))[..., None] * (-1) ** bt * (b != bt).to(DT) * torch.sigmoid(logits.abs())).mean(0)
    torch.testing.assert_close(D.disarm_gradient(f, logits, S, generator=generator(21)), disarm)


@pytest.mark.parametrize("estimator", ["reinforce", "leave-one-out", "arm", "disarm"])
def test_the_surrogate_gradient_equals_the_estimator_at_the_same_draws(estimator):
    f, logits = _problem(22)
    leaf = logits.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D.expectation_surrogate(f, leaf, estimator, 2, generator=generator(23)).sum(), leaf)
    if estimator in ("arm", "disarm"):
        direct = getattr(D, f"{estimator}_gradient")(f, logits, 2, generator=generator(23))
    else:
        baseline = "leave-one-out" if estimator == "leave-one-out" else None
        direct = D.bernoulli_score_function_gradient(f, logits, 2, baseline=baseline, generator=generator(23))
    torch.testing.assert_close(grad, direct)


def test_the_wrappers_are_the_objective_values():
    torch.manual_seed(0)
    model = deep.BernoulliVAE(12, 4, (8,), baseline_hidden=5).double()
    x = torch.bernoulli(torch.full((6, 12), 0.3, dtype=DT), generator=generator(10))
    for estimator, s in (("reinforce", 2), ("nvil", 2), ("gumbel", 2), ("arm", 1), ("disarm", 3)):
        torch.testing.assert_close(
            D.discrete_elbo(model, x, s, estimator=estimator, generator=generator(11)),
            deep.DiscreteELBO(estimator, s)(model, x, generator=generator(11)),
        )
    with torch.no_grad():
        want = deep.DiscreteIWELBO(7)(model, x, generator=generator(12))
    got = D.discrete_iwelbo(model, x, 7, generator=generator(12))
    torch.testing.assert_close(got, want)
    assert not got.requires_grad


def test_the_bound_order_exact_elbo_below_log_px_and_iwelbo_near_it():
    torch.manual_seed(0)
    model = deep.BernoulliVAE(12, 4, (8,), baseline_hidden=5).double()
    x = torch.bernoulli(torch.full((6, 12), 0.3, dtype=DT), generator=generator(10))
    exact = D.discrete_elbo(model, x, estimator="exact")
    states = D.binary_states(4, dtype=DT)[:, None, :].expand(16, 6, 4)
    log_px = torch.logsumexp(model.log_likelihood(x, states) + bernoulli_log_prob(states, model.prior_logits), 0)
    assert (log_px > exact).all()
    iw = D.discrete_iwelbo(model, x, 2000, generator=generator(12))
    # a stochastic estimate (it may exceed log p(x) by chance); with K = 2000 it is within a few hundredths
    assert ((iw - log_px).abs() < 0.05).all()


def test_bad_arguments_raise():
    f, logits = _problem()
    with pytest.raises(ValueError, match="estimator"):
        D.expectation_surrogate(f, logits, "rebar")
    with pytest.raises(ValueError, match="num_samples >= 2"):
        D.bernoulli_score_function_gradient(f, logits, 1, baseline="leave-one-out")
    with pytest.raises(ValueError, match="baseline"):
        D.expectation_surrogate(f, logits, "nvil")
    with pytest.raises(TypeError, match="generator"):
        D.sample_bernoulli(logits, 1, generator=0)
    model = deep.BernoulliVAE(4, 2)
    with pytest.raises(ValueError, match="baseline_hidden"):
        D.discrete_elbo(model, torch.zeros(1, 4), 2, estimator="nvil")
