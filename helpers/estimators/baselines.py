"""Baselines for the score-function estimator (chapter *Gradient estimators*).

The score-function estimator with a baseline b_s for draw s is

    g = (1/S) sum_s  grad_lambda log q(z_s) * (w_s - b_s),      w_s = log p(x, z_s) - log q(z_s).

It stays unbiased when b_s is independent of z_s, because E_q[grad log q] = 0. Every function here takes the
weights ``w`` of shape (..., S) and returns a baseline that broadcasts against them.

* :func:`leave_one_out_baseline` (unbiased): b_s = mean of the other S - 1 weights.
* :func:`separate_draws_baseline` (unbiased): the mean weight on an independent batch of draws.
* :func:`same_draws_baseline` (**biased**, for demonstration): the mean of the same S weights, including w_s;
  E[g] = (1 - 1/S) grad ELBO: the gradient is shrunk by the factor 1 - 1/S.

Vocabulary of variance reduction, the same in the whole course: the *baseline* is the value b_s subtracted from
the weight of draw s (``baseline=`` of the estimators here); the *regression coefficient* a_d is the multiplier of
the score in a control variate a_d h_d (``coefficient=`` of :mod:`helpers.vi.bbvi`, where the baseline of parameter
d is a_d); *leave-one-out* and *same-draws* say how either is estimated for draw s (from the other S - 1 draws:
unbiased; from all S: biased); an *estimator* is named by its gradient and its baseline ("score function +
leave-one-out baseline").
"""

from __future__ import annotations

from torch import Tensor

from helpers.common.validation import check_instance, check_real_tensor

_WEIGHTS = "(..., S), one weight per draw"


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
