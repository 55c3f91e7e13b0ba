"""Per-draw terms of the Monte Carlo ELBO and of its gradient estimators (chapter *Gradient estimators for variational
inference*), under the contract of :mod:`helpers.estimators.monte_carlo`: the noise ``eps`` (..., S, D) is an
argument, z_s = T(eps_s; loc, scale), and each function returns one term per draw; an estimate is their mean over S.

* :func:`elbo_terms`: f(z_s) = log p(x, z_s) - log q(z_s), the log-weights.
* :func:`score_function_terms`: grad_lambda log q(z_s) (f(z_s) - b_s)                      [Williams 1992]
* :func:`reparameterization_terms`: (d log p/dz - d log q/dz) dz/dlambda - d log q/dlambda|_z, or without the last
  term, the path derivative of Roeder et al. (2017)                             [Kingma & Welling 2014]

The public functions check their arguments and call the private ones, which trust them (the estimators of
:mod:`helpers.estimators.monte_carlo` check theirs once and call those).
"""

from __future__ import annotations

from typing import Protocol

from torch import Tensor

from helpers.common.families import Family, get_family
from helpers.common.validation import (
    as_tensor,
    check_finite,
    check_flag,
    check_instance,
    check_location_scale,
    check_noise,
    check_real,
    renamed_arguments,
)


class LatentModel(Protocol):
    """What the estimators need of a model: latents z of shape (..., D)."""

    latent_dim: int
    support: str  # the support in words, for messages, e.g. "u > 0 and v > 0"

    def log_joint(self, z: Tensor) -> Tensor: ...  # (..., D) -> (...)

    def grad_log_joint(self, z: Tensor) -> Tensor: ...  # (..., D) -> (..., D)

    def outside_support(self, z: Tensor) -> Tensor: ...  # (..., D) -> (...) bool


# ------------------------------------------------------------------------------------------ the per-draw terms
def _elbo_terms(model: LatentModel, loc: Tensor, scale: Tensor, eps: Tensor, family: str | Family = "normal") -> Tensor:
    """Log-weights f(z_s) = log p(x, z_s) - log q(z_s) with z_s = T(eps_s; loc, scale); eps (..., S, D) -> (..., S).

    Their mean over S is the Monte Carlo ELBO. Chapter: *Gradient estimators*, section "The Monte Carlo estimate".
    """
    check_noise(eps, loc.shape[-1])
    q = get_family(family)
    z = q.transform(eps, loc, scale)
    return model.log_joint(z) - q.log_prob_from_noise(eps, z, loc, scale)


def _score_function_terms(
    model: LatentModel,
    loc: Tensor,
    scale: Tensor,
    eps: Tensor,
    family: str | Family = "normal",
    baseline: Tensor | float | None = None,
) -> tuple[Tensor, Tensor]:
    """Per-draw score-function terms grad_lambda log q(z_s) (f(z_s) - b_s), each of shape (..., S, D).

    grad ELBO = E_q[grad_lambda log q(z) (log p(x, z) - log q(z) - b)] for any b independent of z
    (Williams 1992; Ranganath et al. 2014). Chapter: *Gradient estimators*, "The score-function estimator".

    Args:
        eps: standard normal noise (..., S, D); z_s = T(eps_s; loc, scale).
        baseline: b_s, broadcastable to (..., S), or None for b = 0. It must not depend on z_s
            (see :mod:`helpers.estimators.baselines`).

    Returns:
        (terms for loc, terms for scale).
    """
    check_noise(eps, loc.shape[-1])
    q = get_family(family)
    z = q.transform(eps, loc, scale)
    weights = model.log_joint(z) - q.log_prob_from_noise(eps, z, loc, scale)  # (..., S)
    centred = weights if baseline is None else weights - baseline
    score_loc, score_scale = q.score_from_noise(eps, z, loc, scale)  # (..., S, D) each
    return score_loc * centred[..., None], score_scale * centred[..., None]


