"""The self-checks (``helpers.check``) driven with bad input: a value that is not a function raises TypeError naming
``answer`` and saying what to pass; a function that crashes, takes the wrong arguments or returns nonsense gets
feedback (a falsy :class:`~helpers.check.Feedback` that says what it raised or returned), never an exception from
the check itself. Every public check is probed (the same contract as ``test_public_api.py``'s tables)."""

from __future__ import annotations

import inspect

import pytest
from _shared import assert_clear_error

from helpers import check

CHAPTERS = [m for m in check.__all__ if m not in ("Feedback", "summary")]
CHECKS = sorted(
    f"{module}.{name}"
    for module in CHAPTERS
    for name, obj in vars(getattr(check, module)).items()
    if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__ == getattr(check, module).__name__
    and "answer" in inspect.signature(obj).parameters
)  # fmt: skip


def _get(name: str):
    module, function = name.split(".")
    return getattr(getattr(check, module), function)


def test_every_chapter_has_a_check():
    assert {name.split(".")[0] for name in CHECKS} == set(CHAPTERS) and len(CHAPTERS) == 10


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("bad", [None, 3.0, "my_function", [1, 2]], ids=["None", "float", "str", "list"])
def test_a_value_that_is_not_a_function_is_refused_clearly(name, bad):
    assert_clear_error(lambda: _get(name)(bad), TypeError, r"answer must be callable.*pass your function itself")


@pytest.mark.parametrize("name", CHECKS)
def test_broken_answers_get_feedback_not_a_crash(name):
    def crashes(*args):
        raise RuntimeError("my bug")

    for answer, says in (
        (crashes, "raised RuntimeError: my bug"),
        (lambda: 0.0, "raised TypeError"),  # wrong number of arguments
        (lambda *args: object(), "not"),  # not numbers
        (lambda *args: float("nan"), "not yet"),
    ):
        feedback = _get(name)(answer)
        assert isinstance(feedback, check.Feedback) and not feedback, (name, feedback)
        assert says in feedback.message, (name, feedback.message)
        assert feedback.message.startswith("not yet: ")
