"""The objectives of the Bernoulli VAE as **values** that take their noise (chapter *Gradients for discrete latent
variables*), trained by ``deep.train`` like every objective of the part (the contract: :mod:`helpers.deep.objectives`).

* ``DiscreteELBO(estimator, num_samples, temperature)``: E_q[log p(x | z)] - KL(q(z | x) || p(z)) per image. The
  reconstruction term goes through the estimator's surrogate (:mod:`helpers.deep.discrete_estimators`): its value is
  an unbiased estimate from binary draws for every estimator, its gradient the estimator's; the KL between the
  factorized Bernoullis is in closed form with its exact gradient, so the estimators differ only on the term that
  cannot be reparameterized. NVIL's learned baseline b_psi(x) is centered by the mean of f over the other images of
  the batch (NVIL's centering, Mnih & Gregor 2014, done with the batch instead of a running average).
* ``DiscreteIWELBO(num_samples)``: the multi-sample bound L_K = logsumexp_k log w_k - log K, log w = log p(x | z) +
  log p(z) - log q(z | x), z_k ~ q(z | x) (Burda et al. 2016): the test objective, evaluated without gradient.

Noise: uniforms u ~ U[0, 1)^(S, B, n) drawn by ``draw`` from the generator (S = ``num_samples``; ``"exact"`` draws
nothing, its noise is the empty tuple); binary draws are z = 1[u < sigmoid(alpha)] (ARM, DisARM and Gumbel use u as
their papers do). A replicated model (``deep.stack``) gets x (R, B, P) and u (R, S, B, n) and returns (R, B).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.densities import bernoulli_log_prob
from helpers.common.validation import check_choice, check_count, check_positive_number
from helpers.deep.bernoulli_vae import BernoulliVAE
from helpers.deep.discrete_estimators import ESTIMATORS, MAX_ENUMERATED_BITS, bernoulli_from_uniform, surrogate
from helpers.deep.objectives import Objective

#: the sample axis of f's values (..., S, B): the draws sit after the replica axis and before the batch
SAMPLE_AXIS = -2


def check_bernoulli_vae(model: object) -> None:
    """Raise TypeError unless ``model`` is a deep.BernoulliVAE (single or replicated)."""
    if not isinstance(model, BernoulliVAE):
        raise TypeError(
            f"model must be a deep.BernoulliVAE (got {type(model).__name__}); build it with "
            "deep.BernoulliVAE(input_dim, latent_dim)."
        )


def draw_uniforms(model: BernoulliVAE, x: Tensor, num_samples: int, generator: torch.Generator | None) -> Tensor:
    """u ~ U[0, 1) of shape (S, B, n) for one batch x (B, P), in the model's dtype and on x's device."""
    return torch.rand((num_samples, x.shape[-2], model.latent_dim), generator=generator, device=x.device,
                      dtype=model.prior_logits.dtype)  # fmt: skip


@dataclass(frozen=True)
class DiscreteELBO(Objective):
    """The ELBO of a Bernoulli VAE per image with the reconstruction term's gradient from ``estimator``:

    ``"exact"`` (enumeration of the 2^n states, n <= 16), ``"reinforce"`` (score function, no baseline),
    ``"leave-one-out"`` (num_samples >= 2), ``"nvil"`` (a learned baseline: the model needs ``baseline_hidden``),
    ``"gumbel"`` and ``"st-gumbel"`` (binary Concrete at ``temperature``, plain and straight-through; biased),
    ``"arm"`` and ``"disarm"`` (``num_samples`` antithetic pairs, two decoder evaluations each). ``temperature``
    belongs to the relaxations only and ``num_samples`` to the estimators that draw: another value is refused, so
    that equal objectives are equal values. Noise: u (S, B, n).
    """

    estimator: str
    num_samples: int = 1
    temperature: float = 1.0

    def __post_init__(self) -> None:
        check_choice(self.estimator, "estimator", ESTIMATORS)
        object.__setattr__(self, "num_samples", check_count(self.num_samples, "num_samples"))
        tau = check_positive_number(self.temperature, "temperature", example="temperature=0.5")
        object.__setattr__(self, "temperature", tau)
        if tau != 1.0 and self.estimator not in ("gumbel", "st-gumbel"):
            raise ValueError(
                f"temperature is a setting of estimator='gumbel' or 'st-gumbel' only (got temperature={tau} with "
                f"estimator={self.estimator!r}); leave it at 1.0."
            )
        if self.estimator == "exact" and self.num_samples != 1:
            raise ValueError(
                f"estimator='exact' enumerates the states and draws nothing: leave num_samples at 1 (got "
                f"{self.num_samples})."
            )
        if self.estimator == "leave-one-out" and self.num_samples < 2:
            raise ValueError(
                "estimator='leave-one-out' needs num_samples >= 2 (b_s is the mean of the other draws); got 1."
            )

    def check_model(self, model) -> None:
        check_bernoulli_vae(model)
        if self.estimator == "nvil" and model.baseline is None:
            raise ValueError(
                "estimator='nvil' needs a model built with baseline_hidden > 0 (the baseline network b_psi(x)), "
                "e.g. deep.BernoulliVAE(P, n, baseline_hidden=100)."
            )
        if self.estimator == "exact" and model.latent_dim > MAX_ENUMERATED_BITS:
            raise ValueError(
                f"estimator='exact' enumerates 2^n states: the model's latent_dim must be <= {MAX_ENUMERATED_BITS} "
                f"(got {model.latent_dim}); use an estimator (leave-one-out, nvil, arm, disarm)."
            )

    def draw(self, model: BernoulliVAE, x: Tensor, generator: torch.Generator | None) -> Tensor | tuple:
        if self.estimator == "exact":
            return ()
        return draw_uniforms(model, x, self.num_samples, generator)

    def value(self, model: BernoulliVAE, x: Tensor, noise, beta: float | None = None) -> Tensor:
        logits = model.encode(x)  # (..., B, n)
        baseline = model.baseline_value(x) if self.estimator == "nvil" else None
        reconstruction = surrogate(
            self.estimator, lambda z: model.log_likelihood(x, z), logits, None if self.estimator == "exact" else noise,
            SAMPLE_AXIS, temperature=self.temperature, baseline=baseline, center=True,
        )  # fmt: skip
        return reconstruction - model.kl(logits)


@dataclass(frozen=True)
class DiscreteIWELBO(Objective):
    """The multi-sample bound L_K of a Bernoulli VAE per image, K = ``num_samples`` (Burda et al. 2016), without
    gradient: a test objective (``deep.train(..., test_objective=deep.DiscreteIWELBO(20))``); it has no estimator of
    the encoder's gradient, so evaluating it with gradients enabled is refused. Noise: u (K, B, n)."""

    num_samples: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_samples", check_count(self.num_samples, "num_samples"))

    def check_model(self, model) -> None:
        check_bernoulli_vae(model)

    def draw(self, model: BernoulliVAE, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return draw_uniforms(model, x, self.num_samples, generator)

    def value(self, model: BernoulliVAE, x: Tensor, noise: Tensor, beta: float | None = None) -> Tensor:
        if torch.is_grad_enabled():
            raise RuntimeError(
                "DiscreteIWELBO is a test objective without a gradient estimator for the encoder: pass it as "
                "test_objective= to deep.train (train with deep.DiscreteELBO), or evaluate it under torch.no_grad() "
                "(deep.discrete_iwelbo does)."
            )
        return torch.logsumexp(log_weights(model, x, noise), SAMPLE_AXIS) - math.log(self.num_samples)


def log_weights(model: BernoulliVAE, x: Tensor, noise: Tensor) -> Tensor:
    """Importance log-weights log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x) of binary draws
    z_k = 1[u_k < sigmoid(alpha(x))]: x (B, P), u (K, B, n) -> (K, B) (replicated: (R, B, P), (R, K, B, n) ->
    (R, K, B)); the weights of :class:`DiscreteIWELBO` and of the reference runs' log p(x) (Burda et al. 2016)."""
    logits = model.encode(x).unsqueeze(SAMPLE_AXIS - 1)  # (..., 1, B, n)
    z = bernoulli_from_uniform(logits, noise)  # (..., K, B, n)
    return model.log_likelihood(x, z) + model.log_prior(z) - bernoulli_log_prob(z, logits)  # (..., K, B)
