"""Monte Carlo estimators of the ELBO and of its gradient (chapter *Gradient estimators for variational inference*).

One contract for every estimator. The variational family is mean-field with parameters ``loc`` and ``scale`` of
shape (D,) and is written as a reparameterization z = T(eps; loc, scale), eps ~ N(0, I) (``helpers.common.families``).
The ``*_terms`` functions (:mod:`helpers.estimators.terms`) take the noise ``eps`` of shape (..., S, D), any leading
batch dimensions (for example R independent repetitions), and return **per-draw terms**; the estimate is their mean
over the S axis. Nothing loops over draws in Python. The estimators here (:func:`elbo_estimate`,
:func:`score_function_gradient`, :func:`reparameterization_gradient`, :func:`repeated_estimates`) validate their
input, draw the noise from a ``torch.Generator`` in one place (:func:`draw_noise`) and reduce; the baselines they
subtract are in :mod:`helpers.estimators.baselines`.

With f_lambda(z) = log p(x, z) - log q_lambda(z) (the ELBO's integrand, "the weight" w):

* ELBO (Monte Carlo):           L ~ (1/S) sum_s f(z_s)
* score function (REINFORCE):   grad L ~ (1/S) sum_s grad_lambda log q(z_s) (f(z_s) - b_s)        [Williams 1992]
* reparameterization:           grad L ~ (1/S) sum_s [ (d log p/dz - d log q/dz) dz/dlambda - d log q/dlambda|_z ]
                                                                                    [Kingma & Welling 2014]

The last term of the reparameterization estimator, the score, has expectation zero; dropping it gives the
path-derivative ("sticking the landing") estimator of Roeder et al. (2017): ``path_derivative=True``.

Draws outside the model's support (possible when q is Gaussian and the latents are positive) are never dropped
or resampled: they give log p = -inf, the estimate becomes -inf or NaN, and a
:class:`helpers.estimators.support.SupportWarning`
says how many there were.

The public functions return estimates, not differentiable surrogates: their inputs are detached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from helpers.common.families import get_family
from helpers.common.validation import (
    check_choice,
    check_count,
    check_flag,
    check_generator,
    check_location_scale,
    renamed_arguments,
)
from helpers.estimators.baselines import BaselineChoice, _baseline_for, check_baseline, separate_noise
from helpers.estimators.support import warn_outside_support
from helpers.estimators.terms import LatentModel, _elbo_terms, _reparameterization_terms, _score_function_terms


def draw_noise(
    num_samples: int,
    dim: int,
    *,
    num_repeats: int | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Tensor:
    """Standard normal noise eps of shape (S, D), or (R, S, D) with ``num_repeats=R``."""
    num_samples, dim = check_count(num_samples, "num_samples"), check_count(dim, "dim")
    num_repeats = None if num_repeats is None else check_count(num_repeats, "num_repeats")
    check_generator(generator)
    shape = (num_samples, dim) if num_repeats is None else (num_repeats, num_samples, dim)
    if generator is not None and device is None:
        device = generator.device
    return torch.randn(shape, generator=generator, dtype=dtype, device=device)


def _prepare(model: LatentModel, loc: object, scale: object, num_samples: object, generator):
    if not isinstance(getattr(model, "latent_dim", None), int) or not callable(getattr(model, "log_joint", None)):
        raise TypeError(
            f"model must be a latent-variable model with latent_dim and log_joint(z) (got {type(model).__name__}); "
            "e.g. models.GammaPoisson()."
        )
    loc_t, scale_t = check_location_scale(loc, scale, dim=model.latent_dim)
    loc_t, scale_t = loc_t.detach(), scale_t.detach()  # estimates, not surrogates: no autograd graph is kept
    num = check_count(num_samples, "num_samples")
    check_generator(generator)
    if generator is not None:
        loc_t, scale_t = loc_t.to(generator.device), scale_t.to(generator.device)
    return loc_t, scale_t, num


def _prepare_with_noise(model: LatentModel, loc: object, scale: object, num_samples: object, generator):
    loc_t, scale_t, num = _prepare(model, loc, scale, num_samples, generator)
    eps = draw_noise(num, model.latent_dim, generator=generator, dtype=loc_t.dtype, device=loc_t.device)
    return loc_t, scale_t, eps


def _count_outside(model: LatentModel, loc: Tensor, scale: Tensor, eps: Tensor, family, where: str) -> Tensor:
    outside = model.outside_support(get_family(family).transform(eps, loc, scale))  # (..., S)
    # stacklevel 3: 1 is this function, 2 the public estimator, 3 the user's line that called it
    warn_outside_support(int(outside.sum()), outside.numel(), where, model.support, stacklevel=3)
    return outside.sum(-1)


def elbo_estimate(
    model: LatentModel,
    loc: object,
    scale: object,
    num_samples: int = 1_000,
    *,
    family: str = "normal",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Monte Carlo ELBO estimate (1/S) sum_s [log p(x, z_s) - log q(z_s)], z_s ~ q; a 0-dim tensor.

    Unbiased for E_q[log p(x, z) - log q(z)]; its standard error is sd(f)/sqrt(S) (see :func:`elbo_terms`).
    Chapter: *Gradient estimators*.

    Args:
        model: e.g. :class:`helpers.GammaPoisson`.
        loc, scale: q's parameters, shape (D,); ``scale`` is a standard deviation (> 0).
        num_samples: S >= 1.
        family: ``"normal"`` (z = loc + scale eps) or ``"lognormal"`` (z = exp(loc + scale eps)).
        generator: a seeded ``torch.Generator`` for reproducible draws.
    """
    loc_t, scale_t, eps = _prepare_with_noise(model, loc, scale, num_samples, generator)
    _count_outside(model, loc_t, scale_t, eps, family, "elbo_estimate")
    return _elbo_terms(model, loc_t, scale_t, eps, family).mean(-1)


