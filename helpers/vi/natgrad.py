"""Exponential families, the Fisher information and natural gradients (chapter *Natural gradients*).

**The Gamma distribution as an exponential family.** Gamma(alpha, RATE beta) has density
beta^alpha x^(alpha - 1) e^(-beta x) / Gamma(alpha) = h(x) exp(<eta, T(x)> - A(eta)) with

    T(x) = (log x, x),   h(x) = 1,   eta = (alpha - 1, -beta),   A(eta) = lgamma(eta_1 + 1) - (eta_1 + 1) log(-eta_2),

so grad A(eta) = E[T(x)] = (digamma(alpha) - log beta, alpha / beta) and the Fisher information in eta is

    F(eta) = hess A(eta) = [[trigamma(alpha), 1/beta], [1/beta, alpha/beta^2]].

In coordinates theta with eta = eta(theta) and J = d eta / d theta, F(theta) = J^T F(eta) J:

    rate  theta = (alpha, beta):        J = diag(1, -1)     (J^-1 = J),
                                        F = [[trigamma, -1/beta], [-1/beta, alpha/beta^2]]
    scale theta = (alpha, s = 1/beta):  J = diag(1, 1/s^2)  (J^-1 = diag(1, s^2), not J),
                                        F = [[trigamma, 1/s], [1/s, alpha/s^2]]

The fits minimize the *mean* negative log-likelihood l(theta) = NLL / N (step sizes do not scale with N). In rate
coordinates hess l = F(theta) for any data, so a natural-gradient step of size 1 is Newton's method there.

Four parameterizations of (alpha, beta) are supported by the fits (those of Song, Song and Ermon 2018, section 6):
``"rate"`` (alpha, beta), ``"scale"`` (alpha, 1/beta), ``"rate-cubed"`` (alpha, beta = b^3) and ``"squared"``
(alpha = a^2, beta = b^2). Each maps coordinate-wise, so d(alpha, beta)/d theta is diagonal.

**Natural-gradient VI.** For the Normal–Gamma model and q(mu) q(tau) of :mod:`helpers.vi.cavi`, each factor is
conditionally conjugate: with q's natural parameters eta_mu = (lambda_N mu_N, -lambda_N / 2) (T = (mu, mu^2)) and
eta_tau = (a_N - 1, -b_N) (T = (log tau, tau)), the natural gradient of the ELBO in a factor's natural parameters
is eta_hat - eta, eta_hat the expected natural parameter of the complete conditional (:func:`conjugate_targets`),
so a step of size 1 is the CAVI update (Hoffman, Blei, Wang and Paisley 2013, eq. 22-23). :func:`svi_normal_gamma`
is their stochastic VI with minibatches and a Robbins-Monro step rho_t = (t + delay)^(-forgetting).

**A Gaussian q on the log scale for the Gamma–Poisson model.** log z ~ N(m, s^2) per latent (a log-normal q, every
moment of the reparameterization gradient exists); the Fisher of N(m, s^2) in (m, s) is diag(1/s^2, 2/s^2), in
(m, log s) it is diag(1/s^2, 2) (:func:`lognormal_q_fit`).

Shapes: leading batch dimensions (...) broadcast; K step sizes, R independent runs, S draws, T iterations.
Everything is float64. References: Amari (1998), *Natural gradient works efficiently in learning*; Hoffman et al.
(2013), *Stochastic variational inference*; Song, Song and Ermon (2018), *Accelerating natural gradient with
higher-order invariance*; Kingma and Ba (2015), *Adam*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import (
    as_real_tensor,
    check_choice,
    check_count,
    check_finite,
    check_flag,
    check_generator,
    check_instance,
    check_noise,
    check_positive,
    check_positive_number,
    check_real,
)
from helpers.models.gamma_poisson import GammaPoisson
from helpers.models.normal_gamma import NormalGamma, check_data
from helpers.vi.bbvi import NormalGammaData, default_init, normal_gamma_gradient
from helpers.vi.cavi import check_prior, normal_gamma_elbo
from helpers.vi.meanfield import check_q_params, from_unconstrained, to_unconstrained

GAMMA_PARAMETERIZATIONS = ("rate", "scale", "rate-cubed", "squared")
FISHER_PARAMETERIZATIONS = ("natural", "rate", "scale")
FIT_METHODS = ("gradient", "natural")
Q_METHODS = ("gradient", "natural", "adam")


#: what theta means in each coordinate system, for the error messages
_COORDINATES = {
    "natural": "theta = eta = (alpha - 1, -beta) needs theta[..., 0] > -1 and theta[..., 1] < 0",
    "rate": "theta = (alpha, beta), both > 0",
    "scale": "theta = (alpha, s) with s = 1/beta, both > 0",
    "rate-cubed": "theta = (alpha, b) with beta = b^3, both > 0",
    "squared": "theta = (a, b) with alpha = a^2, beta = b^2, both nonzero",
}


def _choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    check_instance(value, name, str, how=f"pass one of {list(choices)}")
    return check_choice(value, name, choices)  # type: ignore[return-value]


def _params(theta: object, name: str = "theta") -> Tensor:
    t = check_finite(as_real_tensor(theta, name, dtype=torch.float64), name)
    if t.ndim == 0 or t.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2), the two Gamma parameters (got {tuple(t.shape)}).")
    return t


def _refuse_outside(theta: Tensor, alpha: Tensor, beta: Tensor, name: str, parameterization: str) -> None:
    """Raise ValueError naming ``name`` unless every (alpha, beta) that ``theta`` maps to is finite and > 0."""
    outside = ~(torch.isfinite(alpha) & torch.isfinite(beta) & (alpha > 0) & (beta > 0))
    if outside.any():
        where = tuple(int(i) for i in outside.nonzero()[0])
        raise ValueError(
            f"{name} = {theta[where].tolist()}{' at index ' + str(list(where)) if where else ''} gives the Gamma "
            f"(alpha, beta) = ({float(alpha[where]):.4g}, {float(beta[where]):.4g}), outside alpha > 0, beta > 0; in "
            f"{parameterization!r} coordinates {_COORDINATES[parameterization]}."
        )


def _check_theta(theta: object, parameterization: str, name: str = "theta") -> Tensor:
    """theta as a finite float64 tensor (..., 2) whose (alpha, beta) are finite and > 0."""
    t = _params(theta, name)
    ab = _shape_rate(t, parameterization)
    _refuse_outside(t, ab[..., 0], ab[..., 1], name, parameterization)
    return t


def _check_omega(omega: object, name: str = "omega") -> Tensor:
    """omega = (mu_N, lambda_N, a_N, b_N) (..., 4) as float64: mu_N finite, lambda_N, a_N, b_N finite and > 0."""
    w = as_real_tensor(omega, name, dtype=torch.float64)
    if w.ndim == 0 or w.shape[-1] != 4:
        raise ValueError(f"{name} must have shape (..., 4), (mu_N, lambda_N, a_N, b_N) (got {tuple(w.shape)}).")
    check_finite(w[..., 0], "mu_N")
    hints = {
        "lambda_N": "lambda_N is the precision of q(mu); pass a value > 0",
        "a_N": "a_N is the Gamma shape of q(tau); pass a value > 0",
        "b_N": "b_N is the Gamma RATE of q(tau); pass a value > 0",
    }
    for i, entry in enumerate(hints, start=1):
        check_positive(w[..., i], entry, hint=hints[entry])
    return w


def _check_ng_eta(eta: object, name: str = "eta") -> Tensor:
    """The natural parameters (lambda_N mu_N, -lambda_N/2, a_N - 1, -b_N) (..., 4) of a valid q(mu) q(tau)."""
    t = check_finite(as_real_tensor(eta, name, dtype=torch.float64), name)
    if t.ndim == 0 or t.shape[-1] != 4:
        raise ValueError(
            f"{name} must have shape (..., 4), (lambda_N mu_N, -lambda_N/2, a_N - 1, -b_N) (got {tuple(t.shape)})."
        )
    inside = (t[..., 1] < 0) & (t[..., 2] > -1) & (t[..., 3] < 0)
    if not inside.all():
        where = tuple(int(i) for i in (~inside).nonzero()[0])
        raise ValueError(
            f"{name} = {t[where].tolist()} is not the natural parameter of a q(mu) q(tau): {name} = (lambda_N mu_N, "
            f"-lambda_N/2, a_N - 1, -b_N) needs {name}[..., 1] < 0, {name}[..., 2] > -1 and {name}[..., 3] < 0 "
            "(lambda_N, a_N, b_N > 0)."
        )
    return t


def _check_betas(betas: object) -> tuple[float, float]:
    check_instance(betas, "betas", (tuple, list), how="pass two numbers in [0, 1), e.g. betas=(0.9, 0.999)")
    if len(betas) != 2:  # type: ignore[arg-type]
        raise ValueError(f"betas must be two numbers (b1, b2) in [0, 1) (got {betas!r}); e.g. betas=(0.9, 0.999).")
    for b in betas:  # type: ignore[union-attr]
        if not 0 <= check_real(b, "betas", hint="e.g. betas=(0.9, 0.999)") < 1:
            raise ValueError(f"betas must be in [0, 1) (got {betas!r}): Adam divides by 1 - b^t; e.g. (0.9, 0.999).")
    return betas  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------ the exponential family
def gamma_natural_params(alpha: object, beta: object) -> Tensor:
    """eta = (alpha - 1, -beta) for Gamma(alpha, RATE beta), shape (..., 2) (broadcast of alpha and beta)."""
    a = check_positive(as_real_tensor(alpha, "alpha", dtype=torch.float64), "alpha", hint="alpha is the Gamma shape")
    b = check_positive(as_real_tensor(beta, "beta", dtype=torch.float64), "beta", hint="beta is the Gamma RATE")
    try:
        a, b = torch.broadcast_tensors(a, b)
    except RuntimeError:
        raise ValueError(
            f"alpha and beta must have shapes that broadcast (got {tuple(a.shape)} and {tuple(b.shape)})."
        ) from None
    return torch.stack([a - 1.0, -b], dim=-1)


def gamma_log_partition(eta: Tensor) -> Tensor:
    """A(eta) = lgamma(eta_1 + 1) - (eta_1 + 1) log(-eta_2), shape (...), for eta (..., 2) with eta_1 > -1, eta_2 < 0.

    Differentiable (autograd gives grad A = E[T] and hess A = F(eta)); eta outside the domain raises ValueError.
    """
    t = _params(eta, "eta")
    _refuse_outside(t, t[..., 0] + 1.0, -t[..., 1], "eta", "natural")
    return _gamma_log_partition(t)


def _gamma_log_partition(eta: Tensor) -> Tensor:
    return torch.lgamma(eta[..., 0] + 1.0) - (eta[..., 0] + 1.0) * torch.log(-eta[..., 1])


def gamma_mean_sufficient(alpha: object, beta: object) -> Tensor:
    """E[T(x)] = (E log x, E x) = (digamma(alpha) - log beta, alpha / beta) under Gamma(alpha, rate beta), (..., 2)."""
    eta = gamma_natural_params(alpha, beta)
    a, b = eta[..., 0] + 1.0, -eta[..., 1]
    return torch.stack([torch.digamma(a) - torch.log(b), a / b], dim=-1)


def gamma_fisher(theta: object, parameterization: str = "rate") -> Tensor:
    """The Fisher information of one Gamma observation, shape (..., 2, 2), float64.

    Args:
        theta: (..., 2): (alpha, beta) for ``"rate"``, (alpha, s = 1/beta) for ``"scale"``, or the natural
            parameters eta = (alpha - 1, -beta) for ``"natural"``.
        parameterization: ``"rate"``, ``"scale"`` or ``"natural"``.

    Returns:
        natural: [[trigamma(alpha), 1/beta], [1/beta, alpha/beta^2]];
        rate:    [[trigamma(alpha), -1/beta], [-1/beta, alpha/beta^2]];
        scale:   [[trigamma(alpha), 1/s], [1/s, alpha/s^2]]   (each J^T F(eta) J, module docstring).
    """
    _choice(parameterization, "parameterization", FISHER_PARAMETERIZATIONS)
    t = _params(theta)
    if parameterization == "natural":
        alpha, beta = t[..., 0] + 1.0, -t[..., 1]
        off = 1.0 / beta
    elif parameterization == "rate":
        alpha, beta = t[..., 0], t[..., 1]
        off = -1.0 / beta
    else:
        alpha, beta = t[..., 0], 1.0 / t[..., 1]
        off = beta
    _refuse_outside(t, alpha, beta, "theta", parameterization)
    row0 = torch.stack([torch.special.polygamma(1, alpha), off], dim=-1)
    corner = alpha / beta**2 if parameterization != "scale" else alpha * beta**2
    row1 = torch.stack([off, corner], dim=-1)
    return torch.stack([row0, row1], dim=-2)


# ------------------------------------------------------------------------------------------ coordinates
def to_shape_rate(theta: Tensor, parameterization: str = "rate") -> Tensor:
    """(alpha, beta) from theta (..., 2): rate (a, b) -> (a, b); scale (a, s) -> (a, 1/s);
    rate-cubed (a, b) -> (a, b^3); squared (a, b) -> (a^2, b^2). A theta whose (alpha, beta) is not finite and > 0
    raises ValueError."""
    _choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
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
    _choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
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


@dataclass(frozen=True)
class GammaStats:
    """Sufficient statistics of positive data x (N,): N, mean log x and mean x."""

    n: int
    mean_log: float
    mean: float

    @classmethod
    def from_x(cls, x: object) -> GammaStats:
        data = check_positive(as_real_tensor(x, "x", dtype=torch.float64), "x", hint="Gamma data must be > 0")
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
    _choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    return _nll(s, _check_theta(theta, parameterization), parameterization)


def _nll(s: GammaStats, theta: Tensor, parameterization: str) -> Tensor:
    ab = _shape_rate(theta, parameterization)
    alpha, beta = ab[..., 0], ab[..., 1]
    return s.n * (torch.lgamma(alpha) - alpha * torch.log(beta) - (alpha - 1.0) * s.mean_log + beta * s.mean)


def gamma_nll_grad(x: object, theta: Tensor, parameterization: str = "rate") -> Tensor:
    """grad_theta NLL, shape (..., 2): N (digamma(alpha) - log beta - mean log x, mean x - alpha/beta) in (alpha, beta),
    times the diagonal Jacobian d(alpha, beta)/d theta (chain rule)."""
    s = _stats(x)
    _choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
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
    _choice(parameterization, "parameterization", ("rate", "scale"))
    s = _stats(x)
    theta = _check_theta(theta, parameterization)
    a, b = theta[..., 0], theta[..., 1]
    tri = torch.special.polygamma(1, a)
    if parameterization == "rate":
        off, corner = -1.0 / b, a / b**2
    else:
        off, corner = 1.0 / b, 2.0 * s.mean / b**3 - a / b**2
    return s.n * torch.stack([torch.stack([tri, off], -1), torch.stack([off, corner], -1)], -2)


def fisher_in(theta: Tensor, parameterization: str = "rate") -> Tensor:
    """F(theta) = J^T F(alpha, beta) J for any of :data:`GAMMA_PARAMETERIZATIONS`, (..., 2, 2); J diagonal."""
    _choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    theta = _check_theta(theta, parameterization)
    ab = _shape_rate(theta, parameterization)
    jac = _jacobian(theta, parameterization)
    return gamma_fisher(ab, "rate") * jac[..., :, None] * jac[..., None, :]


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

    Returns:
        A :class:`GammaFit`; trajectory (T + 1, 2) for one step size, (T + 1, K, 2) for K.
    """
    s = _stats(x)
    _choice(method, "method", FIT_METHODS)
    _choice(parameterization, "parameterization", GAMMA_PARAMETERIZATIONS)
    t_max = check_count(num_iters, "num_iters")
    max_halvings = check_count(max_halvings, "max_halvings", minimum=0)
    start = _params(theta0, "theta0")
    if start.shape != (2,):
        raise ValueError(f"theta0 must have shape (2,) (got {tuple(start.shape)}).")
    eps = check_positive(as_real_tensor(step_size, "step_size", dtype=torch.float64), "step_size")
    if eps.ndim > 1 or eps.numel() == 0:
        raise ValueError(
            f"step_size must be a number or a non-empty 1-D sequence of step sizes (got shape {tuple(eps.shape)})."
        )
    _check_theta(start, parameterization, "theta0")
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
    return GammaFit(trajectory=traj, nll=_nll(s, traj, parameterization) / s.n, halvings=halvings)


