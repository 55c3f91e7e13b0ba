"""Variational autoencoders and their objectives (chapters *The variational autoencoder*, *Importance-weighted
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
* log p(x) estimate (Burda et al., K = 5,000):    the IWELBO with many samples, computed in chunks, without grad.

``path_derivative=True`` evaluates log q(z | x) with mu and sigma detached (a stop-gradient), so that only the path
derivative through z flows to the encoder ("sticking the landing", Roeder et al. 2017). Its value is unchanged;
for the ELBO its gradient is unbiased and has zero variance when q is the exact posterior. For the IWELBO it drops
a term whose expectation is not zero: the gradient is biased (Tucker et al. 2019, DReG, is the unbiased fix).

log q(z | x) is computed from the noise, -|eps|^2 / 2 - sum log sigma - D/2 log 2 pi, never by recomputing
(z - mu) / sigma; the Bernoulli log-likelihood is x . logits - sum softplus(logits), exact and finite for any
logits. Use with ``functools.partial`` to fix options, e.g. ``partial(helpers.iwelbo, num_samples=5)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.validation import check_count

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
LIKELIHOODS = ("bernoulli", "gaussian", "gaussian-learned")
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
SCALE_ACTIVATIONS = ("exp", "softplus", "sigmoid")
ENCODERS = ("shared", "separate")
#: rows (sample, data point) of logits formed at once by the fused Bernoulli decoder: 128 x 784 floats = 400 kB
BLOCK_ROWS = 128


# ------------------------------------------------------------------------------------------ log-densities
class _BernoulliLogProb(torch.autograd.Function):
    """sum_p [x_p l_p - softplus(l_p)] with a hand-written backward, d/dl = x - sigmoid(l).

    Written out because torch's softplus (and binary_cross_entropy_with_logits) are not vectorized on the CPU:
    this forward + backward is about 3x faster than autograd through F.softplus, and the IWAE training step
    spends most of its non-matmul time here (benchmarks/bench_iwae.py). softplus(l) = max(l, 0) - log sigmoid(|l|),
    where sigmoid(|l|) is in [1/2, 1]: no overflow, no log(0), for any finite l.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(logits, x)
        return (logits * x).sum(-1) - logits.clamp(min=0).sum(-1) + torch.log(torch.sigmoid(logits.abs())).sum(-1)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:  # type: ignore[override]
        logits, x = ctx.saved_tensors
        grad_logits = grad_x = None
        if ctx.needs_input_grad[0]:
            if torch.is_grad_enabled():  # create_graph=True: out of place, so it is differentiable again
                grad_logits = (x - torch.sigmoid(logits)) * grad.unsqueeze(-1)
            else:
                grad_logits = torch.sigmoid(logits).neg_().add_(x).mul_(grad.unsqueeze(-1))
        if ctx.needs_input_grad[1]:
            grad_x = (logits * grad.unsqueeze(-1)).sum_to_size(x.shape)
        return grad_logits, grad_x


