"""helpers.deep.diffusion, the package: the chapter's names are there, each module reads in one sitting, and the
modules import each other only through public names (tests/book/test_layout.py checks the whole of deep/)."""

from __future__ import annotations

import inspect
from pathlib import Path

import helpers.deep.diffusion as package
from helpers.deep import diffusion

#: every name the chapter book/deep/diffusion.ipynb and the self-check use
CHAPTER_NAMES = {
    "linear_schedule", "log_snr_schedule", "reverse_variance", "VARIANCES", "q_sample", "posterior", "model_mean",
    "condition_gaussian", "prior_term", "bound_terms", "epsilon_weights", "all_terms", "negative_elbo",
    "importance_probs", "gaussian_optimal_eps", "gaussian_bound", "gaussian_model_nll",
    "gaussian_diffusion_loss_continuous", "GaussianMixture", "NoiseMLP", "sample", "dequantize", "DiffusionELBO",
    "SimpleLoss",
}  # fmt: skip


def test_the_chapter_names_are_in_the_namespace():
    assert CHAPTER_NAMES <= set(diffusion.__all__)
    for name in diffusion.__all__:
        obj = getattr(diffusion, name)
        if callable(obj) and name != "EpsModel":
            assert inspect.getdoc(obj), f"diffusion.{name} has no docstring"


def test_modules_read_in_one_sitting():
    folder = Path(package.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert len(sizes) >= 7 and max(sizes.values()) <= 300, sizes
