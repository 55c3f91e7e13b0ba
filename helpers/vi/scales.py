"""Sizes of the part *Variational inference* at each scale: one frozen dataclass per chapter, read as
``cfg.scale.vi.<chapter>.<field>`` (e.g. ``cfg.scale.vi.bbvi.iters``).

The chapters *The ELBO* and *CAVI* are exact and need no sizes. A new chapter adds its dataclass and its three
presets here, and a field of :class:`VIScale`; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BBVIScale:
    """Chapter *Black-box VI* (``book/vi/bbvi.ipynb``).

    Attributes:
        repeats: independent gradient estimates per estimator when measuring gradient variance.
        seeds: independent BBVI runs per estimator when counting iterations to an ELBO level.
        iters: BBVI iterations per run on the hierarchical model.
    """

    repeats: int
    seeds: int
    iters: int


BBVI = {
    "quick": BBVIScale(repeats=300, seeds=3, iters=800),
    "standard": BBVIScale(repeats=1_000, seeds=4, iters=1_500),
    "full": BBVIScale(repeats=5_000, seeds=20, iters=5_000),
}


@dataclass(frozen=True)
class VIScale:
    """The part's sizes at one scale, one field per chapter that has sizes: ``cfg.scale.vi.bbvi``."""

    bbvi: BBVIScale


#: {scale name: the part's sizes}, read by ``helpers.setup`` as ``cfg.scale.vi``
SCALES = {name: VIScale(bbvi=BBVI[name]) for name in BBVI}
