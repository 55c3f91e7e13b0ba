"""The Normal–Gamma mean-field family of the chapters *Coordinate ascent VI* and *Black-box VI*, written once.

    q(mu, tau) = q(mu) q(tau),     q(mu) = N(mu_N, 1/lambda_N),     q(tau) = Gamma(a_N, RATE b_N).

One type, :class:`NormalGammaQ`, holds the four parameters omega = (mu_N, lambda_N, a_N, b_N) (``lambda_N`` a
precision, ``b_N`` a rate); CAVI's and BBVI's results are such a q with a trace attached (:class:`helpers.vi.CAVIFit`,
:class:`helpers.vi.BBVIFit`). The functions below work on omega as a tensor of shape (..., 4), so that autograd and
batches of q's go through them; the type's methods call them. Draws have shape (S,).

    log q(mu)  = 1/2 log lambda_N - 1/2 log 2 pi - lambda_N (mu - mu_N)^2 / 2
    log q(tau) = a_N log b_N - lgamma(a_N) + (a_N - 1) log tau - b_N tau
    unconstrained theta = (mu_N, log lambda_N, log a_N, log b_N): every theta is a valid q.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI
from helpers.common.sampling import sample_gamma
from helpers.common.validation import (
    as_tensor,
    check_choice,
    check_count,
    check_finite,
    check_generator,
    check_last_dim,
    check_positive,
    check_shape,
)

PARAM_NAMES = ("mu_N", "lambda_N", "a_N", "b_N")


# ------------------------------------------------------------------------------------------ the 4-vector omega
def check_q_params(params: object, parameterization: str = "precision", *, name: str = "params") -> Tensor:
    """Validate omega = (mu_N, lambda_N, a_N, b_N) (or (mu_N, sigma_N, a_N, b_N)), returned as float64 (4,).

    Raises ValueError naming the offending entry: lambda_N (or sigma_N), a_N and b_N must be finite and > 0.
    ``name``: the argument's name in the caller (e.g. ``"init"``), used in the errors.
    """
    omega = as_tensor(params, name, dtype=torch.float64)
    check_shape(omega, name, (4,), what="(mu_N, lambda_N, a_N, b_N)")
    return _check_entries(omega, parameterization, name)


_HINTS = {
    "lambda_N": "lambda_N is the precision of q(mu) (1 / variance); pass a value > 0, or optimize log lambda_N",
    "sigma_N": "sigma_N is the standard deviation of q(mu); pass a value > 0, or optimize log sigma_N",
    "a_N": "a_N is the Gamma shape of q(tau); pass a value > 0, or optimize log a_N",
    "b_N": "b_N is the Gamma RATE of q(tau) (not its scale); pass a value > 0, or optimize log b_N",
}


def _check_entries(omega: Tensor, parameterization: str, name: str = "params") -> Tensor:
    """omega (..., 4) with its first entry finite and the other three finite and > 0, each named in the error."""
    names = _names(parameterization)
    check_finite(omega[..., 0], f"{name}[0] = {names[0]}")
    for i in (1, 2, 3):
        check_positive(omega[..., i], f"{name}[{i}] = {names[i]}", hint=_HINTS[names[i]])
    return omega


def _omega(params: object, parameterization: str = "precision") -> Tensor:
    """params as a floating tensor (..., 4) of valid omegas (dtype, device and graph kept)."""
    omega = check_last_dim(as_tensor(params, "params"), "params", 4, what="omega = (mu_N, lambda_N, a_N, b_N)")
    return _check_entries(omega, parameterization)


def _draws(mu: object, tau: object) -> tuple[Tensor, Tensor]:
    """Draws mu (finite) and tau (> 0) as floating tensors of shapes that broadcast."""
    mu_t = check_finite(as_tensor(mu, "mu"), "mu")
    hint = "tau is a precision drawn from q(tau) = Gamma(a_N, rate b_N); pass draws > 0"
    tau_t = check_positive(as_tensor(tau, "tau"), "tau", hint=hint)
    try:
        shape = torch.broadcast_shapes(mu_t.shape, tau_t.shape)
    except RuntimeError:
        shape = None
    if shape is None or shape not in (mu_t.shape, tau_t.shape):  # (S, 1) with (S,) would make (S, S)
        raise ValueError(
            f"mu and tau must have shapes that broadcast, one to the other's shape, one (mu, tau) per draw (got "
            f"{tuple(mu_t.shape)} and {tuple(tau_t.shape)})."
        )
    return mu_t, tau_t


def _names(parameterization: str) -> tuple[str, str, str, str]:
    if parameterization == "precision":
        return PARAM_NAMES
    if parameterization == "sd":
        return ("mu_N", "sigma_N", "a_N", "b_N")
    check_choice(parameterization, "parameterization", ("precision", "sd"))
    raise AssertionError("unreachable")


def sample_q(params: Tensor, num_samples: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Draws (mu, tau), each (S,), from q(mu) q(tau) = N(mu_N, 1/lambda_N) Gamma(a_N, rate b_N); params (4,).

    params are checked by :func:`check_q_params` (lambda_N = 0 would draw mu = +-inf)."""
    mu_n, lambda_n, a_n, b_n = (float(v) for v in check_q_params(params))
    s = check_count(num_samples, "num_samples")
    check_generator(generator)
    mu = mu_n + torch.randn(s, dtype=torch.float64, generator=generator) / math.sqrt(lambda_n)
    return mu, sample_gamma(a_n, b_n, s, generator)


