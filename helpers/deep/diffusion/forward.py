"""The forward process and the reverse model's mean (Ho et al. 2020, sections 2 and 3.2).

Forward process (a Markov chain, not a mean-field family): q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
so x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps with eps ~ N(0, I), and q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I).
Reverse model: p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) with the epsilon-parameterization
mu_theta = (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(alpha_t) (their eq. 11).

Shapes: x0, x_t, eps (B, D) with B datapoints of dimension D, t (B,) int in 1..T. The public functions check their
arguments; the building blocks (:func:`diffuse`, :func:`reverse_mean`, :func:`posterior_moments`) take any leading
axes (..., B, D) with t (..., B), e.g. the replica axis R of a stacked noise network.
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.common.validation import as_tensor, check_instance
from helpers.deep.diffusion.schedules import Schedule, at, check_schedule, check_steps


def check_batch(x: object, name: str, *, finite: bool = False) -> Tensor:
    """x as given: a floating tensor (B, D); TypeError for another type, ValueError for another shape (or NaN/inf
    when ``finite``)."""
    tensor: Tensor = check_instance(x, name, Tensor, how="convert it with torch.as_tensor(...)")  # type: ignore[assignment]
    if tensor.dim() != 2 or not tensor.is_floating_point():
        raise ValueError(
            f"{name} must be a floating tensor (B, D), one row per datapoint (got {tensor.dtype} of shape "
            f"{tuple(tensor.shape)}); a single point is x[None]."
        )
    if finite and not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} must be finite; it contains NaN or inf. Check how it was computed.")
    return tensor


def check_like(value: object, name: str, x0: Tensor, x0_name: str) -> Tensor:
    """``value`` as a tensor of the shape of ``x0``, raising otherwise (a wrong shape would broadcast)."""
    tensor: Tensor = check_instance(value, name, Tensor, how="convert it with torch.as_tensor(...)")  # type: ignore[assignment]
    if tensor.shape != x0.shape:
        raise ValueError(
            f"{name} must have the shape of {x0_name}, {tuple(x0.shape)} (got {tuple(tensor.shape)}): it would "
            "broadcast into a wrong answer."
        )
    return tensor


def check_steps_for(t: object, x0: Tensor, schedule: Schedule) -> Tensor:
    """``t`` checked by :func:`~helpers.deep.diffusion.schedules.check_steps`, of shape (B,) for x0 (B, D)."""
    t = check_steps(t, schedule)
    if t.shape != x0.shape[:1]:
        raise ValueError(f"t must have shape (B,) = {tuple(x0.shape[:1])}, one step per row (got {tuple(t.shape)}).")
    return t


def diffuse(x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps: (..., B, D), (..., B), (..., B, D) -> (..., B, D).

    Unvalidated building block: it takes tensors the public functions have already checked (hot path)."""
    ab = at(schedule.alpha_bar, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def reverse_mean(eps_hat: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> Tensor:
    """mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - abar_t) eps_hat) / sqrt(alpha_t): (..., B, D) -> (..., B, D).

    Unvalidated building block: it takes tensors the public functions have already checked (hot path)."""
    beta, one_minus_ab = at(schedule.betas, t, xt), at(1 - schedule.alpha_bar, t, xt)
    return (xt - beta / one_minus_ab.sqrt() * eps_hat) / at(schedule.alphas, t, xt).sqrt()


def posterior_moments(x0: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> tuple[Tensor, Tensor]:
    """mu~_t (..., B, D) and beta~_t (..., B, 1) of q(x_{t-1} | x_t, x_0).

    Unvalidated building block: it takes tensors the public functions have already checked (hot path)."""
    mean = at(schedule.coef_x0, t, x0) * x0 + at(schedule.coef_xt, t, x0) * xt
    return mean, at(schedule.posterior_variance, t, x0)


def q_sample(x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, a draw of q(x_t | x_0): x0, eps (B, D), t (B,) -> (B, D)."""
    check_schedule(schedule)
    check_like(eps, "eps", check_batch(x0, "x0"), "x0")
    return diffuse(x0, check_steps_for(t, x0, schedule), eps, schedule)


def posterior(x0: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> tuple[Tensor, Tensor]:
    """q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I) (Ho et al. 2020, eqs. 6-7): (B, D), (B, D), (B,) ->
    mean (B, D), variance (B, 1)."""
    check_schedule(schedule)
    check_like(xt, "xt", check_batch(x0, "x0"), "x0")
    return posterior_moments(x0, xt, check_steps_for(t, x0, schedule), schedule)


def model_mean(eps_hat: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> Tensor:
    """mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - abar_t) eps_hat) / sqrt(alpha_t) (Ho et al. 2020, eq. 11):
    (B, D), (B, D), (B,) -> (B, D)."""
    check_schedule(schedule)
    check_like(eps_hat, "eps_hat", check_batch(xt, "xt"), "xt")
    return reverse_mean(eps_hat, xt, check_steps_for(t, xt, schedule), schedule)


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
