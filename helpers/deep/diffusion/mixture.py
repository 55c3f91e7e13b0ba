"""An exact reference with structure: data from a Gaussian mixture x_0 ~ sum_k w_k N(m_k, s_k^2 I). Its noisy
marginals are mixtures too, q(x_t) = sum_k w_k N(sqrt(abar) m_k, (abar s_k^2 + 1 - abar) I), so the optimal
denoiser E[x_0 | x_t] (the responsibility-weighted sum of the components' linear denoisers) and the exact
log-density are computable: the bound of the optimal model is a ceiling for the ELBO of any trained network with the
same fixed variances, and E[-log q(x_0)] (the data's entropy) the floor of any model's bound (chapter *The ELBO of a
diffusion model*, "A 2-D Gaussian mixture"). Shapes: K components in D dimensions, x (B, D).
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI
from helpers.common.validation import (
    as_tensor,
    check_batch,
    check_count,
    check_finite,
    check_generator,
    check_instance,
    check_positive,
    check_steps,
)
from helpers.deep.diffusion.bound import EpsModel
from helpers.deep.diffusion.schedules import SCHEDULE_HOW, Schedule


class GaussianMixture:
    """x_0 ~ sum_k w_k N(m_k, s_k^2 I): weights (K,) summing to 1, means (K, D), stds (K,) (float64 when given as
    lists; tensors keep their dtype)."""

    def __init__(self, weights: object, means: object, stds: object) -> None:
        self.weights = check_positive(as_tensor(weights, "weights"), "weights")
        self.means = check_finite(as_tensor(means, "means"), "means")
        self.stds = check_positive(as_tensor(stds, "stds"), "stds")
        K = len(self.weights)
        if self.means.dim() != 2 or len(self.means) != K or self.stds.shape != (K,):
            raise ValueError(f"means must be (K, D) and stds (K,) with K = len(weights) = {K}.")
        if abs(float(self.weights.sum()) - 1) > 1e-8:
            raise ValueError(f"weights must sum to 1 (got {float(self.weights.sum())}).")

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, num: int, *, generator: torch.Generator | None = None) -> Tensor:
        """num draws (num, D), in the dtype of the means (float64 for lists: a model converts them to its own)."""
        num = check_count(num, "num")
        check_generator(generator)
        k = torch.multinomial(self.weights, num, replacement=True, generator=generator)
        noise = torch.randn((num, self.dim), generator=generator, dtype=self.means.dtype)
        return self.means[k] + self.stds[k, None] * noise

    def _components(self, x: Tensor, alpha_bar: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """log w_k N(x; sqrt(ab) m_k, v_k I) (B, K), the component means sqrt(ab) m_k (B, K, D) and v_k (B, K)."""
        ab = alpha_bar.to(x.dtype).reshape(-1, 1)  # (B or 1, 1)
        v = ab * self.stds**2 + 1 - ab  # (B, K)
        loc = ab.sqrt().unsqueeze(-1) * self.means  # (B, K, D)
        sq = ((x.unsqueeze(-2) - loc) ** 2).sum(-1)
        return torch.log(self.weights) - 0.5 * self.dim * (LOG_2PI + torch.log(v)) - sq / (2 * v), loc, v

    def _checked(self, x: object, name: str, alpha_bar: object) -> tuple[Tensor, Tensor]:
        """x (B, D) with the mixture's D and abar in [0, 1], a number or (B,), as a tensor in x's dtype."""
        if check_batch(x, name).shape[1] != self.dim:
            raise ValueError(
                f"{name} must have D = {self.dim} columns, the mixture's dimension (got {tuple(x.shape)})."
            )
        ab = check_finite(as_tensor(alpha_bar, "alpha_bar", dtype=x.dtype), "alpha_bar")
        if ab.dim() > 1 or ab.numel() not in (1, len(x)) or not bool(((ab >= 0) & (ab <= 1)).all()):
            raise ValueError(
                f"alpha_bar must be a noise level abar_t in [0, 1], a number or one per row ({len(x)},) (got "
                f"{ab.tolist()}); e.g. schedule.alpha_bar[t - 1], or 1.0 for the data density."
            )
        return x, ab

    def log_prob(self, x: Tensor, alpha_bar: Tensor | float = 1.0) -> Tensor:
        """log q(x_t) at x (B, D) for the noise level abar in [0, 1] (scalar or (B,)); abar = 1: the data density.
        -> (B,)."""
        x, ab = self._checked(x, "x", alpha_bar)
        return torch.logsumexp(self._components(x, ab)[0], -1)

    def posterior_mean(self, xt: Tensor, alpha_bar: Tensor | float) -> Tensor:
        """E[x_0 | x_t] = sum_k r_k(x_t) (m_k + sqrt(ab) s_k^2 / v_k (x_t - sqrt(ab) m_k)), r_k the responsibilities:
        (B, D) at abar in [0, 1], (B,) or scalar -> (B, D)."""
        xt, alpha_bar = self._checked(xt, "xt", alpha_bar)
        return self._posterior_mean(xt, alpha_bar)

    def _posterior_mean(self, xt: Tensor, alpha_bar: Tensor) -> Tensor:
        log_c, loc, v = self._components(xt, alpha_bar)
        r = torch.softmax(log_c, -1)  # (B, K)
        ab = alpha_bar.to(xt.dtype).reshape(-1, 1, 1)
        comp = self.means + (ab.sqrt() * self.stds[:, None] ** 2 / v.unsqueeze(-1)) * (xt.unsqueeze(-2) - loc)
        return (r.unsqueeze(-1) * comp).sum(-2)

    def optimal_eps(self, schedule: Schedule) -> EpsModel:
        """The Bayes-optimal noise predictor E[eps | x_t] = (x_t - sqrt(abar_t) E[x_0 | x_t]) / sqrt(1 - abar_t)."""
        check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)

        def eps_model(xt: Tensor, t: Tensor) -> Tensor:
            ab = schedule.alpha_bar.to(xt.dtype)[check_steps(t, num_steps=schedule.num_steps) - 1]
            return (xt - ab.sqrt().unsqueeze(-1) * self._posterior_mean(xt, ab)) / (1 - ab).sqrt().unsqueeze(-1)

        return eps_model
