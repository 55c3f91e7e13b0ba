"""The shared machinery of the self-checks: Feedback's truth value and message, and compare's diagnoses."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, compare, compare_mean

REF = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)


def _say(value, **kw):
    return compare(value, REF, what="it", shape_hint="(3,)", **kw)


def test_feedback_is_truthy_when_correct_and_shows_its_message():
    ok, bad = Feedback(True, "correct: x"), Feedback(False, "not yet: y")
    assert ok and not bad and repr(ok) == str(ok) == "correct: x"


def test_compare_says_correct_sign_factor_shape_nan_and_named_mistakes():
    assert _say(REF.clone()) and "correct" in _say([1.0, -2.0, 3.0]).message
    assert "wrong sign" in _say(-REF).message
    assert "constant factor 0.5" in _say(REF / 2).message
    assert "shape (3, 1)" in _say(REF[:, None]).message
    assert "NaN or inf in 1 of 3" in _say(torch.tensor([1.0, float("nan"), 3.0])).message
    assert "tensor of numbers" in _say("abc").message
    named = _say(REF + 1, mistakes={"adds one.": REF + 1})
    assert not named and named.message == "not yet: it adds one."
    other = _say(REF + torch.tensor([0.0, 0.0, 1.0]))
    assert not other and "none of the chapter's known mistakes" in other.message and "index 2" in other.message


def test_compare_mean_flags_a_bias_of_many_standard_errors():
    draws = torch.randn((10_000, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    _, unbiased = compare_mean(draws, torch.zeros(2, dtype=torch.float64), what="it", inputs="")
    z, biased = compare_mean(draws + 0.1, torch.zeros(2, dtype=torch.float64), what="it", inputs="")
    assert unbiased and not biased and (z > 4.5).all()
