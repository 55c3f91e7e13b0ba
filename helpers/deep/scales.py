"""Sizes of the part *Deep latent variable models* at each scale: one frozen dataclass per chapter, read as
``cfg.scale.deep.<chapter>.<field>`` (e.g. ``cfg.scale.deep.iwae.epochs``).

A new chapter adds its dataclass (each field documented), its presets as a table with one row per field and one
column per scale (quick, standard, full; :func:`_presets`), and a field of :class:`DeepScale`; nothing else changes.
Sizes several chapters use (the dataset, the test images, the repetitions on a toy model) are fields of each chapter
that uses them, with the same values today: a chapter's sizes are read in one place and can change without moving
another chapter's numbers.

``quick`` takes a few seconds per training run; ``standard`` minutes per chapter on 2 CPU cores; ``full`` is paper
scale (Burda et al.'s 3,280 passes; a GPU is advised). Measured on the 2-core CPU, one torch thread, Burda et al.'s
784-200-200-50 network: see benchmarks/RESULTS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from helpers.common.config import SCALE_NAMES

T = TypeVar("T")


def _presets(sizes: type[T], **rows: tuple) -> dict[str, T]:
    """{scale name: ``sizes(...)``} from one row per field: its values at quick, standard and full, in that order (a
    table that reads across the scales; a missing or unknown field is a TypeError of the dataclass)."""
    for field, values in rows.items():
        if len(values) != len(SCALE_NAMES):
            raise ValueError(f"{sizes.__name__}.{field} needs one value per scale {SCALE_NAMES} (got {values!r}).")
    return {name: sizes(**{field: values[i] for field, values in rows.items()}) for i, name in enumerate(SCALE_NAMES)}


@dataclass(frozen=True)
class VAEScale:
    """Chapter *The variational autoencoder* (``book/deep/vae.ipynb``).

    Attributes:
        dataset: the ``helpers.deep.load_images`` name (``"auto"``: MNIST, else Fashion-MNIST, else digits).
        train_images: training images (``limit``); None: the whole training set (60,000 for MNIST and Fashion-MNIST).
        test_images: test images for the per-epoch test objective and the active units.
        epochs: epochs of each live training run (the verdicts rest on the reference runs' 100 epochs).
        seeds: independent training seeds (initial weights, shuffles, noise) of every compared run; the verdicts
            come from the paired differences across seeds.
        loglik_images: test images on which the importance-sampled log p(x) is estimated.
        loglik_samples: its number of importance samples k (Burda et al.: 5,000).
        reference_images: test images on which each loaded reference run is evaluated in the build (ELBO and
            log p(x) with the manifest's k = 5,000, checked against the manifest: ``deep.reference.evaluate_in_build``).
        latent_dims: latent dimensions of the AEVB sweep (Kingma & Welling 2014, Figure 2, use 3 to 200).
        sweep_epochs: epochs of each run of that sweep (9 runs: 3 dimensions x {L^A, L^B, Gaussian decoder}).
        sweep_train_images: training images of each run of that sweep (the first ones); None: all of
            ``train_images`` (the sweep's nine runs are the chapter's largest cost; its verdicts are about the
            first epochs either way).
        gradient_pairs: pairs of independent gradient draws per estimator when measuring the variance of the SGVB
            gradients.
    """

    dataset: str
    train_images: int | None
    test_images: int
    epochs: int
    seeds: int
    loglik_images: int
    loglik_samples: int
    reference_images: int
    latent_dims: tuple[int, ...]
    sweep_epochs: int
    gradient_pairs: int
    sweep_train_images: int | None


# fmt: off
VAE = _presets(
    VAEScale,
    #                   quick        standard     full
    dataset=           ("auto",      "auto",      "auto"),
    train_images=      (1_000,       None,        None),
    test_images=       (500,         2_000,       10_000),
    epochs=            (2,           4,           100),
    seeds=             (2,           3,           5),
    loglik_images=     (20,          50,          10_000),
    loglik_samples=    (500,         5_000,       5_000),
    reference_images=  (20,          50,          100),
    latent_dims=       ((2, 10, 20), (2, 10, 20), (2, 10, 20)),
    sweep_epochs=      (1,           3,           100),
    gradient_pairs=    (50,          200,         1_000),
    sweep_train_images=(None,        10_000,      None),
)
# fmt: on


@dataclass(frozen=True)
class IWAEScale:
    """Chapter *Importance-weighted bounds* (``book/deep/iwae.ipynb``).

    Attributes:
        num_repeats: independent repetitions of a Monte Carlo estimate on the conjugate Gaussian toy model.
        dataset: the ``helpers.deep.load_images`` name (``"auto"``: MNIST, else Fashion-MNIST, else digits).
        train_images: training images (``limit``); None: the whole training set (60,000).
        test_images: test images for the per-epoch test objective.
        seeds: independent training seeds of every compared run; the verdicts come from paired differences.
        epochs: passes of each K = 1 and K = 5 run (IWAE and VAE; Burda et al. train for 3,280 passes: ``full``).
        epochs_k50: passes of the two K = 50 runs (they cost about 25 times a K = 1 pass).
        k50_train_images: training images of those two K = 50 runs (the first ones of the training set); None: all
            of ``train_images``.
        loglik_images, loglik_samples: test images and importance samples k of the log p(x) estimate of each of
            the chapter's 6 x ``seeds`` models.
        reference_images: test images on which each loaded reference run is evaluated in the build.
    """

    num_repeats: int
    dataset: str
    train_images: int | None
    test_images: int
    seeds: int
    epochs: int
    epochs_k50: int
    k50_train_images: int | None
    loglik_images: int
    loglik_samples: int
    reference_images: int


# fmt: off
IWAE = _presets(
    IWAEScale,
    #                 quick    standard    full
    num_repeats=     (1_000,   2_000,      10_000),
    dataset=         ("auto",  "auto",     "auto"),
    train_images=    (1_000,   30_000,     None),
    test_images=     (500,     2_000,      10_000),
    seeds=           (2,       3,          5),
    epochs=          (2,       2,          3_280),
    epochs_k50=      (1,       1,          3_280),
    k50_train_images=(None,    2_500,      None),  # standard: one K = 50 pass over 60,000 images costs ~4 min per run
    loglik_images=   (20,      100,        10_000),
    loglik_samples=  (200,     1_000,      5_000),
    reference_images=(20,      50,         100),
)
# fmt: on


@dataclass(frozen=True)
class STLScale:
    """Chapter *Sticking the landing* (``book/deep/stl.ipynb``).

    Attributes:
        num_repeats: independent repetitions of a Monte Carlo estimate on the conjugate Gaussian toy model.
        dataset: the ``helpers.deep.load_images`` name (``"auto"``: MNIST, else Fashion-MNIST, else digits).
        train_images: training images (``limit``); None: the whole training set (60,000).
        test_images: test images for the per-epoch test objective.
        epochs: passes of each training run (five estimators).
        seeds: independent training seeds (initial weights, shuffles, noise) of each of those five runs, stacked
            into one replicated model; seed r of every estimator starts from the same weights with the same stream,
            so the estimators' verdicts come from paired differences across seeds.
        grad_repeats: independent gradient draws per estimator when measuring the variance of the encoder gradient
            during training.
        reference_images: test images on which each loaded reference run is evaluated in the build (ELBO and
            log p(x) with the manifest's k = 5,000, checked against the manifest).
    """

    num_repeats: int
    dataset: str
    train_images: int | None
    test_images: int
    epochs: int
    seeds: int
    grad_repeats: int
    reference_images: int


# fmt: off
STL = _presets(
    STLScale,
    #                 quick    standard    full
    num_repeats=     (1_000,   2_000,      10_000),
    dataset=         ("auto",  "auto",     "auto"),
    train_images=    (1_000,   10_000,     None),
    test_images=     (500,     2_000,      10_000),
    epochs=          (2,       3,          100),
    seeds=           (2,       3,          5),
    grad_repeats=    (10,      20,         100),
    reference_images=(10,      50,         100),
)
# fmt: on


@dataclass(frozen=True)
class DiscreteScale:
    """Chapter *Gradients for discrete latent variables* (``book/deep/discrete.ipynb``).

    Attributes:
        num_repeats: the unit of repetitions of the one-bit and Bernoulli checks (they draw 10 or 20 times it).
        grad_repeats: independent draws of every estimator's gradient on the enumerable Bernoulli VAE (bias in
            SEs and variance against the exact gradient).
        dataset: the ``helpers.deep.load_images`` name (``"auto"``: MNIST, else Fashion-MNIST, else digits).
        train_images: training images of the 200-bit image benchmark; None: the whole training set.
        test_images: test images on which that benchmark evaluates its multi-sample bound after every pass.
        epochs: passes of each of its training runs (one per estimator and network).
        seeds: independent training seeds per estimator in that benchmark (replicated verdicts; trained stacked).
        reference_images: test images on which each of the ten loaded reference runs is evaluated in the build (ELBO
            and log p(x) with the manifest's k = 1,000, checked against the manifest).
    """

    num_repeats: int
    grad_repeats: int
    dataset: str
    train_images: int | None
    test_images: int
    epochs: int
    seeds: int
    reference_images: int


# fmt: off
DISCRETE = _presets(  # standard: the benchmark's budget, about 4 minutes on one core
    DiscreteScale,
    #                 quick    standard    full
    num_repeats=     (1_000,   2_000,      10_000),
    grad_repeats=    (300,     2_000,      10_000),
    dataset=         ("auto",  "auto",     "auto"),
    train_images=    (400,     4_000,      None),
    test_images=     (250,     200,        5_000),
    epochs=          (1,       4,          100),
    seeds=           (3,       3,          5),
    reference_images=(10,      30,         100),
)
# fmt: on


@dataclass(frozen=True)
class DiffusionScale:
    """Chapter *Diffusion models* (``book/deep/diffusion.ipynb``).

    Attributes:
        mc_draws: draws of the forward chain in the Monte Carlo check of the bound.
        train_epochs: epochs (passes over 20,000 points, batch 256) of each 2-D noise-network run (two runs).
        eval_points: test points on which each 2-D bound is evaluated over all T terms.
        image_epochs: epochs (passes over 10 dequantized copies of the 8 x 8 training digits, batch 128) of the
            noise network on the digits (``seeds`` runs, stacked).
        image_eval: test digits on which the diffusion bound (all T terms) and the VAE bound are evaluated.
        vae_epochs: epochs of the VAE trained on the same dequantized digits for comparison.
        seeds: independent seeds of both digit models (the diffusion-vs-VAE verdict uses their spread).
    """

    mc_draws: int
    train_epochs: int
    eval_points: int
    image_epochs: int
    image_eval: int
    vae_epochs: int
    seeds: int


# fmt: off
DIFFUSION = _presets(
    DiffusionScale,
    #             quick    standard    full
    mc_draws=    (2_000,   20_000,     100_000),
    train_epochs=(12,      50,         640),
    eval_points= (100,     500,        2_000),
    image_epochs=(3,       50,         900),
    image_eval=  (30,      200,        360),
    vae_epochs=  (5,       50,         500),
    seeds=       (3,       3,          3),
)
# fmt: on


@dataclass(frozen=True)
class DeepScale:
    """The part's sizes at one scale, one field per chapter: ``cfg.scale.deep.vae``, ``.iwae``, ``.stl``,
    ``.discrete``, ``.diffusion``."""

    vae: VAEScale
    iwae: IWAEScale
    stl: STLScale
    discrete: DiscreteScale
    diffusion: DiffusionScale


#: {scale name: the part's sizes}, read by ``helpers.setup`` as ``cfg.scale.deep``
SCALES = {
    name: DeepScale(vae=VAE[name], iwae=IWAE[name], stl=STL[name], discrete=DISCRETE[name], diffusion=DIFFUSION[name])
    for name in VAE
}
