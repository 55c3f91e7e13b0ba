"""What every self-check shares: call the student's function on seeded inputs, compare its answer with the course's
reference, and say what is wrong (shape, sign, a constant factor, one of the chapter's published mistakes, a bias in
standard errors) without printing the reference values.

A check returns a :class:`Feedback`: truthy when the answer is right, and shown in a notebook as its message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import check_callable

#: z-score beyond which a Monte Carlo mean is called biased (two-sided false alarm 6.8e-6 for a correct answer)
Z_BIAS = 4.5


@dataclass(frozen=True)
class Feedback:
    """The verdict of a self-check: ``ok`` and a message that says what is wrong (or that the answer is correct)."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


def correct(what: str, how: str) -> Feedback:
    return Feedback(True, f"correct: {what} agrees with the course's reference {how}.")


def wrong(what: str, why: str) -> Feedback:
    return Feedback(False, f"not yet: {what} {why}")


def check_answer(answer: object, name: str = "answer") -> Callable:
    """The student's function, or ``TypeError`` naming ``name`` when it is not callable."""
    return check_callable(
        answer, name, how="pass your function itself, e.g. check.iwae.iwelbo(my_iwelbo), not its result"
    )


def call(answer: Callable, args: tuple, what: str) -> Tensor | tuple | Feedback:
    """``answer(*args)``, or a :class:`Feedback` saying what it raised."""
    try:
        return answer(*args)
    except Exception as error:  # a student's bug of any kind is feedback, not a crash of the check
        return wrong(what, f"raised {type(error).__name__}: {error}")


def as_float64(value: object, what: str) -> Tensor | Feedback:
    """``value`` as a float64 tensor (detached), or a :class:`Feedback` when it is not numbers."""
    if isinstance(value, Tensor):
        return value.detach().to(torch.float64)
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return wrong(what, f"returned a {type(value).__name__}, not a tensor of numbers.")


def _close(a: Tensor, b: Tensor, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def compare(
    value: object,
    reference: Tensor,
    *,
    what: str,
    shape_hint: str,
    mistakes: Mapping[str, Tensor] = {},  # noqa: B006 (read only)
    inputs: str = "on seeded inputs",
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Feedback:
    """Feedback on a deterministic answer ``value`` against ``reference``: shape, finiteness, the named
    ``mistakes`` (message -> what that mistake returns on the same inputs), the sign, a constant factor."""
    answer = as_float64(value, what)
    if isinstance(answer, Feedback):
        return answer
    for message, mistaken in mistakes.items():  # a mistake may also change the shape (e.g. not summing over D)
        if mistaken.shape != reference.shape and _close(answer, mistaken, rtol, atol):
            return wrong(what, message)
    if answer.shape != reference.shape:
        return wrong(what, f"has shape {tuple(answer.shape)}; expected {tuple(reference.shape)} ({shape_hint}).")
    bad = ~torch.isfinite(answer)
    if bad.any():
        return wrong(what, f"has NaN or inf in {int(bad.sum())} of {answer.numel()} entries {inputs}.")
    if _close(answer, reference, rtol, atol):
        return correct(what, inputs)
    for message, mistaken in mistakes.items():
        if _close(answer, mistaken, rtol, atol):
            return wrong(what, message)
    if _close(answer, -reference, rtol, atol):
        return wrong(what, "has the wrong sign: it is minus the reference everywhere.")
    nonzero = reference.abs() > 1e-12
    if nonzero.any():
        ratio = answer[nonzero] / reference[nonzero]
        if torch.allclose(ratio, ratio.mean().expand_as(ratio), rtol=1e-6) and (answer[~nonzero].abs() < atol).all():
            return wrong(what, f"is off by a constant factor {float(ratio.mean()):.4g} (a missing 1/2, or a 2?).")
    error = (answer - reference).abs() / (reference.abs() + atol)
    worst = int(error.argmax())
    return wrong(
        what,
        f"differs from the reference {inputs}: relative error up to {float(error.flatten()[worst]):.3g} "
        f"(at flat index {worst}); none of the chapter's known mistakes explains it.",
    )


def compare_mean(draws: Tensor, exact: Tensor, *, what: str, inputs: str) -> tuple[Tensor, bool]:
    """z-scores of the mean of ``draws`` (R, ...) against ``exact`` (...), and whether they are all within Z_BIAS."""
    mean = draws.mean(0)
    se = draws.std(0) / draws.shape[0] ** 0.5
    z = (mean - exact) / se.clamp_min(1e-300)
    return z, bool((z.abs() < Z_BIAS).all())
