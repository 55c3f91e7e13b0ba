"""helpers: the tested code behind the course *Variational inference and Monte Carlo gradient estimators*.

Importing the package changes no global state; every notebook starts with ``cfg = helpers.setup(seed=0)``.
"""

from helpers.bbvi import BBVIFit, BBVITrace, bbvi_normal_gamma
from helpers.cavi import TRACE_COLUMNS, CAVIFit, cavi_normal_gamma, normal_gamma_elbo
from helpers.config import SCALES, Scale, Setup, get_device, get_scale, setup
from helpers.control_variates import leave_one_out_baseline, same_draws_baseline, separate_draws_baseline
from helpers.data import (
    DatasetNotAvailableError,
    available_datasets,
    binarize,
    data_root,
    fixed_binarization,
    load_images,
)
from helpers.estimators import (
    RepeatedEstimates,
    draw_noise,
    elbo_estimate,
    elbo_terms,
    reparameterization_gradient,
    reparameterization_terms,
    repeated_estimates,
    score_function_gradient,
    score_function_terms,
)
from helpers.families import LogNormal, Normal, get_family
from helpers.gaussians import gaussian_kl, mean_field_forward_kl, mean_field_reverse_kl
from helpers.image_plots import tile_images  # chapter *The variational autoencoder*
from helpers.models import EXERCISE_DATA, GammaPoisson, HierarchicalModel, NormalGamma
from helpers.quadrature import normal_positive_log_moment, normal_positive_moments
from helpers.stats import Z_95, interval_table, mean_and_se, variance_and_se, z_scores
from helpers.support import SupportWarning

# chapters *Importance-weighted bounds* and *Sticking the landing*: a conjugate Gaussian with exact answers
from helpers.toy_gaussian import (
    ConjugateGaussian,
    elbo_gradient_terms,
    elbo_gradient_variance,
    gaussian_iwelbo,
    gaussian_log_weights,
)

# deep latent variable models (issue 4): data, the VAE, its objectives, the training loop
from helpers.training import History, cyclical_beta, linear_beta, train
from helpers.vae import (
    VAE,
    active_units,
    bernoulli_log_prob,
    elbo,
    gaussian_log_prob,
    iwelbo,
    kl_per_dimension,
    latent_activity,
    log_likelihood,
    log_weights,
    normal_log_prob,
    standard_normal_kl,
    standard_normal_log_prob,
)

__version__ = "0.1.0"

__all__ = [
    # chapters *Importance-weighted bounds* and *Sticking the landing*
    "ConjugateGaussian",
    "elbo_gradient_terms",
    "elbo_gradient_variance",
    "gaussian_iwelbo",
    "gaussian_log_weights",
    # chapter *Coordinate ascent VI*
    "TRACE_COLUMNS",
    "CAVIFit",
    "cavi_normal_gamma",
    "normal_gamma_elbo",
    # chapter *The evidence lower bound*
    "gaussian_kl",
    "mean_field_forward_kl",
    "mean_field_reverse_kl",
    # chapter *Black-box VI* (the building blocks: helpers.bbvi)
    "BBVIFit",
    "BBVITrace",
    "HierarchicalModel",
    "bbvi_normal_gamma",
    # the rest
    "EXERCISE_DATA",
    "SCALES",
    "GammaPoisson",
    "LogNormal",
    "Normal",
    "NormalGamma",
    "RepeatedEstimates",
    "Scale",
    "Setup",
    "SupportWarning",
    "Z_95",
    "draw_noise",
    "elbo_estimate",
    "elbo_terms",
    "get_device",
    "get_family",
    "get_scale",
    "interval_table",
    "leave_one_out_baseline",
    "mean_and_se",
    "normal_positive_log_moment",
    "normal_positive_moments",
    "repeated_estimates",
    "reparameterization_gradient",
    "reparameterization_terms",
    "same_draws_baseline",
    "score_function_gradient",
    "score_function_terms",
    "separate_draws_baseline",
    "setup",
    "variance_and_se",
    "z_scores",
    # deep latent variable models
    "DatasetNotAvailableError",
    "available_datasets",
    "binarize",
    "data_root",
    "fixed_binarization",
    "load_images",
    "History",
    "cyclical_beta",
    "linear_beta",
    "train",
    "VAE",
    "active_units",
    "bernoulli_log_prob",
    "elbo",
    "gaussian_log_prob",
    "iwelbo",
    "kl_per_dimension",
    "latent_activity",
    "log_likelihood",
    "log_weights",
    "normal_log_prob",
    "standard_normal_kl",
    "standard_normal_log_prob",
    # chapter *The variational autoencoder*
    "tile_images",
]
