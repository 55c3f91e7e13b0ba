"""The part's sizes (helpers/vi/scales.py), one frozen dataclass per chapter."""

from __future__ import annotations

from helpers.vi import scales


def test_the_bbvi_sizes_grow_with_the_scale():
    quick, standard, full = (scales.BBVI[name] for name in ("quick", "standard", "full"))
    for field in ("repeats", "seeds", "iters"):
        assert getattr(quick, field) <= getattr(standard, field) <= getattr(full, field), field
    assert quick.seeds >= 2  # iterations to a level are compared over seeds
    assert {name: part.bbvi for name, part in scales.SCALES.items()} == scales.BBVI
