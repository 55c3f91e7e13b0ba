"""A hierarchical model with several latent groups, for Rao-Blackwellized BBVI (chapter *Black-box VI*).

    w_1 ~ N(0, 1),   w_2 ~ N(0, 1),   v ~ Gamma(a_v, rate b_v),
    z_k | w_1 ~ N(w_1, 1),                          k = 1..K   (group means around a global mean w_1),
    y_kn | z_k, w_2, v ~ N(z_k + w_2 t_kn, 1/v),    n = 1..N   (w_2 a shared slope on covariates t_kn, v a precision).

The mean-field family is q = N(w_1; m_1, s_1^2) N(w_2; m_2, s_2^2) prod_k N(z_k; m_zk, s_zk^2) Gamma(v; alpha, beta).
Parameters are kept unconstrained: theta = (m_1, m_2, m_z (K), log s_1, log s_2, log s_z (K), log alpha, log beta),
of length P = 2 (K + 2) + 2. Latent groups g = (w_1, w_2, z_1..z_K, v), G = K + 3. Factors of log p, F = 2K + 3:
(log p(w_1), log p(w_2), log p(v), log p(z_k | w_1) for each k, log p(y_k | z_k, w_2, v) for each k).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import torch
from torch import Tensor

from helpers.common.sampling import sample_gamma
from helpers.common.validation import (
    as_tensor,
    check_count,
    check_finite,
    check_floating,
    check_generator,
    check_last_dim,
    check_positive_number,
)

LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class HierarchicalModel:
    """Data y, covariates t (both (K, N)) and the Gamma prior of the precision v (shape a_v, RATE b_v)."""

    y: Tensor
    t: Tensor
    a_v: float = 2.0
    b_v: float = 2.0

    def __post_init__(self) -> None:
        y = check_finite(as_tensor(self.y, "y", dtype=torch.float64), "y")
        t = check_finite(as_tensor(self.t, "t", dtype=torch.float64), "t")
        if y.ndim != 2 or y.shape != t.shape:
            raise ValueError(f"y and t must both have shape (K, N) (got {tuple(y.shape)} and {tuple(t.shape)}).")
        for name in ("a_v", "b_v"):
            check_positive_number(getattr(self, name), name, example=f"{name}=2.0")
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "t", t)

    @classmethod
    def simulate(cls, num_groups: int, per_group: int, generator: torch.Generator | None = None) -> HierarchicalModel:
        """Data from the model with w_1 = 1, w_2 = 0.5, v = 4 (noise sd 0.5) and t_kn ~ N(0, 1)."""
        num_groups, per_group = check_count(num_groups, "num_groups"), check_count(per_group, "per_group")
        check_generator(generator)
        t = torch.randn((num_groups, per_group), dtype=torch.float64, generator=generator)
        z = 1.0 + torch.randn((num_groups, 1), dtype=torch.float64, generator=generator)
        y = z + 0.5 * t + 0.5 * torch.randn((num_groups, per_group), dtype=torch.float64, generator=generator)
        return cls(y=y, t=t)

    @property
    def num_groups(self) -> int:
        return self.y.shape[0]

    @property
    def num_params(self) -> int:
        return 2 * (self.num_groups + 2) + 2

    def check_theta(self, theta: object) -> Tensor:
        """Raise ValueError unless theta has P = 2 (K + 2) + 2 entries on its last axis (TypeError: not a tensor)."""
        what = f"P = 2 (K + 2) + 2 = {self.num_params} for K = {self.num_groups} groups; see init()"
        return check_last_dim(check_floating(theta, "theta"), "theta", self.num_params, what=what)

    def blanket(self) -> Tensor:
        """(G, F) bool: factor f contains latent group g (the groups' Markov blankets, see the module docstring)."""
        return _blanket(self.num_groups)

    def param_groups(self) -> Tensor:
        """(P,) the latent group of each entry of theta."""
        return _param_groups(self.num_groups)

    def init(self) -> Tensor:
        """theta0: means 0, standard deviations 1, q(v) = Gamma(1, rate 1); shape (P,)."""
        k = self.num_groups
        return torch.cat([torch.zeros(k + 2), torch.zeros(k + 2), torch.zeros(2)]).to(torch.float64)

    # -------------------------------------------------------------------------------------- per-draw pieces
    def sample(self, theta: Tensor, num_samples: int, generator: torch.Generator | None = None):
        """Draws of (normals (S, K + 2) = (w_1, w_2, z_1..z_K), v (S,)) from q_theta."""
        self.check_theta(theta)

        num_samples = check_count(num_samples, "num_samples")
        check_generator(generator)
        k = self.num_groups
        loc, scale = theta[: k + 2], theta[k + 2 : 2 * k + 4].exp()
        eps = torch.randn((num_samples, k + 2), dtype=torch.float64, generator=generator)
        alpha, beta = math.exp(float(theta[-2])), math.exp(float(theta[-1]))
        return loc + scale * eps, sample_gamma(alpha, beta, num_samples, generator)

    def log_factors(self, normals: Tensor, v: Tensor) -> Tensor:
        """The F = 2K + 3 factors of log p at each draw, shape (S, F) (order in the module docstring)."""
        w1, w2, z = normals[:, 0], normals[:, 1], normals[:, 2:]
        log_v = torch.log(v)
        log_w1 = -0.5 * (LOG_2PI + w1 * w1)
        log_w2 = -0.5 * (LOG_2PI + w2 * w2)
        log_pv = self.a_v * math.log(self.b_v) - math.lgamma(self.a_v) + (self.a_v - 1.0) * log_v - self.b_v * v
        log_z = -0.5 * (LOG_2PI + (z - w1[:, None]) ** 2)  # (S, K)
        resid = self.y - z[:, :, None] - w2[:, None, None] * self.t  # (S, K, N)
        n = self.y.shape[1]
        log_y = 0.5 * n * (log_v - LOG_2PI)[:, None] - 0.5 * v[:, None] * (resid * resid).sum(-1)  # (S, K)
        return torch.cat([torch.stack([log_w1, log_w2, log_pv], -1), log_z, log_y], -1)

    def log_q_groups(self, theta: Tensor, normals: Tensor, v: Tensor) -> Tensor:
        """log q_g at each draw, shape (S, G), groups (w_1, w_2, z_1..z_K, v)."""
        self.check_theta(theta)
        k = self.num_groups
        loc, log_scale = theta[: k + 2], theta[k + 2 : 2 * k + 4]
        log_q_normal = -0.5 * LOG_2PI - log_scale - 0.5 * ((normals - loc) / log_scale.exp()) ** 2
        alpha, beta = theta[-2].exp(), theta[-1].exp()
        log_q_v = alpha * torch.log(beta) - torch.lgamma(alpha) + (alpha - 1.0) * torch.log(v) - beta * v
        return torch.cat([log_q_normal, log_q_v[:, None]], -1)

    def score(self, theta: Tensor, normals: Tensor, v: Tensor) -> Tensor:
        """grad_theta log q at each draw, shape (S, P): (x - m)/s^2 for m, ((x - m)^2/s^2 - 1) for log s,
        alpha (log beta - digamma(alpha) + log v) for log alpha and alpha - beta v for log beta."""
        self.check_theta(theta)
        k = self.num_groups
        loc, scale = theta[: k + 2], theta[k + 2 : 2 * k + 4].exp()
        std = (normals - loc) / scale
        alpha, beta = theta[-2].exp(), theta[-1].exp()
        d_log_alpha = alpha * (torch.log(beta) - torch.special.digamma(alpha) + torch.log(v))
        return torch.cat([std / scale, std * std - 1.0, d_log_alpha[:, None], (alpha - beta * v)[:, None]], -1)

    # -------------------------------------------------------------------------------------- exact reference
    def exact_elbo(self, theta: Tensor) -> Tensor:
        """The ELBO of q_theta in closed form (Gaussian and Gamma moments); theta of shape (..., P) -> (...)."""
        check_finite(self.check_theta(theta), "theta")
        k = self.num_groups
        m, log_s = theta[..., : k + 2], theta[..., k + 2 : 2 * k + 4]
        var = torch.exp(2.0 * log_s)
        alpha, beta = theta[..., -2].exp(), theta[..., -1].exp()
        e_v, e_log_v = alpha / beta, torch.special.digamma(alpha) - torch.log(beta)
        m1, m2, mz = m[..., 0], m[..., 1], m[..., 2:]
        v1, v2, vz = var[..., 0], var[..., 1], var[..., 2:]
        e_w = -0.5 * (2 * LOG_2PI + m1**2 + v1 + m2**2 + v2)
        e_pv = self.a_v * math.log(self.b_v) - math.lgamma(self.a_v) + (self.a_v - 1.0) * e_log_v - self.b_v * e_v
        e_z = (-0.5 * (LOG_2PI + (mz - m1[..., None]) ** 2 + vz + v1[..., None])).sum(-1)
        mean_resid = self.y - mz[..., None] - m2[..., None, None] * self.t  # (..., K, N)
        e_sq = (mean_resid**2 + vz[..., None] + v2[..., None, None] * self.t**2).sum((-1, -2))
        e_y = 0.5 * self.y.numel() * (e_log_v - LOG_2PI) - 0.5 * e_v * e_sq
        entropy = (0.5 * (1.0 + LOG_2PI) + log_s).sum(-1) + alpha - torch.log(beta) + torch.lgamma(alpha)
        entropy = entropy + (1.0 - alpha) * torch.special.digamma(alpha)
        return e_w + e_pv + e_z + e_y + entropy


@cache
def _blanket(k: int) -> Tensor:
    out = torch.zeros((k + 3, 2 * k + 3), dtype=torch.bool)
    prior_z, lik = slice(3, 3 + k), slice(3 + k, 3 + 2 * k)
    out[0, 0] = out[1, 1] = out[k + 2, 2] = True  # own priors: w_1, w_2, v
    out[0, prior_z] = True  # w_1 is the parent of every z_k
    out[1, lik] = out[k + 2, lik] = True  # w_2 and v are co-parents in every likelihood
    for j in range(k):
        out[2 + j, 3 + j] = out[2 + j, 3 + k + j] = True  # z_k: its prior and its own group's likelihood
    return out


@cache
def _param_groups(k: int) -> Tensor:
    normal = torch.cat([torch.tensor([0, 1]), torch.arange(2, 2 + k)])
    return torch.cat([normal, normal, torch.tensor([k + 2, k + 2])])