# ------------------------------------------------------------------------------------------ NGVI: Normal–Gamma
def normal_gamma_natural_params(omega: object) -> Tensor:
    """omega = (mu_N, lambda_N, a_N, b_N) (..., 4) -> eta = (lambda_N mu_N, -lambda_N/2, a_N - 1, -b_N) (..., 4)."""
    w = _check_omega(omega)
    mu, lam, a, b = w.unbind(-1)
    return torch.stack([lam * mu, -0.5 * lam, a - 1.0, -b], dim=-1)


def normal_gamma_from_natural(eta: Tensor) -> Tensor:
    """eta (..., 4) -> omega = (mu_N, lambda_N, a_N, b_N): lambda_N = -2 eta_2, mu_N = eta_1 / lambda_N,
    a_N = eta_3 + 1, b_N = -eta_4. Differentiable; an eta outside lambda_N, a_N, b_N > 0 raises ValueError."""
    return _from_natural(_check_ng_eta(eta))


def _from_natural(eta: Tensor) -> Tensor:
    lam = -2.0 * eta[..., 1]
    return torch.stack([eta[..., 0] / lam, lam, eta[..., 2] + 1.0, -eta[..., 3]], dim=-1)


def normal_gamma_log_partition(eta: Tensor) -> Tensor:
    """A(eta) of q(mu) q(tau), shape (...): -eta_1^2 / (4 eta_2) - 1/2 log(-2 eta_2) + the Gamma's A(eta_3, eta_4)."""
    eta = _check_ng_eta(eta)
    normal = -(eta[..., 0] ** 2) / (4.0 * eta[..., 1]) - 0.5 * torch.log(-2.0 * eta[..., 1])
    return normal + _gamma_log_partition(eta[..., 2:])


