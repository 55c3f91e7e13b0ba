"""Self-check for the chapter *Sticking the landing* (book/deep/stl.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare
from helpers.deep import elbo_gradient_terms
from helpers.models import ConjugateGaussian


def path_derivative(answer: object) -> Feedback:
    """Check ``answer(log_joint, loc, scale, eps) -> (S, 2D)``, the per-draw path-derivative ("sticking the
    landing") gradient of f = log p(x, z) - log q(z) with respect to (loc, scale) at z = loc + scale * eps,
    q = N(loc, diag scale^2), one row per draw, the D derivatives in ``loc`` first.

    Shapes: ``loc`` and ``scale`` (D,), ``eps`` (S, D); ``log_joint`` maps z (S, D) to (S,). Reference: Roeder, Wu
    & Duvenaud (2017), eq. (8).

    Feedback names the total derivative (score term kept), a z detached as well (all zeros) and a wrong sign; the
    right columns in another order are recognized, and answers of any floating dtype (or from a Python loop) are
    compared at their precision."""
    fn = check_answer(answer)
    what = "your path derivative"
    g = torch.Generator().manual_seed(2017)
    model = ConjugateGaussian(torch.randn((8, 2), generator=g, dtype=torch.float64) + 1.0)
    loc = torch.tensor([0.4, 1.6], dtype=torch.float64)
    scale = torch.tensor([0.6, 0.25], dtype=torch.float64)
    eps = torch.randn((40, 2), generator=g, dtype=torch.float64)
    value = call(fn, (model.log_joint, loc.clone(), scale.clone(), eps.clone()), what)
    if isinstance(value, Feedback):
        return value
    reference = elbo_gradient_terms(model, loc, scale, eps, path_derivative=True)
    zeros = torch.zeros_like(reference)
    z_size = loc.abs() + (scale * eps).abs()  # z = loc + scale * eps, rounded relative to this
    size_z = model.x.abs().sum(0) + (model.num_points + 1) * z_size  # the terms of d log p / dz, (S, D)
    mistakes = {
        "is the total derivative: the score term of log q at fixed z is still in it.": elbo_gradient_terms(
            model, loc, scale, eps
        ),
        "is zero for every draw: z was detached as well, not only the parameters inside log q.": zeros,
    }
    return compare(
        value,
        reference,
        what=what,
        shape_hint="(S, 2D): d/dloc for the D coordinates, then d/dscale",
        mistakes=mistakes,
        inputs="on 40 seeded draws of a 2-D conjugate Gaussian model",
        magnitude=torch.cat([size_z + eps.abs() / scale, (size_z + eps.abs() / scale) * eps.abs() + 1 / scale], -1),
        columns=("d/dloc_1", "d/dloc_2", "d/dscale_1", "d/dscale_2"),
    )


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_path_derivative": path_derivative,
}
