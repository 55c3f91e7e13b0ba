"""Sizes of the part *Monte Carlo gradient estimators* at each scale: one frozen dataclass per chapter, read as
``cfg.scale.estimators.<chapter>.<field>`` (e.g. ``cfg.scale.estimators.natural_gradients.substeps``).

A new chapter adds its dataclass and its three presets here, and a field of :class:`EstimatorsScale`; nothing else
changes. The chapter *Natural gradients* builds on code of the part before (``helpers.vi``); its sizes are here,
in the part the chapter belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GradientEstimatorsScale:
    """Chapter *Gradient estimators* (``book/estimators/gradient-estimators.ipynb``).

    Attributes:
        num_repeats: independent repetitions of an estimator when measuring its mean and variance.
        sample_sizes: the grid of Monte Carlo sample sizes ``M`` for the variance-versus-``M`` study.
        chunk_draws: at most this many draws are held in memory at once when repetitions are vectorized (keeps
            Binder's 2 GB machines safe). It decides how the noise is drawn, so results are reproduced exactly only
            with the same value; their distribution does not depend on it.
        adam_seeds: independent Adam runs per estimator on the log-normal q (the ranking after optimization is
            computed from them, never from one run).
    """

    num_repeats: int
    sample_sizes: tuple[int, ...]
    chunk_draws: int
    adam_seeds: int


GRADIENT_ESTIMATORS = {
    "quick": GradientEstimatorsScale(
        num_repeats=1_000, sample_sizes=(1, 10, 100, 1_000, 10_000), chunk_draws=2_000_000, adam_seeds=3
    ),
    "standard": GradientEstimatorsScale(
        num_repeats=2_000,
        sample_sizes=(1, 3, 10, 30, 100, 300, 1_000, 3_000, 10_000),
        chunk_draws=2_000_000,
        adam_seeds=8,
    ),
    "full": GradientEstimatorsScale(
        num_repeats=10_000,
        sample_sizes=(1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1_000, 2_000, 3_000, 5_000, 10_000),
        chunk_draws=20_000_000,
        adam_seeds=20,
    ),
}


@dataclass(frozen=True)
class NaturalGradientsScale:
    """Chapter *Natural gradients* (``book/estimators/natural-gradients.ipynb``).

    Attributes:
        substeps: sub-steps per step of size 0.5 for the continuous-time path.
        mc_draws: Monte Carlo draws for the checks of E[T(x)] and of the Fisher matrix.
        vi_seeds: independent runs of SVI, BBVI and BBVI-Adam on the Normal-Gamma model.
        vi_iters: iterations of each of those runs.
        q_runs: independent runs of each optimizer for the log-normal q of the Gamma-Poisson model.
        q_iters: iterations of each of those runs.
    """

    substeps: int
    mc_draws: int
    vi_seeds: int
    vi_iters: int
    q_runs: int
    q_iters: int


NATURAL_GRADIENTS = {
    "quick": NaturalGradientsScale(substeps=100, mc_draws=50_000, vi_seeds=3, vi_iters=800, q_runs=8, q_iters=400),
    "standard": NaturalGradientsScale(
        substeps=1_000, mc_draws=200_000, vi_seeds=5, vi_iters=2_000, q_runs=16, q_iters=600
    ),
    "full": NaturalGradientsScale(
        substeps=10_000, mc_draws=1_000_000, vi_seeds=20, vi_iters=5_000, q_runs=64, q_iters=1_000
    ),
}


@dataclass(frozen=True)
class EstimatorsScale:
    """The part's sizes at one scale, one field per chapter: ``cfg.scale.estimators.gradient_estimators``,
    ``cfg.scale.estimators.natural_gradients``."""

    gradient_estimators: GradientEstimatorsScale
    natural_gradients: NaturalGradientsScale


#: {scale name: the part's sizes}, read by ``helpers.setup`` as ``cfg.scale.estimators``
SCALES = {
    name: EstimatorsScale(gradient_estimators=GRADIENT_ESTIMATORS[name], natural_gradients=NATURAL_GRADIENTS[name])
    for name in GRADIENT_ESTIMATORS
}