def conjugate_targets(
    n: float, sum_x: Tensor | float, sum_x2: Tensor | float, prior: NormalGamma, omega: Tensor
) -> Tensor:
    """eta_hat (..., 4): the natural parameters of each factor's complete conditional, averaged under the other factor.

        q(mu):  eta_hat_mu  = E_q[tau] (lambda_0 mu_0 + sum_x,  -(lambda_0 + n) / 2)
        q(tau): eta_hat_tau = (a_0 - 1 + (n + 1)/2,
                               -(b_0 + 1/2 [sum_x2 - 2 mu_N sum_x + n E_q[mu^2] + lambda_0 E_q[(mu - mu_0)^2]]))

    with E_q[mu^2] = mu_N^2 + 1/lambda_N. ``n, sum_x, sum_x2`` are N, sum x_n and sum x_n^2, or their unbiased
    minibatch estimates (N/B times the minibatch sums, with n = N). The natural gradient of the ELBO in each factor's
    eta is eta_hat - eta (chapter *Natural gradients*, proposition on NGVI); eta_hat is CAVI's update.
    No data have sum_x2 < sum_x^2 / n (Cauchy-Schwarz, which the minibatch estimates meet too): such sums raise
    ValueError (sum_x and sum_x2 swapped?).
    """
    check_prior(prior)
    check_positive_number(n, "n", hint="n is the number of data points N")
    omega = _check_omega(omega)
    sum_x = check_finite(as_real_tensor(sum_x, "sum_x", dtype=torch.float64), "sum_x")
    sum_x2 = check_finite(as_real_tensor(sum_x2, "sum_x2", dtype=torch.float64), "sum_x2")
    try:
        torch.broadcast_shapes(sum_x.shape, sum_x2.shape, omega.shape[:-1])
    except RuntimeError:
        raise ValueError(
            f"sum_x, sum_x2 and omega[..., 0] must have shapes that broadcast (got {tuple(sum_x.shape)}, "
            f"{tuple(sum_x2.shape)} and {tuple(omega.shape[:-1])})."
        ) from None
    if (sum_x2 < 0).any() or (sum_x2 * n < sum_x**2 * (1.0 - 1e-9)).any():
        raise ValueError(
            f"sum_x2 = {sum_x2.tolist()} is below sum_x^2 / n = {(sum_x**2 / n).tolist()}: no data have these sums "
            "(sum_x2 is the sum of the squares x_n^2, sum_x the sum of the x_n; were they swapped?)."
        )
    return _conjugate_targets(n, sum_x, sum_x2, prior, omega)


