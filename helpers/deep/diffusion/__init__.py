"""Denoising diffusion models and their variational bound (chapter *The ELBO of a diffusion model*), used as
``from helpers.deep import diffusion; diffusion.<name>``. One module per concept:

* ``schedules``: the noise schedule as a value (``LinearSchedule``, ``LogSNRSchedule``) and the reverse variances;
* ``forward``: the forward process q(x_t | x_0), its posterior q(x_{t-1} | x_t, x_0), the reverse mean mu_theta;
* ``bound``: the terms L_T, L_{t-1}, L_0 of the bound, all of them per datapoint, the one-step estimators
  (uniform or importance-sampled t) and Ho et al.'s simple loss;
* ``gaussian``: exact references for Gaussian data (every term, the model's likelihood, the continuous limit);
* ``mixture``: a Gaussian mixture, whose optimal denoiser and density are exact;
* ``model``: the noise network ``NoiseMLP`` (trained by ``deep.train``, single or stacked), the sampler and the
  dequantization of pixels; ``objectives``: ``DiffusionELBO`` and ``SimpleLoss``, the objectives it trains with.

Forward process (a Markov chain, not a mean-field family): q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
t = 1..T, so q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) with abar_t = prod_{s<=t} (1 - beta_s). Reverse model:
p(x_T) = N(0, I), p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) with the epsilon-parameterization. The
bound (nats per datapoint) is L_T + sum_{t>1} L_{t-1} + L_0 >= -log p_theta(x_0). Time steps are 1-indexed as in the
paper, and a tensor of length T holds step t at index t - 1. Shapes: B batch, D dimension, T steps, R replicas.

References: Ho, Jain & Abbeel (2020), Denoising diffusion probabilistic models; Kingma, Salimans, Poole & Ho (2021),
Variational diffusion models; Nichol & Dhariwal (2021), Improved denoising diffusion probabilistic models.
"""

from helpers.deep.diffusion.bound import (
    EpsModel,
    all_terms,
    bound_terms,
    epsilon_weights,
    importance_probs,
    negative_elbo,
    prior_term,
    simple_loss,
)
from helpers.deep.diffusion.forward import condition_gaussian, model_mean, posterior, q_sample
from helpers.deep.diffusion.gaussian import (
    gaussian_bound,
    gaussian_diffusion_loss_continuous,
    gaussian_model_nll,
    gaussian_optimal_eps,
    gaussian_posterior_x0,
)
from helpers.deep.diffusion.mixture import GaussianMixture
from helpers.deep.diffusion.model import NoiseMLP, dequantize, sample
from helpers.deep.diffusion.objectives import DiffusionELBO, SimpleLoss
from helpers.deep.diffusion.schedules import (
    VARIANCES,
    LinearSchedule,
    LogSNRSchedule,
    Schedule,
    linear_betas,
    linear_schedule,
    log_snr_schedule,
    reverse_variance,
)

__all__ = [
    "VARIANCES",
    "EpsModel",
    "Schedule",
    "LinearSchedule",
    "LogSNRSchedule",
    "linear_betas",
    "linear_schedule",
    "log_snr_schedule",
    "reverse_variance",
    "q_sample",
    "posterior",
    "model_mean",
    "condition_gaussian",
    "prior_term",
    "bound_terms",
    "epsilon_weights",
    "all_terms",
    "negative_elbo",
    "importance_probs",
    "simple_loss",
    "gaussian_posterior_x0",
    "gaussian_optimal_eps",
    "gaussian_bound",
    "gaussian_model_nll",
    "gaussian_diffusion_loss_continuous",
    "GaussianMixture",
    "NoiseMLP",
    "sample",
    "dequantize",
    "DiffusionELBO",
    "SimpleLoss",
]
