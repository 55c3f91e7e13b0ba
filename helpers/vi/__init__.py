"""Part *Variational inference*: the ELBO (``gaussians``), CAVI (``cavi``), black-box VI (``bbvi``, the estimator;
``bbvi_loop``, the loop; ``normal_gamma_bbvi``, the chapter's model) on the Normal–Gamma mean-field family
(``meanfield``), and the exponential families (``exponential_family``), Gamma fits (``gamma_fit``) and
natural-gradient VI (``ngvi``) that the chapter *Natural gradients* (part *Monte Carlo gradient estimators*) builds on.
Chapters ``book/vi/*.ipynb`` use it as ``from helpers import vi``; sizes that change with the scale:
``cfg.scale.vi.<chapter>`` (``scales.py``)."""

from helpers.vi import scales
from helpers.vi.bbvi import (
    COEFFICIENTS,
    bbvi_terms,
    control_variate_coefficients,
    grouped_gradient,
    rao_blackwellized_weights,
)
from helpers.vi.bbvi_loop import BBVITrace, run_bbvi, step_sizes
from helpers.vi.cavi import TRACE_COLUMNS, CAVIFit, cavi_normal_gamma, check_prior, normal_gamma_elbo
from helpers.vi.exponential_family import (
    FISHER_PARAMETERIZATIONS,
    gamma_fisher,
    gamma_log_partition,
    gamma_mean_sufficient,
    gamma_natural_params,
    normal_gamma_from_natural,
    normal_gamma_log_partition,
    normal_gamma_natural_params,
)
from helpers.vi.gamma_fit import (
    FIT_METHODS,
    GAMMA_PARAMETERIZATIONS,
    GammaFit,
    GammaStats,
    fisher_in,
    fit_gamma,
    gamma_nll,
    gamma_nll_grad,
    gamma_nll_hessian,
    shape_rate_jacobian,
    to_shape_rate,
)
from helpers.vi.gaussians import gaussian_kl, mean_field_forward_kl, mean_field_reverse_kl
from helpers.vi.meanfield import (
    PARAM_NAMES,
    NormalGammaQ,
    check_q_params,
    from_unconstrained,
    log_q,
    log_q_parts,
    q_score,
    sample_q,
    to_unconstrained,
    unconstrained_q_score,
)
from helpers.vi.ngvi import VITrace, bbvi_adam_normal_gamma, conjugate_targets, svi_normal_gamma
from helpers.vi.normal_gamma_bbvi import (
    NORMAL_GAMMA_BLANKET,
    NORMAL_GAMMA_GROUPS,
    BBVIFit,
    NormalGammaData,
    bbvi_normal_gamma,
    default_init,
    log_joint_factors,
    normal_gamma_gradient,
)

__all__ = [
    "COEFFICIENTS",
    "NORMAL_GAMMA_BLANKET",
    "NORMAL_GAMMA_GROUPS",
    "PARAM_NAMES",
    "TRACE_COLUMNS",
    "BBVIFit",
    "BBVITrace",
    "CAVIFit",
    "NormalGammaData",
    "NormalGammaQ",
    "bbvi_normal_gamma",
    "bbvi_terms",
    "cavi_normal_gamma",
    "check_prior",
    "check_q_params",
    "control_variate_coefficients",
    "default_init",
    "from_unconstrained",
    "gaussian_kl",
    "grouped_gradient",
    "log_joint_factors",
    "log_q",
    "log_q_parts",
    "mean_field_forward_kl",
    "mean_field_reverse_kl",
    "normal_gamma_elbo",
    "normal_gamma_gradient",
    "q_score",
    "rao_blackwellized_weights",
    "run_bbvi",
    "sample_q",
    "scales",
    "step_sizes",
    "to_unconstrained",
    "unconstrained_q_score",
    "FISHER_PARAMETERIZATIONS",
    "FIT_METHODS",
    "GAMMA_PARAMETERIZATIONS",
    "GammaFit",
    "GammaStats",
    "VITrace",
    "bbvi_adam_normal_gamma",
    "conjugate_targets",
    "fisher_in",
    "fit_gamma",
    "gamma_fisher",
    "gamma_log_partition",
    "gamma_mean_sufficient",
    "gamma_natural_params",
    "gamma_nll",
    "gamma_nll_grad",
    "gamma_nll_hessian",
    "normal_gamma_from_natural",
    "normal_gamma_log_partition",
    "normal_gamma_natural_params",
    "shape_rate_jacobian",
    "svi_normal_gamma",
    "to_shape_rate",
]
