"""The variational autoencoder (chapters *The variational autoencoder*, *Importance-weighted bounds*, *Sticking the
landing*): a prior p(z) = N(0, I) over D latents, a decoder p_theta(x | z) (Bernoulli from logits, or Gaussian with a
fixed or learned variance) and an encoder q_phi(z | x) = N(mu_phi(x), diag sigma_phi(x)^2) (Kingma & Welling 2014).

Shapes: x (B, P) with B data points of P pixels, z (..., B, D), e.g. (K, B, D) for K draws per data point. A model
with R replicas (``deep.stack``, :mod:`helpers.deep.networks`) takes x (R, B, P) and z (R, K, B, D). The objectives
that train it are in :mod:`helpers.deep.objectives`; the fused likelihood kernel in ``_kernels.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.common.densities import bernoulli_log_prob, normal_log_prob_log_var
from helpers.common.validation import (
    check_choice,
    check_count,
    check_flag,
    check_generator,
    check_positive_number,
    check_real,
)
from helpers.deep._kernels import BernoulliLogProb, LinearBernoulliLogProb, linear_bernoulli_log_prob
from helpers.deep.networks import ACTIVATIONS, mlp

LIKELIHOODS = ("bernoulli", "gaussian", "gaussian-learned")
SCALE_ACTIVATIONS = ("exp", "softplus", "sigmoid")
ENCODERS = ("shared", "separate")


class VAE(nn.Module):
    """Encoder and decoder MLPs with a N(0, I) prior over ``latent_dim`` latents.

    Args:
        input_dim: P, pixels per image (784 for 28 x 28).
        hidden_dims: hidden layer widths of the encoder, e.g. (200, 200) (Burda et al.'s 784-200-200-50);
            ``()`` makes the encoder affine.
        latent_dim: D.
        likelihood: ``"bernoulli"`` (the decoder outputs logits), ``"gaussian"`` (the decoder outputs the mean;
            fixed standard deviation ``sigma``) or ``"gaussian-learned"`` (it outputs a mean and a log-variance
            per pixel).
        sigma: the fixed standard deviation of the ``"gaussian"`` likelihood (the course exercise uses 0.1).
        activation: ``"tanh"`` (Burda et al.) or ``"relu"`` (the course exercise) between hidden layers.
        encoder: ``"shared"``: one network outputs (mu, pre-sigma) (its last layer has 2D outputs);
            ``"separate"``: two networks with the same hidden widths, one for mu and one for sigma (the course
            exercise: two hidden layers of 20 ReLU units each).
        scale_activation: sigma = ``exp``(h) (h is log sigma; Burda et al.), ``softplus``(h), or ``sigmoid``(h)
            (the course exercise; it bounds sigma below 1).
        decoder_hidden_dims: the decoder's hidden widths; default ``hidden_dims`` reversed. ``()`` makes the
            decoder affine (with a Gaussian likelihood: probabilistic PCA, whose log p(x) is known exactly).
        min_log_var: for ``"gaussian-learned"``, a floor on the log-variance, log_var = m + softplus(h - m)
            (without it a pixel that is always 0 drives its variance to 0 and the likelihood to infinity).
        fused_likelihood: for ``"bernoulli"``, compute the last decoder layer and log p(x | z) with the fused,
            hand-differentiated kernel (fast; a second derivative raises). ``False`` uses plain autograd operations,
            x . l - softplus(l) (slower: benchmarks/RESULTS.md; needed for double backward or ``torch.func``
            transforms such as per-sample gradients with ``vmap``). Both give the same values and gradients.

    Attributes ``encoder`` (shared) or ``encoder_loc`` and ``encoder_scale`` (separate), and ``decoder``, are
    ``nn.Sequential`` MLPs. Methods: :meth:`encode`, :meth:`decode`, :meth:`log_likelihood`, :meth:`mean_image`,
    :meth:`sample`.
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dims: Sequence[int] = (200, 200),
        latent_dim: int = 50,
        *,
        likelihood: Literal["bernoulli", "gaussian", "gaussian-learned"] = "bernoulli",
        sigma: float = 0.1,
        activation: Literal["tanh", "relu"] = "tanh",
        encoder: Literal["shared", "separate"] = "shared",
        scale_activation: Literal["exp", "softplus", "sigmoid"] = "exp",
        decoder_hidden_dims: Sequence[int] | None = None,
        min_log_var: float | None = None,
        fused_likelihood: bool = True,
    ) -> None:
        super().__init__()
        self.replicas: int | None = None  # R for a replicated model (deep.stack)
        input_dim = check_count(input_dim, "input_dim")
        latent_dim = check_count(latent_dim, "latent_dim")
        hidden = tuple(check_count(h, "hidden_dims entries") for h in hidden_dims)
        dec_hidden = hidden[::-1] if decoder_hidden_dims is None else tuple(decoder_hidden_dims)
        dec_hidden = tuple(check_count(h, "decoder_hidden_dims entries") for h in dec_hidden)
        for value, name, allowed in (
            (likelihood, "likelihood", LIKELIHOODS),
            (activation, "activation", tuple(ACTIVATIONS)),
            (encoder, "encoder", ENCODERS),
            (scale_activation, "scale_activation", SCALE_ACTIVATIONS),
        ):
            check_choice(value, name, allowed)
        sigma = check_positive_number(sigma, "sigma", hint="sigma is a standard deviation, e.g. 0.1")
        if min_log_var is not None:
            min_log_var = check_real(min_log_var, "min_log_var", hint="a floor on the log-variance, e.g. -5.0")
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.likelihood, self.sigma = likelihood, float(sigma)
        self.scale_activation, self.encoder_type = scale_activation, encoder
        self.min_log_var = min_log_var
        self.fused_likelihood = check_flag(fused_likelihood, "fused_likelihood")
        #: everything that fixes the parameter shapes and meanings (checkpoints compare it)
        self.config = {
            "input_dim": input_dim,
            "hidden_dims": hidden,
            "latent_dim": latent_dim,
            "likelihood": likelihood,
            "sigma": self.sigma,
            "activation": activation,
            "encoder": encoder,
            "scale_activation": scale_activation,
            "decoder_hidden_dims": dec_hidden,
            "min_log_var": min_log_var,
        }
        if encoder == "shared":
            self.encoder = mlp((input_dim, *hidden, 2 * latent_dim), activation)
        else:
            self.encoder_loc = mlp((input_dim, *hidden, latent_dim), activation)
            self.encoder_scale = mlp((input_dim, *hidden, latent_dim), activation)
        outputs = 2 * input_dim if likelihood == "gaussian-learned" else input_dim
        self.decoder = mlp((latent_dim, *dec_hidden, outputs), activation)

    def extra_repr(self) -> str:
        return f"likelihood={self.likelihood!r}, scale_activation={self.scale_activation!r}"

    def check_input(self, x: object, name: str = "x") -> Tensor:
        """Return x as a finite float tensor (B, P) in the model's dtype (in [0, 1] for Bernoulli), raising
        ValueError naming ``name`` otherwise (TypeError when it is not a tensor or a numpy array). Floating images of
        another dtype (numpy's float64) are converted to the dtype of the model's parameters."""
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{name} must be a floating-point tensor of shape (B, {self.input_dim}) (got {type(x).__name__}); "
                "convert with torch.as_tensor(x, dtype=torch.float32)."
            )
        if not x.is_floating_point():
            raise ValueError(
                f"{name} must be a floating-point tensor of shape (B, {self.input_dim}) (got dtype {x.dtype}); "
                "for 8-bit pixels pass x.float() / 255."
            )
        dtype = self.decoder[0].weight.dtype
        if x.dtype != dtype:
            x = x.to(dtype)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(
                f"{name} must have shape (B, {self.input_dim}) (got {tuple(x.shape)}); flatten images with "
                "x.reshape(len(x), -1)."
            )
        if len(x) == 0:
            raise ValueError(f"{name} must hold at least one data point (got shape {tuple(x.shape)}).")
        # one reduction and one host sync (it runs on every minibatch): NaN propagates into min and max, and
        # inf shows as one of them, so both are finite exactly when x is
        low, high = torch.stack(torch.aminmax(x.detach())).tolist()
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{name} contains NaN or inf; check how the data were loaded.")
        if self.likelihood == "bernoulli" and (low < 0 or high > 1):
            raise ValueError(
                f"{name} must be in [0, 1] for the Bernoulli likelihood (got min {low:.4g}, max {high:.4g}); scale "
                "pixels with x / 255."
            )
        return x

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The encoder's mu and sigma, each (B, D), of q(z | x) = N(mu, diag sigma^2); x (B, P)."""
        if self.encoder_type == "shared":
            mu, h = self.encoder(x).chunk(2, dim=-1)
        else:
            mu, h = self.encoder_loc(x), self.encoder_scale(x)
        if self.scale_activation == "exp":
            sigma = torch.exp(h)
        elif self.scale_activation == "softplus":
            sigma = F.softplus(h)
        else:
            sigma = torch.sigmoid(h)
        return mu, sigma

    def decode(self, z: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """The likelihood's parameters for z (..., D): logits (Bernoulli), mean (Gaussian), each (..., P), or the
        pair (mean, log_var) (``"gaussian-learned"``)."""
        out = self.decoder(z)
        if self.likelihood != "gaussian-learned":
            return out
        mean, log_var = out.chunk(2, dim=-1)
        if self.min_log_var is not None:
            log_var = self.min_log_var + F.softplus(log_var - self.min_log_var)
        return mean, log_var

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """The likelihood log p(x | z) summed over pixels: x (B, P), z (..., B, D) -> (..., B), e.g. (K, B, D) -> (K,B);
        with R replicas x (R, B, P), z (R, K, B, D) -> (R, K, B).

        The Bernoulli case runs the decoder's last layer and the log-likelihood as one fused, blocked operation
        (the same values as ``bernoulli_log_prob(x, self.decode(z))``, faster); x then gets no gradient.
        """
        if self.replicas is not None:
            x = x.unsqueeze(1)  # (R, 1, B, P): broadcasts over the K draws
            if self.likelihood == "bernoulli" and self.fused_likelihood:
                return BernoulliLogProb.apply(self.decode(z), x)
        if self.likelihood == "bernoulli":
            if not self.fused_likelihood:
                return bernoulli_log_prob(x, self.decode(z))
            last = self.decoder[-1]
            if z.ndim >= 2 and z.shape[-2] == x.shape[0] and x.ndim == 2 and not x.requires_grad:
                h = self.decoder[:-1](z)
                if not torch.is_grad_enabled():  # evaluation: no sigmoid(l) for a backward pass (subnormals are slow)
                    return linear_bernoulli_log_prob(h, last.weight, last.bias, x.contiguous())
                return LinearBernoulliLogProb.apply(h, last.weight, last.bias, x.contiguous())
            return BernoulliLogProb.apply(self.decode(z), x)
        params = self.decode(z)
        if self.likelihood == "gaussian":
            return normal_log_prob_log_var(x, params, 2.0 * math.log(self.sigma))
        mean, log_var = params
        return normal_log_prob_log_var(x, mean, log_var)

    def mean_image(self, z: Tensor) -> Tensor:
        """E[x | z], (..., D) -> (..., P): sigmoid(logits) for Bernoulli, the decoder mean for Gaussian."""
        params = self.decode(z)
        if self.likelihood == "bernoulli":
            return torch.sigmoid(params)
        return params if self.likelihood == "gaussian" else params[0]

    @torch.no_grad()
    def sample(self, num_images: int, *, mean: bool = True, generator: torch.Generator | None = None) -> Tensor:
        """Images from the model, (num_images, P): z ~ N(0, I), then E[x | z] (``mean=True``) or x ~ p(x | z)."""
        num_images = check_count(num_images, "num_images")
        check_flag(mean, "mean")
        check_generator(generator)
        weight = next(self.parameters())
        z = torch.randn((num_images, self.latent_dim), generator=generator, device=weight.device, dtype=weight.dtype)
        image = self.mean_image(z)
        if mean:
            return image
        if self.likelihood == "bernoulli":
            return torch.bernoulli(image, generator=generator)
        if self.likelihood == "gaussian":
            sd = torch.full_like(image, self.sigma)
        else:
            sd = torch.exp(0.5 * self.decode(z)[1])
        return image + sd * torch.randn(image.shape, generator=generator, device=image.device, dtype=image.dtype)
