"""Scale presets, device choice and the one set-up call every notebook makes.

Importing this module changes no global state. :func:`setup` is the only function that does, and every
notebook calls it once, in its imports-and-seed cell::

    cfg = helpers.setup(seed=0)
    cfg.scale.num_repeats, cfg.device, cfg.generator

The scale is read from the environment variable ``BOOK_SCALE`` (``quick`` | ``standard`` | ``full``):
``make test`` runs the notebooks at ``quick``, ``make book`` at ``standard``, and ``full`` reproduces
paper-scale experiments (a GPU is advised for the deep-model chapters).
"""

from __future__ import annotations

import numbers
import os
import random
from dataclasses import dataclass

import numpy as np
import torch

ENV_VAR = "BOOK_SCALE"
DEFAULT_SCALE = "standard"


@dataclass(frozen=True)
class Scale:
    """Sizes that change with the scale preset; chapters read them instead of hard-coding numbers.

    Attributes:
        name: ``"quick"``, ``"standard"`` or ``"full"``.
        num_repeats: independent repetitions of an estimator when measuring its mean and variance
            (chapter *Gradient estimators*).
        sample_sizes: the grid of Monte Carlo sample sizes ``M`` for the variance-versus-``M`` study.
        chunk_draws: at most this many draws are held in memory at once when repetitions are vectorized
            (keeps Binder's 2 GB machines safe). It decides how the noise is drawn, so results are reproduced
            exactly only with the same value; their distribution does not depend on it.
        bbvi_repeats: independent gradient estimates per estimator when measuring gradient variance
            (chapter *Black-box VI*).
        bbvi_seeds: independent BBVI runs per estimator when counting iterations to an ELBO level (*Black-box VI*).
        bbvi_iters: BBVI iterations per run on the hierarchical model (*Black-box VI*).

    Deep latent variable models (chapters *The variational autoencoder*, *Importance-weighted bounds*,
    *Sticking the landing*). Measured on the 2-core CPU, one torch thread, Burda et al.'s 784-200-200-50 network:
    about 0.4 ms per training image at K = 1, 0.5 ms at K = 5, 2.2 ms at K = 50; 0.1 s per image for the
    k = 5,000 log-likelihood.

    Attributes:
        dlvm_dataset: the ``helpers.load_images`` name (``"auto"``: MNIST, else Fashion-MNIST, else digits).
        dlvm_train_images: training images used (``limit``); None: the whole training set (60,000).
        dlvm_test_images: test images for the per-epoch test objective and the active units.
        dlvm_epochs: epochs of each training run in the VAE and sticking-the-landing chapters.
        iwae_epochs: epochs (passes) of each IWAE / VAE run in the importance-weighted chapter (Burda et al.
            train for 3,280 passes: ``full``).
        loglik_images: test images on which the importance-sampled log p(x) is estimated.
        loglik_samples: its number of importance samples k (Burda et al.: 5,000).
        vae_latent_dims: latent dimensions of the AEVB sweep in *The variational autoencoder* (Kingma & Welling
            2014, Figure 2, use 3 to 200; we use 2, 10, 20).
        vae_sweep_epochs: epochs of each run of that sweep (9 runs: 3 dimensions x {L^A, L^B, Gaussian decoder}).
        vae_gradient_pairs: pairs of independent gradient draws per estimator when *The variational autoencoder*
            measures the variance of the SGVB gradients.
        stl_epochs: epochs of each training run in the sticking-the-landing chapter (five runs).
        stl_grad_repeats: independent gradient draws per estimator when that chapter measures the variance of the
            encoder gradient during training.
    """

    name: str
    num_repeats: int
    sample_sizes: tuple[int, ...]
    chunk_draws: int = 2_000_000
    # deep latent variable models
    dlvm_dataset: str = "auto"
    dlvm_train_images: int | None = 10_000
    dlvm_test_images: int = 2_000
    dlvm_epochs: int = 10
    iwae_epochs: int = 3
    loglik_images: int = 200
    loglik_samples: int = 5_000
    # chapter *Black-box VI*
    bbvi_repeats: int = 1_000
    bbvi_seeds: int = 4
    bbvi_iters: int = 1_500
    # chapter *The variational autoencoder*
    vae_latent_dims: tuple[int, ...] = (2, 10, 20)
    vae_sweep_epochs: int = 5
    vae_gradient_pairs: int = 200
    stl_epochs: int = 5
    stl_grad_repeats: int = 20


