"""Baselines: definitions checked against direct formulas; bias checked in tests/test_estimators.py."""

from __future__ import annotations

import pytest
import torch

import helpers


def test_leave_one_out_is_the_mean_of_the_others():
    weights = torch.tensor([[1.0, 2.0, 6.0], [0.0, -3.0, 3.0]], dtype=torch.float64)
    expected = torch.tensor([[4.0, 3.5, 1.5], [0.0, 1.5, -1.5]], dtype=torch.float64)
    torch.testing.assert_close(helpers.leave_one_out_baseline(weights), expected)


def test_leave_one_out_needs_two_draws():
    with pytest.raises(ValueError, match="num_samples >= 2"):
        helpers.leave_one_out_baseline(torch.ones(4, 1))


def test_same_and_separate_draw_baselines_are_means():
    weights = torch.randn(5, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(helpers.same_draws_baseline(weights), weights.mean(-1, keepdim=True))
    torch.testing.assert_close(helpers.separate_draws_baseline(weights), weights.mean(-1, keepdim=True))
    assert helpers.same_draws_baseline(weights).shape == (5, 1)
