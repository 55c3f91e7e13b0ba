"""Baselines: definitions checked against direct formulas; bias checked in tests/estimators/test_monte_carlo.py."""

from __future__ import annotations

import pytest
import torch

from helpers import estimators


def test_leave_one_out_is_the_mean_of_the_others():
    weights = torch.tensor([[1.0, 2.0, 6.0], [0.0, -3.0, 3.0]], dtype=torch.float64)
    expected = torch.tensor([[4.0, 3.5, 1.5], [0.0, 1.5, -1.5]], dtype=torch.float64)
    torch.testing.assert_close(estimators.leave_one_out_baseline(weights), expected)
    # the draws on another axis (the discrete-latent estimators put them first): the same baseline, transposed
    torch.testing.assert_close(estimators.leave_one_out_baseline(weights.T, 0), expected.T)


def test_leave_one_out_needs_two_draws():
    with pytest.raises(ValueError, match="num_samples >= 2"):
        estimators.leave_one_out_baseline(torch.ones(4, 1))
    with pytest.raises(ValueError, match="num_samples >= 2"):
        estimators.leave_one_out_baseline(torch.ones(1, 4), 0)


def test_only_the_leave_one_out_baseline_ignores_its_own_draw():
    """The property that decides bias: b_s must not depend on w_s."""
    weights = torch.randn(5, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    bumped = weights.clone()
    bumped[:, 3] += 10.0
    loo, loo_bumped = estimators.leave_one_out_baseline(weights), estimators.leave_one_out_baseline(bumped)
    torch.testing.assert_close(loo[:, 3], loo_bumped[:, 3])  # b_3 does not see w_3 ...
    assert (loo_bumped[:, :3] > loo[:, :3]).all()  # ... but every other b_s does
    same, same_bumped = estimators.same_draws_baseline(weights), estimators.same_draws_baseline(bumped)
    assert same.shape == (5, 1) and (same_bumped > same).all()  # the same-draw baseline sees its own draw


def test_separate_draw_baseline_does_not_depend_on_the_draws_it_corrects():
    independent = torch.randn(4, 9, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    baseline = estimators.separate_draws_baseline(independent)
    assert baseline.shape == (4, 1)
    torch.testing.assert_close(baseline.squeeze(-1), independent.sum(-1) / 9)
