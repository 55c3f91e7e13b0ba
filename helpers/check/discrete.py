"""Self-checks for the chapter *Discrete latent variables* (book/deep/discrete.ipynb): the gradient of the Bernoulli
KL, and the Gumbel-Softmax (Concrete) relaxed sample."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.check._feedback import Feedback, as_float64, call, check_answer, compare, precision_of, stack_pair, wrong
from helpers.deep import bernoulli_kl


def bernoulli_kl_gradient(answer: object) -> Feedback:
    """Check ``answer(a, b) -> (dKL/da, dKL/db)``, the gradient of KL(Bernoulli(sigmoid(a)) || Bernoulli(sigmoid(b)))
    in the encoder logit a and in the prior logit b (the chapter's exercise; the reference is autograd of
    ``deep.bernoulli_kl``).

    Shapes: ``a`` and ``b`` (n,); the answer a pair of (n,) tensors.

    Feedback names the missing dq/da factor and wrong signs; answers of any floating dtype (or from a Python loop)
    are compared at their precision."""
    fn = check_answer(answer)
    what = "your KL gradient"
    a = torch.linspace(-5, 4, 10, dtype=torch.float64)
    b = torch.linspace(2.5, -3, 10, dtype=torch.float64)
    value = call(fn, (a.clone(), b.clone()), what)
    if isinstance(value, Feedback):
        return value
    pair = stack_pair(value, what, "the pair (dKL/da, dKL/db), each of shape (n,)")
    if isinstance(pair, Feedback):
        return pair
    a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    ga, gb = torch.autograd.grad(bernoulli_kl(a_, b_).sum(), (a_, b_))
    reference = torch.stack([ga, gb])
    mistakes = {
        "dKL/da misses the factor dq/da: the KL depends on a through q = sigmoid(a).": torch.stack([a - b, gb]),
        "dKL/da has the wrong sign: the KL pulls a toward b.": torch.stack([-ga, gb]),
        "dKL/db has the wrong sign: the prior's probability moves toward q's.": torch.stack([ga, -gb]),
    }
    q, p = torch.sigmoid(a), torch.sigmoid(b)
    logs = sum(F.logsigmoid(v).abs() for v in (a, -a, b, -b))  # the KL's terms, which autograd differentiates
    return compare(
        pair[0],
        reference,
        what=what,
        shape_hint="a pair of (n,) tensors",
        mistakes=mistakes,
        inputs="at ten pairs of logits",
        magnitude=torch.stack([q * (1 - q) * (a.abs() + b.abs() + logs), q + p]),
        precision=pair[1],
    )


def _relaxed(a: Tensor, u: Tensor, tau: float) -> Tensor:
    return torch.softmax((a - torch.log(-torch.log(u))) / tau, -1)


def _relaxed_size(a: Tensor, u: Tensor, tau: float) -> Tensor:
    """What rounding of a, u and the scores moves each entry y_k of the relaxed sample by, in units of eps:
    dy_k = y_k (ds_k - sum_j y_j ds_j) with ds_j the rounding of the score s_j = (a_j + G_j) / tau, which is
    (|a_j| + |G_j| + 1 / |log u_j|) / tau relative (the last from u's own rounding); plus a floor for entries that
    underflow."""
    log_u = torch.log(u)
    sensitivity = ((a.abs() + torch.log(-log_u).abs() + 1 / log_u.abs()) / tau).amax(-1, keepdim=True)
    return _relaxed(a, u, tau) * (1 + 2 * sensitivity) + 1e-30


#: the check's cases: (logits a (B, K), temperature); the uniforms u (S, B, K) are drawn for each
_CASES = (
    (torch.tensor([[1.2, -0.4, 0.3, -2.0], [0.0, 0.5, 1.5, 2.2], [-0.3, -0.3, 1.0, 0.1]], dtype=torch.float64), 0.5),
    (torch.tensor([[2.0, -1.0, 0.4, 0.0], [-2.5, 1.5, 0.3, -0.7], [0.9, 0.2, -0.2, -1.1]], dtype=torch.float64), 2.0),
)


def gumbel_softmax(answer: object) -> Feedback:
    """Check ``answer(a, u, temperature) -> (S, B, K)``, the Gumbel-Softmax (Concrete) relaxed sample from the
    logits ``a`` (unnormalized log-probabilities of K categories) and the uniform draws ``u``, at ``temperature``
    tau > 0: the course assignment's ``categorical_reparametrize`` with the noise passed in, so that the check can
    compare draw by draw (``deep.categorical_reparametrize`` draws u itself).

    Shapes: ``a`` (B, K), ``u`` (S, B, K) in (0, 1), ``temperature`` a float. References: Jang, Gu & Poole (2017),
    eq. (1); Maddison, Mnih & Teh (2017), Definition 1.

    Feedback names the logits read as probabilities (their log taken, or the noise added to softmax(a)), the Gumbel
    noise with the wrong sign or not a Gumbel draw, the temperature left out, multiplied or applied to one part
    only, the wrong axis, log y or the hard one-hot draw returned, and an overflow for large scores; a Gumbel draw
    taken from 1 - u (as valid as from u) is recognized, and answers of any floating dtype are compared at their
    precision."""
    fn = check_answer(answer)
    what = "your relaxed sample"
    g = torch.Generator().manual_seed(2017)
    values, refs, returned = [], [], []
    mistakes: dict[str, list[Tensor]] = {}
    alternatives: dict[str, list[Tensor]] = {}
    magnitudes = []
    for a, tau in _CASES:
        u = torch.rand((6, *a.shape), generator=g, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
        value = call(fn, (a.clone(), u.clone(), tau), what)
        if isinstance(value, Feedback):
            return value
        returned.append(value)
        value = as_float64(value, what)
        if isinstance(value, Feedback):
            return value
        gumbel = -torch.log(-torch.log(u))
        ref = _relaxed(a, u, tau)
        refs.append(ref)
        values.append(value)
        if value.shape != ref.shape:
            break
        if torch.isnan(value).any() and (a < 0).any():
            nan_rows = torch.isnan(value).any(-1)
            if torch.equal(nan_rows, (a < 0).any(-1).expand_as(nan_rows)):
                return wrong(what, "is NaN in exactly the rows where a logit is negative: it takes the log of the "
                                   "logits as if they were probabilities. a are log-probabilities (up to a constant) "
                                   "already.")  # fmt: skip
        found = {
            "adds the noise to the probabilities softmax(a): a are the logits, log-probabilities up to a constant, "
            "and the noise is added to them directly.": _relaxed(torch.softmax(a, -1), u, tau),
            "has the Gumbel noise with the wrong sign, so that its draws favour the improbable categories.": (
                torch.softmax((a + torch.log(-torch.log(u))) / tau, -1)
            ),
            "uses -log u (an exponential draw) as the noise: a Gumbel draw takes the logarithm twice.": torch.softmax(
                (a - torch.log(u)) / tau, -1
            ),
            "uses log u as the noise: a Gumbel draw takes the logarithm twice.": torch.softmax(
                (a + torch.log(u)) / tau, -1
            ),
            "adds u itself: the noise must be a Gumbel draw made from u.": torch.softmax((a + u) / tau, -1),
            "leaves out the temperature.": torch.softmax(a + gumbel, -1),
            "multiplies by the temperature where it divides.": torch.softmax((a + gumbel) * tau, -1),
            "divides only the noise by the temperature, not the logits.": torch.softmax(a + gumbel / tau, -1),
            "divides only the logits by the temperature, not the noise.": torch.softmax(a / tau + gumbel, -1),
            "normalizes over the wrong axis: each draw's K entries must sum to one (softmax over the last axis).": (
                torch.softmax((a + gumbel) / tau, 0)
            ),
            "returns log y: the check asks for the relaxed sample y itself (log_softmax is for when log y is "
            "needed).": torch.log_softmax((a + gumbel) / tau, -1),
            "returns the hard Gumbel-max draw (one-hot): the relaxed sample is the softmax at the temperature.": (
                torch.nn.functional.one_hot(((a + gumbel) / tau).argmax(-1), a.shape[-1]).to(torch.float64)
            ),
        }
        for message, mistaken in found.items():
            mistakes.setdefault(message, []).append(mistaken)
        other = _relaxed(a, 1 - u, tau)
        alternatives.setdefault(
            "takes its Gumbel noise from 1 - u, which is as uniform as u: a valid relaxed sample (it agrees with the "
            "course's version of that choice). The course and deep.categorical_reparametrize use u itself.",
            [],
        ).append(other)
        magnitudes.append(_relaxed_size(a, u, tau))
    if len(values) < len(_CASES):
        return compare(values[-1], refs[-1], what=what, shape_hint="(S, B, K): one relaxed sample per uniform draw",
                       inputs="")  # fmt: skip
    feedback = compare(
        torch.stack(values),
        torch.stack(refs),
        what=what,
        shape_hint="(S, B, K): one relaxed sample per uniform draw",
        mistakes={k: torch.stack(v) for k, v in mistakes.items()},
        alternatives={k: torch.stack(v) for k, v in alternatives.items()},
        inputs=f"at {len(_CASES)} seeded sets of logits, uniforms and temperatures",
        magnitude=torch.stack(magnitudes),
        precision=precision_of(returned),
    )
    if not feedback.ok:
        return feedback
    a = torch.tensor([[40.0, -40.0, 0.0]], dtype=torch.float64)  # scores (a + G) / tau in the thousands
    u = torch.rand((4, 1, 3), generator=g, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    value = call(fn, (a.clone(), u.clone(), 0.02), what)
    if isinstance(value, Feedback):
        return value
    stable = compare(value, _relaxed(a, u, 0.02), what=what, shape_hint="(S, B, K)", inputs="",
                     magnitude=_relaxed_size(a, u, 0.02))  # fmt: skip
    if not stable.ok:
        return wrong(what, "is right for moderate scores but not at temperature 0.02 with logits of +-40, where "
                           "exp of the scores overflows: torch.softmax subtracts the largest score first.")  # fmt: skip
    return feedback


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_kl_gradient": bernoulli_kl_gradient,
    "my_relaxed_sample": gumbel_softmax,
}
