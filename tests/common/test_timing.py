"""common.Timer: the seconds of a chapter's named steps, accumulated (with a fake clock: exact answers)."""

from __future__ import annotations

import pytest

from helpers import common


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_steps_accumulate_and_the_total_and_elapsed_are_exact():
    clock = FakeClock()
    timer = common.Timer(clock)
    with timer("training"):
        clock.now += 2.5
    clock.now += 10.0  # untimed work: in elapsed, not in the total
    with timer("evaluation"):
        clock.now += 1.0
    with timer("training"):  # timed again: added
        clock.now += 0.5
    timer.add("loaded", 4.0)
    assert timer.seconds == {"training": 3.0, "evaluation": 1.0, "loaded": 4.0}
    assert timer.total == 8.0 and timer.elapsed() == 14.0
    report = timer.report().splitlines()
    assert report[0].startswith("training") and report[0].endswith("3.0 s") and report[-1].endswith("8.0 s")
    assert len(report) == 4


def test_a_step_that_raises_is_still_timed():
    clock = FakeClock()
    timer = common.Timer(clock)
    with pytest.raises(KeyError), timer("failing"):
        clock.now += 1.5
        raise KeyError("x")
    assert timer.seconds == {"failing": 1.5}


def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match="clock"):
        common.Timer(3.0)
    timer = common.Timer()
    with pytest.raises(TypeError, match="name"), timer(3):
        pass
    with pytest.raises(ValueError, match="seconds"):
        timer.add("x", -1.0)
