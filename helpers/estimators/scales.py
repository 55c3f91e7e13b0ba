"""Sizes of the part *Monte Carlo gradient estimators* at each scale, read as ``cfg.scale.estimators.<field>``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EstimatorsScale:
    """Attributes:
    num_repeats: independent repetitions of an estimator when measuring its mean and variance.
    sample_sizes: the grid of Monte Carlo sample sizes ``M`` for the variance-versus-``M`` study.
    chunk_draws: at most this many draws are held in memory at once when repetitions are vectorized (keeps
        Binder's 2 GB machines safe). It decides how the noise is drawn, so results are reproduced exactly only
        with the same value; their distribution does not depend on it.
    adam_seeds: independent Adam runs per estimator on the log-normal q (the ranking after optimization is computed
        from them, never from one run).
    """

    num_repeats: int
    sample_sizes: tuple[int, ...]
    chunk_draws: int = 2_000_000
    adam_seeds: int = 3


SCALES = {
    "quick": EstimatorsScale(num_repeats=1_000, sample_sizes=(1, 10, 100, 1_000, 10_000), adam_seeds=3),
    "standard": EstimatorsScale(
        num_repeats=2_000, sample_sizes=(1, 3, 10, 30, 100, 300, 1_000, 3_000, 10_000), adam_seeds=8
    ),
    "full": EstimatorsScale(
        num_repeats=10_000,
        sample_sizes=(1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1_000, 2_000, 3_000, 5_000, 10_000),
        chunk_draws=20_000_000,
        adam_seeds=20,
    ),
}
