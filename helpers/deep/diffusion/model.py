"""The noise network eps_theta(x_t, t) that ``deep.train`` trains (single, or R replicas stacked with ``deep.stack``),
its ancestral sampler, and the dequantization of 8-bit-like pixels (chapter *The ELBO of a diffusion model*).

Shapes: x (B, D), t (B,) int in 1..T; a model with R replicas takes x (R, B, D) and t (R, B).

References: Ho, Jain & Abbeel (2020), Algorithm 2 (sampling); Vaswani et al. (2017) (sinusoidal features);
Theis, van den Oord & Bethge (2016) (dequantization).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from helpers.common.validation import check_callable, check_count, check_generator, check_instance
from helpers.deep.diffusion.bound import EpsModel
from helpers.deep.diffusion.forward import reverse_mean
from helpers.deep.diffusion.schedules import SCHEDULE_HOW, Schedule, reverse_variance
from helpers.deep.networks import mlp, uniform_init_


class NoiseMLP(nn.Module):
    """eps_theta(x_t, t): an MLP on [x_t, sin(w t'), cos(w t')] with t' = 1000 t / T and E / 2 frequencies
    w_j = 1000^(-2j/E) (Vaswani et al.'s features, as in Ho et al.): x (..., B, D), t (..., B) -> (..., B, D).

    Args:
        dim: D. num_steps: T (the objective's schedule must have the same T).
        hidden, depth: ``depth`` hidden layers of ``hidden`` SiLU units. embed_dim: E, the time features.
        generator: draw the weights and biases from it, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (the scale of PyTorch's
            default), instead of from the global generator.

    ``config`` fixes the parameter shapes; ``replicas`` is None (``deep.stack`` makes a model of R replicas, which
    share the fixed frequencies ``freqs``).
    """

    def __init__(self, dim: int, num_steps: int, hidden: int = 128, depth: int = 3, embed_dim: int = 32, *,
                 generator: torch.Generator | None = None) -> None:  # fmt: skip
        super().__init__()
        check_generator(generator)
        self.replicas: int | None = None
        self.dim, self.num_steps = check_count(dim, "dim"), check_count(num_steps, "num_steps")
        hidden, depth = check_count(hidden, "hidden"), check_count(depth, "depth")
        embed_dim = check_count(embed_dim, "embed_dim", minimum=2)
        #: everything that fixes the parameter shapes and meanings (checkpoints compare it)
        self.config = {"dim": self.dim, "num_steps": self.num_steps, "hidden": hidden, "depth": depth,
                       "embed_dim": embed_dim}  # fmt: skip
        half = embed_dim // 2
        self.register_buffer("freqs", torch.exp(-math.log(1000.0) * torch.arange(half) / half))
        self.net = mlp((dim + 2 * half, *[hidden] * depth, dim), "silu")
        if generator is not None:
            uniform_init_(self.net, generator)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        angle = (t.to(x.dtype) / self.num_steps * 1000.0).unsqueeze(-1) * self.freqs.to(x.dtype)
        return self.net(torch.cat([x, torch.sin(angle), torch.cos(angle)], -1))

    def check_input(self, x: object, name: str = "x") -> Tensor:
        """Return x as a finite float tensor (B, D) in the model's dtype, raising ValueError naming ``name``
        otherwise (TypeError when it is not a tensor or a numpy array). Floating data of another dtype (float64,
        e.g. ``GaussianMixture.sample`` or numpy arrays) are converted to the dtype of the model's parameters."""
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a floating-point tensor of shape (B, {self.dim}) (got "
                            f"{type(x).__name__}); convert with torch.as_tensor(x, dtype=torch.float32).")  # fmt: skip
        if not x.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor of shape (B, {self.dim}) (got dtype {x.dtype}); "
                             "convert it with x.float().")  # fmt: skip
        dtype = self.net[0].weight.dtype
        if x.dtype != dtype:
            x = x.to(dtype)
        if x.ndim != 2 or x.shape[1] != self.dim or len(x) == 0:
            raise ValueError(f"{name} must have shape (B, {self.dim}) with B >= 1, one row per datapoint (got "
                             f"{tuple(x.shape)}).")  # fmt: skip
        low, high = torch.stack(torch.aminmax(x.detach())).tolist()  # NaN and inf show in min or max: one sync
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{name} contains NaN or inf (or overflows {dtype}); check how the data were made.")
        return x


@torch.no_grad()
def sample(eps_model: EpsModel, schedule: Schedule, num: int, dim: int, variance: str = "beta", *,
           generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:  # fmt: skip
    """Ancestral sampling x_T ~ N(0, I), x_{t-1} ~ N(mu_theta(x_t, t), sigma_t^2 I) down to the mean at t = 1
    (Ho et al. 2020, Algorithm 2): (num, dim). A loop over the T steps, as sampling must be."""
    num, dim = check_count(num, "num"), check_count(dim, "dim")
    check_generator(generator)
    check_callable(eps_model, "eps_model", how="pass a noise predictor eps_model(x_t (B, D), t (B,)) -> (B, D)")
    check_instance(dtype, "dtype", torch.dtype, how="e.g. dtype=torch.float32")
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    sigma = reverse_variance(schedule, variance).sqrt().to(dtype)
    x = torch.randn((num, dim), generator=generator, dtype=dtype)
    for step in range(schedule.num_steps, 0, -1):
        t = torch.full((num,), step, dtype=torch.long)
        eps_hat = eps_model(x, t)
        if not isinstance(eps_hat, Tensor) or eps_hat.shape != x.shape:
            raise ValueError(f"eps_model(x_t, t) must return a tensor of the shape of x_t, {tuple(x.shape)}.")
        x = reverse_mean(eps_hat, x, t, schedule)
        if step > 1:
            x = x + sigma[step - 1] * torch.randn((num, dim), generator=generator, dtype=dtype)
    return x


def dequantize(x: Tensor, levels: int, *, generator: torch.Generator | None = None) -> Tensor:
    """Uniform dequantization of pixels k / (levels - 1), k in 0..levels-1, to y = (k + u) / levels in [0, 1],
    u ~ U(0, 1): (N, D) -> (N, D). Then -log P(k) <= E_u[-log p(y)] + D log(levels) (Theis et al. 2016)."""
    levels = check_count(levels, "levels", minimum=2)
    check_instance(x, "x", Tensor, how="convert it with torch.as_tensor(...)")
    check_generator(generator)
    k = torch.round(x * (levels - 1))
    if (k < 0).any() or (k > levels - 1).any() or (x * (levels - 1) - k).abs().max() > 1e-4:
        raise ValueError(f"x must hold pixels k / {levels - 1} with k in 0..{levels - 1}.")
    return (k + torch.rand(x.shape, generator=generator, dtype=x.dtype)) / levels