def _conjugate_targets(n: float, sum_x: Tensor, sum_x2: Tensor, prior: NormalGamma, omega: Tensor) -> Tensor:
    mu_n, lam, a, b = omega.unbind(-1)
    e_tau = a / b
    e_mu2 = mu_n**2 + 1.0 / lam
    eta_mu = torch.stack(
        [e_tau * (prior.lambda0 * prior.mu0 + sum_x), -0.5 * e_tau * (prior.lambda0 + n) * torch.ones_like(e_tau)], -1
    )
    e_sq = sum_x2 - 2.0 * mu_n * sum_x + n * e_mu2 + prior.lambda0 * (e_mu2 - 2.0 * prior.mu0 * mu_n + prior.mu0**2)
    shape = torch.full_like(e_tau, prior.a0 - 1.0 + 0.5 * (n + 1))
    eta_tau = torch.stack([shape, -(prior.b0 + 0.5 * e_sq)], -1)
    return torch.cat([eta_mu, eta_tau], dim=-1)


@dataclass(frozen=True)
class VITrace:
    """What :func:`svi_normal_gamma` and :func:`bbvi_adam_normal_gamma` return.

    Attributes:
        params: (T + 1, 4) omega = (mu_N, lambda_N, a_N, b_N) before the first step and after every step.
        elbo: (T + 1,) the exact ELBO (:func:`helpers.vi.normal_gamma_elbo`) along the run.
    """

    params: Tensor
    elbo: Tensor


