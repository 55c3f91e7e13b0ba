"""Self-check for the chapter *Black-box VI* (book/vi/bbvi.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare, precision_of


def gaussian_score(answer: object) -> Feedback:
    """Check ``answer(z, loc, scale) -> (S, 2)``, the score d log q / d(loc, scale) of q = N(loc, scale^2) at the draws
    z, one row per draw: column 0 the derivative in ``loc``, column 1 in ``scale`` (a standard deviation).

    Shapes: ``z`` (S,), ``loc`` and ``scale`` 0-dim tensors; the answer (S, 2), or a pair of (S,) columns.
    Reference: Ranganath, Gerrish & Blei (2014), the score-function gradient.

    Feedback names the score in the precision or the variance instead of the scale, the missing derivative of the
    normalizer and the score in log scale; the two columns swapped are recognized, and answers of any floating
    dtype are compared at their precision."""
    fn = check_answer(answer)
    what = "your score"
    g = torch.Generator().manual_seed(2014)
    loc, scale = torch.tensor(1.3, dtype=torch.float64), torch.tensor(0.6, dtype=torch.float64)
    z = loc + scale * torch.randn(50, generator=g, dtype=torch.float64)
    value = call(fn, (z.clone(), loc.clone(), scale.clone()), what)
    if isinstance(value, Feedback):
        return value
    precision = precision_of(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            value = torch.stack([torch.as_tensor(v, dtype=torch.float64) for v in value], -1)
        except (TypeError, RuntimeError):
            pass
    d = z - loc
    d_loc = d / scale**2
    var, lam = scale**2, scale**-2
    col = lambda second: torch.stack([d_loc, second], -1)  # noqa: E731
    mistakes = {
        "has the score in the precision lambda = 1/scale^2 in its second column, not in the scale "
        "(the chain rule through lambda(scale) is missing).": col(1 / (2 * lam) - d**2 / 2),
        "has the score in the variance scale^2 in its second column, not in the scale.": col(
            -1 / (2 * var) + d**2 / (2 * var**2)
        ),
        "misses the derivative of the normalizer (the -log scale of log q) in d/dscale log q.": col(d**2 / scale**3),
        "has the score in log scale (scale * d/dscale) in its second column; the check asks for d/dscale.": col(
            -1 + d**2 / scale**2
        ),
    }
    near = d.abs() + z.abs() + loc.abs()  # d = z - loc cancels: its rounding is relative to |z| + |loc|
    magnitude = torch.stack([near / scale**2, 1 / scale + (d**2 + 2 * d.abs() * near) / scale**3], -1)
    return compare(
        value,
        col(-1 / scale + d**2 / scale**3),
        what=what,
        shape_hint="(S, 2): d/dloc and d/dscale for each of the S draws",
        mistakes=mistakes,
        inputs="on 50 seeded draws",
        magnitude=magnitude,
        columns=("d/dloc", "d/dscale"),
        precision=precision,
    )


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_score": gaussian_score,
}
