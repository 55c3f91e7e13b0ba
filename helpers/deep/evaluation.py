"""Diagnostics of a trained VAE's encoder: latent activity, active units, KL per dimension (chapters *The
variational autoencoder*, *Importance-weighted bounds*). Shapes: x (B, P) -> per-dimension (D,)."""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.validation import check_count, check_instance, check_location_scale, check_nonnegative_number
from helpers.deep import objectives
from helpers.deep.objectives import ELBO, log_evidence, log_weights
from helpers.deep.vae import VAE


def standard_normal_kl(mu: Tensor, sigma: Tensor) -> Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) per dimension, 0.5 (mu^2 + sigma^2 - 1) - log sigma: (B, D) -> (B, D).

    ``mu`` finite and ``sigma`` (a standard deviation) finite and > 0, tensors of shapes that broadcast; errors name
    them. The ELBO calls the same formula unchecked (:mod:`helpers.deep.objectives`, whose source is part of the
    reference runs' code fingerprint) on the encoder's own outputs."""
    how = "pass the encoder's output, e.g. mu, sigma = model.encode(x)"
    check_instance(mu, "mu", Tensor, how=how)
    check_instance(sigma, "sigma", Tensor, how=how)
    return objectives.standard_normal_kl(*check_location_scale(mu, sigma, names=("mu", "sigma")))


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
    return objectives.standard_normal_kl(mu, sigma).mean(0)


@torch.no_grad()
def test_metrics(
    model: VAE,
    x: Tensor,
    x_ll: Tensor,
    *,
    loglik_samples: int,
    elbo_samples: int = 10,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    """Per-image test metrics of a trained VAE (chapter *The variational autoencoder*), drawn from ``generator``
    in this order: the ELBO of x (B, P) with ``elbo_samples`` draws and closed-form KL, the same on x_ll (B', P),
    the k-sample log p(x) estimate of x_ll (:func:`helpers.deep.log_evidence`, k = ``loglik_samples``).

    Returns ``elbo_values`` (B,), ``elbo_ll_values`` (B',), ``loglik_values`` (B',), ``kl_values`` (B,) (the KL term
    per image) and ``aggregate_terms`` (B, D): v_id = (mu_d(x_i) - mean_i mu_d)^2 + s_d(x_i)^2, whose mean over
    images is the variance of the aggregate posterior q(z) = (1/N) sum_i q(z | x_i) per dimension (1 when it matches
    the prior's second moments).
    """
    x, x_ll = model.check_input(x), model.check_input(x_ll, "x_ll")
    loglik_samples = check_count(loglik_samples, "loglik_samples")
    model.eval()
    values = ELBO(elbo_samples)(model, x, generator=generator)
    values_ll = ELBO(elbo_samples)(model, x_ll, generator=generator)
    log_px = log_evidence(model, x_ll, loglik_samples, generator=generator)
    mu, s = model.encode(x)
    return {
        "elbo_values": values,
        "elbo_ll_values": values_ll,
        "loglik_values": log_px,
        "kl_values": objectives.standard_normal_kl(mu, s).sum(-1),
        "aggregate_terms": (mu - mu.mean(0)).square() + s.square(),
    }


@torch.no_grad()
def log_evidence_se(
    model: VAE, x: Tensor, num_samples: int, *, chunk: int = 5, generator: torch.Generator | None = None
) -> Tensor:
    """The first-order (delta-method) Monte Carlo SE of each image's k-sample log p(x) estimate, sd(w) / (sqrt(k)
    mean(w)) with the importance weights w_j = p(x, z_j) / q(z_j | x): x (B, P) -> (B,). It assumes the weights
    have a finite variance, which nothing checks for a trained network: a diagnostic, not a guarantee (Burda et al.
    2016; the chapter *Importance-weighted bounds* states the conditions)."""
    x = model.check_input(x)
    num_samples, chunk = check_count(num_samples, "num_samples"), check_count(chunk, "chunk")
    out = []
    for i in range(0, len(x), chunk):
        log_w = log_weights(model, x[i : i + chunk], num_samples, generator=generator)  # (k, b)
        w = torch.exp(log_w - log_w.max(0).values)  # rescaled: the ratio sd / mean is unchanged
        out.append(w.std(0) / (num_samples**0.5 * w.mean(0)))
    return torch.cat(out)
