"""Importance-weighted bounds and ELBO gradient estimators on the conjugate Gaussian model
(:class:`helpers.models.ConjugateGaussian`), whose exact answers check them (chapters *Importance-weighted bounds*,
*Sticking the landing*).

The variational family is q(z) = N(loc, diag scale^2), drawn as z = loc + scale * eps. Shapes: eps and z (S, D) for
S draws (or (R, K, D) for R repetitions of K importance samples); per-draw gradients (S, 2D), ordered
(d/d loc_1..D, d/d scale_1..D).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.common.densities import normal_log_prob
from helpers.common.validation import (
    check_count,
    check_flag,
    check_generator,
    check_instance,
    check_location_scale,
)
from helpers.models.conjugate_gaussian import ConjugateGaussian


def gaussian_log_weights(model: ConjugateGaussian, loc: Tensor, scale: Tensor, eps: Tensor) -> Tensor:
    """log w = log p(x, z) - log q(z) at z = loc + scale * eps: eps (..., D) -> (...).

    The importance weights of the IWELBO (Burda et al. 2016). Chapter: *Importance-weighted bounds*.
    """
    _check_q(model, loc, scale)
    check_instance(eps, "eps", Tensor, how="draw it with torch.randn(..., D)")
    if eps.ndim < 1 or eps.shape[-1] != model.dim:
        raise ValueError(f"eps must have shape (..., {model.dim}) (got {tuple(eps.shape)}).")
    z = loc + scale * eps
    return model.log_joint(z) - normal_log_prob(z, loc, scale)


def gaussian_iwelbo(
    model: ConjugateGaussian,
    loc: Tensor,
    scale: Tensor,
    num_samples: int,
    num_repeats: int,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """R independent draws of the IWELBO estimate L_K = logsumexp_k(log w_k) - log K, K = ``num_samples``: -> (R,).

    Its mean is the bound E[L_K] <= log p(x) (Burda et al. 2016). Chapter: *Importance-weighted bounds*.
    """
    _check_q(model, loc, scale)
    num_samples = check_count(num_samples, "num_samples")
    num_repeats = check_count(num_repeats, "num_repeats")
    check_generator(generator)
    eps = torch.randn((num_repeats, num_samples, model.dim), generator=generator, dtype=loc.dtype, device=loc.device)
    log_w = gaussian_log_weights(model, loc, scale, eps)  # (R, K)
    return torch.logsumexp(log_w, -1) - math.log(num_samples)


def elbo_gradient_terms(
    model: ConjugateGaussian, loc: Tensor, scale: Tensor, eps: Tensor, *, path_derivative: bool = False
) -> Tensor:
    """Per-draw reparameterization gradients of the ELBO with respect to (loc, scale): eps (S, D) -> (S, 2D).

    Term s is the gradient of f(z_s) = log p(x, z_s) - log q(z_s) at z_s = loc + scale * eps_s, by autograd.
    ``path_derivative=False``: the total derivative (path + score term). ``True``: log q is evaluated with loc and
    scale detached, so only the path derivative d f / d z * d z / d(loc, scale) remains (Roeder et al. 2017).
    Both have mean grad ELBO; at q = posterior the path derivative is exactly 0 for every draw.
    Chapter: *Sticking the landing*.
    """
    _check_q(model, loc, scale)
    check_flag(path_derivative, "path_derivative")
    check_instance(eps, "eps", Tensor, how="draw it with torch.randn(S, D)")
    if eps.ndim != 2 or eps.shape[-1] != model.dim:
        raise ValueError(f"eps must have shape (S, {model.dim}) (got {tuple(eps.shape)}).")
    # one copy of the parameters per draw: the gradient of the sum is then the stack of per-draw gradients
    loc_s = loc.detach().expand_as(eps).clone().requires_grad_(True)
    scale_s = scale.detach().expand_as(eps).clone().requires_grad_(True)
    z = loc_s + scale_s * eps
    if path_derivative:
        log_q = normal_log_prob(z, loc_s.detach(), scale_s.detach())
    else:
        log_q = normal_log_prob(z, loc_s, scale_s)
    f = model.log_joint(z) - log_q  # (S,)
    grad_loc, grad_scale = torch.autograd.grad(f.sum(), (loc_s, scale_s))
    return torch.cat([grad_loc, grad_scale], -1)


def elbo_gradient_variance(model: ConjugateGaussian, loc: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
    """Exact per-draw variances (2D,) of the total-derivative and path-derivative estimators (in that order).

    With the posterior N(m, s^2), d = loc - m and sigma = scale, per coordinate (derived in the chapter):
    total:  Var d/dloc = sigma^2 / s^4,            Var d/dscale = d^2 / s^4 + 2 sigma^2 / s^4;
    path:   Var d/dloc = (1/sigma - sigma/s^2)^2,  Var d/dscale = d^2 / s^4 + 2 (1/sigma - sigma/s^2)^2.
    The path-derivative variances vanish at q = posterior (d = 0, sigma = s); the total ones do not.
    Chapter: *Sticking the landing*.
    """
    _check_q(model, loc, scale)
    m, s = model.posterior()
    d, sigma = loc - m, scale
    gap = 1.0 / sigma - sigma / s**2
    total = torch.cat([sigma**2 / s**4, d**2 / s**4 + 2 * sigma**2 / s**4])
    path = torch.cat([gap**2, d**2 / s**4 + 2 * gap**2])
    return total, path


def _check_q(model: object, loc: object, scale: object) -> None:
    check_instance(model, "model", ConjugateGaussian, how="build it with helpers.models.ConjugateGaussian(...)")
    check_location_scale(loc, scale, dim=model.dim)  # type: ignore[attr-defined]
