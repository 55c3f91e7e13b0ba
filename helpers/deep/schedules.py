"""KL-weight schedules for :func:`helpers.deep.train`: t (the fractional epoch) -> beta (chapter *The variational
autoencoder*). The loop passes ``beta=schedule(t)`` to the objective at every step."""

from __future__ import annotations

from collections.abc import Callable

from helpers.common.validation import check_nonnegative_number, check_positive_number, check_real


def linear_beta(warmup_epochs: float, beta_max: float = 1.0) -> Callable[[float], float]:
    """KL annealing: beta(t) = beta_max * min(1, t / warmup_epochs), t in epochs (Bowman et al. 2016)."""
    warmup_epochs = check_positive_number(warmup_epochs, "warmup_epochs", example="warmup_epochs=5")
    beta_max = check_nonnegative_number(beta_max, "beta_max")
    return lambda t: beta_max * min(1.0, t / warmup_epochs)


def cyclical_beta(period_epochs: float, ratio: float = 0.5, beta_max: float = 1.0) -> Callable[[float], float]:
    """Cyclical KL annealing (Fu et al. 2019): in each cycle of ``period_epochs``, beta rises linearly from 0 to
    ``beta_max`` over the first ``ratio`` of the cycle, then stays at ``beta_max``. (Fu et al.: M = 4 cycles over
    the run, R = 0.5, so ``period_epochs = epochs / 4``.)"""
    period_epochs = check_positive_number(period_epochs, "period_epochs", example="period_epochs=epochs / 4")
    beta_max = check_nonnegative_number(beta_max, "beta_max")
    if not 0 < check_real(ratio, "ratio") <= 1:
        raise ValueError(f"ratio must be in (0, 1] (got {ratio!r}); Fu et al. use 0.5.")
    return lambda t: beta_max * min(1.0, ((t % period_epochs) / period_epochs) / ratio)
