"""The gradient estimators for binary latents as pure functions of their noise (chapter *Gradients for discrete
latent variables*); the validated, chapter-facing forms are in :mod:`helpers.deep.discrete`, the training objectives
in :mod:`helpers.deep.discrete_objectives`.

The quantity: F(alpha) = E_{z ~ q_alpha}[f(z)], q_alpha(z) = prod_i Bernoulli(z_i; sigmoid(alpha_i)), logits
alpha (..., n) with a batch shape ``...``. The contract (as in :mod:`helpers.estimators.monte_carlo`: **the draws
are an argument**): every estimator but enumeration is a function of uniforms u ~ U[0, 1)^n, one tensor u with a
sample axis of S draws, and returns a *surrogate*: a tensor of the batch shape whose value is an unbiased estimate
of F (from the binary draws) and whose gradient with respect to alpha is the estimator (with respect to f's own
parameters, e.g. the decoder's, the mean over the draws of grad f):

* score function (REINFORCE):  z_s = 1[u_s < sigmoid(alpha)],  (1/S) sum_s (f(z_s) - b_s) grad log q(z_s)
  (b_s = 0, the leave-one-out mean of the other draws' f, ``estimators.leave_one_out_baseline``, or a
  learned b(x): NVIL, Mnih & Gregor 2014)
* ARM (Yin & Zhou 2019):       (f(1[u > sigmoid(-alpha)]) - f(1[u < sigmoid(alpha)])) (u - 1/2)
* DisARM (Dong et al. 2020):   (1/2)(f(b) - f(b~)) (-1)^{b~_i} 1[b_i != b~_i] sigmoid(|alpha_i|),
                               b = 1[u < sigmoid(alpha)], b~ = 1[1 - u < sigmoid(alpha)]
* Gumbel-Softmax (binary Concrete) at temperature tau: z~ = sigmoid((alpha + L) / tau), L = log u - log(1 - u);
  straight-through: f at the hard draw 1[alpha + L > 0], gradient through z~ (both biased)
* enumeration:                 sum_z q(z) f(z) over the 2^n states (no noise).

The sample axis is an argument, ``axis``: the (negative) axis of the draws in f's output, so ``axis - 1`` in u and
z (which have the bit axis last). The chapter-facing functions put the draws first (u (S, ..., n),
``axis = -alpha.ndim``); the objectives put them after the replica axis and before the batch (u (R, S, B, n) or
(S, B, n), ``axis = -2``), so one code serves a single and a replicated model. f maps z to one value per draw and
batch entry. The functions here run at every training step: they check types, dtypes and shapes only (the
chapter-facing forms check the values).
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.densities import bernoulli_log_prob
from helpers.common.validation import check_callable, check_choice, check_count, check_floating, check_instance
from helpers.deep.relaxations import logistic_from_uniform
from helpers.estimators.baselines import _leave_one_out_baseline

#: the estimators of :func:`surrogate` (and of ``deep.DiscreteELBO``)
ESTIMATORS = ("exact", "reinforce", "leave-one-out", "nvil", "gumbel", "st-gumbel", "arm", "disarm")
#: the unbiased ones (the relaxations are biased)
UNBIASED = ("exact", "reinforce", "leave-one-out", "nvil", "arm", "disarm")
#: enumeration beyond this many bits is refused (2^16 states per data point)
MAX_ENUMERATED_BITS = 16


def enumerate_states(n: int, dtype: torch.dtype, device=None) -> Tensor:
    """All 2^n binary vectors (2^n, n); row k is the binary expansion of k (most significant bit first)."""
    n = check_count(n, "n")
    check_instance(dtype, "dtype", torch.dtype, how="e.g. dtype=torch.float32")
    if n > MAX_ENUMERATED_BITS:
        raise ValueError(f"n must be at most {MAX_ENUMERATED_BITS} bits to enumerate 2^n states (got {n}).")
    k = torch.arange(2**n, device=device)
    bits = torch.arange(n - 1, -1, -1, device=device)
    return ((k[:, None] >> bits) & 1).to(dtype)


def states_along(alpha: Tensor, axis: int) -> Tensor:
    """The 2^n states broadcast against alpha (..., n) along a new axis ``axis - 1``: e.g. (2^n, ..., n)."""
    check_floating(alpha, "alpha", min_dim=1, what="logits (..., n)")
    check_instance(axis, "axis", int, how="the (negative) sample axis of f's output, e.g. -1")
    n = alpha.shape[-1]
    shape = [1] * (alpha.ndim + 1)
    shape[axis - 1], shape[-1] = 2**n, n
    target = list(alpha.unsqueeze(axis - 1).shape)
    target[axis - 1] = 2**n
    return enumerate_states(n, alpha.dtype, alpha.device).reshape(shape).expand(target)


def bernoulli_from_uniform(alpha: Tensor, u: Tensor) -> Tensor:
    """z = 1[u < sigmoid(alpha)] ~ Bernoulli(sigmoid(alpha)) in alpha's dtype (no gradient); alpha broadcasts to u."""
    check_floating(alpha, "alpha")
    check_floating(u, "u")
    return (u < torch.sigmoid(alpha.detach())).to(alpha.dtype)


