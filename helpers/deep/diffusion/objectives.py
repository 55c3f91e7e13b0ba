"""The training objectives of the noise network as **values** that take their noise (the contract of
:mod:`helpers.deep.objectives`): ``draw(model, x, generator)`` draws (t, eps) for one batch x (B, D), and
``value(model, x, noise)`` is a pure function of (parameters, data, noise) returning one value per datapoint **to be
maximized**, (..., B) with the replica axis R of a stacked model in front. ``deep.train`` trains with them.

* ``DiffusionELBO(schedule, variance)``: minus the unbiased one-step estimate of the bound (Ho et al. 2020, eq. 5),
  -(L_T + L_0(x_0; eps') + (T - 1) L_{t-1}(x_0; eps)) with t ~ U{2..T} (:func:`~helpers.deep.diffusion.bound.
  negative_elbo`). Noise: t (B,), eps' (B, D), eps (B, D).
* ``SimpleLoss(schedule)``: minus Ho et al.'s L_simple, -||eps - eps_theta(x_t, t)||^2 with t ~ U{1..T}
  (:func:`~helpers.deep.diffusion.bound.simple_loss`), a reweighting of the bound's terms, not a bound. Noise:
  t (B,), eps (B, D).

Both draw t first, then eps, from the generator: with the same generator state, ``SimpleLoss(s)(net, x,
generator=g)`` equals ``-diffusion.simple_loss(net, x, s, generator=g)``, and likewise for the bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import check_choice, check_instance
from helpers.deep.diffusion.bound import draw_steps, elbo_estimate, simple_values
from helpers.deep.diffusion.model import NoiseMLP
from helpers.deep.diffusion.schedules import SCHEDULE_HOW, VARIANCES, Schedule
from helpers.deep.objectives import Objective


class _NoiseObjective(Objective):
    """What the two diffusion objectives share: a ``schedule`` field and a noise network of the schedule's T."""

    schedule: Schedule

    def check_model(self, model) -> None:
        check_instance(model, "model", NoiseMLP, how="build it with diffusion.NoiseMLP(dim, schedule.num_steps)")
        T = self.schedule.num_steps
        if model.num_steps != T:
            raise ValueError(
                f"the model's num_steps ({model.num_steps}) must equal the schedule's T ({T}): its time features "
                "are scaled by 1 / num_steps; build it with diffusion.NoiseMLP(dim, schedule.num_steps)."
            )


@dataclass(frozen=True)
class DiffusionELBO(_NoiseObjective):
    """The diffusion ELBO per datapoint, -(L_T + L_0 + (T - 1) L_{t-1}) at one t ~ U{2..T} (an unbiased estimate of
    minus the bound, in nats), with the fixed reverse variances ``variance`` (diffusion.VARIANCES)."""

    schedule: Schedule
    variance: str = "beta"

    def __post_init__(self) -> None:
        check_instance(self.schedule, "schedule", Schedule, how=SCHEDULE_HOW)
        check_choice(self.variance, "variance", VARIANCES)

    def draw(self, model, x: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor, Tensor]:
        t, eps = draw_steps(x, 2, self.schedule.num_steps, generator, copies=2)
        return t, eps[: len(x)], eps[len(x) :]

    def value(self, model, x: Tensor, noise, beta: float | None = None) -> Tensor:
        t, eps_first, eps_t = noise
        weight = self.schedule.num_steps - 1.0
        return -elbo_estimate(model, x, t, eps_first, eps_t, weight, self.schedule, self.variance)


@dataclass(frozen=True)
class SimpleLoss(_NoiseObjective):
    """Minus Ho et al.'s simple loss per datapoint, -||eps - eps_theta(x_t, t)||^2 at one t ~ U{1..T}."""

    schedule: Schedule

    def __post_init__(self) -> None:
        check_instance(self.schedule, "schedule", Schedule, how=SCHEDULE_HOW)

    def draw(self, model, x: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        return draw_steps(x, 1, self.schedule.num_steps, generator)

    def value(self, model, x: Tensor, noise, beta: float | None = None) -> Tensor:
        t, eps = noise
        return -simple_values(model, x, t, eps, self.schedule)
