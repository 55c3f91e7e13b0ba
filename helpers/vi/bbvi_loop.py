"""The loop of black-box variational inference (Ranganath et al. 2014, Algorithm 1), chapter *Black-box VI*:
theta_{t+1} = theta_t + rho_t g_t with AdaGrad-like step sizes rho_t (:func:`step_sizes`) for any model that supplies
a gradient function (theta, generator) -> (g, w); the estimator g itself is in :mod:`helpers.vi.bbvi`. The run
stops with an error that names the step and the fix when it diverges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import (
    as_tensor,
    check_callable,
    check_count,
    check_finite,
    check_generator,
    check_positive_number,
    check_real,
    check_real_tensor,
)


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


def step_sizes(grad_sq_sum: object, t: int, step_size: float, decay: float, eps: float = 1e-8) -> Tensor:
    """rho_t = step_size * t^(-decay) / sqrt(G_t / t), per coordinate; G_t = sum_{s <= t} g_s^2, shape (P,).

    With decay = 1/2 this is AdaGrad, step_size / sqrt(G_t) (Duchi et al. 2011), as in Ranganath et al. (2014).
    With 1/2 < decay <= 1 and G_t / t converging to a finite positive limit (the gradient's second moment), the
    sequence satisfies Robbins and Monro's conditions sum rho_t = infinity, sum rho_t^2 < infinity.
    ``grad_sq_sum`` finite and >= 0, ``t`` >= 1, ``step_size`` and ``eps`` > 0 (ValueError naming them).
    """
    g = check_real_tensor(grad_sq_sum, "grad_sq_sum", what="(P,)")
    if not (g >= 0).all():
        raise ValueError(f"grad_sq_sum must be >= 0, a running sum of squared gradients (got {g.tolist()}).")
    return _step_sizes(
        g,
        check_count(t, "t"),
        check_positive_number(step_size, "step_size", example="step_size=1.0"),
        check_real(decay, "decay", hint="e.g. decay=0.6"),
        check_positive_number(eps, "eps", example="eps=1e-8"),
    )


def _step_sizes(grad_sq_sum: Tensor, t: int, step_size: float, decay: float, eps: float = 1e-8) -> Tensor:
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
    check_generator(generator)
    theta = check_finite(as_tensor(theta0, "theta0"), "theta0").detach().clone()
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
        theta = theta + _step_sizes(grad_sq_sum, t, step_size, decay) * g
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
