"""Mean-field variational families written as a reparameterization ``z = T(eps; loc, scale)``, ``eps ~ N(0, I)``.

Each family gives the pieces the gradient estimators are built from (chapter *Gradient estimators*):

* ``transform(eps, loc, scale)``: the draw ``z``, shape (..., S, D);
* ``log_prob(z, loc, scale)``: ``log q(z)`` summed over D, shape (..., S);
* ``score(z, loc, scale)``: ``d log q(z) / d loc`` and ``d log q(z) / d scale`` at fixed ``z``, each (..., S, D);
* ``grad_z_log_prob(z, loc, scale)``: ``d log q(z) / dz``, shape (..., S, D);
* ``jacobian(eps, loc, scale)``: ``dz/d loc`` and ``dz/d scale`` (elementwise, the family is mean-field; a
  constant may be returned as a number);
* ``log_prob_from_noise`` and ``score_from_noise``: the same numbers as ``log_prob`` and ``score`` at
  z = transform(eps), computed from eps directly (the estimators' fast path; tests check they agree).

``loc`` and ``scale`` have shape (D,) and broadcast against (..., S, D).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.common.densities import HALF_LOG_2PI as _HALF_LOG_2PI
from helpers.common.validation import check_floating


class Normal:
    """q(z) = prod_d N(z_d; loc_d, scale_d^2), written as z = loc + scale * eps.

    score: d log q / d loc = eps / scale, d log q / d scale = (eps^2 - 1) / scale, with eps = (z - loc) / scale.
    Support: all of R^D, so it puts mass where a model with positive latents has density zero.
    """

    name = "normal"

    @staticmethod
    def transform(eps: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        return loc + scale * eps

    @staticmethod
    def log_prob(z: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        eps = (z - loc) / scale
        return (-_HALF_LOG_2PI - torch.log(scale) - 0.5 * eps**2).sum(-1)

    @staticmethod
    def score(z: Tensor, loc: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
        eps = (z - loc) / scale
        return eps / scale, (eps**2 - 1.0) / scale

    @staticmethod
    def log_prob_from_noise(eps: Tensor, z: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        """log q(z) at z = transform(eps): the same number as ``log_prob``, without recomputing eps."""
        return -0.5 * (eps**2).sum(-1) - (_HALF_LOG_2PI * eps.shape[-1] + torch.log(scale).sum())

    @staticmethod
    def score_from_noise(eps: Tensor, z: Tensor, loc: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
        """``score`` at z = transform(eps), without recomputing eps."""
        return eps / scale, (eps**2 - 1.0) / scale

    @staticmethod
    def grad_z_log_prob(z: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        return -(z - loc) / scale**2

    @staticmethod
    def jacobian(eps: Tensor, loc: Tensor, scale: Tensor) -> tuple[float, Tensor]:
        """dz/dloc = 1 (returned as the number 1.0, which broadcasts) and dz/dscale = eps."""
        return 1.0, eps


class LogNormal:
    """q(z) = prod_d LogNormal(z_d; loc_d, scale_d^2), written as z = exp(loc + scale * eps).

    ``loc`` and ``scale`` are the mean and standard deviation of log z. Support: (0, inf)^D, the support of
    a model with positive latents, so every draw has finite log p.
    log q(z) = -log z - log scale - log(2 pi)/2 - (log z - loc)^2 / (2 scale^2).
    """

    name = "lognormal"

    @staticmethod
    def transform(eps: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        return torch.exp(loc + scale * eps)

    @staticmethod
    def log_prob(z: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        """log q(z), shape (...); -inf where some z_d <= 0 (outside the support; log z would give NaN there)."""
        check_floating(z, "z", min_dim=1, what="draws (..., D)")  # type and shape checks only: a hot path
        if isinstance(loc, Tensor) and loc.ndim and z.shape[-1] != loc.shape[-1]:
            raise ValueError(
                f"z must have shape (..., D) with D = {loc.shape[-1]}, one entry per latent as loc (got "
                f"{tuple(z.shape)}): it would broadcast into a wrong answer."
            )
        inside = (z > 0).all(-1)
        log_z = torch.log(torch.where(z > 0, z, torch.ones_like(z)))
        eps = (log_z - loc) / scale
        value = (-log_z - _HALF_LOG_2PI - torch.log(scale) - 0.5 * eps**2).sum(-1)
        return torch.where(inside, value, torch.full_like(value, -math.inf))

    @staticmethod
    def score(z: Tensor, loc: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
        eps = (torch.log(z) - loc) / scale
        return eps / scale, (eps**2 - 1.0) / scale

    @staticmethod
    def log_prob_from_noise(eps: Tensor, z: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        """log q(z) at z = transform(eps) = exp(loc + scale eps): log z = loc + scale eps."""
        return -(loc + scale * eps + 0.5 * eps**2).sum(-1) - (_HALF_LOG_2PI * eps.shape[-1] + torch.log(scale).sum())

    @staticmethod
    def score_from_noise(eps: Tensor, z: Tensor, loc: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
        """``score`` at z = transform(eps), without recomputing eps."""
        return eps / scale, (eps**2 - 1.0) / scale

    @staticmethod
    def grad_z_log_prob(z: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        eps = (torch.log(z) - loc) / scale
        return -(1.0 + eps / scale) / z

    @staticmethod
    def jacobian(eps: Tensor, loc: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
        z = torch.exp(loc + scale * eps)
        return z, z * eps


FAMILIES: dict[str, type] = {"normal": Normal, "lognormal": LogNormal}

Family = Normal | LogNormal


_REQUIRED = ("transform", "log_prob", "score", "grad_z_log_prob", "jacobian", "log_prob_from_noise", "score_from_noise")


def get_family(family: object) -> Family:
    """Return the family for ``"normal"`` or ``"lognormal"``; a family class or instance passes through.

    Any object with the methods of the module docstring is accepted, so a new family needs no registration;
    add it to :data:`FAMILIES` to make it available by name.
    """
    if isinstance(family, str):
        if family.lower() in FAMILIES:
            return FAMILIES[family.lower()]()
    elif all(callable(getattr(family, method, None)) for method in _REQUIRED):
        return family() if isinstance(family, type) else family  # type: ignore[return-value]
    raise ValueError(f"family must be one of {sorted(FAMILIES)} or a family object (got {family!r}).")
