"""Part *Variational inference*: the ELBO (``gaussians``), CAVI (``cavi``) and black-box VI (``bbvi``) on the
Normal–Gamma mean-field family (``meanfield``). Chapters ``book/vi/*.ipynb`` use it as ``from helpers import vi``;
sizes that change with the scale: ``cfg.scale.vi`` (``scales.py``)."""

from helpers.common.config import register_scales
from helpers.vi import scales
from helpers.vi.bbvi import (
    COEFFICIENTS,
    NORMAL_GAMMA_BLANKET,
    NORMAL_GAMMA_GROUPS,
    BBVIFit,
    BBVITrace,
    NormalGammaData,
    bbvi_normal_gamma,
    bbvi_terms,
    control_variate_coefficients,
    default_init,
    grouped_gradient,
    log_joint_factors,
    normal_gamma_gradient,
    rao_blackwellized_weights,
    run_bbvi,
    step_sizes,
)
from helpers.vi.cavi import TRACE_COLUMNS, CAVIFit, cavi_normal_gamma, check_prior, normal_gamma_elbo
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

register_scales("vi", scales.SCALES)

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
    "step_sizes",
    "to_unconstrained",
    "unconstrained_q_score",
]
