"""Sizes of the part *Variational inference* at each scale, read as ``cfg.scale.vi.<field>``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VIScale:
    """Attributes (chapter *Black-box VI*; the ELBO and CAVI chapters are exact and need no sizes):
    bbvi_repeats: independent gradient estimates per estimator when measuring gradient variance.
    bbvi_seeds: independent BBVI runs per estimator when counting iterations to an ELBO level.
    bbvi_iters: BBVI iterations per run on the hierarchical model.
    natgrad_substeps: (chapter *Natural gradients*) sub-steps per step of size 0.5 for the continuous-time path.
    natgrad_mc: Monte Carlo draws for the checks of E[T(x)] and of the Fisher matrix.
    natgrad_vi_seeds: independent runs of SVI, BBVI and BBVI-Adam on the Normal-Gamma model.
    natgrad_vi_iters: iterations of each of those runs.
    natgrad_q_runs: independent runs of each optimizer for the log-normal q of the Gamma-Poisson model.
    natgrad_q_iters: iterations of each of those runs.
    """

    bbvi_repeats: int
    bbvi_seeds: int
    bbvi_iters: int
    natgrad_substeps: int = 1_000
    natgrad_mc: int = 200_000
    natgrad_vi_seeds: int = 5
    natgrad_vi_iters: int = 2_000
    natgrad_q_runs: int = 16
    natgrad_q_iters: int = 600


SCALES = {
    "quick": VIScale(
        bbvi_repeats=300,
        bbvi_seeds=3,
        bbvi_iters=800,
        natgrad_substeps=100,
        natgrad_mc=50_000,
        natgrad_vi_seeds=3,
        natgrad_vi_iters=800,
        natgrad_q_runs=8,
        natgrad_q_iters=400,
    ),
    "standard": VIScale(
        bbvi_repeats=1_000,
        bbvi_seeds=4,
        bbvi_iters=1_500,
        natgrad_substeps=1_000,
        natgrad_mc=200_000,
        natgrad_vi_seeds=5,
        natgrad_vi_iters=2_000,
        natgrad_q_runs=16,
        natgrad_q_iters=600,
    ),
    "full": VIScale(
        bbvi_repeats=5_000,
        bbvi_seeds=20,
        bbvi_iters=5_000,
        natgrad_substeps=10_000,
        natgrad_mc=1_000_000,
        natgrad_vi_seeds=20,
        natgrad_vi_iters=5_000,
        natgrad_q_runs=64,
        natgrad_q_iters=1_000,
    ),
}
