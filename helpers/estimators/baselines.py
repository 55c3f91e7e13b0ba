"""Baselines for the score-function estimator (chapter *Gradient estimators*).

The score-function estimator with a baseline b_s for draw s is

    g = (1/S) sum_s  grad_lambda log q(z_s) * (w_s - b_s),      w_s = log p(x, z_s) - log q(z_s).

It stays unbiased when b_s is independent of z_s, because E_q[grad log q] = 0. The three baselines take the
weights ``w`` of shape (..., S) and return a baseline that broadcasts against them:

* :func:`leave_one_out_baseline` (unbiased): b_s = mean of the other S - 1 weights.
* :func:`separate_draws_baseline` (unbiased): the mean weight on an independent batch of draws.
* :func:`same_draws_baseline` (**biased**, for demonstration): the mean of the same S weights, including w_s;
  E[g] = (1 - 1/S) grad ELBO: the gradient is shrunk by the factor 1 - 1/S.

The estimators of :mod:`helpers.estimators.monte_carlo` name theirs with ``baseline=`` (one of :data:`BASELINES`, a
number or None): :func:`baseline_for` computes it for the draws ``eps``, :func:`separate_noise` draws the independent
batch that ``"separate"`` needs.

Vocabulary of variance reduction, the same in the whole course: the *baseline* is the value b_s subtracted from
the weight of draw s (``baseline=`` of the estimators here); the *regression coefficient* a_d is the multiplier of
the score in a control variate a_d h_d (``coefficient=`` of :mod:`helpers.vi.bbvi`, where the baseline of parameter
d is a_d); *leave-one-out* and *same-draws* say how either is estimated for draw s (from the other S - 1 draws:
unbiased; from all S: biased); an *estimator* is named by its gradient and its baseline ("score function +
leave-one-out baseline").
"""

from __future__ import annotations

import numbers
from typing import Literal

import torch
from torch import Tensor

from helpers.common.families import Family
from helpers.common.validation import (
    check_floating,
    check_generator,
    check_instance,
    check_real,
    check_real_tensor,
    renamed_arguments,
)
from helpers.estimators.terms import LatentModel, _elbo_terms, _terms_args

_WEIGHTS = "(..., S), one weight per draw"
BaselineChoice = Literal["leave-one-out", "separate", "same-draws"] | float | None
BASELINES = ("leave-one-out", "separate", "same-draws")


def leave_one_out_baseline(weights: Tensor, axis: int = -1) -> Tensor:
    """b_s = (sum_j w_j - w_s) / (S - 1) along the sample ``axis`` (the last by default), the shape of ``weights``;
    independent of z_s, hence unbiased. Needs S >= 2. The one leave-one-out baseline of the course: the score-function
    estimators here and the discrete-latent estimators of :mod:`helpers.deep.discrete_estimators` (whose draws sit
    on another axis) use it.
    """
    weights = check_real_tensor(weights, "weights", what=_WEIGHTS)
    check_instance(axis, "axis", int, how="pass the sample axis, e.g. axis=-1")
    if not -weights.ndim <= axis < weights.ndim:
        raise ValueError(f"axis must index one of the {weights.ndim} axes of weights (got {axis}); e.g. axis=-1.")
    return _leave_one_out_baseline(weights, axis)


def _leave_one_out_baseline(weights: Tensor, axis: int = -1) -> Tensor:
    num_samples = weights.shape[axis]
    if num_samples < 2:
        raise ValueError(
            "the leave-one-out baseline needs num_samples >= 2 draws in weights (got 1); for num_samples=1 pass "
            "baseline='separate' or a number."
        )
    total = weights.sum(axis, keepdim=True)
    return (total - weights) / (num_samples - 1)


def same_draws_baseline(weights: Tensor) -> Tensor:
    """b = (1/S) sum_j w_j from the same draws, shape (..., 1). Biased: E[g] = (1 - 1/S) grad ELBO."""
    return _same_draws_baseline(check_real_tensor(weights, "weights", what=_WEIGHTS))


def _same_draws_baseline(weights: Tensor) -> Tensor:
    return weights.mean(-1, keepdim=True)


def separate_draws_baseline(independent_weights: Tensor) -> Tensor:
    """b = mean of weights computed on an independent batch of draws, shape (..., 1); unbiased."""
    return _same_draws_baseline(check_real_tensor(independent_weights, "independent_weights", what=_WEIGHTS))


# ------------------------------------------------------------------------------------------ the estimators' choice
def check_baseline(baseline: object) -> None:
    """Raise ``ValueError`` unless ``baseline`` is None, a finite number or one of the named baselines."""
    if baseline is None or (isinstance(baseline, str) and baseline in BASELINES):
        return
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        check_real(baseline, "baseline", hint="a constant baseline, e.g. the mean log-weight")
        return
    raise ValueError(f"baseline must be None, a finite number, or one of {BASELINES} (got {baseline!r}).")


def _baseline_for(
    baseline: BaselineChoice,
    model: LatentModel,
    loc: Tensor,
    scale: Tensor,
    eps: Tensor,
    family: str | Family = "normal",
    other_eps: Tensor | None = None,
) -> Tensor | float | None:
    """The baseline b_s named by ``baseline`` for the draws ``eps`` (..., S, D).

    See :mod:`helpers.estimators.baselines`. ``"separate"`` needs ``other_eps``, an independent batch of noise of
    the same shape (draw it with :func:`separate_noise`, and count its draws outside the support too).
    """
    check_baseline(baseline)
    if baseline is None:
        return None
    if isinstance(baseline, numbers.Real):
        return float(baseline)
    if baseline == "separate":
        if other_eps is None or other_eps.shape != eps.shape:
            raise ValueError("baseline='separate' needs other_eps, independent noise of the shape of eps.")
        return _same_draws_baseline(_elbo_terms(model, loc, scale, other_eps, family))
    weights = _elbo_terms(model, loc, scale, eps, family)
    if baseline == "leave-one-out":
        if eps.shape[-2] < 2:
            raise ValueError(
                "baseline='leave-one-out' needs num_samples >= 2; use 'separate' or a number for num_samples=1."
            )
        return _leave_one_out_baseline(weights)
    return _same_draws_baseline(weights)


@renamed_arguments(control_variate="baseline")
def baseline_for(
    baseline: BaselineChoice,
    model: LatentModel,
    loc: Tensor,
    scale: Tensor,
    eps: Tensor,
    family: str | Family = "normal",
    other_eps: Tensor | None = None,
) -> Tensor | float | None:
    """The baseline b_s named by ``baseline`` for the draws ``eps`` (..., S, D); the arguments as in
    :func:`elbo_terms` (see :func:`_baseline_for`)."""
    check_baseline(baseline)
    return _baseline_for(baseline, model, *_terms_args(model, loc, scale, eps), family, other_eps)


@renamed_arguments(control_variate="baseline")
def separate_noise(baseline: BaselineChoice, eps: Tensor, generator: torch.Generator | None) -> Tensor | None:
    """The independent noise batch a ``"separate"`` baseline needs (None for every other baseline)."""
    check_baseline(baseline)
    check_floating(eps, "eps", min_dim=2, what="(..., S, D) standard normal draws")
    check_generator(generator)
    if baseline != "separate":
        return None
    return torch.randn(eps.shape, generator=generator, dtype=eps.dtype, device=eps.device)