def svi_normal_gamma(
    x: object,
    prior: NormalGamma,
    num_iters: int,
    batch_size: int,
    *,
    delay: float = 1.0,
    forgetting: float = 0.7,
    init: object | None = None,
    generator: torch.Generator | None = None,
) -> VITrace:
    """Stochastic natural-gradient VI (Hoffman et al. 2013, Algorithm 1) for the Normal–Gamma model.

    At step t: draw a minibatch of B indices uniformly with replacement, form the unbiased estimates N/B sum_b x_b and
    N/B sum_b x_b^2, the targets eta_hat of :func:`conjugate_targets` for both factors at the current q, and
    eta <- (1 - rho_t) eta + rho_t eta_hat, rho_t = (t + delay)^(-forgetting); 1/2 < forgetting <= 1 meets
    Robbins and Monro's conditions. Both factors are updated together (a natural-gradient step in the joint eta, whose
    Fisher is block-diagonal under the mean-field q). With B = N and rho = 1 this is a Jacobi-order CAVI sweep.

    Args:
        x: data (N,); prior: the :class:`~helpers.NormalGamma` prior.
        num_iters: T; batch_size: B >= 1.
        delay, forgetting: the step-size schedule (tau_0 >= 0 and kappa in (0.5, 1]).
        init: starting omega; default :func:`helpers.vi.default_init`.
    """
    data = check_data(x)
    prior = check_prior(prior)
    t_max = check_count(num_iters, "num_iters")
    bsz = check_count(batch_size, "batch_size")
    check_generator(generator)
    if not (0.5 < check_real(forgetting, "forgetting", hint="e.g. forgetting=0.7") <= 1.0):
        raise ValueError(f"forgetting must be in (0.5, 1] for Robbins-Monro (got {forgetting!r}).")
    if not check_real(delay, "delay", hint="e.g. delay=1.0") >= 0:
        raise ValueError(f"delay must be >= 0 (got {delay!r}).")
    omega = default_init(data, prior) if init is None else check_q_params(init)
    n = data.numel()
    idx = torch.randint(0, n, (t_max, bsz), generator=generator)  # (T, B) all minibatches at once
    batch = data[idx]
    sum_x, sum_x2 = batch.sum(-1) * (n / bsz), (batch**2).sum(-1) * (n / bsz)  # (T,)
    rho = (torch.arange(1, t_max + 1, dtype=torch.float64) + delay) ** (-forgetting)  # (T,)
    eta = normal_gamma_natural_params(omega)
    etas = torch.empty((t_max + 1, 4), dtype=torch.float64)
    etas[0] = eta
    for t in range(t_max):
        target = _conjugate_targets(n, sum_x[t], sum_x2[t], prior, _from_natural(eta))
        eta = (1.0 - rho[t]) * eta + rho[t] * target
        etas[t + 1] = eta
    params = _from_natural(etas)
    return VITrace(params=params, elbo=normal_gamma_elbo(data, prior, *params.unbind(-1)))