class _LinearBernoulliLogProb(torch.autograd.Function):
    """log p(x | z) for a Bernoulli decoder whose last layer is affine, l = h W^T + b, fused and blocked.

    h (K, B, H) -> (K, B). The logits are formed in blocks of about ``BLOCK_ROWS`` (sample, data point) rows,
    so that each block's elementwise work (softplus, the x . l term, sigmoid(l) for the backward pass) runs while
    the block is in the L2 cache; only sigmoid(l) (K B P) is kept for the backward pass, which is
    dL/dl = (x - sigmoid(l)) g, then one matmul for h's gradient and one for W's. About 25% faster than
    autograd through the unfused layer on a 2-core CPU (benchmarks/bench_iwae.py). x gets no gradient.
    """

    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor, bias: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        num_points, num_pixels = x.shape
        h3 = h.reshape(-1, num_points, h.shape[-1])  # (K, B, H)
        need_grad = any(ctx.needs_input_grad[:3])
        sig = torch.empty((*h3.shape[:2], num_pixels), dtype=h.dtype, device=h.device) if need_grad else None
        out = torch.empty(h3.shape[:2], dtype=h.dtype, device=h.device)
        k_step = max(1, BLOCK_ROWS // num_points)
        b_step = min(num_points, BLOCK_ROWS)
        weight_t = weight.t()
        for k0 in range(0, h3.shape[0], k_step):
            for b0 in range(0, num_points, b_step):
                rows = h3[k0 : k0 + k_step, b0 : b0 + b_step]
                xb = x[b0 : b0 + b_step]
                logits = torch.addmm(bias, rows.reshape(-1, rows.shape[-1]), weight_t).view(*rows.shape[:2], -1)
                value = (logits * xb).sum(-1) - logits.clamp(min=0).sum(-1)
                if sig is not None:
                    torch.sigmoid(logits, out=sig[k0 : k0 + k_step, b0 : b0 + b_step])
                magnitude = logits.abs_()
                value += torch.sigmoid(magnitude, out=magnitude).log_().sum(-1)  # log sigmoid(|l|) = -softplus(-|l|)
                out[k0 : k0 + k_step, b0 : b0 + b_step] = value
        if sig is not None:
            ctx.save_for_backward(h3, weight, sig, x)
        ctx.h_shape = h.shape
        return out.view(h.shape[:-1])

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        if torch.is_grad_enabled():  # create_graph=True: sigmoid(l) was saved without a graph
            raise RuntimeError(
                "the fused Bernoulli likelihood of helpers.VAE is differentiable once; for higher derivatives "
                "(create_graph=True) build the model with fused_likelihood=False."
            )
        h3, weight, sig, x = ctx.saved_tensors
        num_pixels = x.shape[-1]
        # dL/dl = (x - sigmoid(l)) * g, in place in the saved buffer
        grad_logits = sig.neg_().add_(x).mul_(grad.reshape(*h3.shape[:2], 1)).view(-1, num_pixels)
        grad_h = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_h = (grad_logits @ weight).view(ctx.h_shape)
        if ctx.needs_input_grad[1]:
            grad_w = grad_logits.t() @ h3.reshape(-1, h3.shape[-1])
        if ctx.needs_input_grad[2]:
            grad_b = grad_logits.sum(0)
        return grad_h, grad_w, grad_b, None


def bernoulli_log_prob(x: Tensor, logits: Tensor) -> Tensor:
    """log Bernoulli(x; sigmoid(logits)) summed over pixels, sum_p [x_p l_p - softplus(l_p)]:
    x (B, P), logits (..., B, P) -> (..., B).

    Exact for any finite logits (|l| = 1e4 included): no log(sigmoid(l)) of a tiny number is formed. x may hold
    intensities in [0, 1] (then it is minus the cross-entropy). A hand-written backward, itself differentiable.
    """
    return _BernoulliLogProb.apply(logits, x)


def gaussian_log_prob(x: Tensor, mean: Tensor, log_var: Tensor | float) -> Tensor:
    """sum_p log N(x_p; mean_p, exp(log_var_p)); x (B, P), mean and log_var (..., B, P) (or a float) -> (..., B)."""
    if isinstance(log_var, Tensor):
        return -0.5 * ((x - mean).square() * torch.exp(-log_var) + log_var).sum(-1) - x.shape[-1] * HALF_LOG_2PI
    return -0.5 * (x - mean).square().sum(-1) * math.exp(-log_var) - x.shape[-1] * (0.5 * log_var + HALF_LOG_2PI)


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, I) summed over the last axis: (..., D) -> (...)."""
    return -0.5 * z.square().sum(-1) - z.shape[-1] * HALF_LOG_2PI


def normal_log_prob(z: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """log N(z; mu, diag sigma^2) summed over the last axis: z (..., B, D), mu and sigma (B, D) -> (..., B)."""
    return (-0.5 * ((z - mu) / sigma).square() - torch.log(sigma)).sum(-1) - z.shape[-1] * HALF_LOG_2PI


def standard_normal_kl(mu: Tensor, sigma: Tensor) -> Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) per dimension, 0.5 (mu^2 + sigma^2 - 1) - log sigma: (B, D) -> (B, D)."""
    return 0.5 * (mu.square() + sigma.square() - 1.0) - torch.log(sigma)


