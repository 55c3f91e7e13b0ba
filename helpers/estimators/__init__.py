"""Part *Monte Carlo gradient estimators*: the Monte Carlo ELBO, the score-function and reparameterization
gradients (``monte_carlo``) and their per-draw terms (``terms``), score-function baselines (``baselines``), the
support warning (``support``), and the log-normal q fitted with natural-gradient steps (``lognormal_q``; the chapter
*Natural gradients* also uses the exponential families, Gamma fits and natural-gradient VI of the part before,
``helpers.vi``). Chapters ``book/estimators/*.ipynb`` use it as ``from helpers import estimators``; sizes:
``cfg.scale.estimators.<chapter>`` (``scales.py``)."""

from helpers.estimators import scales
from helpers.estimators.baselines import (
    BASELINES,
    baseline_for,
    check_baseline,
    leave_one_out_baseline,
    same_draws_baseline,
    separate_draws_baseline,
    separate_noise,
)
from helpers.estimators.lognormal_q import Q_METHODS, QFit, log_scale_gradient, lognormal_q_fit
from helpers.estimators.monte_carlo import (
    RepeatedEstimates,
    draw_noise,
    elbo_estimate,
    reparameterization_gradient,
    repeated_estimates,
    score_function_gradient,
)
from helpers.estimators.support import SupportWarning, warn_outside_support
from helpers.estimators.terms import LatentModel, elbo_terms, reparameterization_terms, score_function_terms

__all__ = [
    "BASELINES",
    "LatentModel",
    "Q_METHODS",
    "QFit",
    "RepeatedEstimates",
    "SupportWarning",
    "baseline_for",
    "check_baseline",
    "draw_noise",
    "elbo_estimate",
    "elbo_terms",
    "leave_one_out_baseline",
    "log_scale_gradient",
    "lognormal_q_fit",
    "reparameterization_gradient",
    "reparameterization_terms",
    "repeated_estimates",
    "same_draws_baseline",
    "scales",
    "score_function_gradient",
    "score_function_terms",
    "separate_draws_baseline",
    "separate_noise",
    "warn_outside_support",
]
