"""The VAE with binary latents (chapter *Gradients for discrete latent variables*): n Bernoulli latents z in
{0, 1}^n, an encoder q_phi(z | x) = prod_i Bernoulli(sigmoid(alpha_phi(x)_i)), a factorized prior
p(z) = prod_i Bernoulli(sigmoid(beta_i)) (beta = 0 fixed, or learned), and a Bernoulli decoder p_theta(x | z) from
logits eta = decoder(z), log p(x | z) = sum_p [x_p eta_p - softplus(eta_p)] (``common.bernoulli_log_prob``).

Shapes: x (B, P), logits alpha (B, n), z (S, B, n) -> log p(x | z) (S, B). A model with R replicas
(``deep.stack``) holds its weights with a leading R axis (the prior logits (R, n) too) and takes x (R, B, P),
z (R, S, B, n) -> (R, S, B): every method puts the replica axis first. The objectives that train it, one per
gradient estimator, are in :mod:`helpers.deep.discrete_objectives`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.common.densities import bernoulli_log_prob
from helpers.common.validation import (
    as_tensor,
    check_choice,
    check_count,
    check_finite,
    check_flag,
    check_images,
    check_real_tensor,
    check_unit_interval,
)
from helpers.deep.networks import ACTIVATIONS, mlp

LOGITS_HINT = "a logit of +-inf (a certain bit) is not supported: clamp it, e.g. logits.clamp(-30, 30)"


def bernoulli_kl(logits_q: Tensor, logits_p: Tensor | float = 0.0) -> Tensor:
    """KL(Bernoulli(sigmoid(a)) || Bernoulli(sigmoid(b))) per coordinate, (..., n) -> (..., n); sum it for the
    product. q log(q/p) + (1 - q) log((1 - q)/(1 - p)) with log sigmoid(a) = -softplus(-a), log(1 - sigmoid(a)) =
    -softplus(a): finite for any finite logits. ``logits_p = 0`` is the uniform prior Bernoulli(1/2)."""
    logits_q = check_real_tensor(logits_q, "logits_q", what="(..., n)", hint=LOGITS_HINT)
    if isinstance(logits_p, bool) or not isinstance(logits_p, (numbers.Real, Tensor, np.ndarray)):
        raise TypeError(f"logits_p must be a number or a tensor of logits (got {type(logits_p).__name__}).")
    if not isinstance(logits_p, numbers.Real):
        check_finite(as_tensor(logits_p, "logits_p"), "logits_p")
        try:
            torch.broadcast_shapes(logits_q.shape, tuple(logits_p.shape))
        except RuntimeError:
            raise ValueError(
                f"logits_q and logits_p must have shapes that broadcast (got {tuple(logits_q.shape)} and "
                f"{tuple(logits_p.shape)})."
            ) from None
    elif not math.isfinite(logits_p):
        raise ValueError(f"logits_p must be finite (got {logits_p!r}); {LOGITS_HINT}.")
    return _bernoulli_kl(logits_q, logits_p)


def _bernoulli_kl(logits_q: Tensor, logits_p: Tensor | float) -> Tensor:
    b = torch.as_tensor(logits_p, dtype=logits_q.dtype, device=logits_q.device)
    q = torch.sigmoid(logits_q)
    return q * (F.softplus(-b) - F.softplus(-logits_q)) + (1 - q) * (F.softplus(b) - F.softplus(logits_q))


class BernoulliVAE(nn.Module):
    """A VAE with n binary latents (see the module docstring for the model).

    Args:
        input_dim: P pixels. latent_dim: n. hidden_dims: hidden widths of encoder and decoder (``()``: both
            affine, the "linear" model of the ARM / DisARM / RELAX benchmarks; (200, 200): their "nonlinear" one).
        activation: between hidden layers (``"leaky_relu"`` in Dong et al. 2020, ``"tanh"``).
        learned_prior: learn beta (else Bernoulli(1/2)).
        baseline_hidden: width of the NVIL baseline network b_psi(x) (one hidden tanh layer); 0: none.

    Attributes ``encoder``, ``decoder`` (and ``baseline``) are MLPs of :func:`helpers.deep.networks.mlp`;
    ``prior_logits`` (n,) the prior's logits beta; ``config`` the settings that fix the parameter shapes;
    ``replicas`` None, or R for a replicated model.
    """

    def __init__(
        self,
        input_dim: int,
        latent_dim: int,
        hidden_dims: Sequence[int] = (),
        *,
        activation: str = "leaky_relu",
        learned_prior: bool = True,
        baseline_hidden: int = 0,
    ) -> None:
        super().__init__()
        self.replicas: int | None = None  # R for a replicated model (deep.stack)
        input_dim, latent_dim = check_count(input_dim, "input_dim"), check_count(latent_dim, "latent_dim")
        if isinstance(hidden_dims, (str, bytes)) or not isinstance(hidden_dims, Iterable):
            raise TypeError(
                f"hidden_dims must be a sequence of layer widths such as (200, 200) or () (got {hidden_dims!r})."
            )
        hidden = tuple(check_count(h, "hidden_dims") for h in hidden_dims)
        check_choice(activation, "activation", list(ACTIVATIONS))
        learned_prior = check_flag(learned_prior, "learned_prior")
        baseline_hidden = check_count(baseline_hidden, "baseline_hidden", minimum=0)
        self.input_dim, self.latent_dim = input_dim, latent_dim
        #: everything that fixes the parameter shapes and meanings (checkpoints compare it)
        self.config = {
            "input_dim": input_dim,
            "latent_dim": latent_dim,
            "hidden_dims": hidden,
            "activation": activation,
            "learned_prior": learned_prior,
            "baseline_hidden": baseline_hidden,
        }
        self.encoder = mlp((input_dim, *hidden, latent_dim), activation)
        self.decoder = mlp((latent_dim, *hidden[::-1], input_dim), activation)
        self.prior_logits = nn.Parameter(torch.zeros(latent_dim), requires_grad=learned_prior)
        self.baseline = mlp((input_dim, baseline_hidden, 1), "tanh") if baseline_hidden else None

    def check_input(self, x: object, name: str = "x") -> Tensor:
        """Return x as a floating tensor (B, P), B >= 1, in the dtype of the model's parameters with every entry in
        [0, 1], raising TypeError (not a tensor or a numpy array) or ValueError naming ``name`` otherwise."""
        x = check_images(x, name)
        if not x.is_floating_point():
            raise ValueError(
                f"{name} must be a floating-point tensor of shape (B, {self.input_dim}) (got dtype {x.dtype}); for "
                "8-bit pixels pass x.float() / 255."
            )
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(
                f"{name} must have shape (B, {self.input_dim}) (got {tuple(x.shape)}); flatten images with "
                "x.reshape(len(x), -1)."
            )
        dtype = self.prior_logits.dtype
        return check_unit_interval(x if x.dtype == dtype else x.to(dtype), name)

    def _per_replica(self, t: Tensor, ndim: int) -> Tensor:
        """t (R, ..., last) reshaped to broadcast against a tensor of ``ndim`` axes whose first is R (single: t)."""
        if self.replicas is None:
            return t
        return t.reshape(t.shape[0], *([1] * (ndim - t.ndim)), *t.shape[1:])

    def encode(self, x: Tensor) -> Tensor:
        """Encoder logits alpha(x): (B, P) -> (B, n); (R, B, P) -> (R, B, n)."""
        return self.encoder(x)

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x | z) summed over pixels: x (B, P), z (..., B, n) -> (..., B); replicated: x (R, B, P),
        z (R, ..., B, n) -> (R, ..., B). ``z`` may be relaxed (in [0, 1]^n): the decoder takes any real input."""
        return bernoulli_log_prob(self._per_replica(x, z.ndim), self.decoder(z))

    def log_prior(self, z: Tensor) -> Tensor:
        """log p(z) = sum_i [z_i beta_i - softplus(beta_i)]: z (..., n) -> (...); replicated z (R, ..., n)."""
        return bernoulli_log_prob(z, self._per_replica(self.prior_logits, z.ndim))

    def kl(self, logits: Tensor) -> Tensor:
        """KL(q(z | x) || p(z)) in closed form: logits (..., B, n) -> (..., B) (replicated: (R, B, n) -> (R, B))."""
        return _bernoulli_kl(logits, self._per_replica(self.prior_logits, logits.ndim)).sum(-1)

    def baseline_value(self, x: Tensor) -> Tensor:
        """The NVIL baseline b_psi(x): (B, P) -> (B,), (R, B, P) -> (R, B); ValueError without a baseline network."""
        if self.baseline is None:
            raise ValueError(
                "the NVIL baseline needs a model built with baseline_hidden > 0 (the width of b_psi(x)), e.g. "
                "deep.BernoulliVAE(P, n, baseline_hidden=100)."
            )
        return self.baseline(x).squeeze(-1)