@renamed_arguments(control_variate="baseline")
def score_function_gradient(
    model: LatentModel,
    loc: object,
    scale: object,
    num_samples: int = 1_000,
    *,
    baseline: BaselineChoice = None,
    family: str = "normal",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Score-function (REINFORCE) estimate of grad_(loc, scale) ELBO; returns (grad_loc, grad_scale), each (D,).

    (1/S) sum_s grad log q(z_s) (f(z_s) - b_s) (Williams 1992; Ranganath et al. 2014); see
    :func:`score_function_terms`. Chapter: *Gradient estimators*.

    baseline: None (no baseline), ``"leave-one-out"`` (unbiased, S >= 2), ``"separate"`` (unbiased; a
    second batch of S draws), ``"same-draws"`` (biased by the factor 1 - 1/S; for demonstration), or a number
    (a constant baseline).
    """
    check_baseline(baseline)
    loc_t, scale_t, eps = _prepare_with_noise(model, loc, scale, num_samples, generator)
    other = separate_noise(baseline, eps, generator)
    every_draw = eps if other is None else torch.cat([eps, other], dim=-2)  # the baseline's draws count too
    _count_outside(model, loc_t, scale_t, every_draw, family, "score_function_gradient")
    b = _baseline_for(baseline, model, loc_t, scale_t, eps, family, other)
    terms_loc, terms_scale = _score_function_terms(model, loc_t, scale_t, eps, family, b)
    return terms_loc.mean(-2), terms_scale.mean(-2)


def reparameterization_gradient(
    model: LatentModel,
    loc: object,
    scale: object,
    num_samples: int = 1_000,
    *,
    family: str = "normal",
    path_derivative: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Reparameterization estimate of grad_(loc, scale) ELBO; returns (grad_loc, grad_scale), each (D,).

    Built from the chain-rule pieces in :func:`reparameterization_terms`; ``path_derivative=True`` gives the
    sticking-the-landing estimator.
    """
    loc_t, scale_t, eps = _prepare_with_noise(model, loc, scale, num_samples, generator)
    _count_outside(model, loc_t, scale_t, eps, family, "reparameterization_gradient")
    terms_loc, terms_scale = _reparameterization_terms(model, loc_t, scale_t, eps, family, path_derivative)
    return terms_loc.mean(-2), terms_scale.mean(-2)


# ------------------------------------------------------------------------------------------ repetitions
@dataclass(frozen=True)
class RepeatedEstimates:
    """R independent estimates, each from S draws.

    Attributes:
        values: (R,) for the ELBO; (R, 2D) for gradients, ordered (loc_1..loc_D, scale_1..scale_D).
        num_outside: (R,) how many of each repetition's draws fell outside the model's support (for a
            ``"separate"`` baseline, its own S draws count too: they spoil the estimate just the same).
        num_samples: S.
    """

    values: Tensor
    num_outside: Tensor
    num_samples: int

    @property
    def in_support(self) -> Tensor:
        """(R,) True for repetitions none of whose draws fell outside the support."""
        return self.num_outside == 0


@renamed_arguments(control_variate="baseline")
def repeated_estimates(
    estimator: Literal["elbo", "score_function", "reparameterization"],
    model: LatentModel,
    loc: object,
    scale: object,
    num_samples: int,
    num_repeats: int,
    *,
    baseline: BaselineChoice = None,
    family: str = "normal",
    path_derivative: bool = False,
    generator: torch.Generator | None = None,
    chunk_draws: int = 2_000_000,
) -> RepeatedEstimates:
    """R independent estimates at once, vectorized over repetitions and draws (noise of shape (R, S, D)).

    Repetitions are processed in chunks of at most ``chunk_draws`` draws to bound memory; the noise is drawn chunk
    by chunk, of shape (chunk, S, D), from ``generator``. The chunk size changes which random numbers are drawn,
    never their distribution: with the same seed and ``chunk_draws`` the result is reproduced exactly. Draws
    outside the support are counted per repetition and reported in one :class:`SupportWarning`, never dropped.
    """
    loc_t, scale_t, num_samples = _prepare(model, loc, scale, num_samples, generator)
    num_repeats = check_count(num_repeats, "num_repeats")
    check_choice(estimator, "estimator", ("elbo", "score_function", "reparameterization"))
    check_baseline(baseline)
    check_flag(path_derivative, "path_derivative")
    if baseline is not None and estimator != "score_function":
        raise ValueError(
            f"baseline={baseline!r} applies to the score-function estimator only (got estimator={estimator!r}, "
            "which would ignore it); pass estimator='score_function' or baseline=None."
        )
    if path_derivative and estimator != "reparameterization":
        raise ValueError(
            f"path_derivative=True applies to the reparameterization estimator only (got estimator={estimator!r}, "
            "which would ignore it); pass estimator='reparameterization' or path_derivative=False."
        )
    per_chunk = max(1, check_count(chunk_draws, "chunk_draws") // num_samples)
    values, outside = [], []
    q = get_family(family)
    for start in range(0, num_repeats, per_chunk):  # a loop over memory-sized chunks, not over draws
        reps = min(per_chunk, num_repeats - start)
        eps = draw_noise(
            num_samples, model.latent_dim, num_repeats=reps, generator=generator, dtype=loc_t.dtype, device=loc_t.device
        )
        outside.append(model.outside_support(q.transform(eps, loc_t, scale_t)).sum(-1))
        if estimator == "elbo":
            values.append(_elbo_terms(model, loc_t, scale_t, eps, family).mean(-1))
            continue
        if estimator == "score_function":
            other = separate_noise(baseline, eps, generator)
            if other is not None:  # a draw outside the support in the baseline's batch spoils the estimate too
                outside[-1] = outside[-1] + model.outside_support(q.transform(other, loc_t, scale_t)).sum(-1)
            b = _baseline_for(baseline, model, loc_t, scale_t, eps, family, other)
            terms = _score_function_terms(model, loc_t, scale_t, eps, family, b)
        else:
            terms = _reparameterization_terms(model, loc_t, scale_t, eps, family, path_derivative)
        values.append(torch.cat([terms[0].mean(-2), terms[1].mean(-2)], dim=-1))
    num_outside = torch.cat(outside)
    draws_per_sample = 2 if estimator == "score_function" and baseline == "separate" else 1
    warn_outside_support(
        int(num_outside.sum()),
        num_repeats * num_samples * draws_per_sample,
        f"repeated_estimates({estimator!r})",
        model.support,
    )
    return RepeatedEstimates(values=torch.cat(values), num_outside=num_outside, num_samples=num_samples)
