"""The shared machinery of the self-checks: Feedback's truth value and message, and compare's diagnoses, at the
precision of the answer's dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.check import _feedback
from helpers.check._feedback import Feedback, compare, compare_mean, noise_feedback, precision_of, tolerance

REF = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)


def _say(value, reference=REF, **kw):
    return compare(value, reference, what="it", shape_hint="(3,)", **kw)


def test_feedback_is_truthy_when_correct_and_shows_its_message():
    ok, bad = Feedback(True, "correct: x"), Feedback(False, "not yet: y")
    assert ok and not bad and repr(ok) == str(ok) == "correct: x"


def test_compare_says_correct_sign_factor_shape_nan_and_named_mistakes():
    assert _say(REF.clone()) and "correct" in _say([1.0, -2.0, 3.0]).message
    assert "wrong sign" in _say(-REF).message
    assert "constant factor 0.5" in _say(REF / 2).message and "missing 1/2" in _say(REF / 2).message
    assert "constant factor 3" in _say(3 * REF).message and "missing 1/2" not in _say(3 * REF).message
    assert "shape (3, 1)" in _say(REF[:, None]).message
    assert "NaN or inf in 1 of 3" in _say(torch.tensor([1.0, float("nan"), 3.0])).message
    assert "tensor of numbers" in _say("abc").message
    named = _say(REF + 1, mistakes={"adds one.": REF + 1})
    assert not named and named.message == "not yet: it adds one."
    other = _say(REF + torch.tensor([0.0, 0.0, 1.0]))
    assert not other and "none of the chapter's known mistakes" in other.message and "index 2" in other.message


def test_a_scalar_is_never_called_off_by_a_constant_factor():
    """A ratio of two numbers says nothing: an unexplained scalar is just 'differs'."""
    for value in (2.0, 1.007, -0.5):
        feedback = _say(torch.tensor(value, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
        assert not feedback and "constant factor" not in feedback.message and "differs" in feedback.message


def test_the_precision_is_the_answers_dtype():
    assert precision_of(torch.zeros(2)) == torch.float32 and precision_of(torch.zeros(2, dtype=torch.float64)) == (
        torch.float64
    )
    assert precision_of(1.5) == torch.float64 and precision_of(np.float32(1.5)) == torch.float32
    assert precision_of((torch.zeros(1, dtype=torch.float64), torch.zeros(1))) == torch.float32  # the least precise
    assert precision_of(torch.zeros(2, dtype=torch.int64)) == torch.float64


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_answer_rounded_to_its_dtype_passes_and_says_at_which_precision(dtype):
    """The reference rounded to the answer's dtype, plus a few more ulps, is correct 'to <dtype> precision'."""
    ref = torch.tensor([1.0 / 3, -2.0 / 7, 1e4 / 9], dtype=torch.float64)
    rounded = ref.to(dtype)
    nudged = rounded * (1 + 8 * torch.finfo(dtype).eps)  # eight ulps further
    for value in (rounded, nudged):
        feedback = _say(value, ref)
        name = "float32" if dtype == torch.float32 else "float64"
        assert feedback and f"agrees to {name} precision" in feedback.message, feedback


def test_a_float64_answer_with_a_float32_step_passes_and_is_told_so():
    ref = torch.tensor([1.0 / 3, -2.0 / 7, 1e4 / 9], dtype=torch.float64)
    value = ref.to(torch.float32).to(torch.float64)  # float64 tensor, float32 numbers
    feedback = _say(value, ref)
    assert feedback and "agrees to float32 precision" in feedback.message and "It is float64" in feedback.message


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_error_beyond_the_dtypes_precision_is_caught(dtype):
    """The tolerance is tight: 1000 ulps (float32: 1e-4 relative) off is not 'correct'."""
    ref = torch.tensor([1.0 / 3, -2.0 / 7, 1e4 / 9], dtype=torch.float64)
    off = (ref * (1 + 1000 * torch.finfo(torch.float32).eps * torch.tensor([0.0, 0.0, 1.0]))).to(dtype)
    assert not _say(off, ref)
    if dtype == torch.float64:  # float64 answers are held to float64 precision first, then float32's
        slightly = ref * (1 + 1000 * torch.finfo(torch.float64).eps)
        assert "float32 precision" in _say(slightly, ref).message


def test_the_magnitude_gives_room_where_a_formula_cancels():
    """An entry computed as a difference of large terms has the rounding of the terms, not of the result."""
    ref = torch.tensor([1.0, 1e-6], dtype=torch.float64)  # the second entry: (1e6 + 1e-6) - 1e6
    value = torch.tensor([1.0, 1e-6 + 1e-10], dtype=torch.float64)  # off by the float64 rounding of the terms
    assert not _say(value, ref, magnitude=torch.full((2,), 1e-9, dtype=torch.float64))
    said = _say(value, ref, magnitude=torch.tensor([1.0, 2e6], dtype=torch.float64))
    assert said and "agrees to float64 precision" in said.message
    torch.testing.assert_close(
        tolerance(torch.float32, torch.ones(())), torch.tensor(_feedback.ULPS * 2.0**-23, dtype=torch.float32)
    )


def test_the_right_columns_in_another_order_are_recognized():
    ref = torch.arange(12.0, dtype=torch.float64).reshape(4, 3) ** 1.5
    feedback = compare(ref[:, [2, 0, 1]], ref, what="it", shape_hint="", columns=("a", "b", "c"))
    assert feedback and "right numbers, other order" in feedback.message and "(c, a, b)" in feedback.message
    wrong_numbers = ref[:, [2, 0, 1]].clone()
    wrong_numbers[0, 0] += 1
    assert not compare(wrong_numbers, ref, what="it", shape_hint="", columns=("a", "b", "c"))


def test_valid_alternatives_pass_with_their_message():
    feedback = _say(REF + 1, alternatives={"is another valid form.": REF + 1})
    assert feedback and feedback.message == "correct: it is another valid form."


def test_noise_feedback_tells_own_draws_from_ignored_draws():
    eps = torch.randn(5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    other = eps + 1

    def uses(e):
        return e * 2

    def own(e):
        return torch.randn(5, dtype=torch.float64)

    def ignores(e):
        return torch.ones(5, dtype=torch.float64)

    assert noise_feedback(uses, lambda: (eps,), lambda: (other,), uses(eps), "it", "eps") is None
    said = noise_feedback(own, lambda: (eps,), lambda: (other,), own(eps), "it", "eps")
    assert not said and "draws its own random numbers" in said.message
    said = noise_feedback(ignores, lambda: (eps,), lambda: (other,), ignores(eps), "it", "eps")
    assert not said and "does not use the eps" in said.message


def test_compare_mean_flags_a_bias_of_many_standard_errors():
    draws = torch.randn((10_000, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    _, unbiased = compare_mean(draws, torch.zeros(2, dtype=torch.float64), what="it", inputs="")
    z, biased = compare_mean(draws + 0.1, torch.zeros(2, dtype=torch.float64), what="it", inputs="")
    assert unbiased and not biased and (z > 4.5).all()
