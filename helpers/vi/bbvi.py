"""Black-box variational inference (Ranganath et al. 2014), chapter *Black-box VI*: the gradient estimator.

The score-function ("black-box") gradient of the ELBO for a mean-field q(z) = prod_g q_g(z_g), built from small
pure functions. Shapes: S draws, D variational parameters, F factors of log p, G latent groups.

* ``scores`` (S, D): h_d(z_s) = d log q(z_s) / d omega_d, the score of draw s for parameter d.
* ``weights`` (S,) or (S, D): w_s = log p(x, z_s) - log q(z_s) (one weight for every parameter), or, Rao-
  Blackwellized, one weight per parameter: the terms of log p and log q that contain the parameter's group.
* the gradient estimate is the mean over S of the per-draw terms h_d(z_s) (w_sd - a_d), where a_d h_d is the control
  variate (the score times a regression coefficient a_d, :func:`control_variate_coefficients`; :func:`bbvi_terms`).

Vocabulary of variance reduction, the same in the whole course: a *baseline* is a value b_s subtracted from the
weight of draw s (the part *Monte Carlo gradient estimators*, ``baseline=``); a *control variate* here is the score
h_d times a *regression coefficient* a_d (``coefficient=``), i.e. the baseline a_d; "leave-one-out" names how either
is estimated for draw s: from the other S - 1 draws, which keeps the estimator unbiased; "same-draws" uses all S
(biased, for demonstration). An *estimator* is named after its gradient (score function, reparameterization) with
the baseline it uses ("score function + leave-one-out baseline").

The Normal-Gamma model's own pieces and fit are in :mod:`helpers.vi.normal_gamma_bbvi`; the loop for any model that
supplies a gradient function, :func:`helpers.vi.bbvi_loop.run_bbvi`, is in :mod:`helpers.vi.bbvi_loop`.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from helpers.common.validation import (
    check_choice,
    check_count,
    check_finite,
    check_flag,
    check_instance,
    check_real_tensor,
    check_shape,
    renamed_arguments,
)

Coefficient = Literal["leave-one-out", "same-draws"] | None
COEFFICIENTS = ("leave-one-out", "same-draws")


def _per_draw(value: object, name: str, what: str) -> Tensor:
    """A finite floating tensor of shape ``what`` = (S, ...) with at least one draw (check_real_tensor, 2-D)."""
    tensor = check_real_tensor(value, name, what=what)
    if tensor.ndim != 2:
        raise ValueError(f"{name} must have shape {what}, one row per draw (got {tuple(tensor.shape)}).")
    return tensor


# ------------------------------------------------------------------------------------------ the estimator
def rao_blackwellized_weights(log_p_factors: object, log_q_groups: object, blanket: object) -> Tensor:
    """Per-group weights w_sg = sum_{f in blanket(g)} log p_f(z_s) - log q_g(z_sg), shape (S, G).

    Args:
        log_p_factors: (S, F), the factors of log p(x, z) at each draw.
        log_q_groups: (S, G), log q_g(z_g) for each mean-field group.
        blanket: (G, F) bool, True where factor f contains z_g (z_g's Markov blanket: its own prior, its
            children's likelihoods). Factors without z_g, and the other groups' log q, are left out: under a
            mean-field q their product with the score of q_g has expectation zero (Ranganath et al. 2014, eq. 5).
    """
    factors = _per_draw(log_p_factors, "log_p_factors", "(S, F)")
    groups = _per_draw(log_q_groups, "log_q_groups", "(S, G)")
    check_shape(groups, "log_q_groups", (len(factors), groups.shape[1]), what="one row per draw of log_p_factors")
    check_instance(blanket, "blanket", Tensor, how="a bool tensor (G, F), e.g. vi.NORMAL_GAMMA_BLANKET")
    if blanket.dtype != torch.bool:
        raise ValueError(f"blanket must be a bool tensor (G, F) (got dtype {blanket.dtype}); e.g. mask > 0.")
    what = "(G, F): G from the columns of log_q_groups, F from those of log_p_factors"
    check_shape(blanket, "blanket", (groups.shape[1], factors.shape[1]), what=what)
    return _rao_blackwellized_weights(factors, groups, blanket)


def _rao_blackwellized_weights(log_p_factors: Tensor, log_q_groups: Tensor, blanket: Tensor) -> Tensor:
    # a masked sum over F rather than a matrix product: on these small shapes torch's multithreaded matmul costs
    # far more on a loaded machine (benchmarks/bench_bbvi.py times the whole step; RESULTS.md has the numbers)
    in_blanket = torch.where(blanket, log_p_factors[..., None, :], 0.0)  # (S, G, F)
    return in_blanket.sum(-1) - log_q_groups


@renamed_arguments(control_variate="coefficient")
def control_variate_coefficients(terms: object, scores: object, coefficient: Coefficient = "leave-one-out") -> Tensor:
    """Per-parameter control-variate coefficient a_d = Cov(f_d, h_d) / Var(h_d), f_d = h_d w_d the score-function terms.

    Args:
        terms: f (S, D); scores: h (S, D).
        coefficient: ``"leave-one-out"`` returns (S, D): the coefficient for draw s computed from the other
            S - 1 draws, hence independent of z_s and the estimator stays unbiased (needs S >= 3).
            ``"same-draws"`` returns (1, D) from all S draws, including z_s: biased, with a bias of order 1/S.
    Ranganath et al. (2014), section 3.2, pool the ratio over the parameters of each latent variable; one coefficient
    per parameter is the finer variant (its optimum is at least as good for every coordinate). Chapter *Black-box VI*,
    "Control variates".
    """
    check_choice(coefficient, "coefficient", COEFFICIENTS)
    f = _per_draw(terms, "terms", "(S, D)")
    h = check_shape(_per_draw(scores, "scores", "(S, D)"), "scores", tuple(f.shape), what="the shape of terms")
    if coefficient == "leave-one-out" and len(f) < 3:
        raise ValueError(f"the leave-one-out coefficient needs num_samples >= 3 (got {len(f)}); draw more samples.")
    return _control_variate_coefficients(f, h, coefficient)


def _control_variate_coefficients(terms: Tensor, scores: Tensor, coefficient: str) -> Tensor:
    num = terms.shape[0]
    if coefficient == "same-draws":
        fc, hc = terms - terms.mean(0), scores - scores.mean(0)
        return ((fc * hc).sum(0) / (hc * hc).sum(0))[None]
    # sums over the other S - 1 draws, for every s at once: total minus own term
    m = num - 1
    sum_f, sum_h = terms.sum(0) - terms, scores.sum(0) - scores
    sum_fh = (terms * scores).sum(0) - terms * scores
    sum_hh = (scores * scores).sum(0) - scores * scores
    cov = sum_fh - sum_f * sum_h / m
    var = sum_hh - sum_h * sum_h / m
    return cov / var


def bbvi_terms(scores: object, weights: object, coefficient: Coefficient = None) -> Tensor:
    """Per-draw terms h_d(z_s) (w_sd - a_sd) of the BBVI gradient, shape (S, D); the estimate is their mean over S.

    Args:
        scores: h (S, D), grad of log q at each draw (:func:`~helpers.vi.q_score`,
            :func:`~helpers.vi.unconstrained_q_score`).
        weights: (S,) the log-weights log p - log q, or (S, D) Rao-Blackwellized per-parameter weights.
        coefficient: None (no control variate), ``"leave-one-out"`` (unbiased) or ``"same-draws"`` (biased, for
            demonstration): subtracts the control variate a_d h_d, a_d from :func:`control_variate_coefficients`.
            E[h_d] = 0, so any a_d independent of z_s leaves the mean unchanged.
    Ranganath et al. (2014), Algorithm 1 and section 3.
    """
    check_choice(coefficient, "coefficient", (*COEFFICIENTS, None))
    h = _per_draw(scores, "scores", "(S, D)")
    w = check_real_tensor(weights, "weights", what="(S,) or (S, D)")
    if tuple(w.shape) not in ((len(h),), tuple(h.shape)):
        raise ValueError(f"weights must have shape (S,) = ({len(h)},) or (S, D) = {tuple(h.shape)}, one weight per "
                         f"draw of scores (got {tuple(w.shape)}).")  # fmt: skip
    if coefficient == "leave-one-out" and len(h) < 3:
        raise ValueError(f"the leave-one-out coefficient needs num_samples >= 3 (got {len(h)}); draw more samples.")
    return _bbvi_terms(h, w, coefficient)


def _bbvi_terms(scores: Tensor, weights: Tensor, coefficient: Coefficient = None) -> Tensor:
    w = weights[:, None] if weights.ndim == 1 else weights
    terms = scores * w
    if coefficient is None:
        return terms
    return terms - _control_variate_coefficients(terms, scores, coefficient) * scores


# ------------------------------------------------------------------------------------------ any grouped model
@renamed_arguments(control_variate="coefficient")
def grouped_gradient(
    model,
    theta: Tensor,
    num_samples: int,
    *,
    coefficient: Coefficient = None,
    rao_blackwellize: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """One BBVI gradient estimate (P,) and the log-weights (S,) for a model with mean-field latent groups.

    ``model`` provides ``sample(theta, S, generator)``, ``log_factors(*draws)`` (S, F), ``log_q_groups(theta, *draws)``
    (S, G), ``score(theta, *draws)`` (S, P), ``blanket()`` (G, F) and ``param_groups()`` (P,), as
    :class:`helpers.models.hierarchical.HierarchicalModel` does. With ``rao_blackwellize`` each parameter's
    weight keeps only its group's Markov-blanket factors and its own log q (:func:`rao_blackwellized_weights`).
    """
    check_flag(rao_blackwellize, "rao_blackwellize")
    check_choice(coefficient, "coefficient", (*COEFFICIENTS, None))
    num_samples = check_count(num_samples, "num_samples", minimum=3 if coefficient == "leave-one-out" else 1)
    if not callable(getattr(model, "sample", None)):
        raise TypeError(
            f"model must be a grouped model with sample, log_factors, log_q_groups, score, blanket and param_groups "
            f"(got {type(model).__name__}); e.g. models.HierarchicalModel."
        )
    check_finite(check_instance(theta, "theta", Tensor, how="the unconstrained parameters, e.g. model.init()"), "theta")
    if not theta.is_floating_point():
        raise TypeError(f"theta must be a floating tensor (got dtype {theta.dtype}); e.g. model.init().")
    draws = model.sample(theta, num_samples, generator)
    factors = model.log_factors(*draws)  # (S, F)
    log_q_groups = model.log_q_groups(theta, *draws)  # (S, G)
    w = factors.sum(-1) - log_q_groups.sum(-1)  # (S,)
    if rao_blackwellize:
        weights = _rao_blackwellized_weights(factors, log_q_groups, model.blanket())[:, model.param_groups()]
    else:
        weights = w
    terms = _bbvi_terms(model.score(theta, *draws), weights, coefficient)
    return terms.mean(0), w
