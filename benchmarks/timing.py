"""The timing rules and the inputs that the benchmarks in this folder share."""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable

import torch


def best_time(function: Callable[[], object], repeats: int) -> float:
    """Seconds per call: the minimum over ``repeats`` timings of a loop long enough to last about 0.2 s."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeats, number=number)) / number


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile) of repeated timings; one value is all three."""
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return q1, q2, q3


def images_784(num: int) -> torch.Tensor:
    """(num, 784) grey-level training images in [0, 1]: Fashion-MNIST if installed, else the 8x8 digits tiled to 784
    pixels (the timing needs only the shape), repeated to ``num`` rows."""
    from helpers import deep

    x, _ = deep.load_images("fashion-mnist" if "fashion-mnist" in deep.available_datasets() else "digits")
    if x.shape[1] != 784:
        x = x.repeat(1, -(-784 // x.shape[1]))[:, :784]
    return x.repeat(-(-num // len(x)), 1)[:num]
