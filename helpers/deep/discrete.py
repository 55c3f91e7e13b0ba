"""Gradients of expectations over binary latent variables, chapter-facing (chapter *Gradients for discrete latent
variables*).

The quantity: F(alpha) = E_{z ~ q_alpha}[f(z)] with q_alpha(z) = prod_i Bernoulli(z_i; sigmoid(alpha_i)), z in
{0, 1}^n, logits alpha (..., n) (``...``: any batch shape, e.g. B data points), f: z (S, ..., n) -> (S, ...) any
function (in a VAE, f(z) = log p(x | z)). Every estimator returns the gradient with respect to the **logits**; the
encoder's gradient is its vector-Jacobian product with d alpha / d phi (autograd does it). The logits must be a
finite floating tensor (a numpy array or an integer tensor is converted), and f must return exactly one value per
draw and batch entry, shape z.shape[:-1]: a result that merely broadcasts (f forgot to sum over the bits, or returns
one value per draw) raises ValueError naming f instead of giving a wrong gradient.

* exact (enumeration of the 2^n states):   dF/dalpha = sum_z q(z) f(z) (z - sigmoid(alpha))
* score function (REINFORCE), baseline b:  (1/S) sum_s (f(z_s) - b_s) (z_s - sigmoid(alpha)),  z_s ~ q
  (b_s a constant, a tensor independent of z_s, or the leave-one-out mean (1/(S-1)) sum_{t != s} f(z_t))
* ARM (Yin & Zhou 2019):     (f(1[u > sigmoid(-alpha)]) - f(1[u < sigmoid(alpha)])) (u - 1/2),   u ~ U(0, 1)^n
* DisARM (Dong et al. 2020): (1/2)(f(b) - f(b~)) (-1)^{b~_i} 1[b_i != b~_i] sigmoid(|alpha_i|),
  b = 1[u < sigmoid(alpha)], b~ = 1[1 - u < sigmoid(alpha)] (an antithetic pair)
* Gumbel-Softmax / binary Concrete (relaxed, biased) and its straight-through variant: :mod:`helpers.deep.relaxations`.

Randomness, in one place: every function that draws takes a ``generator`` and draws the uniforms
``u = torch.rand((S, *logits.shape), generator=generator, dtype=logits.dtype)``, the binary draws being
z = 1[u < sigmoid(alpha)]; a test replays them by drawing u from a generator with the same seed. The pure forms that
take u are in :mod:`helpers.deep.discrete_estimators`; the training objectives (``deep.DiscreteELBO``,
``deep.DiscreteIWELBO``) in :mod:`helpers.deep.discrete_objectives`, wrapped here by :func:`discrete_elbo` and
:func:`discrete_iwelbo`.

:func:`expectation_surrogate` returns, for any of these, a tensor whose value estimates F and whose gradient with
respect to the logits is the estimator (and with respect to f's own parameters, e.g. the decoder's, the average of
grad f over the draws): the surrogate-loss idiom value + (s - s.detach()).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from helpers.common.densities import bernoulli_log_prob
from helpers.common.validation import (
    as_tensor,
    check_broadcasts_to,
    check_callable,
    check_choice,
    check_count,
    check_device,
    check_finite,
    check_flag,
    check_generator,
    check_instance,
    check_positive_number,
    check_real_tensor,
    check_result_shape,
)
from helpers.deep import discrete_estimators as core
from helpers.deep.bernoulli_vae import LOGITS_HINT, BernoulliVAE
from helpers.deep.discrete_estimators import ESTIMATORS, MAX_ENUMERATED_BITS
from helpers.deep.discrete_objectives import DiscreteELBO, DiscreteIWELBO
from helpers.estimators.baselines import _leave_one_out_baseline

Fn = Callable[[Tensor], Tensor]  # f: z (S, ..., n) -> (S, ...)
_F_HOW = "pass f: z (S, ..., n) -> (S, ...), e.g. functools.partial(model.log_likelihood, x)"


def _check_logits(logits: object, *, enumerate_states: bool = False) -> Tensor:
    """logits (..., n) as a finite floating tensor; with ``enumerate_states``, n <= MAX_ENUMERATED_BITS."""
    logits = check_real_tensor(logits, "logits", what="(..., n), one logit per bit", hint=LOGITS_HINT)
    if enumerate_states and logits.shape[-1] > MAX_ENUMERATED_BITS:
        raise ValueError(
            f"logits must have at most {MAX_ENUMERATED_BITS} bits on the last axis to enumerate the 2^n states "
            f"(got shape {tuple(logits.shape)}); use an estimator (reinforce, leave-one-out, nvil, arm, disarm)."
        )
    return logits


def _checked(f: Fn) -> Fn:
    """f, checked at every call to return one value per draw and batch entry: z (S, ..., n) -> (S, ...)."""
    what = "for z of shape (S, ..., n): one value per draw and point"
    return lambda z: check_result_shape(f(z), "f", z.shape[:-1], what=what)


def _uniforms(logits: Tensor, num_samples: int, generator: torch.Generator | None) -> Tensor:
    """The one place this module draws: u ~ U[0, 1) of shape (S, ..., n)."""
    return torch.rand((num_samples, *logits.shape), generator=generator, dtype=logits.dtype, device=logits.device)


def binary_states(n: int, *, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """All 2^n binary vectors, (2^n, n); row k is the binary expansion of k (most significant bit first)."""
    n = check_count(n, "n")
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype such as torch.float32 (got {type(dtype).__name__} {dtype!r}).")
    if device is not None:
        device = check_device(device)
    if n > MAX_ENUMERATED_BITS:
        raise ValueError(f"n must be <= {MAX_ENUMERATED_BITS} to enumerate 2^n states (got {n}); use an estimator.")
    return core.enumerate_states(n, dtype, device)


def exact_expectation(f: Fn, logits: Tensor) -> Tensor:
    """E_q[f(z)] = sum_z q(z) f(z) over all 2^n states, differentiable in the logits: logits (..., n) -> (...).

    f is called once, on z of shape (2^n, ..., n) (the states broadcast over the batch shape)."""
    check_callable(f, "f", how=_F_HOW)
    logits = _check_logits(logits, enumerate_states=True)
    return core.exact_surrogate(_checked(f), logits, -logits.ndim)


def exact_gradient(f: Fn, logits: Tensor) -> Tensor:
    """The exact gradient d/dalpha E_q[f(z)] by enumerating the 2^n states: logits (..., n) -> (..., n).

    Computed as sum_z q(z) f(z) (z - sigmoid(alpha)) without autograd (f's values are constants: only q depends on
    alpha); one call of f on all states. The reference every estimator of the chapter is checked against."""
    check_callable(f, "f", how=_F_HOW)
    logits = _check_logits(logits, enumerate_states=True)
    with torch.no_grad():
        alpha = logits.detach()
        z = core.states_along(alpha, -alpha.ndim)  # (2^n, ..., n)
        weight = bernoulli_log_prob(z, alpha).exp() * _checked(f)(z)  # (2^n, ...)
        return (weight[..., None] * (z - torch.sigmoid(alpha))).sum(0)


def sample_bernoulli(logits: Tensor, num_samples: int, *, generator: torch.Generator | None = None) -> Tensor:
    """z = 1[u < sigmoid(alpha)] ~ prod_i Bernoulli(sigmoid(alpha_i)), S draws: logits (..., n) -> (S, ..., n)
    (no gradient); u from :func:`_uniforms`, the draws of every estimator of this module."""
    logits = _check_logits(logits)
    num_samples = check_count(num_samples, "num_samples")
    check_generator(generator)
    return core.bernoulli_from_uniform(logits, _uniforms(logits, num_samples, generator))


def _check_constant_baseline(baseline: object, logits: Tensor, num_samples: int) -> None:
    if isinstance(baseline, str):
        check_choice(baseline, "baseline", ["leave-one-out"])
        if num_samples < 2:
            raise ValueError(
                "baseline='leave-one-out' needs num_samples >= 2; got 1 (b_s is the mean of the other draws)."
            )
    elif baseline is not None:
        if isinstance(baseline, bool) or not isinstance(baseline, (numbers.Real, Tensor, np.ndarray)):
            raise TypeError(
                f"baseline must be None, 'leave-one-out', a number or a tensor (got {type(baseline).__name__})."
            )
        check_finite(as_tensor(baseline, "baseline"), "baseline")
        if not isinstance(baseline, numbers.Real):
            check_broadcasts_to(baseline, "baseline", logits.shape[:-1], what="the batch shape of the logits")


def bernoulli_score_function_gradient(
    f: Fn,
    logits: Tensor,
    num_samples: int,
    *,
    baseline: None | Literal["leave-one-out"] | float | Tensor = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The score-function (REINFORCE) estimate of d/dalpha E_q[f(z)] from S draws: logits (..., n) -> (..., n).

    (1/S) sum_s (f(z_s) - b_s) (z_s - sigmoid(alpha)), z_s ~ q_alpha, since d/dalpha log q_alpha(z) = z -
    sigmoid(alpha). ``baseline``: None (b = 0); a float or a tensor broadcastable to the batch shape (...), which
    must not depend on the draws; or ``"leave-one-out"``, the mean of the other S - 1 draws' f (unbiased: b_s is
    independent of z_s; Mnih & Rezende 2016, Kool et al. 2019). Unbiased in every case. Vectorized over the draws.
    Williams 1992; Mohamed et al. 2020, Section 4.
    """
    check_callable(f, "f", how=_F_HOW)
    logits = _check_logits(logits)
    num_samples = check_count(num_samples, "num_samples")
    _check_constant_baseline(baseline, logits, num_samples)
    z = sample_bernoulli(logits, num_samples, generator=generator)  # (S, ..., n)
    with torch.no_grad():
        values = _checked(f)(z)  # (S, ...)
        if isinstance(baseline, str):
            b = _leave_one_out_baseline(values, 0)
        else:
            b = 0.0 if baseline is None else torch.as_tensor(baseline, dtype=values.dtype, device=values.device)
        return ((values - b)[..., None] * (z - torch.sigmoid(logits.detach()))).mean(0)


