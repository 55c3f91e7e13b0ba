"""The optimizer of :func:`helpers.deep.train` as a value: its fields are recorded in a run's fingerprint, so a
resume with another learning rate, eps or schedule is refused."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import check_positive_number


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba 2015) as a value: its hyperparameters and an optional learning-rate schedule
    (t, the fractional epoch -> a factor of ``lr``, e.g. :class:`helpers.deep.StagedLR`). The fused kernel is used
    where the device has it (the same updates up to rounding; faster on the CPU)."""

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    lr_schedule: object = None

    def __post_init__(self) -> None:
        check_positive_number(self.lr, "lr", example="lr=1e-3")
        check_positive_number(self.eps, "eps", example="eps=1e-8")
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be a pair of numbers in [0, 1) (got {self.betas!r}), e.g. (0.9, 0.999).")
        if self.lr_schedule is not None and not callable(self.lr_schedule):
            raise TypeError("lr_schedule must be a schedule value t -> factor, e.g. deep.StagedLR(), or None.")

    def build(self, params: list[Tensor]) -> torch.optim.Optimizer:
        kwargs = dict(lr=self.lr, betas=self.betas, eps=self.eps)
        try:
            return torch.optim.Adam(params, fused=True, **kwargs)
        except (RuntimeError, ValueError):  # a device or dtype without the fused kernel
            return torch.optim.Adam(params, **kwargs)

    def set_lr(self, optimizer: torch.optim.Optimizer, t: float) -> None:
        if self.lr_schedule is not None:
            lr = self.lr * float(self.lr_schedule(t))
            for group in optimizer.param_groups:
                group["lr"] = lr