def _batch_centering(per_point: Tensor) -> Tensor:
    """c_b = the mean of ``per_point`` (..., B) over the *other* B - 1 entries of the last axis (0 when B = 1)."""
    m = per_point.shape[-1]
    if m < 2:
        return torch.zeros_like(per_point)
    return (per_point.sum(-1, keepdim=True) - per_point) / (m - 1)


def exact_surrogate(f, alpha: Tensor, axis: int) -> Tensor:
    """sum_z q(z) f(z), differentiable in alpha (and in f's parameters): alpha (..., n) -> the batch shape."""
    check_callable(f, "f", how="pass a function of z (..., n) returning one value per draw and batch entry")
    z = states_along(alpha, axis)
    log_q = bernoulli_log_prob(z, alpha.unsqueeze(axis - 1))
    return (log_q.exp() * f(z)).sum(axis)


def _score_function_surrogate(f, alpha: Tensor, u: Tensor, axis: int, *, baseline=None, center: bool = False):
    """The score-function surrogate; ``baseline``: None, ``"leave-one-out"`` (S >= 2) or a tensor b(x) of (or
    broadcasting to) the batch shape with its own graph (NVIL: the surrogate also carries -(1/2)(f - b)^2, whose
    gradient fits b to f by least squares). ``center`` (with a tensor baseline) adds the mean of the detached f over
    the other entries of the batch's last axis (the other images: independent of this image's draws)."""
    a = alpha.unsqueeze(axis - 1)
    z = bernoulli_from_uniform(a, u)
    values = f(z)
    v = values.detach()
    fitted = None
    if baseline is None:
        b = torch.zeros_like(v)
    elif isinstance(baseline, str):
        b = _leave_one_out_baseline(v, axis)
    else:
        per_point = v.mean(axis)
        b = baseline.expand(per_point.shape)
        if center:
            b = b + _batch_centering(per_point)
        b = fitted = b.unsqueeze(axis)
    surrogate = ((v - b.detach()) * bernoulli_log_prob(z, a)).mean(axis)
    if fitted is not None:
        surrogate = surrogate - 0.5 * (v - fitted).square().mean(axis)
    return values.mean(axis) + (surrogate - surrogate.detach())


def _check_draws(f, alpha: object, u: object, axis: object) -> None:
    """f callable, alpha (..., n) and u (..., n) floating with the same n, axis an int: types and shapes only."""
    check_callable(f, "f", how="pass a function of z (..., n) returning one value per draw and batch entry")
    a = check_floating(alpha, "alpha", min_dim=1, what="logits (..., n)")
    if check_floating(u, "u", min_dim=1, what="uniforms (..., n)").shape[-1] != a.shape[-1]:
        raise ValueError(f"u must have n = {a.shape[-1]} entries on its last axis, alpha's (got {tuple(u.shape)}).")
    check_instance(axis, "axis", int, how="the (negative) sample axis of f's output, e.g. -1")


def _paired_values(f, z1: Tensor, z2: Tensor, axis: int) -> tuple[Tensor, Tensor]:
    """f at both halves of the antithetic pairs in one call (concatenated along the sample axis)."""
    return f(torch.cat([z1, z2], axis - 1)).chunk(2, axis)


