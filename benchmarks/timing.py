"""The timing rule every benchmark in this folder uses."""

from __future__ import annotations

import timeit
from collections.abc import Callable


def best_time(function: Callable[[], object], repeats: int) -> float:
    """Seconds per call: the minimum over ``repeats`` timings of a loop long enough to last about 0.2 s."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeats, number=number)) / number
