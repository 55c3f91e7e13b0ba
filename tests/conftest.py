"""Shared fixtures. Statistical tests are seeded; their tolerances are multiples of the estimator's standard error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import helpers

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

#: Tolerance, in standard errors, for a seeded check of an unbiased estimator against an exact reference.
#: Two-sided, a correct estimator exceeds it with probability 6e-6 per comparison.
Z_TOL = 4.5


@pytest.fixture
def model() -> helpers.GammaPoisson:
    return helpers.GammaPoisson()


@pytest.fixture
def params() -> tuple[torch.Tensor, torch.Tensor]:
    """The chapter's variational parameters: loc = (mu_u, mu_v), scale = (sigma_u, sigma_v)."""
    return torch.tensor([5.0, 1.0], dtype=torch.float64), torch.tensor([0.5, 0.2], dtype=torch.float64)


@pytest.fixture
def lognormal_params() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([1.6, -0.02], dtype=torch.float64), torch.tensor([0.1, 0.2], dtype=torch.float64)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
