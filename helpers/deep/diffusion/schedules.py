"""Noise schedules of a diffusion model as **values**: a schedule's fields say what it is (its kind is its class,
then the number of steps T and two numbers), so two equal schedules make the same run and a checkpoint records
them (:func:`helpers.deep.checkpoints.describe`). The tensors, beta_1..beta_T and everything derived from them, are
computed from the fields (float64, cached; treat them as read-only).

Time steps are 1-indexed as in Ho et al. (2020): ``t`` in 1..T, and a tensor of length T holds step t at index
t - 1. With alpha_t = 1 - beta_t and abar_t = prod_{s<=t} alpha_s (abar_0 = 1):

* q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I);
* q(x_{t-1} | x_t, x_0) = N(coef_x0_t x_0 + coef_xt_t x_t, beta~_t I), beta~_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)
  (Ho et al. 2020, eqs. 6-7);
* SNR_t = abar_t / (1 - abar_t) (Kingma et al. 2021, whose gamma is -log SNR).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor

from helpers.common.validation import (
    check_choice,
    check_count,
    check_instance,
    check_positive_number,
    check_real,
    check_steps,
)

#: how to build a schedule, said by every error about an argument that is not one
SCHEDULE_HOW = "build it with diffusion.linear_schedule(1000) or diffusion.LogSNRSchedule(T)"
#: the fixed reverse variances sigma_t^2 (see :func:`reverse_variance`)
VARIANCES = ("beta", "posterior", "posterior-clipped")


class Schedule:
    """Base of the noise schedules: a subclass is a frozen dataclass with a field ``num_steps`` (T) and computes
    :meth:`make_betas`; the derived quantities below are (T,) float64 tensors."""

    num_steps: int

    def __init__(self, *args: object, **kwargs: object) -> None:  # the subclasses' dataclass __init__ replaces it
        raise TypeError(
            "diffusion.Schedule is the base of the schedules, not one: build diffusion.LinearSchedule(T, beta_1, "
            "beta_T) (e.g. diffusion.linear_schedule(1000)) or diffusion.LogSNRSchedule(T, gamma_min, gamma_max)."
        )

    def make_betas(self) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @cached_property
    def betas(self) -> Tensor:
        """beta_1..beta_T, (T,) in (0, 1)."""
        return self.make_betas()

    @property
    def alphas(self) -> Tensor:
        return 1 - self.betas

    @cached_property
    def alpha_bar(self) -> Tensor:
        """abar_t = prod_{s<=t} (1 - beta_s)."""
        return torch.cumprod(self.alphas, 0)

    @cached_property
    def alpha_bar_prev(self) -> Tensor:
        """abar_{t-1} (abar_0 = 1)."""
        return torch.cat([torch.ones_like(self.betas[:1]), self.alpha_bar[:-1]])

    @cached_property
    def posterior_variance(self) -> Tensor:
        """beta~_t = beta_t (1 - abar_{t-1}) / (1 - abar_t) (zero at t = 1)."""
        return self.betas * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)

    @cached_property
    def coef_x0(self) -> Tensor:
        """The coefficient of x_0 in the posterior mean mu~_t: sqrt(abar_{t-1}) beta_t / (1 - abar_t)."""
        return self.alpha_bar_prev.sqrt() * self.betas / (1 - self.alpha_bar)

    @cached_property
    def coef_xt(self) -> Tensor:
        """The coefficient of x_t in mu~_t: sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t)."""
        return self.alphas.sqrt() * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)

    @property
    def log_snr(self) -> Tensor:
        """log SNR_t = log(abar_t / (1 - abar_t)) (Kingma et al. 2021: SNR = alpha^2 / sigma^2, gamma = -log SNR)."""
        return torch.log(self.alpha_bar) - torch.log1p(-self.alpha_bar)


@dataclass(frozen=True)
class LinearSchedule(Schedule):
    """beta_t linear from ``beta_1`` to ``beta_T`` over t = 1..T (Ho et al. 2020: T = 1000, 1e-4 to 0.02)."""

    num_steps: int = 1000
    beta_1: float = 1e-4
    beta_T: float = 0.02

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_steps", check_count(self.num_steps, "num_steps", minimum=2))
        for name in ("beta_1", "beta_T"):
            value = check_positive_number(getattr(self, name), name, example=f"{name}=0.02")
            if not value < 1:
                raise ValueError(f"{name} must be below 1 (got {value}): beta_t is the variance added at step t.")
            object.__setattr__(self, name, value)

    def make_betas(self) -> Tensor:
        return torch.linspace(self.beta_1, self.beta_T, self.num_steps, dtype=torch.float64)


@dataclass(frozen=True)
class LogSNRSchedule(Schedule):
    """T steps on a linear gamma(tau) = -log SNR(tau) = gamma_min + (gamma_max - gamma_min) tau, tau in [0, 1]:
    abar_t = sigmoid(-gamma(tau_t)) at tau_t = (t - 1) / (T - 1), so abar_1 and abar_T do not depend on T and a
    larger T only refines the grid in between (Kingma et al. 2021, section 3: their default gamma range)."""

    num_steps: int
    gamma_min: float = -13.3
    gamma_max: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_steps", check_count(self.num_steps, "num_steps", minimum=3))
        object.__setattr__(self, "gamma_min", check_real(self.gamma_min, "gamma_min", hint="e.g. gamma_min=-13.3"))
        object.__setattr__(self, "gamma_max", check_real(self.gamma_max, "gamma_max", hint="e.g. gamma_max=5.0"))
        if not self.gamma_min < self.gamma_max:
            raise ValueError(f"gamma_min must be below gamma_max (got {self.gamma_min}, {self.gamma_max}).")
        if not bool(((self.betas > 0) & (self.betas < 1)).all()):
            raise ValueError(
                f"gamma_min, gamma_max = {self.gamma_min}, {self.gamma_max} give a noise level of 0 or 1 in float64 "
                "(abar_t = sigmoid(-gamma) rounds to 1 or 0); keep |gamma| below about 30."
            )

    def make_betas(self) -> Tensor:
        tau = torch.linspace(0, 1, self.num_steps, dtype=torch.float64)
        alpha_bar = torch.sigmoid(-(self.gamma_min + (self.gamma_max - self.gamma_min) * tau))
        prev = torch.cat([torch.ones_like(alpha_bar[:1]), alpha_bar[:-1]])
        return 1 - alpha_bar / prev


def linear_betas(num_steps: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> Tensor:
    """beta_t linear from ``beta_1`` to ``beta_T`` over t = 1..T, (T,) float64: ``linear_schedule(...).betas``."""
    return LinearSchedule(num_steps, beta_1, beta_T).betas.clone()


def linear_schedule(num_steps: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> LinearSchedule:
    """Ho et al.'s schedule (T = 1000, beta from 1e-4 to 0.02) or another linear one: :class:`LinearSchedule`."""
    return LinearSchedule(num_steps, beta_1, beta_T)