# ------------------------------------------------------------------------------------------ the model
def _mlp(sizes: Sequence[int], activation: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


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
            x . l - softplus(l) (about 1.6x slower per IWAE step; needed for double backward or ``torch.func``
            transforms such as per-sample gradients with ``vmap``). Both give the same values and gradients.

    Attributes ``encoder`` (shared) or ``encoder_loc`` and ``encoder_scale`` (separate), and ``decoder``, are
    ``nn.Sequential`` MLPs. Methods: :meth:`encode`, :meth:`decode`, :meth:`log_px_given_z`, :meth:`mean_image`,
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
            if value not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)} (got {value!r}).")
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a finite float > 0, a standard deviation (got {sigma!r}); e.g. 0.1.")
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.likelihood, self.sigma = likelihood, float(sigma)
        self.scale_activation, self.encoder_type = scale_activation, encoder
        self.min_log_var = min_log_var
        self.fused_likelihood = bool(fused_likelihood)
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
            self.encoder = _mlp((input_dim, *hidden, 2 * latent_dim), activation)
        else:
            self.encoder_loc = _mlp((input_dim, *hidden, latent_dim), activation)
            self.encoder_scale = _mlp((input_dim, *hidden, latent_dim), activation)
        outputs = 2 * input_dim if likelihood == "gaussian-learned" else input_dim
        self.decoder = _mlp((latent_dim, *dec_hidden, outputs), activation)

    def extra_repr(self) -> str:
        return f"likelihood={self.likelihood!r}, scale_activation={self.scale_activation!r}"

    def check_input(self, x: object, name: str = "x") -> Tensor:
        """Raise ValueError naming ``name`` unless x is a finite float tensor (B, P) (in [0, 1] for Bernoulli)."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor of shape (B, {self.input_dim}).")
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(
                f"{name} must have shape (B, {self.input_dim}) (got {tuple(x.shape)}); flatten images with "
                "x.reshape(len(x), -1)."
            )
        if not torch.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or inf; check how the data were loaded.")
        if self.likelihood == "bernoulli" and ((x < 0).any() or (x > 1).any()):
            raise ValueError(
                f"{name} must be in [0, 1] for the Bernoulli likelihood (got min {x.min().item():.4g}, "
                f"max {x.max().item():.4g}); scale pixels with x / 255."
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

    def log_px_given_z(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x | z) summed over pixels: x (B, P), z (..., B, D) -> (..., B) (e.g. z (K, B, D) -> (K, B)).

        The Bernoulli case runs the decoder's last layer and the log-likelihood as one fused, blocked operation
        (the same values as ``bernoulli_log_prob(x, self.decode(z))``, faster); x then gets no gradient.
        """
        if self.likelihood == "bernoulli":
            if not self.fused_likelihood:
                logits = self.decode(z)
                return (logits * x).sum(-1) - F.softplus(logits).sum(-1)
            last = self.decoder[-1]
            if z.ndim >= 2 and z.shape[-2] == x.shape[0] and x.ndim == 2 and not x.requires_grad:
                h = self.decoder[:-1](z)
                return _LinearBernoulliLogProb.apply(h, last.weight, last.bias, x.contiguous())
            return bernoulli_log_prob(x, self.decode(z))
        params = self.decode(z)
        if self.likelihood == "gaussian":
            return gaussian_log_prob(x, params, 2.0 * math.log(self.sigma))
        mean, log_var = params
        return gaussian_log_prob(x, mean, log_var)

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


# ------------------------------------------------------------------------------------------ objectives
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
        log_qz = -0.5 * eps.square().sum(-1) - torch.log(sigma).sum(-1) - model.latent_dim * HALF_LOG_2PI
    return model.log_px_given_z(x, z), standard_normal_log_prob(z), log_qz, mu, sigma


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
    model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
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
    model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
    if kl not in ("analytic", "monte-carlo"):
        raise ValueError(f"kl must be 'analytic' or 'monte-carlo' (got {kl!r}).")
    if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be a finite number >= 0 (got {beta!r}); beta = 1 is the ELBO.")
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
def log_likelihood(
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
    model.check_input(x)
    num_samples = check_count(num_samples, "num_samples")
    chunk_size = check_count(chunk_size, "chunk_size")
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
            log_qz = -0.5 * eps.square().sum(-1) - torch.log(sigma).sum(-1) - model.latent_dim * HALF_LOG_2PI
            log_w = model.log_px_given_z(xb, z) + standard_normal_log_prob(z) - log_qz
            partial.append(torch.logsumexp(log_w, 0))
        results.append(torch.logsumexp(torch.stack(partial), 0) - math.log(num_samples))
    return torch.cat(results)


# ------------------------------------------------------------------------------------------ evaluation
@torch.no_grad()
def _encoder_means_and_scales(model: VAE, x: Tensor, batch_size: int) -> tuple[Tensor, Tensor]:
    model.check_input(x)
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
    if not (isinstance(threshold, (int, float)) and threshold >= 0):
        raise ValueError(f"threshold must be a number >= 0 (got {threshold!r}); Burda et al. use 0.01.")
    return int((latent_activity(model, x, batch_size=batch_size) > threshold).sum())


def kl_per_dimension(model: VAE, x: Tensor, *, batch_size: int = 1000) -> Tensor:
    """Mean over the rows of x (B, P) of KL(q(z_d | x) || N(0, 1)) per latent dimension -> (D,).

    Their sum is the mean KL term of the ELBO; dimensions near 0 are unused ("collapsed").
    Chapter: *The variational autoencoder*.
    """
    mu, sigma = _encoder_means_and_scales(model, x, batch_size)
    return standard_normal_kl(mu, sigma).mean(0)
