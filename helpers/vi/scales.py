"""Sizes of the part *Variational inference* at each scale, read as ``cfg.scale.vi.<field>``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VIScale:
    """Attributes (chapter *Black-box VI*; the ELBO and CAVI chapters are exact and need no sizes):
    bbvi_repeats: independent gradient estimates per estimator when measuring gradient variance.
    bbvi_seeds: independent BBVI runs per estimator when counting iterations to an ELBO level.
    bbvi_iters: BBVI iterations per run on the hierarchical model.
    """

    bbvi_repeats: int
    bbvi_seeds: int
    bbvi_iters: int


SCALES = {
    "quick": VIScale(bbvi_repeats=300, bbvi_seeds=3, bbvi_iters=800),
    "standard": VIScale(bbvi_repeats=1_000, bbvi_seeds=4, bbvi_iters=1_500),
    "full": VIScale(bbvi_repeats=5_000, bbvi_seeds=20, bbvi_iters=5_000),
}
