"""Part *Deep latent variable models*: image data (``data``), the VAE (``vae``), its objectives (``objectives``),
one training loop (``training``, with ``checkpoints``, ``history``, ``schedules``), encoder diagnostics
(``evaluation``), image grids (``images``), the conjugate-Gaussian checks of the IWAE and STL chapters (``toy``),
binary latents: the Bernoulli VAE (``bernoulli_vae``), the gradient estimators given their noise
(``discrete_estimators``), their chapter-facing forms (``discrete``, ``relaxations``) and objectives
(``discrete_objectives``), and the chapters' long-trained runs, stored verified (``reference``:
``deep.reference.runs``, ``.load``). The engine: ``networks`` (one model or R stacked replicas), ``objectives``
(values that take their noise), ``training`` and ``loop`` (the one loop), ``optimizers``, ``runs`` (runs as values).
Chapters ``book/deep/*.ipynb`` use it as ``from helpers import deep``; sizes: ``cfg.scale.deep.<chapter>``
(``scales.py``)."""

from helpers.deep import diffusion, reference, scales
from helpers.deep.bernoulli_vae import BernoulliVAE, bernoulli_kl
from helpers.deep.data import (
    DatasetNotAvailableError,
    available_datasets,
    binarize,
    data_root,
    fixed_binarization,
    load_images,
    read_idx,
)
from helpers.deep.discrete import (
    arm_gradient,
    bernoulli_score_function_gradient,
    binary_states,
    disarm_gradient,
    discrete_elbo,
    discrete_iwelbo,
    exact_expectation,
    exact_gradient,
    expectation_surrogate,
    sample_bernoulli,
)
from helpers.deep.discrete_objectives import DiscreteELBO, DiscreteIWELBO
from helpers.deep.evaluation import (
    active_units,
    kl_per_dimension,
    latent_activity,
    log_evidence_se,
    standard_normal_kl,
    test_metrics,
)
from helpers.deep.history import History
from helpers.deep.images import tile_images
from helpers.deep.networks import stack, unstack
from helpers.deep.objectives import (
    ELBO,
    IWELBO,
    Objective,
    elbo,
    iwelbo,
    log_evidence,
    log_weights,
)
from helpers.deep.optimizers import Adam
from helpers.deep.relaxations import categorical_reparametrize, gumbel_max_sample, relaxed_bernoulli
from helpers.deep.runs import ModelSpec, Result, Run, run_key, train_runs
from helpers.deep.schedules import CyclicalBeta, LinearBeta, LinearDecayLR, StagedLR, cyclical_beta, linear_beta
from helpers.deep.toy import elbo_gradient_terms, elbo_gradient_variance, gaussian_iwelbo, gaussian_log_weights
from helpers.deep.training import TEST_BINARIZATION_SEED, TRAIN_BINARIZATION_SEED, train, train_replicas
from helpers.deep.vae import VAE

__all__ = [
    "ELBO",
    "IWELBO",
    "Objective",
    "Adam",
    "CyclicalBeta",
    "LinearBeta",
    "LinearDecayLR",
    "StagedLR",
    "stack",
    "unstack",
    "ModelSpec",
    "Result",
    "Run",
    "run_key",
    "train_runs",
    "test_metrics",
    "log_evidence_se",
    "TEST_BINARIZATION_SEED",
    "TRAIN_BINARIZATION_SEED",
    "VAE",
    "DatasetNotAvailableError",
    "History",
    "active_units",
    "available_datasets",
    "binarize",
    "cyclical_beta",
    "data_root",
    "diffusion",
    "reference",
    "scales",
    "elbo",
    "elbo_gradient_terms",
    "elbo_gradient_variance",
    "fixed_binarization",
    "gaussian_iwelbo",
    "gaussian_log_weights",
    "iwelbo",
    "kl_per_dimension",
    "latent_activity",
    "linear_beta",
    "load_images",
    "log_evidence",
    "log_weights",
    "read_idx",
    "standard_normal_kl",
    "tile_images",
    "train",
    "train_replicas",
    "BernoulliVAE",
    "DiscreteELBO",
    "DiscreteIWELBO",
    "arm_gradient",
    "bernoulli_kl",
    "binary_states",
    "discrete_elbo",
    "discrete_iwelbo",
    "disarm_gradient",
    "exact_expectation",
    "exact_gradient",
    "expectation_surrogate",
    "sample_bernoulli",
    "bernoulli_score_function_gradient",
    "categorical_reparametrize",
    "gumbel_max_sample",
    "relaxed_bernoulli",
]
