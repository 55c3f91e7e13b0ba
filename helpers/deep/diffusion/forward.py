"""The forward process and the reverse model's mean (Ho et al. 2020, sections 2 and 3.2).

Forward process (a Markov chain, not a mean-field family): q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
so x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps with eps ~ N(0, I), and q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I).
Reverse model: p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) with the epsilon-parameterization
mu_theta = (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(alpha_t) (their eq. 11).

Shapes: x0, x_t, eps (B, D) with B datapoints of dimension D, t (B,) int in 1..T. The chapter-facing functions
check their arguments fully; the building blocks (:func:`diffuse`, :func:`reverse_mean`, :func:`posterior_moments`)
take any leading axes (..., B, D) with t (..., B), e.g. the replica axis R of a stacked noise network, and check
types and shapes only (they run at every training step).
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.validation import as_tensor, check_batch, check_instance, check_same_shape, check_steps
from helpers.deep.diffusion.schedules import SCHEDULE_HOW, Schedule, at


def diffuse(x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps: (..., B, D), (..., B), (..., B, D) -> (..., B, D).
    Checks types and shapes only (a hot path: the range of t is the public functions' to check)."""
    check_same_shape(eps, "eps", check_batch(x0, "x0", stacked=True), "x0")
    check_steps(t, shape=x0.shape[:-1])
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    ab = at(schedule.alpha_bar, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def reverse_mean(eps_hat: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> Tensor:
    """mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - abar_t) eps_hat) / sqrt(alpha_t): (..., B, D) -> (..., B, D).
    Checks types and shapes only (a hot path: the range of t is the public functions' to check)."""
    check_same_shape(eps_hat, "eps_hat", check_batch(xt, "xt", stacked=True), "xt")
    check_steps(t, shape=xt.shape[:-1])
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    beta, one_minus_ab = at(schedule.betas, t, xt), at(1 - schedule.alpha_bar, t, xt)
    return (xt - beta / one_minus_ab.sqrt() * eps_hat) / at(schedule.alphas, t, xt).sqrt()


def posterior_moments(x0: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> tuple[Tensor, Tensor]:
    """mu~_t (..., B, D) and beta~_t (..., B, 1) of q(x_{t-1} | x_t, x_0).
    Checks types and shapes only (a hot path: the range of t is the public functions' to check)."""
    check_same_shape(xt, "xt", check_batch(x0, "x0", stacked=True), "x0")
    check_steps(t, shape=x0.shape[:-1])
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    mean = at(schedule.coef_x0, t, x0) * x0 + at(schedule.coef_xt, t, x0) * xt
    return mean, at(schedule.posterior_variance, t, x0)


def q_sample(x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, a draw of q(x_t | x_0): x0, eps (B, D), t (B,) -> (B, D)."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    check_same_shape(eps, "eps", check_batch(x0, "x0"), "x0")
    return diffuse(x0, check_steps(t, num_steps=schedule.num_steps, shape=x0.shape[:1]), eps, schedule)


def posterior(x0: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> tuple[Tensor, Tensor]:
    """q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I) (Ho et al. 2020, eqs. 6-7): (B, D), (B, D), (B,) ->
    mean (B, D), variance (B, 1)."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    check_same_shape(xt, "xt", check_batch(x0, "x0"), "x0")
    return posterior_moments(x0, xt, check_steps(t, num_steps=schedule.num_steps, shape=x0.shape[:1]), schedule)


def model_mean(eps_hat: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> Tensor:
    """mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - abar_t) eps_hat) / sqrt(alpha_t) (Ho et al. 2020, eq. 11):
    (B, D), (B, D), (B,) -> (B, D)."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    check_same_shape(eps_hat, "eps_hat", check_batch(xt, "xt"), "xt")
    return reverse_mean(eps_hat, xt, check_steps(t, num_steps=schedule.num_steps, shape=xt.shape[:1]), schedule)


def condition_gaussian(mean: Tensor, cov: Tensor, observed: list[int], value: Tensor) -> tuple[Tensor, Tensor]:
    """The conditional of a joint Gaussian N(mean, cov) (n,), (n, n) on the coordinates ``observed`` = ``value``:
    mean_a + C_ab C_bb^{-1} (value - mean_b) and C_aa - C_ab C_bb^{-1} C_ba over the other coordinates a (a generic
    routine, independent of the forward process, against which :func:`posterior` is checked)."""
    mean, cov, value = as_tensor(mean, "mean"), as_tensor(cov, "cov"), as_tensor(value, "value")
    check_instance(observed, "observed", (list, tuple), how="pass a list of coordinates such as [1]")
    n = len(mean)
    if cov.shape != (n, n):
        raise ValueError(f"cov must have shape ({n}, {n}) to match mean (got {tuple(cov.shape)}).")
    if not observed or len(set(observed)) != len(observed) or not all(0 <= i < n for i in observed):
        raise ValueError(f"observed must list distinct coordinates in 0..{n - 1} (got {observed}).")
    if value.shape != (len(observed),):
        raise ValueError(
            f"value must have shape ({len(observed)},), one per observed coordinate (got {tuple(value.shape)})."
        )
    rest = [i for i in range(n) if i not in observed]
    c_ab, c_bb = cov[rest][:, observed], cov[observed][:, observed]
    gain = torch.linalg.solve(c_bb, c_ab.T).T  # C_ab C_bb^{-1}
    return mean[rest] + gain @ (value - mean[observed]), cov[rest][:, rest] - gain @ c_ab.T
