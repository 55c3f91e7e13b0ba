"""Shared fixtures. Statistical tests are seeded; their tolerances are multiples of the estimator's standard error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from helpers import models

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/_shared.py, importable from every test module
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the Pyro reference model


@pytest.fixture
def model() -> models.GammaPoisson:
    return models.GammaPoisson()


@pytest.fixture
def params() -> tuple[torch.Tensor, torch.Tensor]:
    """The chapter's variational parameters: loc = (mu_u, mu_v), scale = (sigma_u, sigma_v)."""
    return torch.tensor([5.0, 1.0], dtype=torch.float64), torch.tensor([0.5, 0.2], dtype=torch.float64)


@pytest.fixture
def lognormal_params() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([1.6, -0.02], dtype=torch.float64), torch.tensor([0.1, 0.2], dtype=torch.float64)