def bbvi_adam_normal_gamma(
    x: object,
    prior: NormalGamma,
    num_iters: int,
    num_samples: int,
    *,
    lr: float = 0.05,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    init: object | None = None,
    generator: torch.Generator | None = None,
) -> VITrace:
    """Black-box VI with Adam (Kingma and Ba 2015) on theta = (mu_N, log lambda_N, log a_N, log b_N).

    The gradient is :func:`helpers.vi.normal_gamma_gradient` (score function, leave-one-out control variate,
    Rao-Blackwellized), ascended with Adam: m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
    theta <- theta + lr m_hat / (sqrt(v_hat) + eps). The ELBO trace is exact (not the estimate). A run whose q
    overflows (too large an lr) raises ValueError naming lr.
    """
    check_prior(prior)
    data = NormalGammaData.from_x(x)
    t_max = check_count(num_iters, "num_iters")
    s = check_count(num_samples, "num_samples", minimum=3)
    lr = check_positive_number(lr, "lr", example="lr=0.05")
    b1, b2 = _check_betas(betas)
    check_positive_number(eps, "eps", example="eps=1e-8")
    check_generator(generator)
    omega = default_init(x, prior) if init is None else check_q_params(init)
    theta = to_unconstrained(omega)
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    thetas = torch.empty((t_max + 1, 4), dtype=torch.float64)
    thetas[0] = theta
    for t in range(1, t_max + 1):
        if not torch.isfinite(from_unconstrained(theta)).all():
            raise ValueError(
                f"bbvi_adam_normal_gamma diverged at iteration {t}: q's parameters overflowed (theta = "
                f"{theta.tolist()}); pass a smaller lr (got lr={lr:g}), e.g. lr={lr / 10:g}."
            )
        g, _ = normal_gamma_gradient(
            data, prior, theta, s, coefficient="leave-one-out", rao_blackwellize=True, generator=generator
        )
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta + lr * (m / (1 - b1**t)) / (torch.sqrt(v / (1 - b2**t)) + eps)
        thetas[t] = theta
    params = from_unconstrained(thetas)
    return VITrace(params=params, elbo=normal_gamma_elbo(check_data(x), prior, *params.unbind(-1)))


