"""helpers.deep.discrete_estimators: every estimator, given its uniforms u, against the hand formula at the same u;
the sample axis may sit anywhere (draws first, or after a replica axis) without changing a number; the estimators
that claim to be unbiased agree with enumeration over many replayed draws."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import Z_TOL, generator

from helpers.deep import discrete_estimators as core
from helpers.estimators.baselines import leave_one_out_baseline

DT = torch.float64
N, B = 4, 3


def _problem(seed: int = 0):
    g = generator(seed)
    w = torch.randn((N, 5), generator=g, dtype=DT)
    c = torch.randn((B, 5), generator=g, dtype=DT)
    logits = torch.randn((B, N), generator=g, dtype=DT)

    def f(z):  # a smooth nonlinear function of the bits (it accepts relaxed z): (..., B, N) -> (..., B)
        return torch.tanh(z @ w + c).sum(-1) + (z.sum(-1) - 1.5) ** 2

    return f, logits


def _logit_gradient(estimator, f, logits, u, axis=-2, **kw):
    leaf = logits.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(core.surrogate(estimator, f, leaf, u, axis, **kw).sum(), leaf)
    return grad


def _df_dz(f, z):
    z = z.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(z).sum(), z)
    return grad


def test_enumerated_states_and_their_placement():
    states = core.enumerate_states(3, DT)
    assert states.tolist()[5] == [1.0, 0.0, 1.0] and len({tuple(r) for r in states.tolist()}) == 8
    alpha = torch.zeros(2, B, 3, dtype=DT)  # (R, B, n)
    assert core.states_along(alpha, -2).shape == (2, 8, B, 3)  # after the replica axis
    assert core.states_along(alpha, -3).shape == (8, 2, B, 3)  # draws first
    torch.testing.assert_close(core.states_along(alpha, -2)[1, :, 0], states)


@pytest.mark.parametrize("estimator", core.ESTIMATORS)
def test_the_surrogate_gradient_is_the_hand_formula_at_the_same_uniforms(estimator):
    f, alpha = _problem(1)
    S = 3
    u = torch.rand((S, B, N), generator=generator(2), dtype=DT)
    p = torch.sigmoid(alpha)
    tau = 0.7
    baseline = torch.tensor([0.5, -1.0, 2.0], dtype=DT)
    z = (u < p).to(DT)
    fz = f(z)
    if estimator == "exact":
        states = core.states_along(alpha, -2)  # (2^N, B, N)
        q = torch.distributions.Bernoulli(logits=alpha).log_prob(states).sum(-1).exp()
        hand = ((q * f(states))[..., None] * (states - p)).sum(0)
    elif estimator in ("reinforce", "leave-one-out", "nvil"):
        if estimator == "reinforce":
            b = 0.0
        elif estimator == "leave-one-out":
            b = (fz.sum(0) - fz) / (S - 1)
        else:  # b(x) plus the mean of f over the other images
            per_image = fz.mean(0)
            b = baseline + torch.stack([(per_image.sum() - per_image[i]) / (B - 1) for i in range(B)])
        hand = ((fz - b)[..., None] * (z - p)).mean(0)
    elif estimator == "arm":
        hand = ((f((u > 1 - p).to(DT)) - fz)[..., None] * (u - 0.5)).mean(0)
    elif estimator == "disarm":
        bt = (1 - u < p).to(DT)
        sign = torch.where(bt == 1, -1.0, 1.0)
        hand = (0.5 * (fz - f(bt))[..., None] * sign * (z != bt) * torch.sigmoid(alpha.abs())).mean(0)
    else:
        logistic = torch.log(u) - torch.log(1 - u)
        relaxed = torch.sigmoid((alpha + logistic) / tau)
        at = relaxed if estimator == "gumbel" else (alpha + logistic > 0).to(DT)
        hand = (_df_dz(f, at) * relaxed * (1 - relaxed) / tau).mean(0)
    kw = {"temperature": tau, "baseline": baseline, "center": True}
    torch.testing.assert_close(_logit_gradient(estimator, f, alpha, None if estimator == "exact" else u, **kw), hand)


@pytest.mark.parametrize("estimator", core.ESTIMATORS)
def test_the_sample_axis_may_follow_a_replica_axis(estimator):
    """The objectives' layout (R, S, B, n), axis -2, gives the numbers of the draws-first layout (S, R, B, n)."""
    f, alpha = _problem(3)
    alpha = torch.stack([alpha, alpha + 0.4])  # (R, B, N)
    u = torch.rand((2, 2, B, N), generator=generator(4), dtype=DT)  # (R, S, B, N)
    baseline = torch.randn((2, B), generator=generator(5), dtype=DT)
    kw = {"temperature": 0.5, "baseline": baseline, "center": True}
    leaf = alpha.clone().requires_grad_(True)
    value = core.surrogate(estimator, f, leaf, u, -2, **kw)
    (grad,) = torch.autograd.grad(value.sum(), leaf)
    leaf2 = alpha.clone().requires_grad_(True)
    value2 = core.surrogate(estimator, f, leaf2, u.transpose(0, 1), -3, **kw)
    (grad2,) = torch.autograd.grad(value2.sum(), leaf2)
    assert value.shape == (2, B)
    torch.testing.assert_close(value, value2)
    torch.testing.assert_close(grad, grad2)


