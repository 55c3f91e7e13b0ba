"""Gradients of expectations over binary latent variables, and the Bernoulli-latent VAE (chapter *Gradients for
discrete latent variables*).

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
* Gumbel-Softmax / binary Concrete (relaxed, biased) and its straight-through variant:
  :mod:`helpers.deep.relaxations`.

:func:`expectation_surrogate` returns, for any of these, a tensor whose value estimates F and whose gradient with
respect to the logits is the estimator (and with respect to f's own parameters, e.g. the decoder's, the average of
grad f over the draws): the surrogate-loss idiom value + (s - s.detach()).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

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
    check_images,
    check_instance,
    check_positive_number,
    check_real_tensor,
    check_result_shape,
    check_unit_interval_values,
)
from helpers.deep.networks import ACTIVATIONS, mlp
from helpers.deep.relaxations import relaxed_bernoulli

Fn = Callable[[Tensor], Tensor]  # f: z (S, ..., n) -> (S, ...)
ESTIMATORS = ("exact", "reinforce", "leave-one-out", "nvil", "gumbel", "st-gumbel", "arm", "disarm")
#: enumeration beyond this many bits is refused (2^16 states per data point)
MAX_ENUMERATED_BITS = 16
_LOGITS_HINT = "a logit of +-inf (a certain bit) is not supported: clamp it, e.g. logits.clamp(-30, 30)"
_F_HOW = "pass f: z (S, ..., n) -> (S, ...), e.g. functools.partial(model.log_likelihood, x)"


def _check_logits(logits: object, *, enumerate_states: bool = False) -> Tensor:
    """logits (..., n) as a finite floating tensor; with ``enumerate_states``, n <= MAX_ENUMERATED_BITS."""
    logits = check_real_tensor(logits, "logits", what="(..., n), one logit per bit", hint=_LOGITS_HINT)
    if enumerate_states and logits.shape[-1] > MAX_ENUMERATED_BITS:
        raise ValueError(
            f"logits must have at most {MAX_ENUMERATED_BITS} bits on the last axis to enumerate the 2^n states "
            f"(got shape {tuple(logits.shape)}); use an estimator (reinforce, leave-one-out, nvil, arm, disarm)."
        )
    return logits


def _call(f: Fn, z: Tensor) -> Tensor:
    """f(z), checked to be one value per draw and batch entry: z (S, ..., n) -> (S, ...)."""
    return check_result_shape(f(z), "f", z.shape[:-1], what="for z of shape (S, ..., n): one value per draw and point")


def binary_states(n: int, *, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """All 2^n binary vectors, (2^n, n); row k is the binary expansion of k (most significant bit first)."""
    n = check_count(n, "n")
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype such as torch.float32 (got {type(dtype).__name__} {dtype!r}).")
    if device is not None:
        device = check_device(device)
    if n > MAX_ENUMERATED_BITS:
        raise ValueError(f"n must be <= {MAX_ENUMERATED_BITS} to enumerate 2^n states (got {n}); use an estimator.")
    k = torch.arange(2**n, device=device)
    bits = torch.arange(n - 1, -1, -1, device=device)
    return ((k[:, None] >> bits) & 1).to(dtype)


def bernoulli_kl(logits_q: Tensor, logits_p: Tensor | float = 0.0) -> Tensor:
    """KL(Bernoulli(sigmoid(a)) || Bernoulli(sigmoid(b))) per coordinate, (..., n) -> (..., n); sum it for the
    product. q log(q/p) + (1 - q) log((1 - q)/(1 - p)) with log sigmoid(a) = -softplus(-a), log(1 - sigmoid(a)) =
    -softplus(a): finite for any finite logits. ``logits_p = 0`` is the uniform prior Bernoulli(1/2)."""
    logits_q = check_real_tensor(logits_q, "logits_q", what="(..., n)", hint=_LOGITS_HINT)
    if isinstance(logits_p, bool) or not isinstance(logits_p, (numbers.Real, Tensor, np.ndarray)):
        raise TypeError(f"logits_p must be a number or a tensor of logits (got {type(logits_p).__name__}).")
    if not isinstance(logits_p, numbers.Real):
        check_finite(as_tensor(logits_p, "logits_p"), "logits_p")
        try:
            torch.broadcast_shapes(logits_q.shape, tuple(logits_p.shape))
        except RuntimeError:
            raise ValueError(
                f"logits_q and logits_p must have shapes that broadcast (got {tuple(logits_q.shape)} and "
                f"{tuple(logits_p.shape)})."
            ) from None
    elif not math.isfinite(logits_p):
        raise ValueError(f"logits_p must be finite (got {logits_p!r}); {_LOGITS_HINT}.")
    return _bernoulli_kl(logits_q, logits_p)


def _bernoulli_kl(logits_q: Tensor, logits_p: Tensor | float) -> Tensor:
    b = torch.as_tensor(logits_p, dtype=logits_q.dtype, device=logits_q.device)
    q = torch.sigmoid(logits_q)
    return q * (F.softplus(-b) - F.softplus(-logits_q)) + (1 - q) * (F.softplus(b) - F.softplus(logits_q))


def exact_expectation(f: Fn, logits: Tensor) -> Tensor:
    """E_q[f(z)] = sum_z q(z) f(z) over all 2^n states, differentiable in the logits: logits (..., n) -> (...).

    f is called once, on z of shape (2^n, ..., n) (the states broadcast over the batch shape)."""
    check_callable(f, "f", how=_F_HOW)
    logits = _check_logits(logits, enumerate_states=True)
    n = logits.shape[-1]
    states = binary_states(n, dtype=logits.dtype, device=logits.device)  # (2^n, n)
    z = states.reshape(2**n, *([1] * (logits.ndim - 1)), n).expand(2**n, *logits.shape)
    log_q = bernoulli_log_prob(z, logits)  # (2^n, ...)
    return (log_q.exp() * _call(f, z)).sum(0)


def exact_gradient(f: Fn, logits: Tensor) -> Tensor:
    """The exact gradient d/dalpha E_q[f(z)] by enumerating the 2^n states: logits (..., n) -> (..., n).

    Computed as sum_z q(z) f(z) (z - sigmoid(alpha)) without autograd (f's values are constants: only q depends on
    alpha); one call of f on all states. The reference every estimator of the chapter is checked against."""
    check_callable(f, "f", how=_F_HOW)
    logits = _check_logits(logits, enumerate_states=True)
    n = logits.shape[-1]
    with torch.no_grad():
        alpha = logits.detach()
        states = binary_states(n, dtype=alpha.dtype, device=alpha.device)  # (2^n, n)
        z = states.reshape(2**n, *([1] * (alpha.ndim - 1)), n).expand(2**n, *alpha.shape)
        weight = bernoulli_log_prob(z, alpha).exp() * _call(f, z)  # (2^n, ...)
        return (weight[..., None] * (z - torch.sigmoid(alpha))).sum(0)


def sample_bernoulli(logits: Tensor, num_samples: int, *, generator: torch.Generator | None = None) -> Tensor:
    """z ~ prod_i Bernoulli(sigmoid(alpha_i)), S draws: logits (..., n) -> (S, ..., n) (no gradient)."""
    logits = _check_logits(logits)
    num_samples = check_count(num_samples, "num_samples")
    check_generator(generator)
    p = torch.sigmoid(logits.detach()).expand(num_samples, *logits.shape)
    return torch.bernoulli(p, generator=generator)


def _loo_baseline(values: Tensor) -> Tensor:
    """b_s = (1/(S-1)) sum_{t != s} f_t: values (S, ...) -> (S, ...)."""
    s = values.shape[0]
    if s < 2:
        raise ValueError("baseline='leave-one-out' needs num_samples >= 2 (the mean of the other draws).")
    return (values.sum(0, keepdim=True) - values) / (s - 1)


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
    if isinstance(baseline, str):
        check_choice(baseline, "baseline", ["leave-one-out"])
        if check_count(num_samples, "num_samples") < 2:
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
    z = sample_bernoulli(logits, num_samples, generator=generator)  # (S, ..., n)
    with torch.no_grad():
        values = _call(f, z)  # (S, ...)
        if isinstance(baseline, str):
            b = _loo_baseline(values)
        else:
            b = 0.0 if baseline is None else torch.as_tensor(baseline, dtype=values.dtype, device=values.device)
        return ((values - b)[..., None] * (z - torch.sigmoid(logits.detach()))).mean(0)


def arm_gradient(f: Fn, logits: Tensor, num_samples: int, *, generator: torch.Generator | None = None) -> Tensor:
    """The ARM estimate (Yin & Zhou 2019, Theorem 1) of d/dalpha E_q[f(z)]: logits (..., n) -> (..., n).

    (1/S) sum_s (f(1[u_s > sigmoid(-alpha)]) - f(1[u_s < sigmoid(alpha)])) (u_s - 1/2), u_s ~ U(0, 1)^n; two
    evaluations of f per draw. Unbiased."""
    check_callable(f, "f", how=_F_HOW)
    terms, _ = _arm_terms(f, _check_logits(logits).detach(), num_samples, generator)
    return terms.mean(0)


def disarm_gradient(f: Fn, logits: Tensor, num_samples: int, *, generator: torch.Generator | None = None) -> Tensor:
    """The DisARM estimate (Dong, Mnih & Tucker 2020, eq. 6) of d/dalpha E_q[f(z)]: logits (..., n) -> (..., n).

    With b = 1[u < sigmoid(alpha)] and b~ = 1[1 - u < sigmoid(alpha)] (each ~ q; an antithetic pair):
    (1/2)(f(b) - f(b~)) (-1)^{b~_i} 1[b_i != b~_i] sigmoid(|alpha_i|), averaged over S pairs. Unbiased; it is ARM
    with the uniform noise integrated out given (b, b~), so its variance is never larger than ARM's."""
    check_callable(f, "f", how=_F_HOW)
    terms, _ = _disarm_terms(f, _check_logits(logits).detach(), num_samples, generator)
    return terms.mean(0)


