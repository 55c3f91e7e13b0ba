"""The deep part's scale presets (helpers/deep/scales.py): what the VAE and IWAE chapters promise of them."""

from __future__ import annotations

import helpers


def _deep(name: str):
    return helpers.common.get_scale(name).deep


def test_standard_scale_trains_on_the_full_training_set_with_replicated_seeds():
    quick, standard, full = (_deep(name) for name in ("quick", "standard", "full"))
    assert standard.vae_train_images is None and full.vae_train_images is None  # all 60,000 images (issue 12)
    assert quick.vae_train_images is not None and quick.vae_train_images <= 2_000  # CI stays in seconds
    # the IWAE chapter's reference runs see all 60,000 images; its live K = 50 pair sees the first ones (the budget)
    assert standard.iwae_k50_train_images is not None and standard.iwae_k50_train_images >= 5_000
    assert full.iwae_k50_train_images is None
    assert standard.vae_seeds >= 3 and full.vae_seeds >= standard.vae_seeds  # verdicts from >= 3 seeds
    assert quick.vae_seeds >= 2  # an SE across seeds needs two
    for field in ("iwae_epochs_k50", "iwae_loglik_images", "iwae_loglik_samples", "vae_sweep_epochs"):
        assert getattr(quick, field) <= getattr(standard, field) <= getattr(full, field), field
    assert full.iwae_epochs_k50 == full.iwae_epochs  # Burda's passes for all six runs (test_config)
    assert full.iwae_loglik_samples == 5_000  # and their k
    assert standard.epochs >= 2 and standard.vae_sweep_epochs >= 2  # the flattening criterion needs two epochs
