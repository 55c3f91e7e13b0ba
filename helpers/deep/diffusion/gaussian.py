"""Exact references for Gaussian data x_0 ~ N(mean, diag(std^2)): x_t and x_0 are jointly Gaussian, so the
Bayes-optimal noise predictor is linear in x_t and every term of the bound, the optimal model's exact likelihood and
the continuous-time limit have closed forms (chapter *The ELBO of a diffusion model*, sections "Exact references"
and "The continuous-time limit"). Shapes: mean and std (D,) (or broadcastable), x_t (B, D), t (B,).

References: Ho, Jain & Abbeel (2020); Kingma, Salimans, Poole & Ho (2021), Variational diffusion models.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI
from helpers.common.validation import (
    as_tensor,
    check_choice,
    check_instance,
    check_location_scale,
    check_positive,
    check_real,
    check_steps,
)
from helpers.deep.diffusion.bound import EpsModel, epsilon_weights
from helpers.deep.diffusion.schedules import SCHEDULE_HOW, VARIANCES, Schedule, at, reverse_variance


def gaussian_posterior_x0(
    xt: Tensor, t: Tensor, mean: Tensor, std: Tensor, schedule: Schedule
) -> tuple[Tensor, Tensor]:
    """E[x_0 | x_t] and Var(x_0 | x_t) for data x_0 ~ N(mean, diag(std^2)): (B, D), (B,) -> (B, D), (B, D).

    With gain g = sqrt(abar_t) s^2 / (abar_t s^2 + 1 - abar_t): E[x_0 | x_t] = m + g (x_t - sqrt(abar_t) m) and
    Var(x_0 | x_t) = s^2 (1 - abar_t) / (abar_t s^2 + 1 - abar_t) (Gaussian conditioning)."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    t = check_steps(t, num_steps=schedule.num_steps)
    mean, std = check_location_scale(mean, std, names=("mean", "std"))
    ab = at(schedule.alpha_bar, t, xt)
    s2 = std.to(xt.dtype) ** 2
    gain = ab.sqrt() * s2 / (ab * s2 + 1 - ab)
    return mean + gain * (xt - ab.sqrt() * mean), s2 * (1 - ab) / (ab * s2 + 1 - ab)


def gaussian_optimal_eps(mean: object, std: object, schedule: Schedule) -> EpsModel:
    """The Bayes-optimal noise predictor E[eps | x_t] for data N(mean, diag(std^2)), (D,) each: a callable
    eps_model(x_t, t) = (x_t - sqrt(abar_t) E[x_0 | x_t]) / sqrt(1 - abar_t)."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    mean, std = check_location_scale(mean, std, names=("mean", "std"))

    def eps_model(xt: Tensor, t: Tensor) -> Tensor:
        x0_hat, _ = gaussian_posterior_x0(xt, t, mean, std, schedule)
        ab = at(schedule.alpha_bar, t, xt)
        return (xt - ab.sqrt() * x0_hat) / (1 - ab).sqrt()

    return eps_model


def gaussian_bound(mean: object, std: object, schedule: Schedule, variance: str = "beta") -> tuple[Tensor, Tensor]:
    """Every term of the bound in closed form for data x_0 ~ N(mean, diag(std^2)) (D,) and the optimal model:
    returns L_T (scalar) and the terms (T,) (index 0: L_0, index t - 1: L_{t-1}), each E over the data, in nats.

    L_{t-1} = sum_d [ (r - 1 - log r) / 2 + coef_x0^2 Var(x_0d | x_t) / (2 sigma_t^2) ], r = beta~_t / sigma_t^2;
    L_0 = sum_d [ log(2 pi sigma_1^2) / 2 + Var(x_0d | x_1) / (2 sigma_1^2) ]; Var(x_0d | x_t) = s^2 (1 - abar_t) /
    (abar_t s^2 + 1 - abar_t); L_T = sum_d [abar_T (m^2 + s^2) - abar_T - log(1 - abar_T)] / 2."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    mean, std = check_location_scale(mean, std, names=("mean", "std"))
    if mean.numel() != std.numel() and min(mean.numel(), std.numel()) != 1:
        raise ValueError(f"mean and std must have one entry per coordinate (got {mean.numel()} and {std.numel()}).")
    mean, std = mean.reshape(-1), std.reshape(-1)
    ab, s2 = schedule.alpha_bar.unsqueeze(-1), std.double() ** 2  # (T, 1), (D,)
    var_x0 = s2 * (1 - ab) / (ab * s2 + 1 - ab)  # (T, D)
    _, const = epsilon_weights(schedule, variance)
    sigma2 = reverse_variance(schedule, variance).unsqueeze(-1)
    quad = torch.cat(
        [var_x0[:1] / (2 * sigma2[:1]), schedule.coef_x0[1:].unsqueeze(-1) ** 2 * var_x0[1:] / (2 * sigma2[1:])]
    )
    terms = quad.sum(-1) + len(s2) * const
    prior = 0.5 * (ab[-1] * (mean.double() ** 2 + s2) - ab[-1] - torch.log1p(-ab[-1])).sum()
    return prior, terms


