"""Deterministic integrals used as references for Monte Carlo estimates (float64).

Gauss–Hermite rules give expectations over standard normal noise exactly for polynomials and to machine precision
for smooth per-draw terms (:func:`gauss_hermite`, :func:`gauss_hermite_moments`: a per-draw estimator's mean,
variance and fourth central moment, the exact references of the chapters' variance studies).

The Gamma–Poisson ELBO under a Gaussian q reduces to closed forms plus one non-elementary integral per latent,
``E[log z; z > 0] = int_0^inf log z N(z; mu, sigma^2) dz``, computed here by adaptive quadrature
(QUADPACK's QAGS through ``scipy.integrate.quad``, which handles the integrable log singularity at z = 0).
Its derivatives are integrals of the same kind, so the result is differentiable with ``torch.autograd``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from scipy import integrate
from torch import Tensor

from helpers.common.validation import (
    check_callable,
    check_count,
    check_instance,
    check_location_scale,
    check_positive_number,
)

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TAIL = 40.0  # in standard deviations: phi(40) ~ 1e-348 underflows to zero in float64


def checked_quad(f, a: float, b: float, *, abs_tol: float, **kwargs) -> float:
    """``scipy.integrate.quad`` that refuses to return an inaccurate reference.

    QUADPACK's own error estimate must be below ``abs_tol`` and it must raise no ``IntegrationWarning``;
    otherwise a ``RuntimeError`` says so (a reference that is silently wrong is worse than none). ``a`` and ``b``
    are numbers (+-inf allowed, NaN not); ``abs_tol`` a finite number > 0.
    """
    check_callable(f, "f", how="pass the integrand, a function of one float")
    for name, end in (("a", a), ("b", b)):
        if isinstance(end, bool) or not isinstance(end, numbers.Real) or math.isnan(end):
            raise ValueError(f"{name} must be a number, +-inf allowed (got {end!r}); it is an end of the interval.")
    check_positive_number(abs_tol, "abs_tol", example="abs_tol=1e-10")
    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        try:
            value, error = integrate.quad(f, a, b, **kwargs)
        except integrate.IntegrationWarning as warning:
            raise RuntimeError(f"quadrature on [{a}, {b}] did not converge: {warning}") from None
    if not math.isfinite(value) or error > abs_tol:
        raise RuntimeError(f"quadrature on [{a}, {b}] gave {value} with error estimate {error:.1e} > {abs_tol:.0e}")
    return value


def _phi(eps: float) -> float:
    return _INV_SQRT_2PI * math.exp(-0.5 * eps * eps)


def _positive_log_moment_and_grads(mu: float, sigma: float) -> tuple[float, float, float]:
    """(E[log z; z>0], d/dmu, d/dsigma) for z ~ N(mu, sigma^2), integrating over eps = (z - mu)/sigma."""
    lower = max(-mu / sigma, -_TAIL)
    if lower >= _TAIL:
        return 0.0, 0.0, 0.0
    # split where the integrand changes character: near the log singularity and around the bulk
    breaks = sorted({lower, *[b for b in (-8.0, 0.0, 8.0) if lower < b < _TAIL], _TAIL})

    def integral(weight) -> float:
        total = 0.0
        for a, b in zip(breaks[:-1], breaks[1:]):
            total += checked_quad(
                lambda e: math.log(mu + sigma * e) * weight(e) * _phi(e) if mu + sigma * e > 0 else 0.0,
                a,
                b,
                abs_tol=1e-9,
                epsabs=1e-14,
                epsrel=1e-12,
                limit=400,
            )
        return total

    value = integral(lambda e: 1.0)
    d_mu = integral(lambda e: e / sigma)  # d/dmu N(z; mu, s^2) = N * (z - mu)/s^2
    d_sigma = integral(lambda e: (e * e - 1.0) / sigma)  # d/ds N(z; mu, s^2) = N * ((z-mu)^2/s^3 - 1/s)
    return value, d_mu, d_sigma


class _PositiveLogMoment(torch.autograd.Function):
    @staticmethod
    def forward(ctx, loc: Tensor, scale: Tensor) -> Tensor:  # type: ignore[override]
        mu = loc.detach().cpu().double().numpy().ravel()
        sigma = scale.detach().cpu().double().numpy().ravel()
        out = np.empty((3, mu.size))
        for i, (m, s) in enumerate(zip(mu, sigma)):  # one 1-D integral per latent dimension, not per sample
            out[:, i] = _positive_log_moment_and_grads(float(m), float(s))
        value, d_mu, d_sigma = (
            torch.as_tensor(row, dtype=loc.dtype, device=loc.device).reshape(loc.shape) for row in out
        )
        ctx.save_for_backward(d_mu, d_sigma)
        return value

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        d_mu, d_sigma = ctx.saved_tensors
        return grad_output * d_mu, grad_output * d_sigma


def normal_positive_log_moment(loc: Tensor, scale: Tensor) -> Tensor:
    """E_{z ~ N(loc, scale^2)}[log(z) 1{z > 0}], elementwise, by adaptive quadrature; differentiable.

    The derivatives are themselves quadratures (differentiation under the integral sign over the fixed domain
    z > 0):  d/dloc = E[log z 1{z>0} (z - loc)/scale^2],  d/dscale = E[log z 1{z>0} ((z - loc)^2/scale^3 - 1/scale)].
    Used by :meth:`helpers.GammaPoisson.exact_elbo` (chapter *Gradient estimators*). ``loc`` must be finite and
    ``scale`` finite and > 0; integer tensors become floating and shapes broadcast (else ValueError).
    """
    loc, scale = check_location_scale(loc, scale)
    return _PositiveLogMoment.apply(loc, scale)


def normal_positive_moments(loc: Tensor, scale: Tensor) -> dict[str, Tensor]:
    """Closed-form moments of z ~ N(loc, scale^2) restricted to z > 0 (differentiable, elementwise).

    With a = loc/scale, Phi the standard normal CDF and phi its density:
      ``mass``   P(z > 0)                     = Phi(a)
      ``mean``   E[z 1{z>0}]                  = loc Phi(a) + scale phi(a)
      ``sq_dev`` E[(z - loc)^2 1{z>0}]        = scale^2 (Phi(a) - a phi(a))
      ``log``    E[log z 1{z>0}]              (quadrature, :func:`normal_positive_log_moment`)

    ``loc`` must be finite and ``scale`` finite and > 0; integer tensors become floating, float16 becomes float32
    and shapes broadcast (else ValueError naming the argument).
    """
    loc, scale = check_location_scale(loc, scale)
    a = loc / scale
    mass = torch.special.ndtr(a)
    density = _INV_SQRT_2PI * torch.exp(-0.5 * a**2)
    return {
        "mass": mass,
        "mean": loc * mass + scale * density,
        "sq_dev": scale**2 * (mass - a * density),
        "log": normal_positive_log_moment(loc, scale),
    }


def gauss_hermite(num_nodes: int, dim: int = 1, *, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
    """Nodes (n^dim, dim) and weights (n^dim,) of the tensor-product Gauss–Hermite rule for eps ~ N(0, I_dim):
    ``(weights * f(nodes)).sum()`` = E[f(eps)] exactly when f is a polynomial of degree <= 2n - 1 in each coordinate.

    The probabilists' rule (``numpy.polynomial.hermite_e.hermegauss``, weight exp(-x^2 / 2)) with its weights
    divided by sqrt(2 pi), so that they sum to 1 (Golub & Welsch 1969; Abramowitz & Stegun 25.4.46). The nodes of
    dimension d vary slowest in the first coordinate (``torch.cartesian_prod`` order).

    Raises:
        ValueError: ``num_nodes`` or ``dim`` not a positive integer. TypeError: ``dtype`` not a torch dtype.
    """
    num_nodes, dim = check_count(num_nodes, "num_nodes"), check_count(dim, "dim")
    check_instance(dtype, "dtype", torch.dtype, how="e.g. torch.float64")
    nodes_1d, weights_1d = (torch.tensor(a, dtype=dtype) for a in np.polynomial.hermite_e.hermegauss(num_nodes))
    weights_1d = weights_1d / math.sqrt(2 * math.pi)
    if dim == 1:
        return nodes_1d[:, None], weights_1d
    nodes = torch.cartesian_prod(*[nodes_1d] * dim)
    weights = torch.cartesian_prod(*[weights_1d] * dim)
    product = weights[:, 0]
    for j in range(1, dim):
        product = product * weights[:, j]
    return nodes, product


class GaussHermiteMoments(NamedTuple):
    """What :func:`gauss_hermite_moments` returns, each with the shape of one draw's terms."""

    mean: Tensor
    variance: Tensor
    central4: Tensor


