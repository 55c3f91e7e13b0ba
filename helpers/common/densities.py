"""Log-densities written once for the whole course: the Normal, the Gamma (shape and RATE) and the Bernoulli.

Every other module takes these instead of spelling them out again (the fast paths that fuse a density into a
larger expression say so and are tested against these). Shapes: the ``*_log_prob`` functions whose name says
"summed" reduce the last axis (D latents, or P pixels); the others are elementwise and broadcast.

* Normal:     log N(z; mu, sigma^2) = -1/2 log 2 pi - log sigma - (z - mu)^2 / (2 sigma^2)   (sigma: a standard dev.)
* Gamma:      log Gamma(x; a, rate b) = a log b - lgamma(a) + (a - 1) log x - b x,  x > 0      (mean a / b)
* Bernoulli:  log Bern(x; sigmoid(l)) = x l - softplus(l),  softplus(l) = log(1 + e^l), from logits l

References: Bishop (2006), *Pattern Recognition and Machine Learning*, appendix B.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.common.validation import (
    as_tensor,
    check_broadcasts_to,
    check_floating,
    check_instance,
    check_positive,
    check_real,
    check_unit_interval,
)

LOG_2PI = math.log(2.0 * math.pi)
HALF_LOG_2PI = 0.5 * LOG_2PI


def _check_vectors(value: object, name: str) -> Tensor:
    """A floating tensor (..., D) with D >= 1: type, dtype and shape only (no pass over the values on hot paths)."""
    check_instance(value, name, Tensor, how="convert it with torch.as_tensor(..., dtype=torch.float32)")
    if not value.is_floating_point() or value.ndim == 0:  # type: ignore[union-attr]
        raise ValueError(
            f"{name} must be a floating tensor of shape (..., D) (got dtype {value.dtype}, shape "  # type: ignore[union-attr]
            f"{tuple(value.shape)}); convert it, e.g. {name}.float()."  # type: ignore[union-attr]
        )
    return value  # type: ignore[return-value]


def normal_log_prob(z: Tensor, mu: Tensor | float, sigma: Tensor | float) -> Tensor:
    """log N(z; mu, diag sigma^2) summed over the last axis: z (..., D), mu and sigma broadcastable -> (...).

    ``sigma`` is a standard deviation (not a variance). Kept as one expression, (z - mu) / sigma, so that autograd
    sees the dependence on mu and sigma (the path-derivative estimators detach them on purpose).
    """
    _check_vectors(z, "z")  # types and shapes only: a hot path
    for name, value in (("mu", mu), ("sigma", sigma)):
        if not isinstance(value, Tensor) and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise TypeError(f"{name} must be a number or a tensor broadcastable to z (got {type(value).__name__}).")
    if not isinstance(sigma, Tensor) and not sigma > 0:  # a float: checked (a tensor is not, on this hot path)
        raise ValueError(f"sigma must be a standard deviation > 0 (got {sigma!r}).")
    log_sigma = torch.log(sigma) if isinstance(sigma, Tensor) else math.log(sigma)
    return (-0.5 * ((z - mu) / sigma).square() - log_sigma).sum(-1) - z.shape[-1] * HALF_LOG_2PI


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, I) summed over the last axis: (..., D) -> (...)."""
    _check_vectors(z, "z")
    return -0.5 * z.square().sum(-1) - z.shape[-1] * HALF_LOG_2PI


def normal_log_prob_from_noise(eps: Tensor, log_sigma_sum: Tensor) -> Tensor:
    """log N(z; mu, diag sigma^2) at z = mu + sigma eps, summed over D, from the noise: -|eps|^2/2 - sum log sigma -
    D/2 log 2 pi. eps (..., D), ``log_sigma_sum`` = sum_d log sigma_d broadcastable to (...). Exact, and cheaper
    than recomputing (z - mu) / sigma; its gradient reaches sigma through ``log_sigma_sum`` only (the score term).
    """
    _check_vectors(eps, "eps")
    check_floating(log_sigma_sum, "log_sigma_sum")
    check_broadcasts_to(log_sigma_sum, "log_sigma_sum", tuple(eps.shape[:-1]), what="one value per draw of eps")
    return -0.5 * eps.square().sum(-1) - log_sigma_sum - eps.shape[-1] * HALF_LOG_2PI


