"""helpers.common.validation.scalars: counts and Python numbers; each error names the argument."""

from __future__ import annotations

import math

import pytest

from helpers.common import validation as v


@pytest.mark.parametrize("bad", [True, "1", None, math.nan, math.inf, 1 + 2j])
def test_check_real_refuses_what_is_not_a_finite_real(bad):
    with pytest.raises(ValueError, match="lr must be a finite real number"):
        v.check_real(bad, "lr")


def test_positive_and_nonnegative_numbers():
    assert v.check_positive_number(3, "lr") == 3.0
    with pytest.raises(ValueError, match="lr must be > 0.*lr=1e-3"):
        v.check_positive_number(0.0, "lr", example="lr=1e-3")
    assert v.check_nonnegative_number(0, "beta") == 0.0
    with pytest.raises(ValueError, match="beta must be >= 0"):
        v.check_nonnegative_number(-0.1, "beta")


def test_check_count():
    assert v.check_count(3.0, "epochs") == 3
    for bad in (0, 2.5, True, "3"):
        with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
            v.check_count(bad, "epochs")


def test_check_open_unit_number():
    assert v.check_open_unit_number(0.95, "level") == 0.95
    for bad in (0, 1, 95, -0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="level"):
            v.check_open_unit_number(bad, "level")


def test_check_betas():
    assert v.check_betas([0.9, 0.999]) == (0.9, 0.999)
    with pytest.raises(TypeError, match="betas"):
        v.check_betas(0.9)
    for bad in ((0.9,), (0.9, 1.0), (-0.1, 0.9)):
        with pytest.raises(ValueError, match="betas"):
            v.check_betas(bad)