# ------------------------------------------------------------------------------------------ log-normal q, Gamma–Poisson
def lognormal_elbo(model: GammaPoisson, loc: Tensor, log_scale: Tensor) -> Tensor:
    """The exact ELBO of q = prod_d LogNormal(m_d, s_d^2) for the Gamma–Poisson model, batched: loc, log_scale (..., 2).

    With E[z] = exp(m + s^2/2), E[log z] = m and H[q] = sum_d (m_d + log s_d + 1/2 log(2 pi e)):
    ELBO = (S_x + a_u - 1) m_u + (S_x + a_v - 1) m_v - N E[u] E[v] - b_u E[u] - b_v E[v] + H[q] + const.
    Equals ``model.exact_elbo(loc, scale, family="lognormal")`` for one q.
    """
    check_instance(model, "model", GammaPoisson, how="build it with helpers.models.GammaPoisson()")
    return _lognormal_elbo(model, *_check_loc_log_scale(loc, log_scale))


def _check_loc_log_scale(loc: object, log_scale: object) -> tuple[Tensor, Tensor]:
    """loc and log_scale (..., 2) of the log-normal q, finite float64, with batch shapes that broadcast."""
    out = []
    for value, name in ((loc, "loc"), (log_scale, "log_scale")):
        t = check_finite(as_real_tensor(value, name, dtype=torch.float64), name)
        if t.ndim == 0 or t.shape[-1] != 2:
            raise ValueError(f"{name} must have shape (..., 2), one entry per latent (u, v) (got {tuple(t.shape)}).")
        out.append(t)
    try:
        torch.broadcast_shapes(out[0].shape, out[1].shape)
    except RuntimeError:
        raise ValueError(
            f"loc and log_scale must have shapes that broadcast (got {tuple(out[0].shape)} and {tuple(out[1].shape)})."
        ) from None
    return out[0], out[1]


def _lognormal_elbo(model: GammaPoisson, loc: Tensor, log_scale: Tensor) -> Tensor:
    sd = torch.exp(log_scale)
    mean_z = torch.exp(loc + 0.5 * sd**2)
    m_u, m_v = loc[..., 0], loc[..., 1]
    entropy = (loc + log_scale).sum(-1) + math.log(2.0 * math.pi * math.e)
    return (
        (model.sum_x + model.u_shape - 1.0) * m_u
        + (model.sum_x + model.v_shape - 1.0) * m_v
        - model.num_data * mean_z[..., 0] * mean_z[..., 1]
        - model.u_rate * mean_z[..., 0]
        - model.v_rate * mean_z[..., 1]
        + model.prior_constant
        - model.log_factorials
        + entropy
    )


def lognormal_reparam_gradient(model: GammaPoisson, loc: Tensor, log_scale: Tensor, eps: Tensor) -> Tensor:
    """Reparameterization estimate of grad_(m, log s) ELBO, shape (..., 4) = (d m_u, d m_v, d log s_u, d log s_v).

    z = exp(m + s eps), eps (..., S, 2) ~ N(0, I); with g = grad_z log p(x, z) (``model.grad_log_joint``):
    d/dm = mean_S(g z) + 1,   d/d log s = mean_S(g z s eps) + 1   (the +1 from the entropy m + log s).
    """
    check_instance(model, "model", GammaPoisson, how="build it with helpers.models.GammaPoisson()")
    loc, log_scale = _check_loc_log_scale(loc, log_scale)
    check_finite(check_noise(eps, 2), "eps")
    try:
        torch.broadcast_shapes((*torch.broadcast_shapes(loc.shape, log_scale.shape)[:-1], 1, 2), eps.shape)
    except RuntimeError:
        raise ValueError(
            f"eps must have shape (..., S, 2) whose batch dimensions (...) broadcast with those of loc and log_scale "
            f"(got eps {tuple(eps.shape)}, loc {tuple(loc.shape)}, log_scale {tuple(log_scale.shape)})."
        ) from None
    return _reparam_gradient(model, loc, log_scale, eps)