def _uniforms(logits: Tensor, num_samples: int, generator: torch.Generator | None) -> Tensor:
    num_samples = check_count(num_samples, "num_samples")
    check_generator(generator)
    return torch.rand((num_samples, *logits.shape), generator=generator, dtype=logits.dtype, device=logits.device)


def _arm_terms(f: Fn, alpha: Tensor, num_samples: int, generator) -> tuple[Tensor, Tensor]:
    """(per-draw gradient terms (S, ..., n) without graph, f at both points (2, S, ...) with f's graph)."""
    u = _uniforms(alpha, num_samples, generator)
    a = alpha.detach()
    z1, z2 = (u > torch.sigmoid(-a)).to(a.dtype), (u < torch.sigmoid(a)).to(a.dtype)
    values = _call(f, torch.stack([z1, z2]).flatten(0, 1)).unflatten(0, (2, len(u)))
    v = values.detach()
    return (v[0] - v[1])[..., None] * (u - 0.5), values


def _disarm_terms(f: Fn, alpha: Tensor, num_samples: int, generator) -> tuple[Tensor, Tensor]:
    u = _uniforms(alpha, num_samples, generator)
    a = alpha.detach()
    p = torch.sigmoid(a)
    b, b_tilde = (u < p).to(a.dtype), (1 - u < p).to(a.dtype)
    values = _call(f, torch.stack([b, b_tilde]).flatten(0, 1)).unflatten(0, (2, len(u)))
    v = values.detach()
    sign = 1 - 2 * b_tilde  # (-1)^{b~_i}
    weight = sign * (b != b_tilde).to(a.dtype) * torch.sigmoid(a.abs())
    return 0.5 * (v[0] - v[1])[..., None] * weight, values


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
    """
    check_callable(f, "f", how=_F_HOW)
    check_choice(estimator, "estimator", ESTIMATORS)
    num_samples = check_count(num_samples, "num_samples")
    logits = _check_logits(logits, enumerate_states=estimator == "exact")
    check_positive_number(temperature, "temperature", example="temperature=0.5")
    check_flag(center, "center")
    check_generator(generator)
    if estimator == "nvil":
        if baseline is None:
            raise ValueError("estimator='nvil' needs baseline=b(x), a tensor of the batch shape (...).")
        check_instance(baseline, "baseline", Tensor, how="the output of a baseline network b(x) of the batch shape")
        check_real_tensor(baseline.reshape(-1), "baseline")
        check_broadcasts_to(baseline, "baseline", logits.shape[:-1], what="the batch shape of the logits")
    elif baseline is not None:
        raise ValueError(
            f"baseline is used only by estimator='nvil' (got a baseline with estimator={estimator!r}); drop it, or "
            "pass estimator='nvil'."
        )
    elif estimator == "leave-one-out" and num_samples < 2:
        raise ValueError(
            "estimator='leave-one-out' needs num_samples >= 2; got 1 (b_s is the mean of the other draws)."
        )
    if estimator == "exact":
        return exact_expectation(f, logits)
    if estimator in ("gumbel", "st-gumbel"):
        tau = check_positive_number(temperature, "temperature", example="temperature=0.5")
        relaxed, hard = relaxed_bernoulli(
            logits, num_samples, tau, straight_through=estimator == "st-gumbel", generator=generator
        )
        if estimator == "st-gumbel":
            return _call(f, relaxed).mean(0)
        value = _call(f, relaxed).mean(0)
        with torch.no_grad():
            hard_value = _call(f, hard).mean(0)
        return hard_value + (value - value.detach())
    if estimator in ("arm", "disarm"):
        terms, values = (_arm_terms if estimator == "arm" else _disarm_terms)(f, logits, num_samples, generator)
        value = values.mean((0, 1))
        surrogate = (logits * terms.mean(0)).sum(-1)
        return value + (surrogate - surrogate.detach())
    z = sample_bernoulli(logits, num_samples, generator=generator)
    values = _call(f, z)  # (S, ...), with f's graph
    v = values.detach()
    if estimator == "leave-one-out":
        b = _loo_baseline(v)
    elif estimator == "nvil":
        b = baseline
        if center:
            per_point = v.mean(0)  # (...), the last axis the batch
            m = per_point.shape[-1] if per_point.ndim else 0
            if m < 2:
                raise ValueError("center=True needs at least 2 data points along the last axis of the logits' batch.")
            b = b + ((per_point.sum(-1, keepdim=True) - per_point) / (m - 1))
    else:
        b = torch.zeros_like(v)
    log_q = bernoulli_log_prob(z, logits)  # (S, ...)
    surrogate = ((v - b.detach()) * log_q).mean(0)
    if estimator == "nvil":
        surrogate = surrogate - 0.5 * (v - b).square().mean(0)
    value = values.mean(0)
    return value + (surrogate - surrogate.detach())


class BernoulliVAE(nn.Module):
    """A VAE with n binary latents: q_phi(z | x) = prod_i Bernoulli(sigmoid(alpha_phi(x)_i)), p(z) = prod_i
    Bernoulli(sigmoid(beta_i)) (beta = 0, fixed, or learned), p_theta(x | z) Bernoulli from decoder logits.

    Args:
        input_dim: P pixels. latent_dim: n. hidden_dims: hidden widths of encoder and decoder (``()``: both
            affine, the "linear" model of the ARM / DisARM / RELAX benchmarks; (200, 200): their "nonlinear" one).
        activation: between hidden layers (``"leaky_relu"`` in Dong et al. 2020, ``"tanh"``).
        learned_prior: learn beta (else Bernoulli(1/2)).
        baseline_hidden: width of the NVIL baseline network b_psi(x) (one hidden tanh layer); 0: none.

    Shapes: x (B, P); logits (B, n); z (..., B, n) -> log p(x | z) (..., B).
    """

    def __init__(
        self,
        input_dim: int,
        latent_dim: int,
        hidden_dims: Sequence[int] = (),
        *,
        activation: str = "leaky_relu",
        learned_prior: bool = True,
        baseline_hidden: int = 0,
    ) -> None:
        super().__init__()
        input_dim, latent_dim = check_count(input_dim, "input_dim"), check_count(latent_dim, "latent_dim")
        if isinstance(hidden_dims, (str, bytes)) or not isinstance(hidden_dims, Iterable):
            raise TypeError(
                f"hidden_dims must be a sequence of layer widths such as (200, 200) or () (got {hidden_dims!r})."
            )
        hidden = [check_count(h, "hidden_dims") for h in hidden_dims]
        check_choice(activation, "activation", list(ACTIVATIONS))
        check_flag(learned_prior, "learned_prior")
        baseline_hidden = check_count(baseline_hidden, "baseline_hidden", minimum=0)
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.encoder = mlp([input_dim, *hidden, latent_dim], activation)
        self.decoder = mlp([latent_dim, *hidden[::-1], input_dim], activation)
        self.prior_logits = nn.Parameter(torch.zeros(latent_dim), requires_grad=bool(learned_prior))
        self.baseline = None
        if baseline_hidden:
            self.baseline = nn.Sequential(
                nn.Linear(input_dim, baseline_hidden), nn.Tanh(),
                nn.Linear(baseline_hidden, 1),
            )  # fmt: skip

    def check_input(self, x: object, name: str = "x") -> Tensor:
        """Return x as a floating tensor (B, P), B >= 1, in the dtype of the model's parameters with every entry in
        [0, 1], raising TypeError (not a tensor or a numpy array) or ValueError naming ``name`` otherwise."""
        x = check_images(x, name)
        if not x.is_floating_point():
            raise ValueError(
                f"{name} must be a floating-point tensor of shape (B, {self.input_dim}) (got dtype {x.dtype}); for "
                "8-bit pixels pass x.float() / 255."
            )
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(
                f"{name} must have shape (B, {self.input_dim}) (got {tuple(x.shape)}); flatten images with "
                "x.reshape(len(x), -1)."
            )
        dtype = self.decoder[0].weight.dtype
        return check_unit_interval_values(x if x.dtype == dtype else x.to(dtype), name)

    def encode(self, x: Tensor) -> Tensor:
        """Encoder logits alpha(x): (B, P) -> (B, n)."""
        return self.encoder(x)

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x | z) = sum_p [x_p eta_p - softplus(eta_p)], eta = decoder(z): x (B, P), z (..., B, n) -> (..., B)."""
        eta = self.decoder(z)
        return (x * eta - F.softplus(eta)).sum(-1)

    def kl(self, logits: Tensor) -> Tensor:
        """KL(q(z | x) || p(z)) in closed form: logits (B, n) -> (B,)."""
        return _bernoulli_kl(logits, self.prior_logits).sum(-1)


