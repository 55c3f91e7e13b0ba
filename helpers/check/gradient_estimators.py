"""Self-check for the chapter *Monte Carlo gradient estimators* (book/estimators/gradient-estimators.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Z_BIAS, Feedback, call, check_answer, compare, compare_mean, wrong

_C = torch.tensor([0.5, -1.0], dtype=torch.float64)


def _f(z: torch.Tensor) -> torch.Tensor:
    """f(z) = sum_d (z_d - c_d)^2: z (S, D) -> (S,); E_q f = sum_d (loc_d - c_d)^2 + scale_d^2."""
    return ((z - _C) ** 2).sum(-1)


def score_function(answer: object) -> Feedback:
    """Check ``answer(f, loc, scale, z) -> (S, 2D)``, the per-draw score-function estimate of the gradient of
    E_q[f(z)] with respect to (loc, scale), q = N(loc, diag scale^2), at the draws z (S, D):
    f(z_s) * [(z_s - loc) / scale^2, -1/scale + (z_s - loc)^2 / scale^3] (Williams 1992; Mohamed et al. 2020,
    sec. 4). Feedback names a wrong sign, the missing -1/scale, a missing f, and, when the draws are not those
    terms, whether their mean is biased (in standard errors against the exact gradient) or averages to zero
    (f taken at other draws than the score)."""
    fn = check_answer(answer)
    what = "your score-function estimate"
    g = torch.Generator().manual_seed(2020)
    loc = torch.tensor([1.2, 0.3], dtype=torch.float64)
    scale = torch.tensor([0.7, 1.5], dtype=torch.float64)
    z = loc + scale * torch.randn((20_000, 2), generator=g, dtype=torch.float64)
    value = call(fn, (_f, loc.clone(), scale.clone(), z.clone()), what)
    if isinstance(value, Feedback):
        return value
    d, fz = z - loc, _f(z)[:, None]
    psi = torch.cat([d / scale**2, -1 / scale + d**2 / scale**3], -1)  # (S, 2D)
    mistakes = {
        "misses the -1/scale of d/dscale log q: that term is what makes the score's mean zero.": fz
        * torch.cat([d / scale**2, d**2 / scale**3], -1),
        "returns the score d log q alone: multiply it by f(z).": psi,
    }
    feedback = compare(
        value,
        fz * psi,
        what=what,
        shape_hint="(S, 2D): d/dloc for the D coordinates, then d/dscale",
        mistakes=mistakes,
        inputs="on 20,000 seeded draws",
        rtol=1e-8,
    )
    if feedback.ok or "differs from the reference" not in feedback.message:
        return feedback
    draws = torch.as_tensor(value, dtype=torch.float64).detach()
    exact = torch.cat([2 * (loc - _C), 2 * scale])  # d/d(loc, scale) of sum (loc - c)^2 + scale^2
    z_exact, unbiased = compare_mean(draws, exact, what=what, inputs="")
    z_zero, _ = compare_mean(draws, torch.zeros_like(exact), what=what, inputs="")
    if (z_zero.abs() < Z_BIAS).all():
        return wrong(
            what,
            "averages to zero: f and the score come from different draws? The score has mean zero, "
            "so f must be evaluated at the same z as the score.",
        )
    if unbiased:
        return wrong(
            what,
            f"is unbiased (every mean within {Z_BIAS} SE of the exact gradient) but its draws are "
            "not f(z) d log q(z): a baseline or another estimator? The check asks for the plain terms.",
        )
    return wrong(
        what,
        f"is biased: its mean is up to {float(z_exact.abs().max()):.1f} standard errors from the "
        f"exact gradient (coordinate {int(z_exact.abs().argmax())}).",
    )