def _antithetic_gradient(terms_fn, f: Fn, logits: Tensor, num_samples: int, generator) -> Tensor:
    check_callable(f, "f", how=_F_HOW)
    alpha = _check_logits(logits).detach()
    num_samples = check_count(num_samples, "num_samples")
    check_generator(generator)
    with torch.no_grad():
        terms, _ = terms_fn(_checked(f), alpha, _uniforms(alpha, num_samples, generator), -alpha.ndim)
    return terms.mean(0)


def arm_gradient(f: Fn, logits: Tensor, num_samples: int, *, generator: torch.Generator | None = None) -> Tensor:
    """The ARM estimate (Yin & Zhou 2019, Theorem 1) of d/dalpha E_q[f(z)]: logits (..., n) -> (..., n).

    (1/S) sum_s (f(1[u_s > sigmoid(-alpha)]) - f(1[u_s < sigmoid(alpha)])) (u_s - 1/2), u_s ~ U(0, 1)^n; two
    evaluations of f per draw. Unbiased."""
    return _antithetic_gradient(core.arm_terms, f, logits, num_samples, generator)


def disarm_gradient(f: Fn, logits: Tensor, num_samples: int, *, generator: torch.Generator | None = None) -> Tensor:
    """The DisARM estimate (Dong, Mnih & Tucker 2020, eq. 6) of d/dalpha E_q[f(z)]: logits (..., n) -> (..., n).

    With b = 1[u < sigmoid(alpha)] and b~ = 1[1 - u < sigmoid(alpha)] (each ~ q; an antithetic pair):
    (1/2)(f(b) - f(b~)) (-1)^{b~_i} 1[b_i != b~_i] sigmoid(|alpha_i|), averaged over S pairs. Unbiased; it is ARM
    with the uniform noise integrated out given (b, b~), so its variance is never larger than ARM's."""
    return _antithetic_gradient(core.disarm_terms, f, logits, num_samples, generator)


