"""Wall-clock seconds of a chapter's named steps, accumulated, for the time tables the chapters print."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from helpers.common.validation import check_callable, check_instance, check_nonnegative_number


class Timer:
    """Accumulates the seconds of named steps; ``Timer()`` also starts a clock for the whole chapter::

        timer = common.Timer()
        with timer("training"):  # a step timed again adds to its seconds
            ...
        timer.seconds["training"], timer.total, timer.elapsed()

    Args:
        clock: seconds as a float, monotonic (default ``time.perf_counter``, the wall clock; ``time.process_time``
            for CPU seconds).
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = check_callable(clock, "clock", how="e.g. time.perf_counter")
        self.seconds: dict[str, float] = {}
        self.started = float(self.clock())

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add its seconds to ``seconds[name]`` (also when the block raises)."""
        check_instance(name, "name", str, how='a step\'s name, e.g. timer("training")')
        start = self.clock()
        try:
            yield
        finally:
            self.add(name, self.clock() - start)

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` (>= 0) to ``seconds[name]``: a step timed elsewhere, e.g. a training run's own clock."""
        check_instance(name, "name", str, how="a step's name")
        seconds = check_nonnegative_number(seconds, "seconds", hint="a duration")
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @property
    def total(self) -> float:
        """The sum of the timed steps' seconds."""
        return sum(self.seconds.values())

    def elapsed(self) -> float:
        """Seconds since the timer was made (the chapter so far, timed steps or not)."""
        return self.clock() - self.started

    def report(self, total: str = "total of the timed steps", width: int = 42) -> str:
        """One line per step, ``name  seconds s``, in the order first timed, then the total."""
        lines = [f"{name:<{width}}{seconds:>8.1f} s" for name, seconds in self.seconds.items()]
        return "\n".join([*lines, f"{total:<{width}}{self.total:>8.1f} s"])
