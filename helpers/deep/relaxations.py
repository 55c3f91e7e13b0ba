"""Gumbel-max sampling and the Gumbel-Softmax (Concrete) relaxation (chapter *Gradients for discrete latent
variables*).

Gumbel-max (exact categorical draws): with G_k = -log(-log U_k), U_k ~ U(0, 1) i.i.d.,
``argmax_k (a_k + G_k) ~ Categorical(softmax(a))`` for unnormalized log-probabilities a (K,).

Gumbel-Softmax / Concrete (Jang et al. 2017; Maddison et al. 2017): the relaxed sample
``y = softmax((a + G) / tau)`` lies in the simplex; y -> one-hot argmax as tau -> 0 and y -> (1/K, ..., 1/K) as
tau -> infinity. For two categories it is the binary Concrete ``sigmoid((alpha + L) / tau)`` with L = log U - log(1 - U)
a standard logistic draw and alpha the logit; its tau -> 0 limit is the Bernoulli draw 1[alpha + L > 0].

Numerics: everything is computed from log-probabilities (``log_softmax``, ``logsigmoid``), never log(p + 1e-20);
the uniform draws are clamped to [tiny, 1) so that -log(-log U) is finite. The noise is uniforms u, drawn in one
place (``torch.rand`` from the generator) and mapped by :func:`gumbel_from_uniform` / :func:`logistic_from_uniform`.
Shapes: a (..., K) -> (S, ..., K) for S draws; logits (..., n) -> (S, ..., n).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.common.validation import (
    check_count,
    check_flag,
    check_generator,
    check_positive_number,
    check_real_tensor,
)

_A_WHAT = "(..., K), unnormalized log-probabilities of the K categories"


def _uniform(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)


def gumbel_from_uniform(u: Tensor) -> Tensor:
    """Standard Gumbel draws G = -log(-log U) from uniforms u in [0, 1), finite (u is clamped to [tiny, 1))."""
    return -torch.log(-torch.log(u.clamp_min(torch.finfo(u.dtype).tiny)))


def logistic_from_uniform(u: Tensor) -> Tensor:
    """Standard logistic draws L = log U - log(1 - U) (the difference of two Gumbels) from uniforms u in [0, 1),
    finite (u is clamped to [tiny, 1)); 1[alpha + L > 0] ~ Bernoulli(sigmoid(alpha))."""
    u = u.clamp_min(torch.finfo(u.dtype).tiny)
    return torch.log(u) - torch.log1p(-u)


def gumbel_noise(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Standard Gumbel draws G = -log(-log U), finite, of the given shape and ``like``'s dtype and device."""
    return gumbel_from_uniform(_uniform(shape, like, generator))


