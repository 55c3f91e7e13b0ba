"""What every self-check shares: call the student's function on seeded inputs, compare its answer with the course's
reference, and say what is wrong (shape, sign, a constant factor, one of the chapter's published mistakes, a bias in
standard errors) without printing the reference values.

A check returns a :class:`Feedback`: truthy when the answer is right, and shown in a notebook as its message.

**Precision.** An answer is compared at the precision of its own dtype: entry by entry,
``|answer - reference| <= ULPS * eps(dtype) * magnitude``, where ``eps`` is the dtype's machine epsilon
(``torch.finfo``) and ``magnitude`` is the size of the numbers the entry is computed from (``|reference|`` plus,
by default, the RMS of the reference; a check passes the size of the terms where its formula cancels or amplifies
rounding). A float32 answer (what ``torch.zeros`` and ``torch.tensor`` give) is compared at float32 precision and
told so ("agrees to float32 precision"). A float64 answer that agrees only to float32 precision is accepted too, with
the remark that part of it was computed in float32 (a ``torch.tensor(...)`` constant, say). The named mistakes, the
valid alternatives and the other diagnoses are matched at the loosest precision in play.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from helpers.common.validation import check_callable

#: z-score beyond which a Monte Carlo mean is called biased (two-sided false alarm 6.8e-6 for a correct answer)
Z_BIAS = 4.5

#: the tolerance in units of eps(dtype) * magnitude: room for the rounding of a few dozen operations (a sum of
#: n terms accumulates at most about n * eps of their absolute sum; typical formulas here have fewer than 64 steps,
#: and torch's reductions sum pairwise). tests/check/test_feedback.py measures the margin on float32 answers.
ULPS = 64

_NAMES = {torch.float64: "float64", torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
_NUMPY = {np.dtype(np.float32): torch.float32, np.dtype(np.float16): torch.float16}


#: the three verdicts, the first words of every message
STATUSES = ("correct", "not yet", "not attempted")


@dataclass(frozen=True)
class Feedback:
    """The verdict of a self-check: ``ok`` and a message that says what is wrong (or that the answer is correct).

    ``status`` is "correct", "not yet" (an answer that is wrong, or crashed) or "not attempted" (the function raised
    ``NotImplementedError``: the stub of the student edition, ``raise NotImplementedError("your code here")``)."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    @property
    def status(self) -> str:
        if self.ok:
            return "correct"
        return "not attempted" if self.message.startswith("not attempted") else "not yet"

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


def not_attempted(what: str, error: BaseException) -> Feedback:
    detail = f" ({error})" if str(error) else ""
    return Feedback(
        False,
        f"not attempted: {what} raises NotImplementedError{detail}. Write the function in place of the `raise` "
        "line and run the cell again.",
    )


def call(answer: Callable, args: tuple, what: str) -> Tensor | tuple | Feedback:
    """``answer(*args)``, or a :class:`Feedback` saying what it raised: "not attempted" for NotImplementedError (a
    stub), "not yet" for any other exception."""
    try:
        return answer(*args)
    except NotImplementedError as error:  # the student edition's stub: nothing written yet
        return not_attempted(what, error)
    except Exception as error:  # a student's bug of any kind is feedback, not a crash of the check
        return wrong(what, f"raised {type(error).__name__}: {error}")


def precision_of(value: object) -> torch.dtype:
    """The floating dtype that limits the precision of ``value``: a tensor's or numpy array's own dtype, the least
    precise part of a tuple or list, float64 for Python numbers (doubles) and integer tensors."""
    if isinstance(value, Tensor):
        return value.dtype if value.dtype in _NAMES else torch.float64
    if isinstance(value, (np.ndarray, np.generic)):
        return _NUMPY.get(np.dtype(value.dtype), torch.float64)
    if isinstance(value, (tuple, list)) and value:
        return max((precision_of(v) for v in value), key=lambda dt: torch.finfo(dt).eps)
    return torch.float64


def as_float64(value: object, what: str) -> Tensor | Feedback:
    """``value`` as a float64 tensor (detached), or a :class:`Feedback` when it is not numbers."""
    if isinstance(value, Tensor):
        return value.detach().to(torch.float64)
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return wrong(what, f"returned a {type(value).__name__}, not a tensor of numbers.")