def log_q_parts(mu: object, tau: object, params: object) -> tuple[Tensor, Tensor]:
    """(log q(mu), log q(tau)), each of the shape of the draws (S,):

    log q(mu)  = 1/2 log lambda_N - 1/2 log 2 pi - lambda_N (mu - mu_N)^2 / 2,
    log q(tau) = a_N log b_N - lgamma(a_N) + (a_N - 1) log tau - b_N tau.

    mu finite, tau > 0, params omega (4,) (or (..., 4)) with lambda_N, a_N, b_N > 0: ValueError naming them otherwise.
    """
    mu_t, tau_t = _draws(mu, tau)
    return _log_q_parts(mu_t, tau_t, _omega(params))


def _log_q_parts(mu: Tensor, tau: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
    mu_n, lambda_n, a_n, b_n = params.unbind(-1)
    log_q_mu = 0.5 * (torch.log(lambda_n) - LOG_2PI) - 0.5 * lambda_n * (mu - mu_n) ** 2
    log_q_tau = a_n * torch.log(b_n) - torch.lgamma(a_n) + (a_n - 1.0) * torch.log(tau) - b_n * tau  # gamma_log_prob
    return log_q_mu, log_q_tau


def log_q(mu: object, tau: object, params: object) -> Tensor:
    """log q(mu, tau) = log q(mu) + log q(tau), shape (S,); the arguments as in :func:`log_q_parts`."""
    mu_t, tau_t = _draws(mu, tau)
    return _log_q(mu_t, tau_t, _omega(params))


def _log_q(mu: Tensor, tau: Tensor, params: Tensor) -> Tensor:
    log_q_mu, log_q_tau = _log_q_parts(mu, tau, params)
    return log_q_mu + log_q_tau


def q_score(mu: object, tau: object, params: object, parameterization: str = "precision") -> Tensor:
    """The score h(mu, tau) = grad_omega log q(mu, tau), shape (S, 4), columns in the order of omega.

    precision (omega = (mu_N, lambda_N, a_N, b_N)):
        lambda_N (mu - mu_N),   1/(2 lambda_N) - (mu - mu_N)^2 / 2,   log b_N - digamma(a_N) + log tau,   a_N/b_N - tau;
    sd (omega = (mu_N, sigma_N, a_N, b_N), q(mu) = N(mu_N, sigma_N^2)):
        (mu - mu_N) / sigma_N^2,   -1/sigma_N + (mu - mu_N)^2 / sigma_N^3,   (the same two Gamma columns).
    Chapter *Black-box VI*, "The score of the Normal-Gamma family" (checked there against autograd). The arguments
    as in :func:`log_q_parts`; ``parameterization`` is ``"precision"`` or ``"sd"``.
    """
    mu_t, tau_t = _draws(mu, tau)
    return _q_score(mu_t, tau_t, _omega(params, parameterization), parameterization)


def _q_score(mu: Tensor, tau: Tensor, params: Tensor, parameterization: str = "precision") -> Tensor:
    mu_n, second, a_n, b_n = params.unbind(-1)
    diff = mu - mu_n
    if parameterization == "precision":
        d_mu, d_second = second * diff, 0.5 / second - 0.5 * diff**2
    else:
        d_mu, d_second = diff / second**2, -1.0 / second + diff**2 / second**3
    d_a = torch.log(b_n) - torch.special.digamma(a_n) + torch.log(tau)
    d_b = a_n / b_n - tau
    return torch.stack([d_mu, d_second, d_a, d_b], dim=-1)


def to_unconstrained(params: object) -> Tensor:
    """omega = (mu_N, lambda_N, a_N, b_N) -> theta = (mu_N, log lambda_N, log a_N, log b_N), shape (..., 4);
    lambda_N, a_N, b_N must be > 0 (ValueError naming them)."""
    return _to_unconstrained(_omega(params))


def _to_unconstrained(params: Tensor) -> Tensor:
    return torch.cat([params[..., :1], torch.log(params[..., 1:])], dim=-1)


def from_unconstrained(theta: object) -> Tensor:
    """theta = (mu_N, log lambda_N, log a_N, log b_N) -> omega, shape (..., 4); theta must be finite."""
    what = "theta = (mu_N, log lambda_N, log a_N, log b_N)"
    return _from_unconstrained(check_finite(check_last_dim(as_tensor(theta, "theta"), "theta", 4, what=what), "theta"))


def _from_unconstrained(theta: Tensor) -> Tensor:
    return torch.cat([theta[..., :1], torch.exp(theta[..., 1:])], dim=-1)


def unconstrained_q_score(mu: object, tau: object, params: object) -> Tensor:
    """grad_theta log q, (S, 4): by the chain rule d/d log c = c d/dc, so the score times (1, lambda_N, a_N, b_N).
    The arguments as in :func:`log_q_parts` (params is omega, not theta)."""
    mu_t, tau_t = _draws(mu, tau)
    params_t = _omega(params)
    jacobian = torch.cat([torch.ones_like(params_t[..., :1]), params_t[..., 1:]], dim=-1)
    return _q_score(mu_t, tau_t, params_t) * jacobian


@dataclass(frozen=True)
class NormalGammaQ:
    """q(mu) q(tau) = N(mu; mu_N, 1/lambda_N) Gamma(tau; a_N, rate b_N): the Normal–Gamma mean-field family.

    Build it from numbers, ``NormalGammaQ(mu_N=2.0, lambda_N=100.0, a_N=51.0, b_N=13.0)``, from the 4-vector omega
    (:meth:`from_params`) or from the unconstrained theta (:meth:`from_unconstrained`). Parameters are validated:
    ``lambda_N``, ``a_N`` and ``b_N`` must be finite and > 0.
    """

    mu_N: float
    lambda_N: float
    a_N: float
    b_N: float

    def __post_init__(self) -> None:
        for name in PARAM_NAMES:
            value = getattr(self, name)
            if value is None or isinstance(value, (str, bytes, bool)):
                raise TypeError(f"{name} must be a number (got {type(value).__name__} {value!r}).")
        omega = check_q_params([self.mu_N, self.lambda_N, self.a_N, self.b_N])
        for name, value in zip(PARAM_NAMES, omega.tolist()):
            object.__setattr__(self, name, float(value))

    @classmethod
    def from_params(cls, params: object) -> NormalGammaQ:
        """From omega = (mu_N, lambda_N, a_N, b_N), shape (4,)."""
        return cls(*check_q_params(params).tolist())

    @classmethod
    def from_unconstrained(cls, theta: Tensor) -> NormalGammaQ:
        """From theta = (mu_N, log lambda_N, log a_N, log b_N), shape (4,)."""
        return cls.from_params(from_unconstrained(as_tensor(theta, "theta", dtype=torch.float64)))

    @property
    def params(self) -> Tensor:
        """omega = (mu_N, lambda_N, a_N, b_N), float64 (4,)."""
        return torch.tensor([self.mu_N, self.lambda_N, self.a_N, self.b_N], dtype=torch.float64)

    @property
    def unconstrained(self) -> Tensor:
        """theta = (mu_N, log lambda_N, log a_N, log b_N), float64 (4,)."""
        return _to_unconstrained(self.params)

    @property
    def mean_mu(self) -> float:
        """E_q[mu] = mu_N."""
        return self.mu_N

    @property
    def var_mu(self) -> float:
        """Var_q[mu] = 1 / lambda_N."""
        return 1.0 / self.lambda_N

    @property
    def mean_tau(self) -> float:
        """E_q[tau] = a_N / b_N."""
        return self.a_N / self.b_N

    @property
    def var_tau(self) -> float:
        """Var_q[tau] = a_N / b_N^2."""
        return self.a_N / self.b_N**2

    def log_prob(self, mu: object, tau: object) -> Tensor:
        """log q(mu, tau), broadcast shape of ``mu`` and ``tau`` (e.g. (S,)); -inf where tau <= 0."""
        mu_t = as_tensor(mu, "mu", dtype=torch.float64)
        tau_t = as_tensor(tau, "tau", dtype=torch.float64)
        positive = tau_t > 0
        safe_tau = torch.where(positive, tau_t, torch.ones_like(tau_t))
        out = _log_q(mu_t, safe_tau, self.params)
        return torch.where(positive, out, torch.full_like(out, -math.inf))

    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draw (mu, tau) from q, each of shape (S,), independently (q is mean-field); see :func:`sample_q`."""
        return sample_q(self.params, num_samples, generator)

    def score(self, mu: Tensor, tau: Tensor, parameterization: str = "precision") -> Tensor:
        """grad_omega log q at each draw, (S, 4); see :func:`q_score`."""
        return q_score(mu, tau, self.params, parameterization)
