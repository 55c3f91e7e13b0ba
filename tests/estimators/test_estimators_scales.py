"""The part's sizes (helpers/estimators/scales.py), one frozen dataclass per chapter."""

from __future__ import annotations

from helpers.estimators import scales


def _grow(presets: dict, *fields: str) -> None:
    quick, standard, full = (presets[name] for name in ("quick", "standard", "full"))
    for field in fields:
        assert getattr(quick, field) <= getattr(standard, field) <= getattr(full, field), field


def test_the_gradient_estimators_sizes():
    _grow(scales.GRADIENT_ESTIMATORS, "num_repeats", "adam_seeds", "chunk_draws")
    assert scales.GRADIENT_ESTIMATORS["quick"].num_repeats >= 1_000  # the variance study needs >= 1,000 repetitions
    for preset in scales.GRADIENT_ESTIMATORS.values():
        assert preset.sample_sizes[0] == 1 and preset.sample_sizes[-1] == 10_000
        assert list(preset.sample_sizes) == sorted(set(preset.sample_sizes))


def test_the_natural_gradients_sizes():
    _grow(scales.NATURAL_GRADIENTS, "substeps", "mc_draws", "vi_seeds", "vi_iters", "q_runs", "q_iters")
    assert scales.NATURAL_GRADIENTS["quick"].vi_seeds >= 2 and scales.NATURAL_GRADIENTS["quick"].q_runs >= 2
    for name, part in scales.SCALES.items():
        assert part.natural_gradients == scales.NATURAL_GRADIENTS[name]
        assert part.gradient_estimators == scales.GRADIENT_ESTIMATORS[name]
