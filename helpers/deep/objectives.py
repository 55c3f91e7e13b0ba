"""The objectives of the variational autoencoder (chapters *The variational autoencoder*, *Importance-weighted
bounds*, *Sticking the landing*).

The model: prior p(z) = N(0, I) over D latents, a decoder p_theta(x | z) (Bernoulli from logits, or Gaussian with a
fixed or learned variance) and an encoder q_phi(z | x) = N(mu_phi(x), diag sigma_phi(x)^2), written as the
reparameterization z = mu + sigma * eps, eps ~ N(0, I).

Shapes: x (B, P) with B data points of P pixels, z (K, B, D) with K importance samples (or Monte Carlo draws) per
data point. Every objective returns **one value per data point, shape (B,), to be maximized**; the caller reduces
(``-objective(model, x).mean()`` is the loss of a minibatch). Each draws eps from the optional ``generator``.

With log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x), z_k ~ q(z | x):

* ELBO, closed-form KL (Kingma & Welling's L^B):  (1/K) sum_k log p(x | z_k) - beta KL(q(z | x) || p(z))
* ELBO, Monte Carlo KL (their L^A):               (1/K) sum_k [log p(x | z_k) + beta (log p(z_k) - log q(z_k | x))]
* IWELBO (Burda et al. 2016):                     L_K = log (1/K) sum_k w_k = logsumexp_k(log w_k) - log K
* log p(x) estimate (Burda et al., K = 5,000):    :func:`log_evidence`, the IWELBO with many samples, in chunks,
                                                  without grad (``helpers.log_likelihood`` is its old name).

``path_derivative=True`` evaluates log q(z | x) with mu and sigma detached (a stop-gradient), so that only the path
derivative through z flows to the encoder ("sticking the landing", Roeder et al. 2017). Its value is unchanged;
for the ELBO its gradient is unbiased and has zero variance when q is the exact posterior. For the IWELBO it drops
a term whose expectation is not zero: the gradient is biased (Tucker et al. 2019, DReG, is the unbiased fix).

log q(z | x) is computed from the noise, -|eps|^2 / 2 - sum log sigma - D/2 log 2 pi, never by recomputing
(z - mu) / sigma; the Bernoulli log-likelihood is x . logits - sum softplus(logits), exact and finite for any
logits. Use with ``functools.partial`` to fix options, e.g. ``partial(deep.iwelbo, num_samples=5)``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from helpers.common.densities import normal_log_prob, normal_log_prob_from_noise, standard_normal_log_prob
from helpers.common.validation import check_choice, check_count, check_flag, check_generator, check_nonnegative_number
from helpers.deep.vae import VAE


def standard_normal_kl(mu: Tensor, sigma: Tensor) -> Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) per dimension, 0.5 (mu^2 + sigma^2 - 1) - log sigma: (B, D) -> (B, D).

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    return 0.5 * (mu.square() + sigma.square() - 1.0) - torch.log(sigma)


def _draw(
    model: VAE, x: Tensor, num_samples: int, generator: torch.Generator | None, path_derivative: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """(log p(x | z), log p(z), log q(z | x), mu, sigma) for K draws: the first three (K, B), mu and sigma (B, D)."""
    mu, sigma = model.encode(x)
    eps = torch.randn((num_samples, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
    z = mu + sigma * eps  # (K, B, D)
    if path_derivative:
        log_qz = normal_log_prob(z, mu.detach(), sigma.detach())  # stop-gradient through q's parameters
    else:
        log_qz = normal_log_prob_from_noise(eps, torch.log(sigma).sum(-1))
    return model.log_likelihood(x, z), standard_normal_log_prob(z), log_qz, mu, sigma


def log_weights(
    model: VAE,
    x: Tensor,
    num_samples: int = 1,
    *,
    path_derivative: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Importance log-weights log w_k = log p(x, z_k) - log q(z_k | x), z_k ~ q(z | x): x (B, P) -> (K, B).

    Differentiable (reparameterized). Chapter: *Importance-weighted bounds*.
    """
    x = model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
    check_flag(path_derivative, "path_derivative")
    check_generator(generator)
    log_px, log_pz, log_qz, _, _ = _draw(model, x, num_samples, generator, path_derivative)
    return log_px + log_pz - log_qz


