"""Exponential families and their Fisher information (chapter *Natural gradients*).

**The Gamma distribution.** Gamma(alpha, RATE beta) has density beta^alpha x^(alpha - 1) e^(-beta x) / Gamma(alpha)
= h(x) exp(<eta, T(x)> - A(eta)) with

    T(x) = (log x, x),   h(x) = 1,   eta = (alpha - 1, -beta),   A(eta) = lgamma(eta_1 + 1) - (eta_1 + 1) log(-eta_2),

so grad A(eta) = E[T(x)] = (digamma(alpha) - log beta, alpha / beta) and the Fisher information in eta is

    F(eta) = hess A(eta) = [[trigamma(alpha), 1/beta], [1/beta, alpha/beta^2]].

In coordinates theta with eta = eta(theta) and J = d eta / d theta, F(theta) = J^T F(eta) J:

    rate  theta = (alpha, beta):        J = diag(1, -1)     (J^-1 = J),
                                        F = [[trigamma, -1/beta], [-1/beta, alpha/beta^2]]
    scale theta = (alpha, s = 1/beta):  J = diag(1, 1/s^2)  (J^-1 = diag(1, s^2), not J),
                                        F = [[trigamma, 1/s], [1/s, alpha/s^2]]

**The mean-field q(mu) q(tau) of the Normal–Gamma model** (:mod:`helpers.vi.cavi`): q(mu) = N(mu_N, 1/lambda_N)
with T = (mu, mu^2) and q(tau) = Gamma(a_N, rate b_N) with T = (log tau, tau), so omega = (mu_N, lambda_N, a_N, b_N)
has the natural parameters eta = (lambda_N mu_N, -lambda_N / 2, a_N - 1, -b_N).

Shapes: leading batch dimensions (...) broadcast. Everything is float64. References: Amari (1998), *Natural gradient
works efficiently in learning*; Hoffman, Blei, Wang and Paisley (2013), *Stochastic variational inference*.
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.validation import as_tensor, check_choice, check_finite, check_last_dim, check_positive

FISHER_PARAMETERIZATIONS = ("natural", "rate", "scale")

#: what theta means in each coordinate system, for the error messages
COORDINATES = {
    "natural": "theta = eta = (alpha - 1, -beta) needs theta[..., 0] > -1 and theta[..., 1] < 0",
    "rate": "theta = (alpha, beta), both > 0",
    "scale": "theta = (alpha, s) with s = 1/beta, both > 0",
    "rate-cubed": "theta = (alpha, b) with beta = b^3, both > 0",
    "squared": "theta = (a, b) with alpha = a^2, beta = b^2, both nonzero",
}


def _pairs(theta: object, name: str = "theta") -> Tensor:
    """``theta`` as a finite float64 tensor of shape (..., 2), the two parameters of a Gamma (shared checkers)."""
    t = check_finite(as_tensor(theta, name, dtype=torch.float64), name)
    return check_last_dim(t, name, 2, what="the two Gamma parameters")


def _refuse_outside(theta: Tensor, alpha: Tensor, beta: Tensor, name: str, parameterization: str) -> None:
    """Raise ValueError naming ``name`` unless every (alpha, beta) that ``theta`` maps to is finite and > 0."""
    outside = ~(torch.isfinite(alpha) & torch.isfinite(beta) & (alpha > 0) & (beta > 0))
    if outside.any():
        where = tuple(int(i) for i in outside.nonzero()[0])
        raise ValueError(
            f"{name} = {theta[where].tolist()}{' at index ' + str(list(where)) if where else ''} gives the Gamma "
            f"(alpha, beta) = ({float(alpha[where]):.4g}, {float(beta[where]):.4g}), outside alpha > 0, beta > 0; in "
            f"{parameterization!r} coordinates {COORDINATES[parameterization]}."
        )


def _omega(omega: object, name: str = "omega") -> Tensor:
    """omega = (mu_N, lambda_N, a_N, b_N) (..., 4) as float64: mu_N finite, lambda_N, a_N, b_N finite and > 0."""
    w = check_last_dim(as_tensor(omega, name, dtype=torch.float64), name, 4, what="(mu_N, lambda_N, a_N, b_N)")
    check_finite(w[..., 0], f"{name}[0] = mu_N")
    check_positive(w[..., 1], f"{name}[1] = lambda_N", hint="lambda_N is the precision of q(mu); pass a value > 0")
    check_positive(w[..., 2], f"{name}[2] = a_N", hint="a_N is the Gamma shape of q(tau); pass a value > 0")
    check_positive(w[..., 3], f"{name}[3] = b_N", hint="b_N is the Gamma RATE of q(tau); pass a value > 0")
    return w


def _ng_eta(eta: object, name: str = "eta") -> Tensor:
    """The natural parameters (lambda_N mu_N, -lambda_N/2, a_N - 1, -b_N) (..., 4) of a valid q(mu) q(tau)."""
    t = check_finite(as_tensor(eta, name, dtype=torch.float64), name)
    check_last_dim(t, name, 4, what="(lambda_N mu_N, -lambda_N/2, a_N - 1, -b_N)")
    inside = (t[..., 1] < 0) & (t[..., 2] > -1) & (t[..., 3] < 0)
    if not inside.all():
        where = tuple(int(i) for i in (~inside).nonzero()[0])
        raise ValueError(
            f"{name} = {t[where].tolist()} is not the natural parameter of a q(mu) q(tau): {name} = (lambda_N mu_N, "
            f"-lambda_N/2, a_N - 1, -b_N) needs {name}[..., 1] < 0, {name}[..., 2] > -1 and {name}[..., 3] < 0 "
            "(lambda_N, a_N, b_N > 0)."
        )
    return t


# ------------------------------------------------------------------------------------------ the Gamma
def gamma_natural_params(alpha: object, beta: object) -> Tensor:
    """eta = (alpha - 1, -beta) for Gamma(alpha, RATE beta), shape (..., 2) (broadcast of alpha and beta)."""
    a = check_positive(as_tensor(alpha, "alpha", dtype=torch.float64), "alpha", hint="alpha is the Gamma shape")
    b = check_positive(as_tensor(beta, "beta", dtype=torch.float64), "beta", hint="beta is the Gamma RATE")
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
    t = _pairs(eta, "eta")
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
    check_choice(parameterization, "parameterization", FISHER_PARAMETERIZATIONS)
    t = _pairs(theta)
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
    return _fisher(alpha, beta, off, alpha / beta**2 if parameterization != "scale" else alpha * beta**2)


def _fisher(alpha: Tensor, beta: Tensor, off: Tensor, corner: Tensor) -> Tensor:
    row0 = torch.stack([torch.special.polygamma(1, alpha), off], dim=-1)
    row1 = torch.stack([off, corner], dim=-1)
    return torch.stack([row0, row1], dim=-2)


def _rate_fisher(alpha: Tensor, beta: Tensor) -> Tensor:
    """F(alpha, beta) of trusted tensors alpha, beta > 0 (...,), shape (..., 2, 2): :func:`gamma_fisher` in rate
    coordinates without the checks, for callers that have validated theta already."""
    return _fisher(alpha, beta, -1.0 / beta, alpha / beta**2)


# ------------------------------------------------------------------------------------------ the Normal–Gamma q
def normal_gamma_natural_params(omega: object) -> Tensor:
    """omega = (mu_N, lambda_N, a_N, b_N) (..., 4) -> eta = (lambda_N mu_N, -lambda_N/2, a_N - 1, -b_N) (..., 4)."""
    mu, lam, a, b = _omega(omega).unbind(-1)
    return torch.stack([lam * mu, -0.5 * lam, a - 1.0, -b], dim=-1)


def normal_gamma_from_natural(eta: Tensor) -> Tensor:
    """eta (..., 4) -> omega = (mu_N, lambda_N, a_N, b_N): lambda_N = -2 eta_2, mu_N = eta_1 / lambda_N,
    a_N = eta_3 + 1, b_N = -eta_4. Differentiable; an eta outside lambda_N, a_N, b_N > 0 raises ValueError."""
    return from_natural(_ng_eta(eta))


def from_natural(eta: Tensor) -> Tensor:
    """:func:`normal_gamma_from_natural` of a trusted eta (no checks; for the part's own loops)."""
    lam = -2.0 * eta[..., 1]
    return torch.stack([eta[..., 0] / lam, lam, eta[..., 2] + 1.0, -eta[..., 3]], dim=-1)


def normal_gamma_log_partition(eta: Tensor) -> Tensor:
    """A(eta) of q(mu) q(tau), shape (...): -eta_1^2 / (4 eta_2) - 1/2 log(-2 eta_2) + the Gamma's A(eta_3, eta_4)."""
    eta = _ng_eta(eta)
    normal = -(eta[..., 0] ** 2) / (4.0 * eta[..., 1]) - 0.5 * torch.log(-2.0 * eta[..., 1])
    return normal + _gamma_log_partition(eta[..., 2:])
