"""Standard errors against numpy and against the known sampling distribution of a normal sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import helpers


def test_mean_and_se_match_numpy():
    values = torch.randn(1000, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mean, se = helpers.mean_and_se(values)
    np.testing.assert_allclose(mean.numpy(), values.numpy().mean(0))
    np.testing.assert_allclose(se.numpy(), values.numpy().std(0, ddof=1) / math.sqrt(1000))


def test_variance_se_matches_the_normal_theory_value():
    # for a normal sample, SE(s^2) = sigma^2 sqrt(2 / n); our estimate uses the sample's 4th moment, whose
    # relative SE is sqrt((105 - 9) / 9 / n) = 0.7% at n = 2e5, so the SE estimate is within ~0.4% (1 SE): 2% is 5 SE
    values = 3.0 * torch.randn(200_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    var, se = helpers.variance_and_se(values)
    assert float(se) == pytest.approx(9.0 * math.sqrt(2 / 200_000), rel=0.02)
    assert abs(float(var) - 9.0) < 4.5 * float(se)


def test_z_scores_and_too_few_values():
    assert float(helpers.z_scores(torch.tensor(3.0), torch.tensor(0.5), torch.tensor(2.0))) == 2.0
    with pytest.raises(ValueError, match="at least 2"):
        helpers.mean_and_se(torch.ones(1))


def test_interval_table_lists_every_quantity_with_its_half_width():
    table = helpers.interval_table(
        {"a": (torch.tensor([1.0, 2.0]), torch.tensor([0.1, 0.2]))}, torch.tensor([1.05, 2.1]), ["x", "y"]
    )
    assert "x" in table and "y" in table and "1.0000 ± 0.1960" in table and "2.0000 ± 0.3920" in table


def test_interval_table_columns_stay_aligned_with_long_quantity_names():
    rows = {"estimator": (torch.tensor([1.0, 2.0]), torch.tensor([0.1, 0.2]))}
    table = helpers.interval_table(rows, torch.tensor([1.05, 2.1]), ["a", "a much longer quantity name"])
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1  # every row as wide as the header
    assert len({line.index(".") for line in lines[1:]}) == 1  # the reference column's decimal points line up