def elbo(
    model: VAE,
    x: Tensor,
    num_samples: int = 1,
    *,
    kl: Literal["analytic", "monte-carlo"] = "analytic",
    beta: float = 1.0,
    path_derivative: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The (beta-)ELBO per data point, x (B, P) -> (B,), averaged over ``num_samples`` draws z ~ q(z | x).

    ``kl="analytic"`` (L^B of Kingma & Welling 2014): (1/K) sum_k log p(x | z_k) - beta KL(q || p), the KL in
    closed form. ``kl="monte-carlo"`` (their L^A): (1/K) sum_k [log p(x | z_k) + beta (log p(z_k) - log q(z_k|x))].
    ``beta`` weighs the KL (beta-VAE, Higgins et al. 2017; KL annealing, Fu et al. 2019); beta = 1 is the ELBO.
    ``path_derivative=True`` (sticking the landing, Roeder et al. 2017) needs ``kl="monte-carlo"``.
    Differentiable. Chapters: *The variational autoencoder*, *Sticking the landing*.
    """
    x = model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
    check_choice(kl, "kl", ("analytic", "monte-carlo"))
    beta = check_nonnegative_number(beta, "beta", hint="beta = 1 is the ELBO")
    check_flag(path_derivative, "path_derivative")
    check_generator(generator)
    if path_derivative and kl == "analytic":
        raise ValueError(
            "path_derivative=True drops the score term of log q(z | x), which the closed-form KL does not have: "
            "pass kl='monte-carlo' with it."
        )
    log_px, log_pz, log_qz, mu, sigma = _draw(model, x, num_samples, generator, path_derivative)
    if kl == "analytic":
        return log_px.mean(0) - beta * standard_normal_kl(mu, sigma).sum(-1)
    return (log_px + beta * (log_pz - log_qz)).mean(0)


def iwelbo(
    model: VAE,
    x: Tensor,
    num_samples: int,
    *,
    path_derivative: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The importance-weighted bound L_K = logsumexp_k(log w_k) - log K per data point, x (B, P) -> (B,).

    L_1 is the ELBO (Monte Carlo KL), L_K <= L_{K+1} <= log p(x) in expectation (Burda et al. 2016, Theorem 1).
    Differentiable: the IWAE objective. ``path_derivative=True`` stops the gradient through q's parameters in
    log q (biased for K > 1, see the module docstring). Chapter: *Importance-weighted bounds*.
    """
    log_w = log_weights(model, x, num_samples, path_derivative=path_derivative, generator=generator)
    return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])


@torch.no_grad()
def log_evidence(
    model: VAE,
    x: Tensor,
    num_samples: int = 5000,
    *,
    chunk_size: int = 32768,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The importance-sampled estimate of log p(x) with q(z | x) as proposal, x (B, P) -> (B,) (no gradient).

    log p(x) ~ logsumexp_k(log w_k) - log K with K = ``num_samples`` (Burda et al. 2016 use K = 5,000). It is the
    IWELBO L_K: a stochastic lower bound whose bias shrinks as K grows. At most ``chunk_size`` (sample, data point)
    pairs are decoded at once, so memory stays bounded (about 250 * chunk_size bytes per 100 pixels); the
    draws, not their distribution, depend on ``chunk_size``. Chapters: *The variational autoencoder*,
    *Importance-weighted bounds*.
    """
    x = model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
    chunk_size = check_count(chunk_size, "chunk_size")
    check_generator(generator)
    samples_per_chunk = min(num_samples, chunk_size)
    points_per_chunk = max(1, chunk_size // samples_per_chunk)
    results = []
    for start in range(0, len(x), points_per_chunk):
        xb = x[start : start + points_per_chunk]
        mu, sigma = model.encode(xb)
        partial = []
        for k0 in range(0, num_samples, samples_per_chunk):
            k = min(samples_per_chunk, num_samples - k0)
            eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + sigma * eps
            log_qz = normal_log_prob_from_noise(eps, torch.log(sigma).sum(-1))
            log_w = model.log_likelihood(xb, z) + standard_normal_log_prob(z) - log_qz
            partial.append(torch.logsumexp(log_w, 0))
        results.append(torch.logsumexp(torch.stack(partial), 0) - math.log(num_samples))
    return torch.cat(results)
