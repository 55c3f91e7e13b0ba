"""Baselines: definitions checked against direct formulas, and the estimators' choice of one (baseline_for,
separate_noise); bias checked in tests/estimators/test_monte_carlo.py."""

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


def test_baseline_for_computes_the_named_baseline_on_the_draws(model):
    loc, scale = torch.tensor([5.0, 1.0], dtype=torch.float64), torch.tensor([0.5, 0.15], dtype=torch.float64)
    eps, other = torch.randn((2, 8, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    w = estimators.elbo_terms(model, loc, scale, eps)
    loo = estimators.baseline_for("leave-one-out", model, loc, scale, eps)
    torch.testing.assert_close(loo, estimators.leave_one_out_baseline(w))
    same = estimators.baseline_for("same-draws", model, loc, scale, eps)
    torch.testing.assert_close(same, estimators.same_draws_baseline(w))
    separate = estimators.baseline_for("separate", model, loc, scale, eps, other_eps=other)
    torch.testing.assert_close(
        separate, estimators.separate_draws_baseline(estimators.elbo_terms(model, loc, scale, other))
    )
    assert estimators.baseline_for(-3, model, loc, scale, eps) == -3.0
    assert estimators.baseline_for(None, model, loc, scale, eps) is None
    with pytest.raises(ValueError, match="other_eps"):
        estimators.baseline_for("separate", model, loc, scale, eps)
    with pytest.raises(ValueError, match="baseline must be None, a finite number, or one of"):
        estimators.check_baseline("mean")


def test_separate_noise_only_for_the_separate_baseline():
    eps = torch.zeros(4, 2, dtype=torch.float32)
    other = estimators.separate_noise("separate", eps, torch.Generator().manual_seed(1))
    assert other.shape == eps.shape and other.dtype == eps.dtype
    assert estimators.separate_noise("leave-one-out", eps, None) is None
