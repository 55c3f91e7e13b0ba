"""Deterministic maximization of a smooth function of a parameter vector: the references the chapters compare
their stochastic optimizers with (the optimum of a closed-form ELBO, a maximum-likelihood point).

L-BFGS with a strong-Wolfe line search (Nocedal & Wright 2006, *Numerical Optimization*, Algorithms 7.5 and 3.5;
``torch.optim.LBFGS``) on an objective that draws no random numbers returns the same point, bit for bit, on every
run: the chapters print it and compare with it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from helpers.common.validation import check_callable, check_count, check_positive_number, check_real_tensor


def maximize(
    f: Callable[[Tensor], Tensor],
    x0: Tensor,
    *,
    max_iter: int = 500,
    tolerance_grad: float = 1e-12,
    tolerance_change: float = 1e-14,
) -> Tensor:
    """argmax_x f(x) by L-BFGS with a strong-Wolfe line search, started at ``x0``: deterministic when f is.

    Minimizes -f with ``torch.optim.LBFGS`` (step size 1, the quasi-Newton step of Nocedal & Wright 2006, Alg. 7.5)
    until ``max_iter`` iterations, a largest gradient entry below ``tolerance_grad``, or a change in f or x below
    ``tolerance_change``. ``x0`` is not changed.

    Args:
        f: maps a parameter tensor shaped like ``x0`` to a scalar tensor, differentiable by autograd; it should draw
            no random numbers (the result is then the same on every run).
        x0: the starting point, a real floating tensor of shape (P,) with finite entries.
        max_iter: the most L-BFGS iterations (each evaluates f and its gradient once or more in the line search).
        tolerance_grad, tolerance_change: torch's stopping tolerances, > 0.

    Returns:
        The maximizer, detached, with the shape, dtype and device of ``x0``.

    Raises:
        TypeError: ``f`` not callable or ``x0`` not a tensor. ValueError: ``x0`` empty or not finite, ``f(x0)`` not a
        finite scalar, ``max_iter`` not a positive integer, a tolerance not > 0. RuntimeError: the iterate left the
        finite numbers (f overflowed: start closer to the optimum or reparameterize).
    """
    check_callable(
        f, "f", how="pass a function of the parameter tensor returning a scalar, e.g. lambda p: -(p**2).sum()"
    )
    x0 = check_real_tensor(x0, "x0", what="(P,)", hint="start from a finite point")
    max_iter = check_count(max_iter, "max_iter")
    tolerance_grad = check_positive_number(tolerance_grad, "tolerance_grad", example="1e-12")
    tolerance_change = check_positive_number(tolerance_change, "tolerance_change", example="1e-14")
    x = x0.detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS(
        [x],
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=tolerance_grad,
        tolerance_change=tolerance_change,
        line_search_fn="strong_wolfe",
    )
    calls = 0

    def closure() -> Tensor:
        nonlocal calls
        opt.zero_grad()
        value = f(x)
        if calls == 0 and not (isinstance(value, Tensor) and value.numel() == 1 and torch.isfinite(value).all()):
            got = f"a tensor of shape {tuple(value.shape)}" if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(f"f(x0) must be a finite scalar tensor (got {got}); check f at x0.")
        loss = -value
        calls += 1
        loss.backward()
        return loss

    opt.step(closure)
    if not torch.isfinite(x).all():
        raise RuntimeError("maximize: the iterate left the finite numbers; start closer to the optimum or rescale f.")
    return x.detach()