def logistic_noise(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Standard logistic draws L = log U - log(1 - U) (the difference of two Gumbels), finite."""
    return logistic_from_uniform(_uniform(shape, like, generator))


def gumbel_max_sample(a: Tensor, num_samples: int, *, generator: torch.Generator | None = None) -> Tensor:
    """Exact categorical draws by the Gumbel-max trick: a (..., K) log-probabilities (up to a constant) ->
    (S, ..., K) one-hot draws, argmax_k (a_k + G_k). An entry -inf is a category of probability 0."""
    a = check_real_tensor(a, "a", what=_A_WHAT, allow_negative_infinity=True)
    num_samples = check_count(num_samples, "num_samples")
    check_generator(generator)
    scores = a + gumbel_noise((num_samples, *a.shape), a, generator)
    return F.one_hot(scores.argmax(-1), a.shape[-1]).to(a.dtype)


def categorical_reparametrize(
    a: Tensor | None = None,
    num_samples: int | None = None,
    temperature: float | None = None,
    *,
    logits: Tensor | None = None,
    probs: Tensor | None = None,
    log: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The Gumbel-Softmax (Concrete) relaxed sample y = softmax((a + G) / tau): (..., K) -> (S, ..., K).

    Say what you pass, **logits or probabilities**, with exactly one of:

    * ``a`` (positional, the course assignment's ``categorical_reparametrize(a, N, temp)``) or ``logits=``: logits,
      i.e. unnormalized log-probabilities (any real numbers; a + c gives the same draws; -inf is a category of
      probability 0). A row of non-negative numbers summing to 1 is read as logits too, which is rarely meant:
      passed as ``a`` it warns (``logits=`` states that logits are meant, ``probs=`` that probabilities are).
    * ``probs=``: probabilities, non-negative, each row summing to 1 (a 0 is a category of probability 0); the
      sample uses a = log probs.

    ``temperature`` tau > 0. Differentiable in the logits or probabilities (the reparameterization). ``log=True``
    returns log y (``log_softmax``, finite even when an entry of y underflows to 0). Jang et al. 2017, eq. (1);
    Maddison et al. 2017, Definition 1.

    Example: ``categorical_reparametrize(probs=torch.tensor([0.2, 0.5, 0.3]), num_samples=100, temperature=0.5)``.
    """
    given = [name for name, value in (("a", a), ("logits", logits), ("probs", probs)) if value is not None]
    if len(given) != 1:
        raise TypeError(
            "categorical_reparametrize needs exactly one of a (logits, positional), logits= or probs= "
            f"(got {', '.join(given) if given else 'none'})."
        )
    for value, name, example in ((num_samples, "num_samples", "100"), (temperature, "temperature", "0.5")):
        if value is None:
            raise TypeError(f"categorical_reparametrize needs {name}, e.g. {name}={example}.")
    if probs is not None:
        probs = check_real_tensor(probs, "probs", what="(..., K), probabilities of the K categories")
        sums = probs.sum(-1)
        slack = 1e-4 if probs.dtype != torch.float64 else 1e-8
        if (probs < 0).any() or ((sums - 1).abs() > slack).any():
            raise ValueError(
                "probs must be non-negative with each row (along the last axis) summing to 1 (got min "
                f"{float(probs.min()):.4g}, row sums from {float(sums.min()):.6g} to {float(sums.max()):.6g}); "
                "pass unnormalized log-probabilities as logits= instead."
            )
        a = torch.log(probs)
    else:
        name = "a" if a is not None else "logits"
        a = check_real_tensor(a if a is not None else logits, name, what=_A_WHAT, allow_negative_infinity=True)
        rows_like_probabilities = a.shape[-1] >= 2 and bool(
            torch.isfinite(a).all() and (a >= 0).all() and ((a.sum(-1) - 1).abs() <= 1e-5).all()
        )
        if name == "a" and rows_like_probabilities:
            import warnings  # here, not at the top: this function is the module's only user

            warnings.warn(
                "categorical_reparametrize reads a as logits (unnormalized log-probabilities), but every row of a is "
                "non-negative and sums to 1, like probabilities. Pass probs=a if they are probabilities, or logits=a "
                "to say that they are logits.",
                UserWarning,
                stacklevel=2,
            )
    num_samples = check_count(num_samples, "num_samples")
    tau = check_positive_number(temperature, "temperature", example="temperature=0.5")
    check_flag(log, "log")
    check_generator(generator)
    scores = (a + gumbel_noise((num_samples, *a.shape), a, generator)) / tau
    return F.log_softmax(scores, -1) if log else F.softmax(scores, -1)


def relaxed_bernoulli(
    logits: Tensor,
    num_samples: int,
    temperature: float,
    *,
    straight_through: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Binary Concrete draws: logits (..., n) -> (relaxed, hard), each (S, ..., n), from the same noise.

    relaxed = sigmoid((alpha + L) / tau) in (0, 1), differentiable in alpha; hard = 1[alpha + L > 0] ~ Bernoulli(
    sigmoid(alpha)) exactly (no gradient). With ``straight_through=True`` the first output is
    ``hard + relaxed - relaxed.detach()``: its value is the binary draw, its gradient the relaxed one (the
    straight-through Gumbel estimator, Jang et al. 2017, Section 2.2).
    """
    logits = check_real_tensor(
        logits, "logits", what="(..., n), one logit per bit", hint="clamp +-inf logits, e.g. logits.clamp(-30, 30)"
    )
    num_samples = check_count(num_samples, "num_samples")
    tau = check_positive_number(temperature, "temperature", example="temperature=0.5")
    check_flag(straight_through, "straight_through")
    check_generator(generator)
    noisy = logits + logistic_noise((num_samples, *logits.shape), logits, generator)
    relaxed = torch.sigmoid(noisy / tau)
    hard = (noisy.detach() > 0).to(logits.dtype)
    if straight_through:
        relaxed = hard + relaxed - relaxed.detach()
    return relaxed, hard
