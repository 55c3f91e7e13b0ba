"""Diagnostics of a trained VAE's encoder: latent activity, active units, KL per dimension (chapters *The
variational autoencoder*, *Importance-weighted bounds*). Shapes: x (B, P) -> per-dimension (D,)."""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.validation import check_count, check_nonnegative_number
from helpers.deep.objectives import standard_normal_kl
from helpers.deep.vae import VAE


@torch.no_grad()
def _encoder_means_and_scales(model: VAE, x: Tensor, batch_size: int) -> tuple[Tensor, Tensor]:
    x = model.check_input(x)
    batch_size = check_count(batch_size, "batch_size")
    pairs = [model.encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])


def latent_activity(model: VAE, x: Tensor, *, batch_size: int = 1000) -> Tensor:
    """A_d = Var_x(E_q[z_d | x]) over the rows of x (B, P), per latent dimension -> (D,) (Burda et al. 2016).

    The variance over data points (divisor B) of the encoder mean. Chapter: *Importance-weighted bounds*.
    """
    mu, _ = _encoder_means_and_scales(model, x, batch_size)
    if len(mu) < 2:
        raise ValueError(f"x needs at least 2 rows to measure a variance over data points (got {len(mu)}).")
    return mu.var(0, correction=0)


def active_units(model: VAE, x: Tensor, threshold: float = 0.01, *, batch_size: int = 1000) -> int:
    """The number of active latent units: dimensions d with Var_x(E_q[z_d | x]) > ``threshold`` (Burda et al.).

    Chapters: *The variational autoencoder*, *Importance-weighted bounds*.
    """
    threshold = check_nonnegative_number(threshold, "threshold", hint="Burda et al. use 0.01")
    return int((latent_activity(model, x, batch_size=batch_size) > threshold).sum())


def kl_per_dimension(model: VAE, x: Tensor, *, batch_size: int = 1000) -> Tensor:
    """Mean over the rows of x (B, P) of KL(q(z_d | x) || N(0, 1)) per latent dimension -> (D,).

    Their sum is the mean KL term of the ELBO; dimensions near 0 are unused ("collapsed").
    Chapter: *The variational autoencoder*.
    """
    mu, sigma = _encoder_means_and_scales(model, x, batch_size)
    return standard_normal_kl(mu, sigma).mean(0)
