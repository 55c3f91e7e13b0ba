"""Schedules of :func:`helpers.deep.train` as values: t (the fractional epoch, epoch + step / steps per epoch) ->
a number. KL-weight schedules give beta (chapter *The variational autoencoder*); learning-rate schedules give the
factor that multiplies the optimizer's learning rate (Burda et al.'s stages, chapter *Importance-weighted bounds*;
a linear decay, chapter *The ELBO of a diffusion model*). Their fields are their identity: two equal schedules make
the same run, and a checkpoint records them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from helpers.common.validation import check_nonnegative_number, check_positive_number, check_real


@dataclass(frozen=True)
class LinearBeta:
    """KL annealing: beta(t) = beta_max * min(1, t / warmup_epochs) (Bowman et al. 2016)."""

    warmup_epochs: float
    beta_max: float = 1.0

    def __post_init__(self) -> None:
        check_positive_number(self.warmup_epochs, "warmup_epochs", example="warmup_epochs=5")
        check_nonnegative_number(self.beta_max, "beta_max")

    def __call__(self, t: float) -> float:
        return self.beta_max * min(1.0, t / self.warmup_epochs)


@dataclass(frozen=True)
class CyclicalBeta:
    """Cyclical KL annealing (Fu et al. 2019): in each cycle of ``period_epochs``, beta rises linearly from 0 to
    ``beta_max`` over the first ``ratio`` of the cycle, then stays at ``beta_max`` (Fu et al.: 4 cycles over the
    run, ratio 0.5, so ``period_epochs = epochs / 4``)."""

    period_epochs: float
    ratio: float = 0.5
    beta_max: float = 1.0

    def __post_init__(self) -> None:
        check_positive_number(self.period_epochs, "period_epochs", example="period_epochs=epochs / 4")
        check_nonnegative_number(self.beta_max, "beta_max")
        if not 0 < check_real(self.ratio, "ratio") <= 1:
            raise ValueError(f"ratio must be in (0, 1] (got {self.ratio!r}); Fu et al. use 0.5.")

    def __call__(self, t: float) -> float:
        return self.beta_max * min(1.0, ((t % self.period_epochs) / self.period_epochs) / self.ratio)


def linear_beta(warmup_epochs: float, beta_max: float = 1.0) -> LinearBeta:
    """KL annealing, beta(t) = beta_max * min(1, t / warmup_epochs): :class:`LinearBeta`."""
    return LinearBeta(warmup_epochs, beta_max)


def cyclical_beta(period_epochs: float, ratio: float = 0.5, beta_max: float = 1.0) -> CyclicalBeta:
    """Cyclical KL annealing (Fu et al. 2019): :class:`CyclicalBeta`."""
    return CyclicalBeta(period_epochs, ratio, beta_max)


@dataclass(frozen=True)
class StagedLR:
    """Burda et al.'s (2016) learning-rate stages: stage i = 0, 1, 2, ... lasts ``growth``^i passes and multiplies
    the learning rate by ``factor``^i (theirs: growth 3, factor 10^(-1/7), 8 stages = 3,280 passes)."""

    growth: int = 3
    factor: float = 10 ** (-1 / 7)

    def __post_init__(self) -> None:
        check_positive_number(self.growth, "growth")
        check_positive_number(self.factor, "factor")

    def stage(self, t: float) -> int:
        """The stage of the pass that contains fractional epoch t."""
        stage, stage_end, epoch = 0, 1, math.floor(t)
        while epoch >= stage_end:
            stage += 1
            stage_end += self.growth**stage
        return stage

    def __call__(self, t: float) -> float:
        return self.factor ** self.stage(t)


@dataclass(frozen=True)
class LinearDecayLR:
    """The learning rate decays linearly from its value to 0 over ``total_epochs``: factor 1 - t / total_epochs
    (Ho et al. 2020 train at a constant rate; a decay helps the short runs of the chapter)."""

    total_epochs: float

    def __post_init__(self) -> None:
        check_positive_number(self.total_epochs, "total_epochs")

    def __call__(self, t: float) -> float:
        return max(0.0, 1.0 - t / self.total_epochs)