def stack_pair(value: object, what: str, expected: str) -> tuple[Tensor, torch.dtype] | Feedback:
    """A pair (or tuple) of tensors or numbers stacked into one float64 tensor, with the least precise dtype among
    them (a tensor stacks its rows); a :class:`Feedback` saying ``expected`` when ``value`` is not such a tuple."""
    if isinstance(value, (Tensor, np.ndarray)) and value.ndim >= 1:
        value = list(value)
    if not isinstance(value, (tuple, list)):
        return wrong(what, f"must return {expected}.")
    try:
        parts = [v.detach() if isinstance(v, Tensor) else torch.as_tensor(v) for v in value]
        stacked = torch.stack([p.to(torch.float64) for p in parts])
    except (TypeError, ValueError, RuntimeError):
        return wrong(what, f"must return {expected}.")
    return stacked, precision_of(list(value))


def levels(dtype: torch.dtype) -> list[torch.dtype]:
    """The precisions at which an answer of ``dtype`` is accepted: its own, then float32's when it is finer."""
    own = dtype if dtype in _NAMES else torch.float64
    return [own] + ([torch.float32] if torch.finfo(own).eps < torch.finfo(torch.float32).eps else [])


def tolerance(dtype: torch.dtype, magnitude: Tensor) -> Tensor:
    """The largest difference from the reference that rounding in ``dtype`` explains, entry by entry."""
    return ULPS * torch.finfo(dtype).eps * magnitude


def _magnitude(reference: Tensor, magnitude: Tensor | None) -> Tensor:
    floor = reference.square().mean().sqrt() if magnitude is None else magnitude
    return (reference.abs() + floor).expand_as(reference)


def _close(a: Tensor, b: Tensor, tol: Tensor) -> bool:
    if a.shape != b.shape:
        return False
    ok = (a - b).abs() <= (tol if tol.shape == b.shape else tol.expand_as(b))
    return bool(ok.all())


def _agreed(what: str, inputs: str, dtype: torch.dtype, level: torch.dtype) -> Feedback:
    if level == dtype:
        return Feedback(
            True, f"correct: {what} agrees to {_NAMES[level]} precision with the course's reference {inputs}."
        )
    return Feedback(
        True,
        f"correct: {what} agrees to {_NAMES[level]} precision with the course's reference {inputs}. It is "
        f"{_NAMES[dtype]}, but part of it was computed in {_NAMES[level]} (torch.tensor(...) and torch.zeros(...) are "
        f"{_NAMES[level]} unless given dtype=torch.float64).",
    )


def _permutation(answer: Tensor, reference: Tensor, tol: Tensor) -> list[int] | None:
    """The column order ``perm`` with answer[:, j] == reference[:, perm[j]] for every j, when there is one."""
    if answer.ndim != 2 or answer.shape != reference.shape or answer.shape[1] < 2:
        return None
    perm: list[int] = []
    for j in range(answer.shape[1]):
        matches = [
            i for i in range(reference.shape[1]) if i not in perm and _close(answer[:, j], reference[:, i], tol[:, i])
        ]
        if not matches:
            return None
        perm.append(matches[0])
    return perm


