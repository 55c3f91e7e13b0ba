"""Part *Monte Carlo gradient estimators*: the Monte Carlo ELBO, the score-function and reparameterization
gradients (``monte_carlo``), score-function baselines (``baselines``) and the support warning (``support``).
Chapters ``book/estimators/*.ipynb`` use it as ``from helpers import estimators``; sizes: ``cfg.scale.estimators``."""

from helpers.common.config import register_scales
from helpers.estimators import scales
from helpers.estimators.baselines import leave_one_out_baseline, same_draws_baseline, separate_draws_baseline
from helpers.estimators.monte_carlo import (
    BASELINES,
    LatentModel,
    RepeatedEstimates,
    baseline_for,
    check_baseline,
    draw_noise,
    elbo_estimate,
    elbo_terms,
    reparameterization_gradient,
    reparameterization_terms,
    repeated_estimates,
    score_function_gradient,
    score_function_terms,
    separate_noise,
)
from helpers.estimators.support import SupportWarning, warn_outside_support

register_scales("estimators", scales.SCALES)

__all__ = [
    "BASELINES",
    "LatentModel",
    "RepeatedEstimates",
    "SupportWarning",
    "baseline_for",
    "check_baseline",
    "draw_noise",
    "elbo_estimate",
    "elbo_terms",
    "leave_one_out_baseline",
    "reparameterization_gradient",
    "reparameterization_terms",
    "repeated_estimates",
    "same_draws_baseline",
    "score_function_gradient",
    "score_function_terms",
    "separate_draws_baseline",
    "separate_noise",
    "warn_outside_support",
]
