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


def assert_clear_error(call, error, argument: str) -> None:
    """``call()`` raises ``error`` and the message names ``argument`` (a regex): the public-API probe tables."""
    import re
    import warnings

    import pytest

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as caught:
            call()
    assert re.search(argument, str(caught.value)), f"the message does not name {argument!r}: {caught.value}"


def assert_usual_answer(call, usual, *, rtol: float, atol: float) -> None:
    """An unusual but meaningful input (numpy, lists, ints) gives the answer of the usual input."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = torch.as_tensor(call()), torch.as_tensor(usual())
    torch.testing.assert_close(got.to(want.dtype), want, rtol=rtol, atol=atol)
