"""Self-check for the chapter *Discrete latent variables* (book/deep/discrete.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare
from helpers.deep import bernoulli_kl


def bernoulli_kl_gradient(answer: object) -> Feedback:
    """Check ``answer(a, b) -> (dKL/da, dKL/db)``, each (n,), the gradient of KL(Bernoulli(sigmoid(a)) ||
    Bernoulli(sigmoid(b))) in the encoder logit a and the prior logit b: sigmoid(a) sigmoid(-a) (a - b) and
    sigmoid(b) - sigmoid(a) (the chapter's exercise; reference by autograd of ``deep.bernoulli_kl``). Feedback
    names the missing dq/da factor and wrong signs."""
    fn = check_answer(answer)
    what = "your KL gradient"
    a = torch.linspace(-5, 4, 10, dtype=torch.float64)
    b = torch.linspace(2.5, -3, 10, dtype=torch.float64)
    value = call(fn, (a.clone(), b.clone()), what)
    if isinstance(value, Feedback):
        return value
    try:
        value = torch.stack([torch.as_tensor(v, dtype=torch.float64).detach() for v in value])
    except (TypeError, ValueError, RuntimeError):
        return Feedback(False, "not yet: your KL gradient must return the pair (dKL/da, dKL/db), each of shape (n,).")
    a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    ga, gb = torch.autograd.grad(bernoulli_kl(a_, b_).sum(), (a_, b_))
    reference = torch.stack([ga, gb])
    mistakes = {
        "dKL/da misses the factor dq/da = sigmoid(a) sigmoid(-a): the KL depends on a through q = sigmoid(a).": (
            torch.stack([a - b, gb])
        ),
        "dKL/da has the wrong sign: the KL pulls a toward b.": torch.stack([-ga, gb]),
        "dKL/db has the wrong sign: the prior's probability moves toward q's.": torch.stack([ga, -gb]),
    }
    return compare(
        value,
        reference,
        what=what,
        shape_hint="a pair of (n,) tensors",
        mistakes=mistakes,
        inputs="at ten pairs of logits",
    )
