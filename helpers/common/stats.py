"""Uncertainty of Monte Carlo numbers: every estimate in the course is shown with one of these. The course's one rule
for comparing two methods over replicated runs is :func:`helpers.common.verdict.verdict`.

Shapes: ``values`` has the repetitions (or draws) along ``dim``; everything else is kept.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import torch
from scipy import stats as scipy_stats
from torch import Tensor

from helpers.common.validation import (
    as_tensor,
    check_count,
    check_finite,
    check_instance,
    check_open_unit_number,
    check_real_tensor,
    check_replicates,
    check_variance_and_fourth_moment,
)

Z_95 = 1.959963984540054  # the 97.5% quantile of N(0, 1)


def _warn_nan(values: Tensor, name: str) -> None:
    """A RuntimeWarning naming ``name`` when it holds NaN: the result will too (a diverged run must be seen). An
    infinite value is a value (a log-weight of -inf where a draw leaves the support), and gives an infinite mean."""
    if bool(torch.isnan(values).any()):
        warnings.warn(
            f"{name} has {int(torch.isnan(values).sum())} NaN entries of {values.numel()}; the result will be NaN: "
            "find the run or draw that diverged, or drop it and say so.",
            RuntimeWarning,
            stacklevel=3,
        )


def mean_and_se(values: Tensor, dim: int = 0) -> tuple[Tensor, Tensor]:
    """Sample mean and its standard error s / sqrt(n) along ``dim`` (s: the sample standard deviation, n >= 2).

    values: a tensor (an integer or bool tensor is read as float64), a list or a tuple of numbers."""
    if isinstance(values, (list, tuple)):
        values = as_tensor(values, "values")
    elif isinstance(values, Tensor) and not values.is_floating_point():
        if values.is_complex():
            raise ValueError(f"values must be real (got a tensor of dtype {values.dtype}).")
        values = values.to(torch.float64)
    values = as_tensor(values, "values")
    n = values.shape[dim]
    if n < 2:
        raise ValueError(f"values needs at least 2 entries along dim={dim} for a standard error (got {n}).")
    _warn_nan(values, "values")
    return values.mean(dim), values.std(dim) / math.sqrt(n)


def variance_and_se(values: Tensor, dim: int = 0) -> tuple[Tensor, Tensor]:
    """Sample variance and its large-sample standard error sqrt((m4 - s^4) / n), m4 the 4th central moment."""
    values = as_tensor(values, "values")
    n = values.shape[dim]
    if n < 4:
        raise ValueError(
            f"values needs at least 4 entries along dim={dim} for the variance's standard error (got {n})."
        )
    _warn_nan(values, "values")
    centred = values - values.mean(dim, keepdim=True)
    var = values.var(dim)
    m4 = (centred**4).mean(dim)
    return var, torch.sqrt(torch.clamp(m4 - var**2, min=0.0) / n)


def z_scores(estimate: Tensor, se: Tensor, reference: Tensor) -> Tensor:
    """(estimate - reference) / se, elementwise: how many standard errors an estimate is from a reference.

    A standard error is >= 0: a negative one (a difference of SEs, a square root taken with the wrong sign) would
    flip the sign of the z-score, so a negative or NaN ``se`` raises ValueError naming it. A zero SE (an estimate with
    no noise, e.g. a nearly deterministic bit) gives +-inf where the estimate differs from the reference.
    """
    se_t = as_tensor(se, "se")
    if bool((~(se_t >= 0) | (se_t == math.inf)).any()):
        raise ValueError(
            f"se must hold finite standard errors >= 0 (got {se_t.tolist()}); a standard error is sd / sqrt(n), never "
            "negative, NaN or inf: pass the SE itself, not a difference of SEs."
        )
    estimate_t, reference_t = as_tensor(estimate, "estimate"), as_tensor(reference, "reference")
    shapes = (estimate_t.shape, se_t.shape, reference_t.shape)
    try:
        shape = torch.broadcast_shapes(*shapes)
    except RuntimeError:
        shape = None
    if shape is None or shape not in shapes:  # (P, 1) with (P,) would make a (P, P) table of z-scores
        raise ValueError(
            f"estimate, se and reference must broadcast to the shape of one of them (got {[tuple(s) for s in shapes]})."
        )
    _warn_nan(estimate_t, "estimate")
    _warn_nan(reference_t, "reference")
    return (estimate_t - reference_t) / se_t


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
        names: P labels for the quantities (the table's rows); exactly one per quantity, so that no row is dropped
            (fewer names than quantities raise ValueError naming ``names``).
    """
    check_instance(rows, "rows", dict, how="pass {label: (estimate, se)}")
    check_instance(names, "names", (list, tuple), how="pass one label per quantity, e.g. ['mean', 'sd']")
    reference = check_real_tensor(reference, "reference", what="(P,)")
    labels = list(rows)
    size = len(reference)
    if len(names) != size or any(len(est) != size or len(se) != size for est, se in rows.values()):
        raise ValueError(
            f"names must give one label per quantity: {len(names)} names for reference of length {size} and rows of "
            f"lengths {[len(est) for est, _ in rows.values()]}; pass exactly {size} names (a row would be dropped)."
        )
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
    """
    draws = check_real_tensor(draws, "draws", what="(R, P), one estimate per repetition")
    r = draws.shape[0]
    if draws.ndim != 2 or r < 2:
        raise ValueError(f"draws must have shape (R, P) with R >= 2 repetitions (got {tuple(draws.shape)}).")
    return (draws - draws.mean(0)).square().sum(-1) * (r / (r - 1))


def total_variance_and_se(draws: Tensor) -> tuple[Tensor, Tensor]:
    """tr Cov(g) from R independent draws (R, P) of a vector estimator, and its standard error (0-d tensors).

    The mean of :func:`total_variance_terms` and their standard error; the terms share the sample mean, a
    dependence of order 1/R that the SE ignores.
    """
    return mean_and_se(total_variance_terms(draws))


def total_variance_from_pairs(first: Tensor, second: Tensor) -> Tensor:
    """Per-pair terms (1/2) |g - g'|^2 for independent pairs (g, g') of a vector estimator: (R, P), (R, P) -> (R,).

    E[(1/2) |g - g'|^2] = tr Cov(g) exactly, and the R terms are independent, so :func:`mean_and_se` of them is the
    total variance with an exact standard error.
    """
    first = check_real_tensor(first, "first", what="(R, P)")
    second = check_real_tensor(second, "second", what="(R, P)")
    if first.shape != second.shape or first.ndim != 2:
        raise ValueError(
            f"first and second must both have shape (R, P) (got {tuple(first.shape)}, {tuple(second.shape)})."
        )
    return 0.5 * (first - second).square().sum(-1)


def ratio_and_se(a: Tensor | float, se_a: Tensor | float, b: Tensor | float, se_b: Tensor | float):
    """a / b and its delta-method standard error r sqrt((se_a/a)^2 + (se_b/b)^2), for INDEPENDENT estimates a, b.

    Elementwise. When a and b come from the same draws and are positively correlated this SE is conservative (too
    wide); use :func:`paired_ratio_and_se` on the per-draw terms instead.
    """
    for value, name in ((a, "a"), (se_a, "se_a"), (b, "b"), (se_b, "se_b")):
        check_finite(as_tensor(value, name), name)
    for value, name in ((se_a, "se_a"), (se_b, "se_b")):
        if (as_tensor(value, name) < 0).any():
            raise ValueError(f"{name} must be >= 0 (got {as_tensor(value, name).tolist()}); pass a standard error.")
    if (as_tensor(b, "b") == 0).any():
        raise ValueError(f"b must be nonzero (got {as_tensor(b, 'b').tolist()}): the ratio a / b is undefined.")
    r = a / b
    return r, abs(r) * ((se_a / a) ** 2 + (se_b / b) ** 2) ** 0.5


def paired_ratio_and_se(a: Tensor, b: Tensor) -> tuple[float, float]:
    """mean(a) / mean(b) for PAIRED draws a, b (n,) and its delta-method standard error.

    With r = abar / bbar, the ratio's error is (abar - r bbar) / bbar to first order, so
    SE = sd(a - r b) / (sqrt(n) bbar): the pairing's correlation is used, not ignored.
    """
    a, b = check_real_tensor(a, "a", what="(n,)"), check_real_tensor(b, "b", what="(n,)")
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


def quantile_interval(values: object, q: float, *, level: float = 0.95) -> tuple[float, float, float]:
    """The sample q-quantile of n independent values and a distribution-free confidence interval for the population
    quantile at the stated level: (estimate, low, high), values (n,).

    With the order statistics x_(1) <= ... <= x_(n), the number of values below the population q-quantile is
    Binomial(n, q), so [x_(j), x_(k)] with j = F^-1((1 - level)/2) and k = F^-1((1 + level)/2) + 1 (F the binomial
    CDF) covers it with probability at least ``level`` for any continuous distribution (e.g. Conover 1999,
    *Practical Nonparametric Statistics*, 3rd ed., section 3.2). A median or a quantile has no standard error
    without a density estimate; this interval needs none. Raises ValueError when n is too small for the level.
    """
    x = check_replicates(values, "values", minimum=2, what="one value per independent unit").sort().values
    level = check_open_unit_number(level, "level")
    q = check_open_unit_number(q, "q", example="0.5")
    n = len(x)
    j = int(scipy_stats.binom.ppf((1 - level) / 2, n, q))
    k = int(scipy_stats.binom.ppf((1 + level) / 2, n, q)) + 1
    if j < 1 or k > n:
        raise ValueError(
            f"values needs more entries for a {level:.0%} interval of the {q:g}-quantile (got n = {n}); use more "
            "values or a lower level."
        )
    return float(torch.quantile(x, q)), float(x[j - 1]), float(x[k - 1])