def gaussian_model_nll(mean: object, std: object, schedule: Schedule, variance: str = "beta") -> Tensor:
    """The exact E_data[-log p_theta(x_0)] (nats) of the optimal model for data N(mean, diag(std^2)): the reverse
    chain is linear-Gaussian, x_{t-1} = A_t x_t + b_t + sigma_t z, so p_theta(x_0) = N(M, V) per coordinate with
    M, V from the recursion M <- A M + b, V <- A^2 V + sigma^2 from (M, V) = (0, 1) at t = T."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    check_choice(variance, "variance", VARIANCES)
    mean_t, std_t = check_location_scale(mean, std, names=("mean", "std"))
    mean, std = mean_t.reshape(-1).double(), std_t.reshape(-1).double()
    ab, s2 = schedule.alpha_bar, std**2
    gain = ab.sqrt().unsqueeze(-1) * s2 / (ab.unsqueeze(-1) * s2 + 1 - ab.unsqueeze(-1))  # (T, D)
    c0 = torch.cat([torch.ones(1, dtype=ab.dtype), schedule.coef_x0[1:]]).unsqueeze(-1)  # mu_theta(x_1) = E[x_0 | x_1]
    ct = torch.cat([torch.zeros(1, dtype=ab.dtype), schedule.coef_xt[1:]]).unsqueeze(-1)
    A = c0 * gain + ct
    b = c0 * (mean - gain * ab.sqrt().unsqueeze(-1) * mean)
    sigma2 = reverse_variance(schedule, variance).unsqueeze(-1)
    M, V = torch.zeros_like(mean), torch.ones_like(mean)
    for i in reversed(range(schedule.num_steps)):  # T affine maps of two numbers per coordinate
        M, V = A[i] * M + b[i], A[i] ** 2 * V + sigma2[i]
    return (0.5 * (LOG_2PI + torch.log(V)) + ((mean - M) ** 2 + s2) / (2 * V)).sum()


def gaussian_diffusion_loss_continuous(std: object, log_snr_max: float, log_snr_min: float) -> Tensor:
    """The continuous-time diffusion loss 1/2 int gamma'(tau) E||eps - eps_hat||^2 dtau of the optimal model for data
    with per-coordinate std s, between SNR_max = e^{log_snr_max} and SNR_min (Kingma et al. 2021, eq. 17): the
    integrand is -SNR'(tau) mmse / 2 with mmse = s^2 / (1 + SNR s^2), so it is sum_d log((1 + SNR_max s^2) /
    (1 + SNR_min s^2)) / 2, whatever the schedule in between."""
    s2 = check_positive(as_tensor(std, "std"), "std").reshape(-1).double() ** 2
    check_real(log_snr_max, "log_snr_max", hint="e.g. float(schedule.log_snr[0])")
    check_real(log_snr_min, "log_snr_min", hint="e.g. float(schedule.log_snr[-1])")
    if not log_snr_max > log_snr_min:
        raise ValueError(
            f"log_snr_max must be above log_snr_min (got {log_snr_max} and {log_snr_min}): the SNR falls from "
            "the first step to the last."
        )
    return 0.5 * (torch.log1p(math.exp(log_snr_max) * s2) - torch.log1p(math.exp(log_snr_min) * s2)).sum()
