"""Uncertainty of Monte Carlo numbers: every estimate in the course is shown with one of these.

Shapes: ``values`` has the repetitions (or draws) along ``dim``; everything else is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from helpers.common.validation import as_tensor, check_count, check_variance_and_fourth_moment

Z_95 = 1.959963984540054  # the 97.5% quantile of N(0, 1)


def mean_and_se(values: Tensor, dim: int = 0) -> tuple[Tensor, Tensor]:
    """Sample mean and its standard error s / sqrt(n) along ``dim`` (s: the sample standard deviation, n >= 2)."""
    if isinstance(values, (list, tuple)):
        values = as_tensor(values, "values")
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
    """(estimate - reference) / se, elementwise: how many standard errors an estimate is from a reference.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
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

    The header's first cell says "(± 95%)", so a printed table states what its ± means.

    Args:
        rows: label -> (estimate, standard error), each of shape (P,) for P named quantities.
        reference: (P,) deterministic reference values.
        names: P labels for the quantities (the table's rows).

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    labels = list(rows)
    width = max(12, *(len(label) + 2 for label in labels))
    name_width = max(14, *(len(name) + 2 for name in names))  # a long quantity name must not shift its row
    header = f"{'(± 95%)':<{name_width}}{reference_label:>{width}}"
    header += "".join(f"{label:>{width + 10}}" for label in labels)
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


def total_variance_terms(draws: Tensor) -> Tensor:
    """Per-repetition terms whose mean is the total variance tr Cov(g) of a vector estimator: draws (R, P) -> (R,).

    Term r is |g_r - gbar|^2 R / (R - 1); their mean is the unbiased sample trace of the covariance (the sum of
    the P coordinates' sample variances). Gradient variance in the course is always this trace.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    r = draws.shape[0]
    if draws.ndim != 2 or r < 2:
        raise ValueError(f"draws must have shape (R, P) with R >= 2 repetitions (got {tuple(draws.shape)}).")
    return (draws - draws.mean(0)).square().sum(-1) * (r / (r - 1))


def total_variance_and_se(draws: Tensor) -> tuple[Tensor, Tensor]:
    """tr Cov(g) from R independent draws (R, P) of a vector estimator, and its standard error (0-d tensors).

    The mean of :func:`total_variance_terms` and their standard error; the terms share the sample mean, a
    dependence of order 1/R that the SE ignores.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    return mean_and_se(total_variance_terms(draws))


def total_variance_from_pairs(first: Tensor, second: Tensor) -> Tensor:
    """Per-pair terms (1/2) |g - g'|^2 for independent pairs (g, g') of a vector estimator: (R, P), (R, P) -> (R,).

    E[(1/2) |g - g'|^2] = tr Cov(g) exactly, and the R terms are independent, so :func:`mean_and_se` of them is the
    total variance with an exact standard error.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    if first.shape != second.shape or first.ndim != 2:
        raise ValueError(
            f"first and second must both have shape (R, P) (got {tuple(first.shape)}, {tuple(second.shape)})."
        )
    return 0.5 * (first - second).square().sum(-1)


def ratio_and_se(a: Tensor | float, se_a: Tensor | float, b: Tensor | float, se_b: Tensor | float):
    """a / b and its delta-method standard error r sqrt((se_a/a)^2 + (se_b/b)^2), for INDEPENDENT estimates a, b.

    Elementwise. When a and b come from the same draws and are positively correlated this SE is conservative (too
    wide); use :func:`paired_ratio_and_se` on the per-draw terms instead.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    r = a / b
    return r, abs(r) * ((se_a / a) ** 2 + (se_b / b) ** 2) ** 0.5


def paired_ratio_and_se(a: Tensor, b: Tensor) -> tuple[float, float]:
    """mean(a) / mean(b) for PAIRED draws a, b (n,) and its delta-method standard error.

    With r = abar / bbar, the ratio's error is (abar - r bbar) / bbar to first order, so
    SE = sd(a - r b) / (sqrt(n) bbar): the pairing's correlation is used, not ignored.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    if a.shape != b.shape or a.ndim != 1 or a.numel() < 2:
        raise ValueError(
            f"a and b must be paired draws of the same shape (n,), n >= 2 (got {tuple(a.shape)}, {tuple(b.shape)})."
        )
    r = a.mean() / b.mean()
    return float(r), float((a - r * b).std() / (math.sqrt(len(a)) * b.mean()))


def mean_central_moments(variance: object, central4: object, num_samples: int) -> tuple[Tensor, Tensor]:
    """Variance and fourth central moment of the mean of M = ``num_samples`` iid draws, from one draw's.

    With one draw's variance sigma^2 and fourth central moment mu4 (cumulants k2 = sigma^2, k4 = mu4 - 3 sigma^4),
    the mean's cumulants are k2 / M and k4 / M^3, so Var = sigma^2 / M and
    mu4(mean) = (mu4 - 3 sigma^4) / M^3 + 3 sigma^4 / M^2 (cumulants of a sum add; e.g. Cramer 1946,
    *Mathematical Methods of Statistics*, ch. 15 and 27). Elementwise over broadcast shapes (e.g. (4,) components).
    Chapter: *Gradient estimators* (the exact SE of the variance of M-draw estimates).
    """
    var_t, mu4_t = check_variance_and_fourth_moment(variance, central4)
    m = check_count(num_samples, "num_samples")
    return var_t / m, (mu4_t - 3 * var_t**2) / m**3 + 3 * var_t**2 / m**2


def exact_variance_se(variance: object, central4: object, num_values: int) -> Tensor:
    """Exact standard error of the unbiased sample variance s^2 of n = ``num_values`` iid values whose variance
    sigma^2 and fourth central moment mu4 are known:

        Var(s^2) = (mu4 - (n - 3) / (n - 1) sigma^4) / n

    (Cramer 1946, *Mathematical Methods of Statistics*, ch. 27).

    Unlike :func:`variance_and_se`, whose SE comes from the same values' fourth moment (itself noisy and skewed for
    heavy-tailed terms such as eps^2), this one is a fixed number, so a z-score (s^2 - sigma^2) / SE tests only s^2.
    Elementwise over broadcast shapes. Chapters: *Gradient estimators*, *Sticking the landing*.
    """
    var_t, mu4_t = check_variance_and_fourth_moment(variance, central4)
    n = check_count(num_values, "num_values", minimum=2)
    return torch.sqrt(torch.clamp(mu4_t - (n - 3) / (n - 1) * var_t**2, min=0.0) / n)
