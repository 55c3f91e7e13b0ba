"""The course's one rule for comparing two methods over replicated runs (:func:`verdict`): a paired t-test at R - 1
degrees of freedom and a stated level, and its printed form (:class:`Verdict`). Every chapter that compares methods
over seeds uses it; none defines its own. The uncertainty of single Monte Carlo numbers is in
:mod:`helpers.common.stats`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from scipy import stats as scipy_stats

from helpers.common.validation import check_instance, check_open_unit_number, check_replicates


@functools.lru_cache(maxsize=256)
def _t_critical(level: float, df: int) -> float:
    """The two-sided critical value t_{1 - (1 - level)/2, df} (scipy's quantile; cached: chapters call it in loops)."""
    return float(scipy_stats.t.ppf(1 - (1 - level) / 2, df))


def _format_mean_and_se(mean: float, se: float) -> str:
    """Format e.g. "+0.78 ± 0.32": the SE to two significant digits and the mean to the same decimal place;
    scientific notation when the numbers are very large or very small, or the SE tiny next to the mean."""
    size = max(abs(mean), se)
    if size == 0:
        return "+0 ± 0"
    if size >= 1e6 or size < 1e-3:
        return f"{mean:+.2e} ± {se:.1e}"
    if se == 0:
        return f"{mean:+.4g} ± 0"
    decimals = max(1 - math.floor(math.log10(se)), 0)
    if decimals > 6:
        return f"{mean:+.6g} ± {se:.1e}"
    return f"{mean:+.{decimals}f} ± {se:.{decimals}f}"


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`verdict`: a paired comparison of two methods over n replicates (seeds).

    Attributes:
        mean: the mean of the paired differences (A - B).
        se: their standard error across replicates, sd (ddof = 1) / sqrt(n).
        n: the number of replicates.
        t: mean / se; +-inf when se == 0 and mean != 0 (every replicate differs by the same amount), 0 when every
            difference is 0.
        critical: t_{1 - (1 - level)/2, n - 1}, the two-sided critical value.
        level: the stated level (e.g. 0.95).
        word: the ``higher`` word when resolved with mean > 0, the ``lower`` word when resolved with mean < 0,
            else "not resolved at {n} {unit}".
        resolved: |t| > critical.

    ``str(v)`` reads "+0.78 ± 0.32 (t = 2.44 at 7 df, 95%): better"; the ± there is one standard error.
    """

    mean: float
    se: float
    n: int
    t: float
    critical: float
    level: float
    word: str
    resolved: bool

    def __str__(self) -> str:
        if math.isfinite(self.t):
            t = f"{self.t:.2f}" if abs(self.t) < 1000 else f"{self.t:.3g}"
        else:
            t = "+inf" if self.t > 0 else "-inf"
        level = f"{100 * self.level:.10g}%"
        return f"{_format_mean_and_se(self.mean, self.se)} (t = {t} at {self.n - 1} df, {level}): {self.word}"


def verdict(
    differences: object,
    *,
    level: float = 0.95,
    higher: str = "better",
    lower: str = "worse",
    unit: str = "seeds",
) -> Verdict:
    """The course's one rule for comparing two methods over replicated runs: a two-sided paired t-test.

    Run methods A and B on the same R replicates (seeds, or repetitions with common random numbers) and pass
    the R per-replicate differences d_r = A_r - B_r. With the mean dbar, the standard error
    se = sd(d) / sqrt(R) (sd with ddof = 1) and t = dbar / se, the difference is *resolved* at the stated level when

        |t| > t_{1 - (1 - level)/2, R - 1},

    the quantile of Student's t distribution with R - 1 degrees of freedom: the one-sample t-test applied to the
    paired differences (Student 1908, "The probable error of a mean", Biometrika 6(1):1-25; e.g. Casella and Berger
    2002, *Statistical Inference*, 2nd ed., ch. 8). It assumes independent replicates and roughly normal differences.
    When the d_r are independent and normal with mean 0, the rule declares a difference with probability exactly
    1 - level, whatever R >= 2;
    a normal-theory threshold (|t| > 1.96, "3 SE") ignores that se is itself estimated from R values, so on a few
    seeds its false-alarm rate is not what it seems (|t| > 1.96 at R = 4 happens 14% of the time under no
    difference). Otherwise the result says "not resolved at R seeds": no difference could be told from the
    seed-to-seed noise at this R, which is not a proof that there is none.

    If se == 0 (every replicate differs by the same amount), the difference is resolved iff that amount is not 0.

    Args:
        differences: (R,) per-replicate paired differences A - B, R >= 2 (a sequence, numpy array or tensor).
        level: the confidence level in (0, 1), e.g. 0.95.
        higher: the word when A is resolved higher than B (mean > 0), e.g. "better" for a score to maximize.
        lower: the word when A is resolved lower than B (mean < 0).
        unit: what a replicate is, for "not resolved at R {unit}".

    Returns:
        A :class:`Verdict`; ``print(verdict(d))`` reads "+0.78 ± 0.32 (t = 2.44 at 7 df, 95%): better".
    """
    d = check_replicates(differences, "differences", what="one paired difference (A - B) per replicate")
    level = check_open_unit_number(level, "level")
    for name, word in (("higher", higher), ("lower", lower), ("unit", unit)):
        check_instance(word, name, str)
    values = d.tolist()  # R is small: exact sums in Python are faster than tensor reductions here
    n = len(values)
    mean = math.fsum(values) / n
    se = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n)  # sd with ddof = 1, over sqrt(n)
    if se > 0:
        t = mean / se
    else:  # all differences equal: no noise, the sign of the difference is known
        t = math.copysign(math.inf, mean) if mean != 0 else 0.0
    critical = _t_critical(level, n - 1)
    resolved = abs(t) > critical
    word = (higher if mean > 0 else lower) if resolved else f"not resolved at {n} {unit}"
    return Verdict(mean=mean, se=se, n=n, t=t, critical=critical, level=level, word=word, resolved=resolved)