def arm_terms(f, alpha: Tensor, u: Tensor, axis: int) -> tuple[Tensor, Tensor]:
    """(ARM's per-draw gradient terms, shaped like u, without graph; f at both points (2S draws) with f's graph)."""
    _check_draws(f, alpha, u, axis)
    a = alpha.detach().unsqueeze(axis - 1)
    z1, z2 = (u > torch.sigmoid(-a)).to(a.dtype), (u < torch.sigmoid(a)).to(a.dtype)
    f1, f2 = _paired_values(f, z1, z2, axis)
    return (f1.detach() - f2.detach()).unsqueeze(-1) * (u - 0.5), torch.cat([f1, f2], axis)


def disarm_terms(f, alpha: Tensor, u: Tensor, axis: int) -> tuple[Tensor, Tensor]:
    """(DisARM's per-draw gradient terms, shaped like u, without graph; f at both points with f's graph)."""
    _check_draws(f, alpha, u, axis)
    a = alpha.detach().unsqueeze(axis - 1)
    p = torch.sigmoid(a)
    b, b_tilde = (u < p).to(a.dtype), (1 - u < p).to(a.dtype)
    f1, f2 = _paired_values(f, b, b_tilde, axis)
    weight = (1 - 2 * b_tilde) * (b != b_tilde).to(a.dtype) * torch.sigmoid(a.abs())  # (-1)^{b~} 1[b != b~] ...
    return 0.5 * (f1.detach() - f2.detach()).unsqueeze(-1) * weight, torch.cat([f1, f2], axis)


def _antithetic_surrogate(terms_fn, f, alpha: Tensor, u: Tensor, axis: int) -> Tensor:
    """ARM or DisARM (``terms_fn`` = :func:`arm_terms` or :func:`disarm_terms`) as a surrogate: its value is the
    mean of f over the 2S antithetic draws (each distributed as q), its logit gradient the mean of the terms."""
    terms, values = terms_fn(f, alpha, u, axis)
    surrogate = (alpha * terms.mean(axis - 1)).sum(-1)
    return values.mean(axis) + (surrogate - surrogate.detach())


def _relaxed_surrogate(f, alpha: Tensor, u: Tensor, axis: int, temperature: float, straight_through: bool) -> Tensor:
    """Gumbel-Softmax (value: f at the hard draws from the same noise; gradient: the relaxed one) or
    straight-through (f at the hard draws; gradient through the relaxed draws)."""
    noisy = alpha.unsqueeze(axis - 1) + logistic_from_uniform(u)
    relaxed = torch.sigmoid(noisy / temperature)
    hard = (noisy.detach() > 0).to(alpha.dtype)
    if straight_through:
        return f(hard + relaxed - relaxed.detach()).mean(axis)
    value = f(relaxed).mean(axis)
    with torch.no_grad():
        hard_value = f(hard).mean(axis)
    return hard_value + (value - value.detach())


def surrogate(estimator: str, f, alpha: Tensor, u: Tensor | None, axis: int, *, temperature: float = 1.0,
              baseline: Tensor | None = None, center: bool = False) -> Tensor:  # fmt: skip
    """The surrogate of ``estimator`` (one of :data:`ESTIMATORS`; u is ignored by ``"exact"``; ``baseline`` is
    the NVIL b(x))."""
    check_choice(estimator, "estimator", ESTIMATORS)
    if estimator == "exact":
        return exact_surrogate(f, alpha, axis)
    _check_draws(f, alpha, u, axis)
    if estimator in ("gumbel", "st-gumbel"):
        return _relaxed_surrogate(f, alpha, u, axis, temperature, estimator == "st-gumbel")
    if estimator in ("arm", "disarm"):
        return _antithetic_surrogate(arm_terms if estimator == "arm" else disarm_terms, f, alpha, u, axis)
    if estimator == "nvil":
        return _score_function_surrogate(f, alpha, u, axis, baseline=baseline, center=center)
    baseline = "leave-one-out" if estimator == "leave-one-out" else None
    return _score_function_surrogate(f, alpha, u, axis, baseline=baseline)
