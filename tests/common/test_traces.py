"""helpers.common.traces: first_hit on hand-made traces (reached, never reached, passed and left, diverged)."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import common


def test_first_hit_and_stay():
    values = torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.5, 0.1], [3.0, 0.7, 0.2]])
    assert common.first_hit(values, 1.0).tolist() == [1, 0, 3]  # 3 = T + 1: never reached
    assert common.first_hit(values, 1.0, stay=True).tolist() == [1, 3, 3]  # column 2 leaves the level again


def test_a_diverged_run_never_reaches_a_level():
    values = torch.tensor([[0.0, 0.0], [math.nan, 2.0], [math.inf, math.nan]])
    assert common.first_hit(values, 1.0).tolist() == [2, 1]  # inf is above any level; NaN is not
    assert common.first_hit(values, 1.0, stay=True).tolist() == [2, 3]


def test_bad_input():
    with pytest.raises(ValueError, match="values"):
        common.first_hit(torch.zeros(0), 1.0)
    with pytest.raises(ValueError, match="level"):
        common.first_hit(torch.zeros(3), math.nan)
    with pytest.raises(TypeError, match="stay"):
        common.first_hit(torch.zeros(3), 1.0, stay="yes")