@pytest.mark.parametrize("estimator", ["reinforce", "leave-one-out", "nvil", "arm", "disarm"])
def test_the_unbiased_estimators_agree_with_enumeration_and_their_values_with_F(estimator):
    f, alpha = _problem(6)
    reps = 20_000
    u = torch.rand((reps, 2, B, N), generator=generator(7), dtype=DT)  # (R, S, B, N): R replicated problems
    leaf = alpha.expand(reps, B, N).clone().requires_grad_(True)
    baseline = torch.full((reps, B), 1.5, dtype=DT)
    value = core.surrogate(estimator, f, leaf, u, -2, baseline=baseline, center=True)
    (grad,) = torch.autograd.grad(value.sum(), leaf)
    exact_leaf = alpha.clone().requires_grad_(True)
    exact_value = core.exact_surrogate(f, exact_leaf, -2)
    (exact,) = torch.autograd.grad(exact_value.sum(), exact_leaf)
    for draws, reference in ((grad, exact), (value.detach(), exact_value.detach())):
        mean, se = draws.mean(0), draws.std(0) / math.sqrt(reps)
        assert ((mean - reference).abs() / se).max() < Z_TOL


def test_the_relaxations_are_biased_and_the_baselines_are_what_they_say():
    f, alpha = _problem(8)
    u = torch.rand((20_000, 1, B, N), generator=generator(9), dtype=DT)
    leaf = alpha.expand(20_000, B, N).clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(core.surrogate("gumbel", f, leaf, u, -2, temperature=1.0).sum(), leaf)
    exact_leaf = alpha.clone().requires_grad_(True)
    (exact,) = torch.autograd.grad(core.exact_surrogate(f, exact_leaf, -2).sum(), exact_leaf)
    z = (grad.mean(0) - exact) / (grad.std(0) / math.sqrt(len(grad)))
    assert z.abs().max() > 10  # a clearly measurable bias at tau = 1
    values = torch.tensor([[1.0, 2.0], [3.0, 5.0], [8.0, 4.0]], dtype=DT)  # (S, B)
    others = torch.tensor([[5.5, 4.5], [4.5, 3.0], [2.0, 3.5]], dtype=DT)
    torch.testing.assert_close(leave_one_out_baseline(values, 0), others)
    torch.testing.assert_close(core._batch_centering(torch.tensor([1.0, 2.0, 6.0])), torch.tensor([4.0, 3.5, 1.5]))
    torch.testing.assert_close(core._batch_centering(torch.tensor([[7.0]])), torch.tensor([[0.0]]))