def compare(
    value: object,
    reference: Tensor,
    *,
    what: str,
    shape_hint: str,
    mistakes: Mapping[str, Tensor] = {},  # noqa: B006 (read only)
    alternatives: Mapping[str, Tensor] = {},  # noqa: B006 (read only)
    inputs: str = "on seeded inputs",
    magnitude: Tensor | None = None,
    columns: Sequence[str] | None = None,
    precision: torch.dtype | None = None,
) -> Feedback:
    """Feedback on a deterministic answer ``value`` against ``reference``, at the precision of the answer's dtype
    (``precision`` when the caller already converted it): shape, finiteness, agreement, the valid ``alternatives``
    (message -> what that alternative returns; accepted), the named ``mistakes`` (message -> what that mistake
    returns on the same inputs), the right ``columns`` (their names) in another order, the sign, a constant factor
    (only for an answer with several entries: a ratio of two numbers says nothing)."""
    dtype = precision or precision_of(value)
    answer = as_float64(value, what)
    if isinstance(answer, Feedback):
        return answer
    mag = _magnitude(reference, magnitude)
    accepted = levels(dtype)
    loose = tolerance(accepted[-1], mag)
    for message, mistaken in mistakes.items():  # a mistake may also change the shape (e.g. not summing over D)
        if mistaken.shape != reference.shape and answer.shape == mistaken.shape:
            if _close(answer, mistaken, tolerance(accepted[-1], _magnitude(mistaken, None))):
                return wrong(what, message)
    if answer.shape != reference.shape:
        return wrong(what, f"has shape {tuple(answer.shape)}; expected {tuple(reference.shape)} ({shape_hint}).")
    bad = ~torch.isfinite(answer)
    if bad.any():
        return wrong(what, f"has NaN or inf in {int(bad.sum())} of {answer.numel()} entries {inputs}.")
    for level in accepted:
        if _close(answer, reference, tolerance(level, mag)):
            return _agreed(what, inputs, dtype, level)
    for message, alternative in alternatives.items():
        if alternative.shape == reference.shape and _close(
            answer, alternative, tolerance(accepted[-1], _magnitude(alternative, magnitude))
        ):
            return Feedback(True, f"correct: {what} {message}")
    for message, mistaken in mistakes.items():
        if mistaken.shape == reference.shape and _close(
            answer, mistaken, tolerance(accepted[-1], _magnitude(mistaken, magnitude))
        ):
            return wrong(what, message)
    if columns is not None and (perm := _permutation(answer, reference, loose)) is not None:
        yours = ", ".join(columns[i] for i in perm)
        return Feedback(
            True,
            f"correct: right numbers, other order: {what} has the columns ({yours}); the course's reference "
            f"orders them ({', '.join(columns)}), which is what the chapter's code expects.",
        )
    if _close(answer, -reference, loose):
        if reference.numel() == 1:
            return wrong(what, "has the wrong sign: it is minus the reference (a loss in place of the objective?).")
        return wrong(what, "has the wrong sign: it is minus the reference everywhere.")
    if reference.numel() > 1 and int((reference.abs() > loose).sum()) > 1:
        factor = float((answer * reference).sum() / reference.square().sum())
        if abs(factor - 1) > 1e-3 and _close(answer, factor * reference, loose * max(1.0, abs(factor))):
            hint = " (a missing 1/2, or an extra 2?)" if min(abs(factor - 2), abs(factor - 0.5)) < 1e-3 else ""
            return wrong(what, f"is off by a constant factor {factor:.4g}: it is that multiple of the reference in "
                               f"every entry{hint}.")  # fmt: skip
    error = (answer - reference).abs() / mag
    worst = int(error.flatten().argmax())
    size = "" if reference.numel() == 1 else f" (at flat index {worst})"
    return wrong(
        what,
        f"differs from the reference {inputs}: by up to {float(error.flatten()[worst]):.3g} relative to the size of "
        f"the numbers involved{size}; none of the chapter's known mistakes explains it.",
    )


def _same(first: object, again: object) -> bool:
    a, b = as_float64(first, ""), as_float64(again, "")
    if isinstance(a, Feedback) or isinstance(b, Feedback) or a.shape != b.shape:
        return False
    tol = tolerance(levels(precision_of(first))[-1], _magnitude(a.nan_to_num(), None))
    return _close(a.nan_to_num(), b.nan_to_num(), tol)


def noise_feedback(
    fn: Callable, make_args: Callable[[], tuple], make_other_args: Callable[[], tuple], first: object, what: str,
    draws: str,
) -> Feedback | None:  # fmt: skip
    """Feedback when ``fn`` does not use the draws it is given: called again on the same inputs (``make_args()``) it
    gives another answer than ``first`` (it draws its own random numbers), or called on other ``draws``
    (``make_other_args()``) it gives the same answer (it ignores them); None when neither happens."""
    again = call(fn, make_args(), what)
    if not isinstance(again, Feedback) and not _same(first, again):
        return wrong(what, f"gives another answer each time it is called on the same {draws}: it draws its own "
                           f"random numbers. Use the {draws} passed to it.")  # fmt: skip
    other = call(fn, make_other_args(), what)
    if not isinstance(other, Feedback) and _same(first, other):
        return wrong(what, f"gives the same answer whatever {draws} it is called with: it does not use the {draws} "
                           "passed to it.")  # fmt: skip
    return None


def compare_mean(draws: Tensor, exact: Tensor, *, what: str, inputs: str) -> tuple[Tensor, bool]:
    """z-scores of the mean of ``draws`` (R, ...) against ``exact`` (...), and whether they are all within Z_BIAS."""
    mean = draws.mean(0)
    se = draws.std(0) / draws.shape[0] ** 0.5
    z = (mean - exact) / se.clamp_min(1e-300)
    return z, bool((z.abs() < Z_BIAS).all())
