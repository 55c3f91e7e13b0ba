"""Fitting a Gamma by gradient descent and by natural-gradient descent (chapter *Natural gradients*).

The fits minimize the *mean* negative log-likelihood l(theta) = NLL / N (step sizes do not scale with N). In rate
coordinates hess l = F(theta) for any data (:mod:`helpers.vi.exponential_family`), so a natural-gradient step of
size 1 is Newton's method there.

Four parameterizations of (alpha, beta) are supported (those of Song, Song and Ermon 2018, section 6): ``"rate"``
(alpha, beta), ``"scale"`` (alpha, 1/beta), ``"rate-cubed"`` (alpha, beta = b^3) and ``"squared"`` (alpha = a^2,
beta = b^2). Each maps coordinate-wise, so d(alpha, beta)/d theta is diagonal.

Shapes: leading batch dimensions (...) broadcast; K step sizes, T iterations. Everything is float64. References:
Amari (1998); Song, Song and Ermon (2018), *Accelerating natural gradient with higher-order invariance*.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import as_tensor, check_choice, check_count, check_positive
from helpers.vi.exponential_family import _pairs, _rate_fisher, _refuse_outside

GAMMA_PARAMETERIZATIONS = ("rate", "scale", "rate-cubed", "squared")
FIT_METHODS = ("gradient", "natural")

ON_ASCENT = ("raise", "keep")


def _check_theta(theta: object, parameterization: str, name: str = "theta") -> Tensor:
    """theta as a finite float64 tensor (..., 2) whose (alpha, beta) are finite and > 0."""
    t = _pairs(theta, name)
    ab = _shape_rate(t, parameterization)
    _refuse_outside(t, ab[..., 0], ab[..., 1], name, parameterization)
    return t


# ------------------------------------------------------------------------------------------ coordinates
def to_shape_rate(theta: Tensor, parameterization: str = "rate") -> Tensor:
    """(alpha, beta) from theta (..., 2): rate (a, b) -> (a, b); scale (a, s) -> (a, 1/s);
    rate-cubed (a, b) -> (a, b^3); squared (a, b) -> (a^2, b^2). A theta whose (alpha, beta) is not finite and > 0
    raises ValueError."""
    check_choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    return _shape_rate(_check_theta(theta, parameterization), parameterization)


def _shape_rate(theta: Tensor, parameterization: str) -> Tensor:
    a, b = theta[..., 0], theta[..., 1]
    if parameterization == "rate":
        return theta
    if parameterization == "scale":
        return torch.stack([a, 1.0 / b], dim=-1)
    if parameterization == "rate-cubed":
        return torch.stack([a, b**3], dim=-1)
    return torch.stack([a**2, b**2], dim=-1)


def shape_rate_jacobian(theta: Tensor, parameterization: str = "rate") -> Tensor:
    """The diagonal of d(alpha, beta) / d theta, shape (..., 2) (every supported map is coordinate-wise)."""
    check_choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    return _jacobian(_check_theta(theta, parameterization), parameterization)


def _jacobian(theta: Tensor, parameterization: str) -> Tensor:
    a, b = theta[..., 0], theta[..., 1]
    one = torch.ones_like(a)
    if parameterization == "rate":
        return torch.stack([one, one], dim=-1)
    if parameterization == "scale":
        return torch.stack([one, -1.0 / b**2], dim=-1)
    if parameterization == "rate-cubed":
        return torch.stack([one, 3.0 * b**2], dim=-1)
    return torch.stack([2.0 * a, 2.0 * b], dim=-1)


def fisher_in(theta: Tensor, parameterization: str = "rate") -> Tensor:
    """F(theta) = J^T F(alpha, beta) J for any of :data:`GAMMA_PARAMETERIZATIONS`, (..., 2, 2); J diagonal."""
    check_choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    theta = _check_theta(theta, parameterization)
    ab = _shape_rate(theta, parameterization)
    jac = _jacobian(theta, parameterization)
    return _rate_fisher(ab[..., 0], ab[..., 1]) * jac[..., :, None] * jac[..., None, :]


# ------------------------------------------------------------------------------------------ the likelihood
@dataclass(frozen=True)
class GammaStats:
    """Sufficient statistics of positive data x (N,): N, mean log x and mean x."""

    n: int
    mean_log: float
    mean: float

    @classmethod
    def from_x(cls, x: object) -> GammaStats:
        data = check_positive(as_tensor(x, "x", dtype=torch.float64), "x", hint="Gamma data must be > 0")
        if data.ndim != 1 or data.numel() == 0:
            raise ValueError(f"x must be a non-empty 1-D tensor of positive numbers (got shape {tuple(data.shape)}).")
        return cls(n=data.numel(), mean_log=float(data.log().mean()), mean=float(data.mean()))


def _stats(x: object) -> GammaStats:
    return x if isinstance(x, GammaStats) else GammaStats.from_x(x)


def gamma_nll(x: object, theta: Tensor, parameterization: str = "rate") -> Tensor:
    """The negative log-likelihood of N i.i.d. points, shape (...):

    NLL = N [lgamma(alpha) - alpha log beta - (alpha - 1) mean(log x) + beta mean(x)],  (alpha, beta) = to_shape_rate.
    ``x`` is the data (N,) or its :class:`GammaStats`. Differentiable in theta; ValueError where alpha or beta <= 0.
    """
    s = _stats(x)
    check_choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    return _nll(s, _check_theta(theta, parameterization), parameterization)


def _nll(s: GammaStats, theta: Tensor, parameterization: str) -> Tensor:
    ab = _shape_rate(theta, parameterization)
    alpha, beta = ab[..., 0], ab[..., 1]
    return s.n * (torch.lgamma(alpha) - alpha * torch.log(beta) - (alpha - 1.0) * s.mean_log + beta * s.mean)


def gamma_nll_grad(x: object, theta: Tensor, parameterization: str = "rate") -> Tensor:
    """grad_theta NLL, shape (..., 2): N (digamma(alpha) - log beta - mean log x, mean x - alpha/beta) in (alpha, beta),
    times the diagonal Jacobian d(alpha, beta)/d theta (chain rule)."""
    s = _stats(x)
    check_choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    theta = _check_theta(theta, parameterization)
    ab = _shape_rate(theta, parameterization)
    alpha, beta = ab[..., 0], ab[..., 1]
    grad_ab = s.n * torch.stack([torch.digamma(alpha) - torch.log(beta) - s.mean_log, s.mean - alpha / beta], dim=-1)
    return grad_ab * _jacobian(theta, parameterization)


def gamma_nll_hessian(x: object, theta: Tensor, parameterization: str = "rate") -> Tensor:
    """hess_theta NLL, shape (..., 2, 2), for ``"rate"`` and ``"scale"``:

    rate:  N [[trigamma(alpha), -1/beta], [-1/beta, alpha/beta^2]] = N F(theta), whatever the data;
    scale: N [[trigamma(alpha), 1/s], [1/s, 2 mean(x)/s^3 - alpha/s^2]],
           equal to N F(theta) only where mean(x) = alpha s.
    """
    check_choice(parameterization, "parameterization", ("rate", "scale"))
    s = _stats(x)
    theta = _check_theta(theta, parameterization)
    a, b = theta[..., 0], theta[..., 1]
    tri = torch.special.polygamma(1, a)
    if parameterization == "rate":
        off, corner = -1.0 / b, a / b**2
    else:
        off, corner = 1.0 / b, 2.0 * s.mean / b**3 - a / b**2
    return s.n * torch.stack([torch.stack([tri, off], -1), torch.stack([off, corner], -1)], -2)


# ------------------------------------------------------------------------------------------ the fits
def _direction(s: GammaStats, theta: Tensor, parameterization: str, method: str) -> Tensor:
    """grad l(theta) or F(theta)^-1 grad l(theta), (..., 2), with few tensor operations (it runs at every step).

    J = d(alpha, beta)/d theta is diagonal, so grad_theta l = J grad_ab l and F(theta)^-1 grad_theta l
    = J^-1 F(alpha, beta)^-1 grad_ab l, with the 2 x 2 inverse written out:
    F(alpha, beta)^-1 = [[alpha/beta^2, 1/beta], [1/beta, trigamma(alpha)]] / (trigamma(alpha) alpha/beta^2 - 1/beta^2).
    The tests check it against :func:`gamma_nll_grad` and :func:`fisher_in`.
    """
    ab = _shape_rate(theta, parameterization)
    a, b = ab[..., 0], ab[..., 1]
    ga, gb = torch.digamma(a) - torch.log(b) - s.mean_log, s.mean - a / b
    jac = _jacobian(theta, parameterization)
    if method == "gradient":
        return torch.stack([ga, gb], dim=-1) * jac
    tri = torch.special.polygamma(1, a)
    det = (tri * a - 1.0) / b**2
    v = torch.stack([(a / b**2 * ga + gb / b) / det, (ga / b + tri * gb) / det], dim=-1)
    return v / jac


@dataclass(frozen=True)
class GammaFit:
    """What :func:`fit_gamma` returns.

    Attributes:
        trajectory: (T + 1, ..., 2) theta before the first step and after every step (in the fit's coordinates).
        nll: (T + 1, ...) the mean NLL (NLL / N) along the trajectory.
        halvings: (T, ...) how many times each step was halved to keep (alpha, beta) positive (0: the full step).
    """

    trajectory: Tensor
    nll: Tensor
    halvings: Tensor


def fit_gamma(
    x: object,
    theta0: object,
    step_size: float | object,
    num_iters: int,
    *,
    parameterization: str = "rate",
    method: str = "natural",
    max_halvings: int = 60,
    on_ascent: str = "raise",
) -> GammaFit:
    """Gradient descent or natural-gradient descent on the mean NLL l(theta) = NLL / N of a Gamma fit.

        gradient:  theta <- theta - eps * grad l(theta)
        natural:   theta <- theta - eps * F(theta)^-1 grad l(theta)      (F from :func:`fisher_in`)

    Positivity without biasing the step: a step that would leave alpha > 0, beta > 0 is halved (same direction,
    shorter) until it does not (``halvings`` records how often); steps that stay inside are untouched.

    Args:
        x: data (N,) > 0, or its :class:`GammaStats`.
        theta0: (2,) the start, in the coordinates of ``parameterization``.
        step_size: eps > 0, a number, or a sequence of K step sizes run side by side (batch dimension K).
        num_iters: T.
        parameterization: one of :data:`GAMMA_PARAMETERIZATIONS`.
        method: ``"gradient"`` or ``"natural"``.
        max_halvings: how often a step may be halved (>= 0); a step still outside after that raises ValueError.
        on_ascent: a run whose mean NLL rises above its value at theta0 has a step too large to be stable (a
            descent method in its stable range never climbs above its start): ``"raise"`` (default) raises
            ValueError naming the step size; ``"keep"`` returns such runs, e.g. to show the instability.

    Returns:
        A :class:`GammaFit`; trajectory (T + 1, 2) for one step size, (T + 1, K, 2) for K.
    """
    s = _stats(x)
    check_choice(method, "method", FIT_METHODS)
    check_choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    check_choice(on_ascent, "on_ascent", ON_ASCENT)
    t_max = check_count(num_iters, "num_iters")
    max_halvings = check_count(max_halvings, "max_halvings", minimum=0)
    start = _pairs(theta0, "theta0")
    if start.shape != (2,):
        raise ValueError(f"theta0 must have shape (2,) (got {tuple(start.shape)}).")
    eps = check_positive(as_tensor(step_size, "step_size", dtype=torch.float64), "step_size")
    if eps.ndim > 1 or eps.numel() == 0:
        raise ValueError(
            f"step_size must be a number or a non-empty 1-D sequence of step sizes (got shape {tuple(eps.shape)})."
        )
    _check_theta(start, parameterization, "theta0")
    traj, halvings = _descend(s, start, eps, t_max, parameterization, method, max_halvings)
    nll = _nll(s, traj, parameterization) / s.n
    if on_ascent == "raise":
        _refuse_ascent(nll, eps, method)
    return GammaFit(trajectory=traj, nll=nll, halvings=halvings)


def _descend(
    s: GammaStats, start: Tensor, eps: Tensor, t_max: int, parameterization: str, method: str, max_halvings: int
) -> tuple[Tensor, Tensor]:
    """The loop of :func:`fit_gamma` on checked arguments: (trajectory (T + 1, K..., 2), halvings (T, K...))."""
    theta = start.expand(*eps.shape, 2).clone()
    traj = torch.empty((t_max + 1, *eps.shape, 2), dtype=torch.float64)
    halvings = torch.zeros((t_max, *eps.shape), dtype=torch.int64)
    traj[0] = theta
    for t in range(t_max):
        step = eps[..., None] * _direction(s, theta, parameterization, method)
        for _ in range(max_halvings):
            outside = ~(_shape_rate(theta - step, parameterization) > 0).all(-1)
            if not outside.any():
                break
            step = torch.where(outside[..., None], 0.5 * step, step)
            halvings[t] += outside
        else:
            outside = ~(_shape_rate(theta - step, parameterization) > 0).all(-1)
            if outside.any():
                raise ValueError(
                    f"fit_gamma: at iteration {t + 1} the step from theta = {theta[outside].tolist()} leaves "
                    f"alpha > 0, beta > 0 even after max_halvings = {max_halvings} halvings (or the step is not "
                    "finite); pass a larger max_halvings or a smaller step_size."
                )
        theta = theta - step
        traj[t + 1] = theta
    return traj, halvings


def _refuse_ascent(nll: Tensor, eps: Tensor, method: str) -> None:
    """Raise ValueError naming step_size where a run's mean NLL (T + 1, K...) rose above its start."""
    above = (nll > nll[0]).any(0) | ~torch.isfinite(nll).all(0)
    if above.any():
        k = tuple(int(i) for i in above.nonzero()[0])
        run = nll[(slice(None), *k)]
        t = int(((run > run[0]) | ~torch.isfinite(run)).nonzero()[0])
        raise ValueError(
            f"fit_gamma: with step_size={float(eps[k]):g} the mean NLL rose from {float(run[0]):.6g} at theta0 to "
            f"{float(run[t]):.6g} at iteration {t} (max {float(run.max()):.6g}): the step is too large for stable "
            f"{'gradient' if method == 'gradient' else 'natural-gradient'} descent; pass a smaller step_size, or "
            "on_ascent='keep' to keep such runs (e.g. to show the instability)."
        )
