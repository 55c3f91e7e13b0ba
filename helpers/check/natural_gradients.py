"""Self-check for the chapter *Natural gradients* (book/vi/natural-gradients.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare
from helpers.vi import gamma_fisher


def gamma_fisher_scale(answer: object) -> Feedback:
    """Check ``answer(alpha, s) -> (B, 2, 2)``, the Fisher information of Gamma(shape alpha, **scale** s) in the
    coordinates (alpha, s), one 2 x 2 matrix per point.

    Shapes: ``alpha`` and ``s`` (B,). References: Amari (1998); Martens (2020), sec. 12.

    Feedback names the J^-1 = J slip of the chapter's exercise, the rate coordinates' Fisher used for the scale
    (scale and rate mixed up, a wrong sign of the cross term) and the rate Fisher without the Jacobian; answers of
    any floating dtype are compared at their precision."""
    fn = check_answer(answer)
    what = "your shape-scale Fisher"
    alpha = torch.tensor([0.5, 1.7, 4.0, 9.5], dtype=torch.float64)
    s = torch.tensor([0.125, 1 / 3.1, 2.0, 0.7], dtype=torch.float64)
    value = call(fn, (alpha.clone(), s.clone()), what)
    if isinstance(value, Feedback):
        return value
    reference = gamma_fisher(torch.stack([alpha, s], -1), "scale")
    f_eta = gamma_fisher(torch.stack([alpha - 1, -1 / s], -1), "natural")
    j_inv = torch.stack([torch.ones_like(s), s**2], -1)  # the slip: the inverse map's Jacobian diag(1, s^2)
    mistakes = {
        "uses the Jacobian of the inverse map where J = d eta / d(alpha, s) belongs (the J^-1 = J slip).": f_eta
        * j_inv[..., :, None]
        * j_inv[..., None, :],
        "is the rate coordinates' Fisher at beta = s (scale and rate mixed up; it flips the sign of the cross "
        "term).": gamma_fisher(torch.stack([alpha, s], -1), "rate"),
        "is the rate coordinates' Fisher at beta = 1/s without the Jacobian of the change of coordinates "
        "(alpha, beta) -> (alpha, s).": gamma_fisher(torch.stack([alpha, 1 / s], -1), "rate"),
    }
    return compare(
        value,
        reference,
        what=what,
        shape_hint="(B, 2, 2): one matrix per point",
        mistakes=mistakes,
        inputs="at four points (alpha, s)",
        magnitude=reference.abs(),  # no cancellation: each entry is one term
    )


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_fisher": gamma_fisher_scale,
}
