"""Sizes of the part *Deep latent variable models* at each scale, read as ``cfg.scale.deep.<field>``.

Measured on the 2-core CPU, one torch thread, Burda et al.'s 784-200-200-50 network: see benchmarks/RESULTS.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeepScale:
    """Attributes:
    num_repeats: independent repetitions of a Monte Carlo estimate on the conjugate Gaussian toy model
        (chapters *Importance-weighted bounds*, *Sticking the landing*).
    dataset: the ``helpers.deep.load_images`` name (``"auto"``: MNIST, else Fashion-MNIST, else digits).
    train_images: training images used (``limit``); None: the whole training set (60,000).
    test_images: test images for the per-epoch test objective and the active units.
    epochs: epochs of each training run in the VAE chapter.
    iwae_epochs: epochs (passes) of each IWAE / VAE run in the importance-weighted chapter (Burda et al. train
        for 3,280 passes: ``full``).
    loglik_images: test images on which the importance-sampled log p(x) is estimated.
    loglik_samples: its number of importance samples k (Burda et al.: 5,000).
    vae_latent_dims: latent dimensions of the AEVB sweep in *The variational autoencoder* (Kingma & Welling 2014,
        Figure 2, use 3 to 200; we use 2, 10, 20).
    vae_sweep_epochs: epochs of each run of that sweep (9 runs: 3 dimensions x {L^A, L^B, Gaussian decoder}).
    vae_gradient_pairs: pairs of independent gradient draws per estimator when *The variational autoencoder*
        measures the variance of the SGVB gradients.
    stl_epochs: epochs (passes) of each training run in the sticking-the-landing chapter (five estimators).
    stl_seeds: independent training seeds (initial weights, shuffles, noise) of each of those five runs, stacked
        into one replicated model; seed r of every estimator starts from the same weights with the same stream, so
        the estimators' verdicts come from paired differences across seeds.
    stl_grad_repeats: independent gradient draws per estimator when that chapter measures the variance of the
        encoder gradient during training.
    diffusion_mc_draws: draws of the forward chain in the diffusion chapter's Monte Carlo check of the bound.
    diffusion_train_epochs: epochs (passes over 20,000 points, batch 256) of each 2-D noise-network run in the
        diffusion chapter (two runs).
    diffusion_eval_points: test points on which each 2-D bound is evaluated over all T terms.
    diffusion_image_epochs: epochs (passes over 10 dequantized copies of the 8 x 8 training digits, batch 128) of
        the noise network on the digits (``diffusion_seeds`` runs, stacked).
    diffusion_image_eval: test digits on which the diffusion bound (all T terms) and the VAE bound are evaluated.
    diffusion_vae_epochs: epochs of the VAE trained on the same dequantized digits for comparison.
    diffusion_seeds: independent seeds of both digit models (the diffusion-vs-VAE verdict uses their spread).
    discrete_repeats: independent draws of every estimator's gradient on the enumerable Bernoulli VAE (chapter
        *Gradients for discrete latent variables*: bias in SEs and variance against the exact gradient).
    discrete_train_images: training images of that chapter's 200-bit image benchmark.
    discrete_epochs: passes of each of its training runs (one per estimator and network).
    discrete_seeds: independent training seeds per estimator in that benchmark (replicated verdicts; trained stacked).
    discrete_test_images: test images on which that benchmark evaluates its multi-sample bound after every pass.
    vae_train_images: training images of the chapters *The variational autoencoder* and *Importance-weighted
        bounds* (``limit``); None: the whole training set (60,000 for MNIST and Fashion-MNIST).
    vae_seeds: independent training seeds (initial weights, shuffles, noise) of every compared run in those two
        chapters; their verdicts come from the paired differences across seeds.
    iwae_epochs_k50: passes of the two K = 50 runs of the importance-weighted chapter (they cost about 25 times
        a K = 1 pass); ``iwae_epochs`` is the passes of the K = 1 and K = 5 runs.
    iwae_k50_train_images: training images of those two K = 50 runs (the first ones of the training set); None: all
        of ``vae_train_images``.
    iwae_loglik_images, iwae_loglik_samples: test images and importance samples k of the log p(x) estimate of each
        of that chapter's 6 x ``vae_seeds`` models.
    reference_images: test images on which a chapter evaluates each loaded reference run in the build (ELBO and
        log p(x) with the manifest's k = 5,000, checked against the manifest: ``deep.reference.evaluate_in_build``).
    """

    num_repeats: int
    train_images: int | None
    test_images: int
    epochs: int
    iwae_epochs: int
    loglik_images: int
    loglik_samples: int
    vae_sweep_epochs: int
    vae_gradient_pairs: int
    stl_epochs: int
    stl_grad_repeats: int
    dataset: str = "auto"
    vae_latent_dims: tuple[int, ...] = (2, 10, 20)
    diffusion_mc_draws: int = 20_000
    diffusion_train_epochs: int = 50
    diffusion_eval_points: int = 500
    diffusion_image_epochs: int = 50
    diffusion_image_eval: int = 200
    diffusion_vae_epochs: int = 50
    diffusion_seeds: int = 3
    discrete_repeats: int = 2_000
    discrete_train_images: int | None = 10_000
    discrete_epochs: int = 8
    discrete_seeds: int = 2
    discrete_test_images: int = 500
    vae_train_images: int | None = None
    vae_seeds: int = 3
    iwae_epochs_k50: int = 1
    iwae_k50_train_images: int | None = None
    iwae_loglik_images: int = 100
    iwae_loglik_samples: int = 1_000
    reference_images: int = 100
    stl_seeds: int = 3


SCALES = {
    "quick": DeepScale(  # a few seconds per training run
        num_repeats=1_000,
        train_images=1_000,
        test_images=500,
        epochs=2,
        iwae_epochs=2,
        loglik_images=20,
        loglik_samples=500,
        vae_sweep_epochs=1,
        vae_gradient_pairs=50,
        stl_epochs=2,
        stl_grad_repeats=10,
        stl_seeds=2,
        diffusion_mc_draws=2_000,
        diffusion_train_epochs=12,
        diffusion_eval_points=100,
        diffusion_image_epochs=3,
        diffusion_image_eval=30,
        diffusion_vae_epochs=5,
        discrete_repeats=300,
        discrete_train_images=400,
        discrete_epochs=1,
        discrete_seeds=3,
        discrete_test_images=250,
        vae_train_images=1_000,
        vae_seeds=2,
        iwae_epochs_k50=1,
        iwae_loglik_images=20,
        iwae_loglik_samples=200,
        reference_images=20,
    ),
    "standard": DeepScale(  # minutes per chapter on 2 CPU cores
        num_repeats=2_000,
        train_images=10_000,
        test_images=2_000,
        epochs=12,
        iwae_epochs=3,
        loglik_images=200,
        loglik_samples=5_000,
        vae_sweep_epochs=3,
        vae_gradient_pairs=200,
        stl_epochs=5,
        stl_grad_repeats=20,
        stl_seeds=3,
        diffusion_mc_draws=20_000,
        diffusion_train_epochs=50,
        diffusion_eval_points=500,
        diffusion_image_epochs=50,
        diffusion_image_eval=200,
        diffusion_vae_epochs=50,
        discrete_repeats=2_000,
        discrete_train_images=4_000,  # the chapter's budget: about 4 minutes on one core
        discrete_epochs=4,
        discrete_seeds=3,
        discrete_test_images=200,
        vae_train_images=None,
        vae_seeds=3,
        iwae_epochs_k50=1,
        iwae_loglik_images=100,
        iwae_loglik_samples=1_000,
    ),
    "full": DeepScale(  # paper scale (Burda et al.'s 3,280 passes; a GPU is advised)
        num_repeats=10_000,
        train_images=None,
        test_images=10_000,
        epochs=100,
        iwae_epochs=3_280,
        loglik_images=10_000,
        loglik_samples=5_000,
        vae_sweep_epochs=100,
        vae_gradient_pairs=1_000,
        stl_epochs=100,
        stl_grad_repeats=100,
        stl_seeds=5,
        diffusion_mc_draws=100_000,
        diffusion_train_epochs=640,
        diffusion_eval_points=2_000,
        diffusion_image_epochs=900,
        diffusion_image_eval=360,
        diffusion_vae_epochs=500,
        discrete_repeats=10_000,
        discrete_train_images=None,
        discrete_epochs=100,
        discrete_seeds=5,
        discrete_test_images=5_000,
        vae_train_images=None,
        vae_seeds=5,
        iwae_epochs_k50=3_280,
        iwae_loglik_images=10_000,
        iwae_loglik_samples=5_000,
    ),
}