def normal_log_prob_log_var(x: Tensor, mean: Tensor, log_var: Tensor | float) -> Tensor:
    """log N(x; mean, diag exp(log_var)) summed over the last axis, the form a decoder with a (learned) log-variance
    uses: x (B, P), mean and log_var (..., B, P) (or a float log-variance) -> (..., B).
    """
    _check_vectors(x, "x")
    _check_vectors(mean, "mean")
    if isinstance(log_var, Tensor):
        _check_vectors(log_var, "log_var")
    else:
        check_real(log_var, "log_var", hint="a log-variance, e.g. 2 * math.log(sigma)")
    try:
        torch.broadcast_shapes(x.shape, mean.shape, log_var.shape if isinstance(log_var, Tensor) else ())
    except RuntimeError:
        raise ValueError(
            f"x, mean and log_var must have shapes that broadcast (got {tuple(x.shape)}, {tuple(mean.shape)} and "
            f"{tuple(log_var.shape) if isinstance(log_var, Tensor) else ()})."
        ) from None
    if isinstance(log_var, Tensor):
        return -0.5 * ((x - mean).square() * torch.exp(-log_var) + log_var).sum(-1) - x.shape[-1] * HALF_LOG_2PI
    return -0.5 * (x - mean).square().sum(-1) * math.exp(-log_var) - x.shape[-1] * (0.5 * log_var + HALF_LOG_2PI)


def gamma_log_prob(x: Tensor, shape: Tensor | float, rate: Tensor | float) -> Tensor:
    """log Gamma(x; shape a, RATE b) = a log b - lgamma(a) + (a - 1) log x - b x, elementwise (broadcast).

    Rates, not scales: the mean is a / b. For x <= 0 and x = +inf the density is zero; this returns -inf there.
    """
    check_instance(x, "x", Tensor, how="convert it with torch.as_tensor(x, dtype=torch.float64)")
    if not x.is_floating_point():
        raise ValueError(f"x must be a floating tensor (got dtype {x.dtype}); convert it, e.g. x.double().")
    if torch.isnan(x).any():
        raise ValueError("x must not contain NaN; check how it was computed.")
    a = check_positive(as_tensor(shape, "shape", dtype=x.dtype).to(x.device), "shape", hint="the Gamma shape a > 0")
    b = check_positive(as_tensor(rate, "rate", dtype=x.dtype).to(x.device), "rate", hint="the Gamma RATE b > 0")
    positive = (x > 0) & (x < math.inf)
    safe = torch.where(positive, x, torch.ones_like(x))
    value = a * torch.log(b) - torch.lgamma(a) + (a - 1.0) * torch.log(safe) - b * safe
    return torch.where(positive, value, torch.full_like(value, -math.inf))


def bernoulli_log_prob(x: Tensor, logits: Tensor) -> Tensor:
    """log Bernoulli(x; sigmoid(logits)) summed over the last axis, sum_p [x_p l_p - softplus(l_p)]:
    x and logits broadcast against each other, e.g. x (B, P) and logits (..., B, P) -> (..., B), or binary states
    z (2^n, ..., n) and logits (..., n) -> (2^n, ...); x outside [0, 1] raises ValueError (it is not a Bernoulli
    observation, and the formula would return a value above 0).

    Exact for any finite logits (|l| = 1e4 included). x may hold intensities in [0, 1] (then it is minus the
    cross-entropy). Plain autograd operations, so any derivative works; ``helpers.deep`` has a faster fused kernel
    with the same values.
    """
    check_unit_interval(x, "x")
    check_floating(logits, "logits")
    try:
        x, logits = torch.broadcast_tensors(x, logits)  # either may carry the leading (sample, state) axes
    except RuntimeError:
        raise ValueError(
            f"x and logits must have shapes that broadcast (got {tuple(x.shape)} and {tuple(logits.shape)})."
        ) from None
    # torch's stable form of -(x l - softplus(l)), elementwise before the sum (no cancellation between two large
    # sums); its gradient is x - sigmoid(l) everywhere, l = 0 included
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
