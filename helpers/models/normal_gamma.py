"""The Normal–Gamma model of the chapters *Coordinate ascent VI* and *Black-box VI*.

    x_n | mu, tau ~ N(mu, 1/tau),  n = 1..N,     mu | tau ~ N(mu_0, 1/(lambda_0 tau)),     tau ~ Gamma(a_0, rate b_0).

Rates, not scales: Gamma(a, rate b) has density b^a tau^(a-1) e^(-b tau) / Gamma(a) and mean a/b. The prior
(mu, tau) ~ NormalGamma(mu_0, lambda_0, a_0, b_0) is conjugate, so the posterior is NormalGamma again
(Murphy 2007, "Conjugate Bayesian analysis of the Gaussian distribution", section 3):

    lambda_N = lambda_0 + N,        mu_N = (lambda_0 mu_0 + N xbar) / lambda_N,        a_N = a_0 + N/2,
    b_N = b_0 + 1/2 sum_n (x_n - xbar)^2 + lambda_0 N (xbar - mu_0)^2 / (2 lambda_N),

and the evidence is exact:

    log p(x) = lgamma(a_N) - lgamma(a_0) + a_0 log b_0 - a_N log b_N + 1/2 log(lambda_0 / lambda_N) - N/2 log(2 pi).

Everything here is computed in float64. Tensors of draws have shape (S,) (S samples); data x has shape (N,).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI, gamma_log_prob
from helpers.common.sampling import sample_gamma
from helpers.common.validation import as_tensor, check_count, check_finite, check_positive, check_real

_LARGEST_X = 1e100


def check_data(x: object) -> Tensor:
    """x as a float64 tensor (N,), raising ValueError unless it is a non-empty finite 1-D sequence whose squares and
    their sum are finite in float64 (|x| up to 1e100: the updates multiply sums of squares by precisions)."""
    data = as_tensor(x, "x", dtype=torch.float64)
    if data.ndim != 1 or data.numel() == 0:
        raise ValueError(f"x must be a non-empty 1-D sequence of observations (got shape {tuple(data.shape)}).")
    check_finite(data, "x")
    largest = float(data.abs().max())
    if largest > _LARGEST_X:
        raise ValueError(
            f"x has an observation of size {largest:.3g}, beyond {_LARGEST_X:.0e}: its square and the sums of "
            "squares in the updates overflow float64; rescale the data first (e.g. (x - x.mean()) / x.std())."
        )
    return data


def _check_draws(mu: object, tau: object) -> tuple[Tensor, Tensor]:
    """mu and tau as float64 tensors; NaN is refused (it would come out as -inf or NaN, a silent wrong answer)."""
    mu_t = as_tensor(mu, "mu", dtype=torch.float64)
    tau_t = as_tensor(tau, "tau", dtype=torch.float64)
    for value, name in ((mu_t, "mu"), (tau_t, "tau")):
        if torch.isnan(value).any():
            raise ValueError(f"{name} must not contain NaN (got {value.tolist()}); check how the draws were computed.")
    return mu_t, tau_t


@dataclass(frozen=True)
class NormalGamma:
    """NormalGamma(mu0, lambda0, a0, b0): tau ~ Gamma(a0, rate b0), mu | tau ~ N(mu0, 1/(lambda0 tau)).

    Used as the prior of the Normal–Gamma model and, through :meth:`posterior`, as its exact posterior.
    ``lambda0`` is a precision multiplier (not a variance), ``b0`` a rate (not a scale).

    Example (the course assignment's prior)::

        prior = NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)
        post = prior.posterior(x)          # NormalGamma
        prior.log_evidence(x)              # exact log p(x)

    Chapters: *Coordinate ascent VI*, *Black-box VI*.
    """

    mu0: float
    lambda0: float
    a0: float
    b0: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu0", check_real(self.mu0, "mu0"))
        for name in ("lambda0", "a0", "b0"):
            value = check_real(getattr(self, name), name)
            hint = {
                "lambda0": "lambda0 scales the precision of mu; pass a value > 0",
                "a0": "a0 is the Gamma shape of tau; pass a value > 0",
                "b0": "b0 is the Gamma rate of tau (not its scale); pass a value > 0",
            }[name]
            check_positive(torch.tensor(value, dtype=torch.float64), name, hint=hint)
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------------------------------ conjugacy
    def posterior(self, x: object) -> NormalGamma:
        """The exact posterior p(mu, tau | x), a NormalGamma (update equations in the module docstring)."""
        data = check_data(x)
        n = data.numel()
        xbar = float(data.mean())
        sum_sq = float(((data - xbar) ** 2).sum())
        lambda_n = self.lambda0 + n
        return NormalGamma(
            mu0=(self.lambda0 * self.mu0 + n * xbar) / lambda_n,
            lambda0=lambda_n,
            a0=self.a0 + n / 2.0,
            b0=self.b0 + 0.5 * sum_sq + self.lambda0 * n * (xbar - self.mu0) ** 2 / (2.0 * lambda_n),
        )

    def log_evidence(self, x: object) -> float:
        """Exact log p(x) = log of the integral of p(x | mu, tau) p(mu, tau) (module docstring)."""
        data = check_data(x)
        post = self.posterior(data)
        n = data.numel()
        return (
            math.lgamma(post.a0)
            - math.lgamma(self.a0)
            + self.a0 * math.log(self.b0)
            - post.a0 * math.log(post.b0)
            + 0.5 * math.log(self.lambda0 / post.lambda0)
            - 0.5 * n * LOG_2PI
        )

    # ------------------------------------------------------------------------------------------ densities
    def log_prob(self, mu: object, tau: object) -> Tensor:
        """log NormalGamma(mu, tau) = log N(mu; mu0, 1/(lambda0 tau)) + log Gamma(tau; a0, rate b0), shape of the
        broadcast of ``mu`` and ``tau`` (e.g. (S,)); -inf where tau <= 0."""
        mu_t, tau_t = _check_draws(mu, tau)
        positive = tau_t > 0
        safe_tau = torch.where(positive, tau_t, torch.ones_like(tau_t))
        log_normal = (
            0.5 * (math.log(self.lambda0) + torch.log(safe_tau) - LOG_2PI)
            - 0.5 * self.lambda0 * safe_tau * (mu_t - self.mu0) ** 2
        )
        log_gamma = gamma_log_prob(safe_tau, self.a0, self.b0)
        return torch.where(positive, log_normal + log_gamma, torch.full_like(log_normal, -math.inf))

    def log_likelihood(self, x: object, mu: object, tau: object) -> Tensor:
        """log p(x | mu, tau) = sum_n log N(x_n; mu, 1/tau), vectorized over draws: mu, tau of shape (S,) give (S,).

        Uses sum_n (x_n - mu)^2 = sum_n (x_n - xbar)^2 + N (xbar - mu)^2, so the cost does not grow with S * N.
        """
        data = check_data(x)
        mu_t, tau_t = _check_draws(mu, tau)
        n = data.numel()
        xbar = data.mean()
        sum_sq = ((data - xbar) ** 2).sum()
        positive = tau_t > 0
        safe_tau = torch.where(positive, tau_t, torch.ones_like(tau_t))
        value = 0.5 * n * (torch.log(safe_tau) - LOG_2PI) - 0.5 * safe_tau * (sum_sq + n * (xbar - mu_t) ** 2)
        return torch.where(positive, value, torch.full_like(value, -math.inf))

    def log_joint(self, x: object, mu: object, tau: object) -> Tensor:
        """log p(x, mu, tau) = log p(x | mu, tau) + log p(mu, tau) with this NormalGamma as the prior; shape (S,)."""
        return self.log_likelihood(x, mu, tau) + self.log_prob(mu, tau)

    # ------------------------------------------------------------------------------------------ moments
    @property
    def mean_tau(self) -> float:
        """E[tau] = a0 / b0."""
        return self.a0 / self.b0

    @property
    def var_tau(self) -> float:
        """Var[tau] = a0 / b0^2."""
        return self.a0 / self.b0**2

    @property
    def mean_mu(self) -> float:
        """E[mu] = mu0."""
        return self.mu0

    @property
    def var_mu(self) -> float:
        """Var[mu] = b0 / (lambda0 (a0 - 1)) (the marginal of mu is Student-t with 2 a0 degrees of freedom);
        infinite when a0 <= 1."""
        return self.b0 / (self.lambda0 * (self.a0 - 1.0)) if self.a0 > 1.0 else math.inf

    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Draw (mu, tau), each of shape (S,): tau ~ Gamma(a0, rate b0), then mu | tau ~ N(mu0, 1/(lambda0 tau))."""
        s = check_count(num_samples, "num_samples")
        tau = sample_gamma(self.a0, self.b0, s, generator)
        noise = torch.randn(s, dtype=torch.float64, generator=generator)
        mu = self.mu0 + noise / torch.sqrt(self.lambda0 * tau)
        return mu, tau
