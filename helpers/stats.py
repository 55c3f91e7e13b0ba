"""Uncertainty of Monte Carlo numbers: every estimate in the course is shown with one of these.

Shapes: ``values`` has the repetitions (or draws) along ``dim``; everything else is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

Z_95 = 1.959963984540054  # the 97.5% quantile of N(0, 1)


def mean_and_se(values: Tensor, dim: int = 0) -> tuple[Tensor, Tensor]:
    """Sample mean and its standard error s / sqrt(n) along ``dim`` (s: the sample standard deviation, n >= 2)."""
    n = values.shape[dim]
    if n < 2:
        raise ValueError(f"values needs at least 2 entries along dim={dim} for a standard error (got {n}).")
    return values.mean(dim), values.std(dim) / math.sqrt(n)


def variance_and_se(values: Tensor, dim: int = 0) -> tuple[Tensor, Tensor]:
    """Sample variance and its large-sample standard error sqrt((m4 - s^4) / n), m4 the 4th central moment."""
    n = values.shape[dim]
    if n < 4:
        raise ValueError(
            f"values needs at least 4 entries along dim={dim} for the variance's standard error (got {n})."
        )
    centred = values - values.mean(dim, keepdim=True)
    var = values.var(dim)
    m4 = (centred**4).mean(dim)
    return var, torch.sqrt(torch.clamp(m4 - var**2, min=0.0) / n)


def z_scores(estimate: Tensor, se: Tensor, reference: Tensor) -> Tensor:
    """(estimate - reference) / se, elementwise: how many standard errors an estimate is from a reference."""
    return (estimate - reference) / se


def interval_table(
    rows: dict[str, tuple[Tensor, Tensor]],
    reference: Tensor,
    names: Sequence[str],
    *,
    reference_label: str = "reference",
    digits: int = 4,
) -> str:
    """A plain-text table: for each named quantity, the reference, then every row's estimate +- its 95% half-width.

    Args:
        rows: label -> (estimate, standard error), each of shape (P,) for P named quantities.
        reference: (P,) deterministic reference values.
        names: P labels for the quantities (the table's rows).
    """
    labels = list(rows)
    width = max(12, *(len(label) + 2 for label in labels))
    name_width = max(14, *(len(name) + 2 for name in names))  # a long quantity name must not shift its row
    header = f"{'':<{name_width}}{reference_label:>{width}}" + "".join(f"{label:>{width + 10}}" for label in labels)
    lines = [header]
    for i, name in enumerate(names):
        cells = [f"{float(reference[i]):>{width}.{digits}f}"]
        for label in labels:
            est, se = rows[label]
            cells.append(
                f"{float(est[i]):>{width}.{digits}f} ± {Z_95 * float(se[i]):<7.{digits}f}"[: width + 10].rjust(
                    width + 10
                )
            )
        lines.append(f"{name:<{name_width}}" + "".join(cells))
    return "\n".join(lines)
