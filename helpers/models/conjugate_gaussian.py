"""A conjugate Gaussian model with an exact posterior and evidence, for checking importance-weighted bounds and
gradient estimators (chapters *Importance-weighted bounds*, *Sticking the landing*).

The model, in D independent coordinates: z ~ N(prior_mean, prior_sd^2 I), x_n | z ~ N(z, noise_sd^2 I) for the N
rows of x (N, D). The posterior is N(m, s^2 I) with 1/s^2 = 1/prior_sd^2 + N/noise_sd^2 and
m = s^2 (prior_mean/prior_sd^2 + sum_n x_n / noise_sd^2); the evidence is Gaussian in x (Bishop 2006, section 2.3.3).
Shapes: z (..., D) for any leading dimensions (S draws, or R repetitions of K importance samples).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.common.densities import HALF_LOG_2PI, normal_log_prob
from helpers.common.validation import check_positive_number, check_real


class ConjugateGaussian:
    """z ~ N(prior_mean, prior_sd^2 I_D), x_n | z ~ N(z, noise_sd^2 I_D), n = 1..N; x (N, D), float64.

    Methods: :meth:`log_joint`, :meth:`posterior`, :meth:`log_evidence`. Everything is exact.
    """

    def __init__(self, x: Tensor, *, prior_mean: float = 0.0, prior_sd: float = 1.0, noise_sd: float = 1.0) -> None:
        if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[0] < 1 or x.dtype == torch.bool or x.is_complex():
            raise ValueError("x must be a real tensor of shape (N, D) with N >= 1 observations of D coordinates.")
        if not torch.isfinite(x).all():
            raise ValueError("x contains NaN or inf.")
        prior_mean = check_real(prior_mean, "prior_mean")
        prior_sd, noise_sd = (
            check_positive_number(
                value, name, hint=f"{name} is a standard deviation (not a variance); pass a value > 0"
            )
            for value, name in ((prior_sd, "prior_sd"), (noise_sd, "noise_sd"))
        )
        self.x = x.to(torch.float64)
        self.prior_mean, self.prior_sd, self.noise_sd = prior_mean, prior_sd, noise_sd
        self.num_points, self.dim = self.x.shape

    def log_joint(self, z: Tensor) -> Tensor:
        """log p(x, z) = log N(z; prior) + sum_n log N(x_n; z, noise_sd^2 I): z (..., D) -> (...)."""
        prior_loc = torch.tensor(self.prior_mean, dtype=z.dtype, device=z.device)
        prior = normal_log_prob(z, prior_loc, torch.tensor(self.prior_sd, dtype=z.dtype, device=z.device))
        resid = self.x.to(z.dtype) - z.unsqueeze(-2)  # (..., N, D)
        lik = -0.5 * resid.square().sum((-1, -2)) / self.noise_sd**2
        lik = lik - self.num_points * self.dim * (math.log(self.noise_sd) + HALF_LOG_2PI)
        return prior + lik

    def posterior(self) -> tuple[Tensor, Tensor]:
        """(m, s), each (D,): the exact posterior p(z | x) = N(m, diag s^2)."""
        precision = 1.0 / self.prior_sd**2 + self.num_points / self.noise_sd**2
        var = 1.0 / precision
        mean = var * (self.prior_mean / self.prior_sd**2 + self.x.sum(0) / self.noise_sd**2)
        return mean, torch.full((self.dim,), math.sqrt(var), dtype=torch.float64)

    def log_evidence(self) -> float:
        """log p(x): per coordinate, x_{:, d} ~ N(prior_mean 1, noise_sd^2 I + prior_sd^2 1 1^T) (N-variate)."""
        n = self.num_points
        cov = self.noise_sd**2 * torch.eye(n, dtype=torch.float64) + self.prior_sd**2 * torch.ones(
            n, n, dtype=torch.float64
        )
        dist = torch.distributions.MultivariateNormal(torch.full((n,), self.prior_mean, dtype=torch.float64), cov)
        return float(dist.log_prob(self.x.T).sum())

    def __repr__(self) -> str:
        return (
            f"ConjugateGaussian(N={self.num_points}, D={self.dim}, prior N({self.prior_mean:g}, {self.prior_sd:g}^2), "
            f"noise sd {self.noise_sd:g})"
        )
