"""What every part of the course builds on; depends on nothing else in ``helpers``.

config (setup, device, the scale presets), validation (the only home of argument checks: objects, scalars, shapes,
values), stats (uncertainty of Monte Carlo numbers), verdict (``verdict``, the one rule for comparing methods over
seeds), densities (log 2 pi and the Normal, Gamma, Bernoulli log-densities), sampling (Gamma draws from a generator),
families (mean-field reparameterized families), quadrature (deterministic references, Gauss–Hermite moments),
optimize (a deterministic ``maximize``), timing (``Timer``), plotting (the course style), tables (results tables shown
as HTML in a notebook, as text elsewhere) and traces (iterations until an optimization trace reaches a level).
"""

from helpers.common.config import SCALE_NAMES, Scale, Setup, get_device, get_scale, setup
from helpers.common.densities import (
    HALF_LOG_2PI,
    LOG_2PI,
    bernoulli_log_prob,
    gamma_log_prob,
    normal_log_prob,
    normal_log_prob_from_noise,
    normal_log_prob_log_var,
    standard_normal_log_prob,
)
from helpers.common.families import FAMILIES, LogNormal, Normal, get_family
from helpers.common.optimize import maximize
from helpers.common.quadrature import (
    GaussHermiteMoments,
    checked_quad,
    gauss_hermite,
    gauss_hermite_moments,
    normal_positive_log_moment,
    normal_positive_moments,
)
from helpers.common.sampling import sample_gamma
from helpers.common.stats import (
    Z_95,
    exact_variance_se,
    interval_table,
    mean_and_se,
    mean_central_moments,
    paired_ratio_and_se,
    quantile_interval,
    ratio_and_se,
    total_variance_and_se,
    total_variance_from_pairs,
    total_variance_terms,
    variance_and_se,
    z_scores,
)
from helpers.common.tables import Table, show_table
from helpers.common.timing import Timer
from helpers.common.traces import first_hit
from helpers.common.verdict import Verdict, verdict

__all__ = [
    "FAMILIES",
    "HALF_LOG_2PI",
    "LOG_2PI",
    "SCALE_NAMES",
    "Z_95",
    "GaussHermiteMoments",
    "LogNormal",
    "Normal",
    "Scale",
    "Setup",
    "Table",
    "Timer",
    "Verdict",
    "bernoulli_log_prob",
    "checked_quad",
    "exact_variance_se",
    "first_hit",
    "gamma_log_prob",
    "gauss_hermite",
    "gauss_hermite_moments",
    "get_device",
    "get_family",
    "get_scale",
    "interval_table",
    "maximize",
    "mean_and_se",
    "mean_central_moments",
    "normal_log_prob",
    "normal_log_prob_from_noise",
    "normal_log_prob_log_var",
    "normal_positive_log_moment",
    "normal_positive_moments",
    "paired_ratio_and_se",
    "ratio_and_se",
    "sample_gamma",
    "setup",
    "show_table",
    "standard_normal_log_prob",
    "total_variance_and_se",
    "total_variance_from_pairs",
    "total_variance_terms",
    "variance_and_se",
    "verdict",
    "quantile_interval",
    "z_scores",
]
