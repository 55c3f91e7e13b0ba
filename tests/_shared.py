"""Constants and small utilities shared by the tests (imported as a module; conftest.py holds only fixtures)."""

from __future__ import annotations

from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

#: Tolerance, in standard errors, for a seeded check of an unbiased estimator against an exact reference.
#: Two-sided, a correct estimator exceeds it with probability 6.8e-6 per comparison; the suite makes a few
#: hundred such comparisons, so a false alarm anywhere has probability of order 1e-3 (and, seeded, is reproducible).
Z_TOL = 4.5


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