def _reparameterization_terms(
    model: LatentModel,
    loc: Tensor,
    scale: Tensor,
    eps: Tensor,
    family: str | Family = "normal",
    path_derivative: bool = False,
) -> tuple[Tensor, Tensor]:
    """Per-draw reparameterization terms, built from the chain rule, each of shape (..., S, D).

    d/dlambda f_lambda(T(eps; lambda)) = (d log p/dz - d log q/dz) * dT/dlambda - d log q_lambda/dlambda |_z.
    For the Gaussian, dT/dloc = 1 and dT/dscale = eps. ``path_derivative=True`` drops the last (score) term
    (Roeder et al. 2017). Kingma & Welling (2014); Rezende et al. (2014). Chapter: *Gradient estimators*,
    "The reparameterization estimator". Needs d log p/dz, so ``model.grad_log_joint``.
    """
    check_noise(eps, loc.shape[-1])
    check_flag(path_derivative, "path_derivative")
    q = get_family(family)
    z = q.transform(eps, loc, scale)
    d_log_p = model.grad_log_joint(z)  # (..., S, D); NaN outside the support
    d_log_q = q.grad_z_log_prob(z, loc, scale)  # (..., S, D)
    dz_dloc, dz_dscale = q.jacobian(eps, loc, scale)  # (..., S, D) each
    df_dz = d_log_p - d_log_q
    terms_loc = df_dz if isinstance(dz_dloc, float) and dz_dloc == 1.0 else df_dz * dz_dloc
    terms_scale = df_dz * dz_dscale
    if not path_derivative:
        score_loc, score_scale = q.score_from_noise(eps, z, loc, scale)
        terms_loc, terms_scale = terms_loc - score_loc, terms_scale - score_scale
    return terms_loc, terms_scale


# ------------------------------------------------------------------------------------------ the public per-draw terms
def _terms_args(model: object, loc: object, scale: object, eps: object) -> tuple[Tensor, Tensor, Tensor]:
    """The arguments of the public per-draw terms, checked: a model with log_joint, loc finite and scale > 0 (shapes
    that broadcast), eps floating, finite, (..., S, D)."""
    if not callable(getattr(model, "log_joint", None)):
        raise TypeError(
            f"model must have a log_joint(z) method (got {type(model).__name__}); e.g. models.GammaPoisson()."
        )
    check_instance(eps, "eps", Tensor, how="draw it with estimators.draw_noise(num_samples, D)")
    dim = eps.shape[-1] if eps.ndim else 1  # type: ignore[union-attr]
    for name, value in (("loc", loc), ("scale", scale)):
        value = as_tensor(value, name)
        if value.ndim == 0 or value.shape[-1] != dim:  # a (1,) loc would broadcast over the D latents
            raise ValueError(
                f"{name} must have D = {dim} entries on its last axis, one per latent, as eps (got "
                f"{tuple(value.shape)})."
            )
    loc_t, scale_t = check_location_scale(loc, scale)
    check_noise(eps, dim)
    if not eps.is_floating_point():  # type: ignore[union-attr]
        raise TypeError(f"eps must be a floating tensor of standard normal draws (got dtype {eps.dtype}).")  # type: ignore[union-attr]
    return loc_t, scale_t, check_finite(eps, "eps")  # type: ignore[arg-type]


def elbo_terms(model: LatentModel, loc: Tensor, scale: Tensor, eps: Tensor, family: str | Family = "normal") -> Tensor:
    """Log-weights f(z_s) = log p(x, z_s) - log q(z_s) with z_s = T(eps_s; loc, scale); eps (..., S, D) -> (..., S).

    Their mean over S is the Monte Carlo ELBO. Chapter: *Gradient estimators*, section "The Monte Carlo estimate".
    loc finite, scale > 0, eps finite (errors name them).
    """
    return _elbo_terms(model, *_terms_args(model, loc, scale, eps), family)


@renamed_arguments(control_variate="baseline")
def score_function_terms(
    model: LatentModel,
    loc: Tensor,
    scale: Tensor,
    eps: Tensor,
    family: str | Family = "normal",
    baseline: Tensor | float | None = None,
) -> tuple[Tensor, Tensor]:
    """Per-draw score-function terms grad_lambda log q(z_s) (f(z_s) - b_s), each of shape (..., S, D); the arguments
    as in :func:`elbo_terms`, ``baseline`` b_s broadcastable to (..., S) or None (see :func:`_score_function_terms`
    for the maths). Chapter: *Gradient estimators*, "The score-function estimator"."""
    if baseline is not None and not isinstance(baseline, Tensor):
        check_real(baseline, "baseline", hint="a number, a tensor broadcastable to (..., S) or None")
    return _score_function_terms(model, *_terms_args(model, loc, scale, eps), family, baseline)


def reparameterization_terms(
    model: LatentModel,
    loc: Tensor,
    scale: Tensor,
    eps: Tensor,
    family: str | Family = "normal",
    path_derivative: bool = False,
) -> tuple[Tensor, Tensor]:
    """Per-draw reparameterization terms, each of shape (..., S, D); the arguments as in :func:`elbo_terms` (see
    :func:`_reparameterization_terms` for the maths). Chapter: *Gradient estimators*, "The reparameterization
    estimator"."""
    check_flag(path_derivative, "path_derivative")
    return _reparameterization_terms(model, *_terms_args(model, loc, scale, eps), family, path_derivative)
