"""Reading optimization traces: the first iteration at which a trace reaches a level (and stays there).

Traces have shape (T + 1, ...): the value before the first step and after each of T steps, for any batch of runs
(...). A diverged run (NaN) never reaches a level. Used by the chapters that count iterations to a fixed ELBO or to a
tolerance around an optimum (*Natural gradients*).
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.validation import as_tensor, check_flag, check_real


def first_hit(values: Tensor, level: float, *, stay: bool = False) -> Tensor:
    """The first index along dim 0 where ``values`` (T + 1, ...) >= level, shape (...); T + 1 where it never is.

    With ``stay=True``, the first index from which ``values`` stays >= level to the end (a run that passes the level
    and leaves it again has not converged there). NaN (a diverged run) is never at or above the level.
    """
    if not isinstance(values, Tensor) or values.dtype == torch.bool or values.is_complex():
        values = as_tensor(values, "values", dtype=torch.float64)
    if values.ndim == 0 or values.shape[0] == 0:
        raise ValueError(f"values must have shape (T + 1, ...) with T + 1 >= 1 (got {tuple(values.shape)}).")
    check_real(level, "level", hint="a number such as elbo_opt - 0.05")
    check_flag(stay, "stay")
    hit = values >= level
    if stay:
        hit = torch.flip(torch.cumprod(torch.flip(hit.to(torch.int64), [0]), 0), [0]).bool()
    first = torch.argmax(hit.to(torch.int64), dim=0)
    return torch.where(hit.any(0), first, torch.full_like(first, values.shape[0]))