def _reparam_gradient(model: GammaPoisson, loc: Tensor, log_scale: Tensor, eps: Tensor) -> Tensor:
    sd = torch.exp(log_scale)[..., None, :]
    z = torch.exp(loc[..., None, :] + sd * eps)  # (..., S, 2)
    gz = model.grad_log_joint(z) * z  # d log p / d log z, (..., S, 2)
    return torch.cat([gz.mean(-2) + 1.0, (gz * sd * eps).mean(-2) + 1.0], dim=-1)


@dataclass(frozen=True)
class QFit:
    """What :func:`lognormal_q_fit` returns: params (T + 1, R, 4) = (m_u, m_v, log s_u, log s_v) and the exact ELBO
    (T + 1, R) along each of the R runs."""

    params: Tensor
    elbo: Tensor


def lognormal_q_fit(
    model: GammaPoisson,
    init: object,
    num_iters: int,
    num_samples: int,
    step_size: float,
    *,
    method: str = "natural",
    num_runs: int = 1,
    betas: tuple[float, float] = (0.9, 0.999),
    generator: torch.Generator | None = None,
) -> QFit:
    """Stochastic gradient ascent on the ELBO of a log-normal q in theta = (m_u, m_v, log s_u, log s_v), R runs at once.

        gradient: theta <- theta + eps g;
        natural:  theta <- theta + eps F^-1 g, F = diag(1/s^2, 1/s^2, 2, 2) (the Normal's Fisher diag(1/s^2, 2/s^2)
                  in (m, s), times the Jacobian ds/dlog s = s on both sides);
        adam:     Adam with learning rate eps;
    g from :func:`lognormal_reparam_gradient` with S draws per run and step. A run that diverges (too large a step
    for its noise) is kept, not refused: its params and ELBO become inf or NaN from then on, which :func:`first_hit`
    counts as never reaching a level, so a chapter comparing step sizes sees it as a failure.
    """
    check_instance(model, "model", GammaPoisson, how="build it with helpers.models.GammaPoisson()")
    _choice(method, "method", Q_METHODS)
    t_max = check_count(num_iters, "num_iters")
    s = check_count(num_samples, "num_samples")
    r = check_count(num_runs, "num_runs")
    lr = check_positive_number(step_size, "step_size", example="step_size=0.1")
    b1, b2 = _check_betas(betas)
    check_generator(generator)
    theta0 = check_finite(as_real_tensor(init, "init", dtype=torch.float64), "init")
    if theta0.shape != (4,):
        raise ValueError(f"init must be (m_u, m_v, log s_u, log s_v), shape (4,) (got {tuple(theta0.shape)}).")
    theta = theta0.expand(r, 4).clone()
    traj = torch.empty((t_max + 1, r, 4), dtype=torch.float64)
    traj[0] = theta
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    for t in range(1, t_max + 1):
        eps = torch.randn((r, s, 2), dtype=torch.float64, generator=generator)
        g = _reparam_gradient(model, theta[:, :2], theta[:, 2:], eps)
        if method == "gradient":
            step = g
        elif method == "natural":
            var = torch.exp(2.0 * theta[:, 2:])
            step = torch.cat([var * g[:, :2], 0.5 * g[:, 2:]], dim=-1)
        else:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            step = (m / (1 - b1**t)) / (torch.sqrt(v / (1 - b2**t)) + 1e-8)
        theta = theta + lr * step
        traj[t] = theta
    return QFit(params=traj, elbo=_lognormal_elbo(model, traj[..., :2], traj[..., 2:]))


def first_hit(values: Tensor, level: float, *, stay: bool = False) -> Tensor:
    """The first index along dim 0 where ``values`` (T + 1, ...) >= level, shape (...); T + 1 where it never is.

    With ``stay=True``, the first index from which ``values`` stays >= level to the end (a run that passes the level
    and leaves it again has not converged there). NaN (a diverged run) is never at or above the level.
    """
    if not isinstance(values, Tensor) or values.dtype == torch.bool or values.is_complex():
        values = as_real_tensor(values, "values", dtype=torch.float64)
    if values.ndim == 0 or values.shape[0] == 0:
        raise ValueError(f"values must have shape (T + 1, ...) with T + 1 >= 1 (got {tuple(values.shape)}).")
    check_real(level, "level", hint="a number such as elbo_opt - 0.05")
    check_flag(stay, "stay")
    hit = values >= level
    if stay:
        hit = torch.flip(torch.cumprod(torch.flip(hit.to(torch.int64), [0]), 0), [0]).bool()
    first = torch.argmax(hit.to(torch.int64), dim=0)
    return torch.where(hit.any(0), first, torch.full_like(first, values.shape[0]))