def discrete_elbo(
    model: BernoulliVAE,
    x: Tensor,
    num_samples: int = 1,
    *,
    estimator: str = "disarm",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The ELBO E_q[log p(x | z)] - KL(q(z | x) || p(z)) per data point, x (B, P) -> (B,), for ``deep.train``.

    The reconstruction term goes through :func:`expectation_surrogate` with the chosen ``estimator`` (its value is
    an unbiased estimate from the binary draws for every estimator; NVIL's learned baseline is centered by the
    leave-one-out batch mean of f, see ``center``); the KL is in closed form (exact gradient). So
    the estimators differ only on the term that cannot be reparameterized. Usage:
    ``deep.train(model, x, objective=functools.partial(deep.discrete_elbo, estimator="disarm"), ...)``.
    """
    check_instance(model, "model", BernoulliVAE, how="build it with deep.BernoulliVAE(input_dim, latent_dim)")
    x = model.check_input(x)
    check_choice(estimator, "estimator", ESTIMATORS)
    num_samples = check_count(num_samples, "num_samples")
    check_positive_number(temperature, "temperature", example="temperature=0.5")
    check_generator(generator)
    logits = model.encode(x)
    baseline = None
    if estimator == "nvil":
        if model.baseline is None:
            raise ValueError("estimator='nvil' needs a model built with baseline_hidden > 0 (the baseline network).")
        baseline = model.baseline(x).squeeze(-1)
    rec = expectation_surrogate(
        lambda z: model.log_likelihood(x, z), logits, estimator, num_samples,
        temperature=temperature, baseline=baseline, center=True, generator=generator,
    )  # fmt: skip
    return rec - model.kl(logits)


@torch.no_grad()
def discrete_iwelbo(
    model: BernoulliVAE, x: Tensor, num_samples: int, *, generator: torch.Generator | None = None
) -> Tensor:
    """The multi-sample bound L_K = logsumexp_k log w_k - log K, log w = log p(x | z) + log p(z) - log q(z | x),
    z_k ~ q(z | x): x (B, P) -> (B,), without gradient (the test objective; Burda et al. 2016)."""
    check_instance(model, "model", BernoulliVAE, how="build it with deep.BernoulliVAE(input_dim, latent_dim)")
    x = model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
    check_generator(generator)
    logits = model.encode(x)
    z = sample_bernoulli(logits, num_samples, generator=generator)  # (K, B, n)
    log_w = model.log_likelihood(x, z) + bernoulli_log_prob(z, model.prior_logits) - bernoulli_log_prob(z, logits)
    return torch.logsumexp(log_w, 0) - math.log(num_samples)
