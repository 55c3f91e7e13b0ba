"""Black-box variational inference (Ranganath et al. 2014), chapter *Black-box VI*: the estimator and the loop.

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

The Normal-Gamma model's own pieces and fit are in :mod:`helpers.vi.normal_gamma_bbvi`; :func:`run_bbvi` is the
loop for any model that supplies a gradient function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from helpers.common.validation import (
    as_tensor,
    check_callable,
    check_count,
    check_flag,
    check_positive_number,
    check_real,
)

Coefficient = Literal["leave-one-out", "same-draws"] | None
COEFFICIENTS = ("leave-one-out", "same-draws")


def check_coefficient(coefficient: object, *, allow_none: bool = True) -> None:
    """Raise ValueError naming ``coefficient`` unless it is one of :data:`COEFFICIENTS` (or None when allowed)."""
    if not (coefficient is None and allow_none) and coefficient not in COEFFICIENTS:
        allowed = [*COEFFICIENTS, None] if allow_none else list(COEFFICIENTS)
        raise ValueError(f"coefficient must be one of {allowed} (got {coefficient!r}); 'leave-one-out' is unbiased.")


# ------------------------------------------------------------------------------------------ the estimator
def rao_blackwellized_weights(log_p_factors: Tensor, log_q_groups: Tensor, blanket: Tensor) -> Tensor:
    """Per-group weights w_sg = sum_{f in blanket(g)} log p_f(z_s) - log q_g(z_sg), shape (S, G).

    Args:
        log_p_factors: (S, F), the factors of log p(x, z) at each draw.
        log_q_groups: (S, G), log q_g(z_g) for each mean-field group.
        blanket: (G, F) bool, True where factor f contains z_g (z_g's Markov blanket: its own prior, its
            children's likelihoods). Factors without z_g, and the other groups' log q, are left out: under a
            mean-field q their product with the score of q_g has expectation zero (Ranganath et al. 2014, eq. 5).

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    if blanket.shape != (log_q_groups.shape[-1], log_p_factors.shape[-1]):
        raise ValueError(
            f"blanket must have shape (G, F) = ({log_q_groups.shape[-1]}, {log_p_factors.shape[-1]}) "
            f"(got {tuple(blanket.shape)})."
        )
    # a masked sum over F rather than a matrix product: on these small shapes torch's multithreaded matmul costs
    # far more on a loaded machine (benchmarks/bench_bbvi.py times the whole step; RESULTS.md has the numbers)
    in_blanket = torch.where(blanket, log_p_factors[..., None, :], 0.0)  # (S, G, F)
    return in_blanket.sum(-1) - log_q_groups


def control_variate_coefficients(terms: Tensor, scores: Tensor, coefficient: Coefficient = "leave-one-out") -> Tensor:
    """Per-parameter control-variate coefficient a_d = Cov(f_d, h_d) / Var(h_d), f_d = h_d w_d the score-function terms.

    Args:
        terms: f (S, D); scores: h (S, D).
        coefficient: ``"leave-one-out"`` returns (S, D): the coefficient for draw s computed from the other
            S - 1 draws, hence independent of z_s and the estimator stays unbiased (needs S >= 3).
            ``"same-draws"`` returns (1, D) from all S draws, including z_s: biased, with a bias of order 1/S.
    Ranganath et al. (2014), section 3.2, pool the ratio over the parameters of each latent variable; one coefficient
    per parameter is the finer variant (its optimum is at least as good for every coordinate). Chapter *Black-box VI*,
    "Control variates".

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    check_coefficient(coefficient, allow_none=False)
    num = terms.shape[0]
    if coefficient == "same-draws":
        fc, hc = terms - terms.mean(0), scores - scores.mean(0)
        return ((fc * hc).sum(0) / (hc * hc).sum(0))[None]
    if num < 3:
        raise ValueError(f"the leave-one-out coefficient needs num_samples >= 3 (got {num}); draw more samples.")
    # sums over the other S - 1 draws, for every s at once: total minus own term
    m = num - 1
    sum_f, sum_h = terms.sum(0) - terms, scores.sum(0) - scores
    sum_fh = (terms * scores).sum(0) - terms * scores
    sum_hh = (scores * scores).sum(0) - scores * scores
    cov = sum_fh - sum_f * sum_h / m
    var = sum_hh - sum_h * sum_h / m
    return cov / var


def bbvi_terms(scores: Tensor, weights: Tensor, coefficient: Coefficient = None) -> Tensor:
    """Per-draw terms h_d(z_s) (w_sd - a_sd) of the BBVI gradient, shape (S, D); the estimate is their mean over S.

    Args:
        scores: h (S, D), grad of log q at each draw (:func:`~helpers.vi.q_score`,
            :func:`~helpers.vi.unconstrained_q_score`).
        weights: (S,) the log-weights log p - log q, or (S, D) Rao-Blackwellized per-parameter weights.
        coefficient: None (no control variate), ``"leave-one-out"`` (unbiased) or ``"same-draws"`` (biased, for
            demonstration): subtracts the control variate a_d h_d, a_d from :func:`control_variate_coefficients`.
            E[h_d] = 0, so any a_d independent of z_s leaves the mean unchanged.
    Ranganath et al. (2014), Algorithm 1 and section 3.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    check_coefficient(coefficient)
    w = weights[:, None] if weights.ndim == 1 else weights
    terms = scores * w
    if coefficient is None:
        return terms
    return terms - control_variate_coefficients(terms, scores, coefficient) * scores


# ------------------------------------------------------------------------------------------ the loop
@dataclass(frozen=True)
class BBVITrace:
    """What :func:`run_bbvi` returns.

    Attributes:
        theta: (T + 1, P) the unconstrained parameters, before the first step and after every step.
        elbo: (T,) the Monte Carlo ELBO estimate at each step (from the step's own draws, before the update).
        elbo_se: (T,) its standard error, sd(w) / sqrt(S).
    """

    theta: Tensor
    elbo: Tensor
    elbo_se: Tensor


GradientFn = Callable[[Tensor, torch.Generator | None], tuple[Tensor, Tensor]]


def step_sizes(grad_sq_sum: Tensor, t: int, step_size: float, decay: float, eps: float = 1e-8) -> Tensor:
    """rho_t = step_size * t^(-decay) / sqrt(G_t / t), per coordinate; G_t = sum_{s <= t} g_s^2, shape (P,).

    With decay = 1/2 this is AdaGrad, step_size / sqrt(G_t) (Duchi et al. 2011), as in Ranganath et al. (2014).
    With 1/2 < decay <= 1 and G_t / t converging to a finite positive limit (the gradient's second moment), the
    sequence satisfies Robbins and Monro's conditions sum rho_t = infinity, sum rho_t^2 < infinity.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    return step_size * t ** (-decay) / (torch.sqrt(grad_sq_sum / t) + eps)


def run_bbvi(
    theta0: Tensor,
    gradient: GradientFn,
    num_iters: int,
    *,
    step_size: float,
    decay: float,
    generator: torch.Generator | None = None,
) -> BBVITrace:
    """Algorithm 1 of Ranganath et al. (2014): theta_{t+1} = theta_t + rho_t * g_t, with rho_t from :func:`step_sizes`.

    Args:
        theta0: (P,) unconstrained starting point.
        gradient: (theta, generator) -> (g (P,), w (S,)): an unbiased estimate of grad_theta ELBO and the
            log-weights of its draws (for the ELBO trace).
        num_iters: T.

    Raises:
        ValueError: the run diverged: a non-finite gradient, parameter or ELBO estimate, a gradient that fails at
            the new parameters, or an ELBO estimate 1000 times worse than at the start (the message names the step
            and suggests a smaller ``step_size``).
    """
    num_iters = check_count(num_iters, "num_iters")
    if not (0.5 <= check_real(decay, "decay", hint="e.g. decay=0.6") <= 1.0):
        raise ValueError(f"decay must be in [0.5, 1] (got {decay!r}); 0.5 is AdaGrad, (0.5, 1] meets Robbins-Monro.")
    step_size = check_positive_number(step_size, "step_size", example="step_size=1.0")
    check_callable(gradient, "gradient", how="pass a function (theta, generator) -> (g, w)")
    theta = as_tensor(theta0, "theta0").detach().clone()
    if theta.ndim != 1 or theta.numel() == 0:
        raise ValueError(
            f"theta0 must be a non-empty 1-D vector of unconstrained parameters (got {tuple(theta.shape)})."
        )
    thetas = torch.empty((num_iters + 1, theta.numel()), dtype=theta.dtype)
    elbo = torch.empty(num_iters, dtype=theta.dtype)
    elbo_se = torch.empty(num_iters, dtype=theta.dtype)
    thetas[0] = theta
    grad_sq_sum = torch.zeros_like(theta)
    floor = math.nan  # the ELBO below which the run counts as diverged: 1000 times worse than at the start
    for t in range(1, num_iters + 1):
        try:
            result = gradient(theta, generator)
        except (ValueError, OverflowError) as error:
            if t == 1:
                raise
            raise _diverged(t, num_iters, step_size, f"the gradient failed at the new parameters ({error})") from None
        g, w = _check_gradient_result(result, theta) if t == 1 else result
        grad_sq_sum += g * g
        theta = theta + step_sizes(grad_sq_sum, t, step_size, decay) * g
        thetas[t] = theta
        elbo[t - 1] = w.mean()
        elbo_se[t - 1] = w.std() / math.sqrt(w.numel())
        value = float(elbo[t - 1])
        if t == 1 and math.isfinite(value):
            floor = value - 1e3 * (1.0 + abs(value))
        if not (torch.isfinite(g).all() and torch.isfinite(theta).all()):
            raise _diverged(t, num_iters, step_size, f"the gradient or the parameters are not finite (theta {theta})")
        if not math.isfinite(value) or value < floor:
            what = f"the ELBO estimate is {value:.4g} (it was {float(elbo[0]):.4g} at step 1)"
            raise _diverged(t, num_iters, step_size, what)
    return BBVITrace(theta=thetas, elbo=elbo, elbo_se=elbo_se)


def _check_gradient_result(result: object, theta: Tensor) -> tuple[Tensor, Tensor]:
    """The first result of run_bbvi's ``gradient``: a pair (g of theta's shape, w a 1-D tensor of log-weights)."""
    how = "gradient must return a pair (g, w): the estimate of grad ELBO shaped like theta0, the log-weights (S,)"
    if not (isinstance(result, tuple) and len(result) == 2 and all(isinstance(r, Tensor) for r in result)):
        raise TypeError(f"{how} (got {type(result).__name__}); e.g. return g.mean(0), w.")
    g, w = result
    if g.shape != theta.shape or w.ndim != 1 or w.numel() == 0:
        got = f"shapes {tuple(g.shape)} and {tuple(w.shape)} for theta0 of shape {tuple(theta.shape)}"
        raise ValueError(f"{how} (got {got}).")
    return g, w


def _diverged(t: int, num_iters: int, step_size: float, what: str) -> ValueError:
    return ValueError(
        f"BBVI diverged at step {t} of {num_iters}: {what}. Lower the step size (step_size={step_size:g}; try "
        f"{step_size / 10:g}), raise decay, or start closer to the optimum (init=)."
    )


# ------------------------------------------------------------------------------------------ any grouped model
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
    draws = model.sample(theta, num_samples, generator)
    factors = model.log_factors(*draws)  # (S, F)
    log_q_groups = model.log_q_groups(theta, *draws)  # (S, G)
    w = factors.sum(-1) - log_q_groups.sum(-1)  # (S,)
    if rao_blackwellize:
        weights = rao_blackwellized_weights(factors, log_q_groups, model.blanket())[:, model.param_groups()]
    else:
        weights = w
    terms = bbvi_terms(model.score(theta, *draws), weights, coefficient)
    return terms.mean(0), w