def gauss_hermite_moments(
    terms: Callable[[Tensor], Tensor], num_nodes: int, dim: int = 1, *, dtype: torch.dtype = torch.float64
) -> GaussHermiteMoments:
    """Mean, variance and fourth central moment of per-draw terms f(eps), eps ~ N(0, I_dim), by Gauss–Hermite.

    With the rule (x_i, w_i) of :func:`gauss_hermite`: mean = sum_i w_i f(x_i), variance = sum_i w_i (f(x_i) -
    mean)^2, central4 = sum_i w_i (f(x_i) - mean)^4; exact for polynomial terms of degree <= (2n - 1) / 4 in each
    coordinate, and the reference for the variance of a Monte Carlo average of M draws (variance / M) and for the
    standard error of a variance estimate (``common.exact_variance_se`` takes variance and central4).

    Args:
        terms: maps noise of shape (N, dim) to per-draw terms of shape (N, ...) (e.g. an estimator's ``*_terms``).
        num_nodes: nodes per coordinate n (the rule has n^dim nodes); check convergence by doubling it.
        dim: the dimension of the noise.
        dtype: the nodes' dtype (float64 for references).

    Raises:
        TypeError: ``terms`` not callable. ValueError: ``num_nodes`` or ``dim`` not a positive integer, or ``terms``
        does not return a tensor with one row per node.
    """
    check_callable(terms, "terms", how="pass a function of the noise (N, dim) returning per-draw terms (N, ...)")
    nodes, weights = gauss_hermite(num_nodes, dim, dtype=dtype)
    values = terms(nodes)
    if not isinstance(values, Tensor) or values.ndim == 0 or values.shape[0] != len(nodes):
        got = f"shape {tuple(values.shape)}" if isinstance(values, Tensor) else type(values).__name__
        raise ValueError(f"terms(nodes) must be a tensor of shape ({len(nodes)}, ...), one row per node (got {got}).")
    w = weights.reshape(-1, *[1] * (values.ndim - 1))
    mean = (w * values).sum(0)
    centred = values - mean
    return GaussHermiteMoments(mean, (w * centred**2).sum(0), (w * centred**4).sum(0))