SCALES: dict[str, Scale] = {
    "quick": Scale(
        name="quick",
        num_repeats=1_000,
        sample_sizes=(1, 10, 100, 1_000, 10_000),
        # deep latent variable models: a few seconds per training run
        dlvm_train_images=1_000,
        dlvm_test_images=500,
        dlvm_epochs=2,
        iwae_epochs=2,
        loglik_images=20,
        loglik_samples=500,
        bbvi_repeats=300,
        bbvi_seeds=3,
        bbvi_iters=800,
        # chapter *The variational autoencoder*
        vae_sweep_epochs=1,
        vae_gradient_pairs=50,
        stl_epochs=2,
        stl_grad_repeats=10,
    ),
    "standard": Scale(
        name="standard",
        num_repeats=2_000,
        sample_sizes=(1, 3, 10, 30, 100, 300, 1_000, 3_000, 10_000),
        # deep latent variable models: minutes per chapter on 2 CPU cores
        dlvm_train_images=10_000,
        dlvm_test_images=2_000,
        dlvm_epochs=10,
        iwae_epochs=3,
        loglik_images=200,
        loglik_samples=5_000,
        # chapter *The variational autoencoder*
        vae_sweep_epochs=5,
        vae_gradient_pairs=200,
        stl_epochs=5,
        stl_grad_repeats=20,
    ),
    "full": Scale(
        name="full",
        num_repeats=10_000,
        sample_sizes=(1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1_000, 2_000, 3_000, 5_000, 10_000),
        chunk_draws=20_000_000,
        # deep latent variable models: paper scale (Burda et al.'s 3,280 passes; a GPU is advised)
        dlvm_train_images=None,
        dlvm_test_images=10_000,
        dlvm_epochs=100,
        iwae_epochs=3_280,
        loglik_images=10_000,
        loglik_samples=5_000,
        bbvi_repeats=5_000,
        bbvi_seeds=20,
        bbvi_iters=5_000,
        # chapter *The variational autoencoder*
        vae_sweep_epochs=100,
        vae_gradient_pairs=1_000,
        stl_epochs=100,
        stl_grad_repeats=100,
    ),
}


def get_scale(name: str | None = None) -> Scale:
    """Return the scale preset ``name``, or the one named by ``$BOOK_SCALE`` (default ``standard``).

    Raises:
        ValueError: if the name is not one of ``quick``, ``standard``, ``full``.
    """
    chosen = name if name is not None else os.environ.get(ENV_VAR, DEFAULT_SCALE)
    key = chosen.strip().lower()
    if key not in SCALES:
        raise ValueError(
            f"scale {chosen!r} is unknown (from {'the argument' if name is not None else '$' + ENV_VAR}); "
            f"use one of {sorted(SCALES)}, e.g. `export {ENV_VAR}=quick`."
        )
    return SCALES[key]


def get_device(prefer: str | None = None) -> torch.device:
    """CUDA when it is present, the CPU otherwise; ``prefer="cpu"`` forces the CPU.

    Every chapter runs the same code path on both devices.
    """
    if prefer is not None:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Setup:
    """What :func:`setup` returns: the seed, the scale preset, the device and a seeded generator on it."""

    seed: int
    scale: Scale
    device: torch.device
    generator: torch.Generator


def setup(seed: int = 0, *, scale: str | None = None, device: str | None = None) -> Setup:
    """Seed every random number generator and set numeric and plotting defaults; call once per notebook.

    Seeds Python's ``random``, NumPy's legacy global generator and PyTorch (CPU and CUDA); sets PyTorch's
    print precision (5 digits) and the course's matplotlib style (:func:`helpers.plotting.use_course_style`).

    Args:
        seed: the seed for every generator.
        scale: overrides ``$BOOK_SCALE`` (``quick`` | ``standard`` | ``full``).
        device: overrides the device choice (``"cpu"`` or ``"cuda"``).

    Returns:
        A :class:`Setup` with ``generator``, a ``torch.Generator`` seeded with ``seed`` on ``device``:
        pass it to every helper that draws random numbers.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int (got {seed!r}); pass e.g. seed=0.")
    seed = int(seed)
    chosen_scale = get_scale(scale)
    chosen_device = get_device(device)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global generator a reader may call
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.set_printoptions(precision=5)
    from helpers.plotting import use_course_style  # local import: matplotlib only when a notebook asks

    use_course_style()
    generator = torch.Generator(device=chosen_device).manual_seed(seed)
    return Setup(seed=seed, scale=chosen_scale, device=chosen_device, generator=generator)