def log_snr_schedule(num_steps: int, gamma_min: float = -13.3, gamma_max: float = 5.0) -> LogSNRSchedule:
    """T steps on Kingma et al.'s linear -log SNR: :class:`LogSNRSchedule`."""
    return LogSNRSchedule(num_steps, gamma_min, gamma_max)


def reverse_variance(schedule: Schedule, variance: str = "beta") -> Tensor:
    """The reverse variances sigma_t^2, (T,): ``"beta"``: sigma_t^2 = beta_t; ``"posterior"``: beta~_t for t >= 2
    and beta_1 at t = 1 (beta~_1 = 0 would make L_0 infinite); ``"posterior-clipped"``: beta~_t, with beta~_2 at
    t = 1 (what Ho et al.'s released code uses, ``posterior_log_variance_clipped``)."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    check_choice(variance, "variance", VARIANCES)
    if variance == "beta":
        return schedule.betas
    post = schedule.posterior_variance
    first = schedule.betas[:1] if variance == "posterior" else post[1:2]
    return torch.cat([first, post[1:]])


def at(values: Tensor, t: Tensor, like: Tensor) -> Tensor:
    """values[t - 1] as a column (..., B, 1) in the dtype and on the device of ``like``; t (..., B) integer steps.
    Checks types and dtypes only (a hot path: the range of t is the callers' to check)."""
    check_instance(values, "values", Tensor, how="pass a (T,) tensor of the schedule, e.g. schedule.betas")
    check_instance(like, "like", Tensor, how="pass the (..., B, D) tensor whose dtype and device the result takes")
    return values.to(device=like.device, dtype=like.dtype)[check_steps(t) - 1].unsqueeze(-1)
