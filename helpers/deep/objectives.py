"""The objectives of the variational autoencoder as **values** that take their noise (chapters *The variational
autoencoder*, *Importance-weighted bounds*, *Sticking the landing*).

The model: prior p(z) = N(0, I) over D latents, a decoder p_theta(x | z) and an encoder q_phi(z | x) =
N(mu_phi(x), diag sigma_phi(x)^2), written as the reparameterization z = mu + sigma * eps, eps ~ N(0, I).

The contract of every objective of the deep part (as in :mod:`helpers.estimators.monte_carlo`: **the draws are an
argument**): an objective is a small frozen dataclass whose fields say everything that changes a run, so equality,
``repr`` and checkpoint fingerprints come from the fields. It has

* ``draw(model, x, generator) -> noise``: the one place its random numbers are drawn, for one batch x (B, P);
* ``value(model, x, noise, beta=None) -> (..., B)``: a pure function of (parameters, data, noise), one value per
  data point **to be maximized**; ``...`` is the replica axis R of a replicated model (x (R, B, P), noise with a
  leading R), absent for a single model;
* ``objective(model, x, generator=g)`` draws and evaluates (validating x at the boundary).

With log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x), eps (K, B, D):

* ``ELBO(kl="analytic")`` (Kingma & Welling's L^B):  (1/K) sum_k log p(x | z_k) - beta KL(q(z | x) || p(z))
* ``ELBO(kl="monte-carlo")`` (their L^A):            (1/K) sum_k [log p(x | z_k) + beta (log p(z_k) - log q(z_k | x))]
* ``IWELBO(K)`` (Burda et al. 2016):                 L_K = logsumexp_k(log w_k) - log K

``gradient="path"`` evaluates log q(z | x) with mu and sigma detached, so only the path derivative through z reaches
the encoder ("sticking the landing", Roeder et al. 2017): unbiased for the ELBO, biased for the IWELBO (K > 1).
``gradient="dreg"`` (IWELBO only) also scales the path derivative of draw k by its normalized weight w~_k, which
makes it unbiased again (doubly reparameterized gradients, Tucker et al. 2019). The value never changes.

log q(z | x) is computed from the noise, -|eps|^2 / 2 - sum log sigma - D/2 log 2 pi, never by recomputing
(z - mu) / sigma. The functions :func:`elbo`, :func:`iwelbo`, :func:`log_weights` and :func:`log_evidence` are the
chapter-facing forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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


class Objective:
    """Base of the deep part's objectives (see the module docstring for the contract)."""

    #: whether ``value`` takes a ``beta`` (a KL weight that a schedule may set at every step)
    takes_beta = False

    def draw(self, model, x: Tensor, generator: torch.Generator | None):  # pragma: no cover - abstract
        raise NotImplementedError

    def value(self, model, x: Tensor, noise, beta: float | None = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_model(self, model) -> None:
        """Raise TypeError when ``model`` is not a model this objective evaluates."""

    def __call__(self, model, x: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Draw the noise from ``generator`` and evaluate: x (B, P) -> (B,)."""
        self.check_model(model)
        check_generator(generator)
        x = model.check_input(x)
        return self.value(model, x, self.draw(model, x, generator))


def _check_vae(model: object) -> None:
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a deep.VAE (got {type(model).__name__}); build it with deep.VAE(input_dim).")


def _gaussian_noise(model: VAE, x: Tensor, num_samples: int, generator: torch.Generator | None) -> Tensor:
    """eps ~ N(0, I) of shape (K, B, D) for one batch x (B, P)."""
    weight = next(model.parameters())
    return torch.randn((num_samples, x.shape[-2], model.latent_dim), generator=generator, device=x.device,
                       dtype=weight.dtype)  # fmt: skip


def _terms(model: VAE, x: Tensor, eps: Tensor, gradient: str):
    """(log p(x | z), log p(z), log q(z | x), z, mu, sigma); the first three (..., K, B), mu and sigma (..., B, D)."""
    mu, sigma = model.encode(x)
    z = mu.unsqueeze(-3) + sigma.unsqueeze(-3) * eps  # (..., K, B, D)
    if gradient == "total":
        log_qz = normal_log_prob_from_noise(eps, torch.log(sigma).sum(-1).unsqueeze(-2))
    else:  # stop-gradient through q's parameters
        log_qz = normal_log_prob(z, mu.detach().unsqueeze(-3), sigma.detach().unsqueeze(-3))
    return model.log_likelihood(x, z), standard_normal_log_prob(z), log_qz, z, mu, sigma


@dataclass(frozen=True)
class ELBO(Objective):
    """The (beta-)ELBO per data point, averaged over ``num_samples`` draws z ~ q(z | x).

    ``kl="analytic"``: L^B, the KL in closed form; ``"monte-carlo"``: L^A. ``beta`` weighs the KL (beta-VAE,
    Higgins et al. 2017; a ``beta_schedule`` of deep.train overrides it at every step). ``gradient="path"``
    (sticking the landing) needs ``kl="monte-carlo"``. Noise: eps (K, B, D).
    """

    num_samples: int = 1
    kl: Literal["analytic", "monte-carlo"] = "analytic"
    beta: float = 1.0
    gradient: Literal["total", "path"] = "total"
    takes_beta = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_samples", check_count(self.num_samples, "num_samples"))
        check_choice(self.kl, "kl", ("analytic", "monte-carlo"))
        object.__setattr__(self, "beta", check_nonnegative_number(self.beta, "beta", hint="beta = 1 is the ELBO"))
        check_choice(self.gradient, "gradient", ("total", "path"))
        if self.gradient == "path" and self.kl == "analytic":
            raise ValueError(
                "gradient='path' drops the score term of log q(z | x), which the closed-form KL does not have: "
                "pass kl='monte-carlo' with it."
            )

    def check_model(self, model) -> None:
        _check_vae(model)

    def draw(self, model: VAE, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return _gaussian_noise(model, x, self.num_samples, generator)

    def value(self, model: VAE, x: Tensor, noise: Tensor, beta: float | None = None) -> Tensor:
        beta = self.beta if beta is None else beta
        if self.kl == "analytic":
            mu, sigma = model.encode(x)
            z = mu.unsqueeze(-3) + sigma.unsqueeze(-3) * noise
            return model.log_likelihood(x, z).mean(-2) - beta * standard_normal_kl(mu, sigma).sum(-1)
        log_px, log_pz, log_qz, _, _, _ = _terms(model, x, noise, self.gradient)
        return (log_px + beta * (log_pz - log_qz)).mean(-2)


@dataclass(frozen=True)
class IWELBO(Objective):
    """The importance-weighted bound L_K = logsumexp_k(log w_k) - log K per data point (Burda et al. 2016).

    L_1 is the ELBO (Monte Carlo KL); L_K <= L_{K+1} <= log p(x) in expectation (their Theorem 1). ``gradient``:
    ``"total"`` (IWAE), ``"path"`` (sticking the landing; biased for K > 1), ``"dreg"`` (Tucker et al. 2019).
    Noise: eps (K, B, D).
    """

    num_samples: int
    gradient: Literal["total", "path", "dreg"] = "total"

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_samples", check_count(self.num_samples, "num_samples"))
        check_choice(self.gradient, "gradient", ("total", "path", "dreg"))

    def check_model(self, model) -> None:
        _check_vae(model)

    def draw(self, model: VAE, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return _gaussian_noise(model, x, self.num_samples, generator)

    def value(self, model: VAE, x: Tensor, noise: Tensor, beta: float | None = None) -> Tensor:
        log_px, log_pz, log_qz, z, _, _ = _terms(model, x, noise, self.gradient)
        log_w = log_px + log_pz - log_qz  # (..., K, B)
        if self.gradient == "dreg" and z.requires_grad:
            w_tilde = torch.softmax(log_w.detach(), -2).unsqueeze(-1)  # (..., K, B, 1)
            z.register_hook(lambda grad: grad * w_tilde)
        return torch.logsumexp(log_w, -2) - math.log(self.num_samples)


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
    _check_vae(model)
    x = model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
    gradient = "path" if check_flag(path_derivative, "path_derivative") else "total"
    check_generator(generator)
    log_px, log_pz, log_qz, _, _, _ = _terms(model, x, _gaussian_noise(model, x, num_samples, generator), gradient)
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
    """The (beta-)ELBO per data point, x (B, P) -> (B,): ``ELBO(num_samples, kl, beta, gradient)(model, x)``.

    ``kl="analytic"`` (L^B of Kingma & Welling 2014) or ``"monte-carlo"`` (L^A); ``path_derivative=True`` (sticking
    the landing, Roeder et al. 2017) needs ``kl="monte-carlo"``. Differentiable. Chapters: *The variational
    autoencoder*, *Sticking the landing*.
    """
    gradient = "path" if check_flag(path_derivative, "path_derivative") else "total"
    if gradient == "path" and kl == "analytic":
        raise ValueError(
            "path_derivative=True drops the score term of log q(z | x), which the closed-form KL does not have: "
            "pass kl='monte-carlo' with it."
        )
    return ELBO(num_samples, kl, beta, gradient)(model, x, generator=generator)


def iwelbo(
    model: VAE,
    x: Tensor,
    num_samples: int,
    *,
    path_derivative: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The importance-weighted bound L_K per data point, x (B, P) -> (B,): ``IWELBO(num_samples)(model, x)``.

    Differentiable: the IWAE objective. Chapter: *Importance-weighted bounds*.
    """
    gradient = "path" if check_flag(path_derivative, "path_derivative") else "total"
    return IWELBO(num_samples, gradient)(model, x, generator=generator)


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

    log p(x) ~ logsumexp_k(log w_k) - log K with K = ``num_samples`` (Burda et al. 2016 use K = 5,000): the IWELBO
    L_K, a stochastic lower bound whose bias shrinks as K grows. At most ``chunk_size`` (sample, data point) pairs
    are decoded at once, so memory stays bounded; the draws, not their distribution, depend on ``chunk_size``.
    """
    _check_vae(model)
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