def _check_nvil_baseline(estimator: str, baseline: object, logits: Tensor, num_samples: int, center: bool) -> None:
    if estimator == "nvil":
        if baseline is None:
            raise ValueError("estimator='nvil' needs baseline=b(x), a tensor of the batch shape (...).")
        check_instance(baseline, "baseline", Tensor, how="the output of a baseline network b(x) of the batch shape")
        check_real_tensor(baseline.reshape(-1), "baseline")
        check_broadcasts_to(baseline, "baseline", logits.shape[:-1], what="the batch shape of the logits")
        if center and (logits.ndim < 2 or logits.shape[-2] < 2):
            raise ValueError(
                "center=True needs at least 2 data points along the last axis of the logits' batch (it subtracts "
                f"the mean of f over the other points; got logits of shape {tuple(logits.shape)})."
            )
    elif baseline is not None:
        raise ValueError(
            f"baseline is used only by estimator='nvil' (got a baseline with estimator={estimator!r}); drop it, or "
            "pass estimator='nvil'."
        )
    elif estimator == "leave-one-out" and num_samples < 2:
        raise ValueError(
            "estimator='leave-one-out' needs num_samples >= 2; got 1 (b_s is the mean of the other draws)."
        )


def expectation_surrogate(
    f: Fn,
    logits: Tensor,
    estimator: str,
    num_samples: int = 1,
    *,
    temperature: float = 1.0,
    baseline: Tensor | None = None,
    center: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """A tensor (...) whose value estimates E_q[f(z)] and whose gradient is the chosen ``estimator``'s.

    The gradient with respect to ``logits`` is the estimator; with respect to f's own parameters (a decoder) it is
    the mean over the draws of grad f (for "exact", the exact expectation of grad f). Estimators:

    * ``"exact"``: enumeration (n <= 16); ``"reinforce"``: score function, no baseline; ``"leave-one-out"``: score
      function with the leave-one-out baseline (``num_samples`` >= 2); ``"nvil"``: score function with the
      input-dependent ``baseline`` (...) (a tensor with a graph to its own parameters, Mnih & Gregor 2014): the
      surrogate also carries the gradient of -(1/2)(f - b)^2 to the baseline's parameters, so maximizing fits b to
      f. With ``center=True`` the baseline is b + c, c (...) the mean of the detached f over the *other* entries of
      the last axis (the other data points of the batch, independent of this point's draws, so still unbiased):
      NVIL's centering, which Mnih & Gregor do with a running average; b then only fits the residual f - c;
    * ``"gumbel"``: the binary Concrete relaxation at ``temperature`` (f is evaluated at relaxed z in (0, 1)^n, so f
      must accept real inputs; the gradient is biased, the value is f at the hard draws from the same noise);
      ``"st-gumbel"``: straight-through (f at the hard draws, gradient of the relaxed ones; biased);
    * ``"arm"``, ``"disarm"``: ARM and DisARM (``num_samples`` antithetic pairs, 2 evaluations of f each).

    A ``baseline`` given with another estimator than ``"nvil"`` raises ValueError (it would be ignored); ``center``
    only acts with ``"nvil"``, and ``temperature`` only with the relaxations (both are checked in every case).
    Noise: u (S, ..., n) from ``generator`` (none for ``"exact"``).
    """
    check_callable(f, "f", how=_F_HOW)
    check_choice(estimator, "estimator", ESTIMATORS)
    num_samples = check_count(num_samples, "num_samples")
    logits = _check_logits(logits, enumerate_states=estimator == "exact")
    temperature = check_positive_number(temperature, "temperature", example="temperature=0.5")
    check_flag(center, "center")
    check_generator(generator)
    _check_nvil_baseline(estimator, baseline, logits, num_samples, center)
    u = None if estimator == "exact" else _uniforms(logits, num_samples, generator)
    return core.surrogate(estimator, _checked(f), logits, u, -logits.ndim, temperature=temperature,
                          baseline=baseline, center=center)  # fmt: skip


def discrete_elbo(
    model: BernoulliVAE,
    x: Tensor,
    num_samples: int = 1,
    *,
    estimator: str = "disarm",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The ELBO E_q[log p(x | z)] - KL(q(z | x) || p(z)) per data point, x (B, P) -> (B,), differentiable:
    ``deep.DiscreteELBO(estimator, num_samples, temperature)(model, x, generator=generator)``.

    The reconstruction term's gradient is the ``estimator``'s (its value is an unbiased estimate from binary draws
    for every estimator); the KL is in closed form. Train with the value: ``deep.train(model, x,
    objective=deep.DiscreteELBO("disarm"), ...)``.
    """
    return DiscreteELBO(estimator, num_samples, temperature)(model, x, generator=generator)


def discrete_iwelbo(
    model: BernoulliVAE, x: Tensor, num_samples: int, *, generator: torch.Generator | None = None
) -> Tensor:
    """The multi-sample bound L_K = logsumexp_k log w_k - log K, log w = log p(x | z) + log p(z) - log q(z | x),
    z_k ~ q(z | x): x (B, P) -> (B,), without gradient (the test objective; Burda et al. 2016):
    ``deep.DiscreteIWELBO(num_samples)(model, x, generator=generator)`` under ``torch.no_grad()``."""
    objective = DiscreteIWELBO(num_samples)
    with torch.no_grad():
        return objective(model, x, generator=generator)
