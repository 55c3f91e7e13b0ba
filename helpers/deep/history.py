"""The per-epoch record of a training run of :func:`helpers.deep.train`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """Per-epoch record of a training run; each field is a list with one entry per completed epoch.

    ``train``: the mean of the training objective over the epoch's minibatches (parameters change during the
    epoch). ``test``: the mean of ``test_objective`` on ``x_test`` at the end of the epoch (NaN without
    ``x_test``). ``beta``: the last beta of the epoch (NaN without a schedule). ``seconds``: training time of the
    epoch, ``test_seconds``: evaluation time.
    """

    epoch: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    test: list[float] = field(default_factory=list)
    beta: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    test_seconds: list[float] = field(default_factory=list)

    def record(self, epoch: int, train: float, test: float, beta: float, seconds: float, test_seconds: float) -> None:
        """Append one completed epoch."""
        for name, value in zip(
            ("epoch", "train", "test", "beta", "seconds", "test_seconds"),
            (epoch, train, test, beta, seconds, test_seconds),
        ):
            getattr(self, name).append(value)

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict[str, list]:
        return asdict(self)
