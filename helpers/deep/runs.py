"""Runs are data: a chapter declares the runs it compares as values, and one runner trains them (R seeds stacked) and
gives back the trained models and their histories (chapters *The variational autoencoder*, *Importance-weighted
bounds*, and the reference runs).

A :class:`Run` says everything that defines a training run: the model (:class:`ModelSpec`), the objective, the
optimizer, the schedules, the batch size, the number of passes, the binarization, how many training images, and the
seeds. Seed s fixes the initial weights (``torch.manual_seed(s)`` around the model's construction, so every run of
one architecture starts seed s from the same weights and differences between methods are paired) and the run's
generator (``torch.Generator().manual_seed(TRAIN_SEED_OFFSET + s)``: shuffles, binarization, noise).

:func:`train_runs` trains each run's seeds stacked (one :func:`helpers.deep.train` call per run). With a ``store``
directory, a run is kept there as a deep.train checkpoint named by its **key**: a hash of the run's value, the data
and the fingerprint of the code it depends on (:func:`code_fingerprint`). A later call with the same run, data and
code loads it instead of training; one with more passes resumes it bit for bit; any change of the run, the data or
that code makes a new key, so a stale result is never reused.
"""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from helpers.common.validation import check_count, check_instance
from helpers.deep import (
    _kernels,
    bernoulli_vae,
    checkpoints,
    discrete_estimators,
    discrete_objectives,
    loop,
    networks,
    objectives,
    optimizers,
    relaxations,
    schedules,
    training,
    vae,
)
from helpers.deep.checkpoints import data_hash, describe
from helpers.deep.diffusion import model as diffusion_model
from helpers.deep.history import History
from helpers.deep.objectives import Objective
from helpers.deep.optimizers import Adam

#: run seed s trains with torch.Generator().manual_seed(TRAIN_SEED_OFFSET + s) (its weights come from seed s)
TRAIN_SEED_OFFSET = 50_000
#: the models a ModelSpec can build, by name
MODELS: dict[str, type[nn.Module]] = {
    "VAE": vae.VAE,
    "BernoulliVAE": bernoulli_vae.BernoulliVAE,
    "NoiseMLP": diffusion_model.NoiseMLP,
}
#: the modules whose source defines what a run computes (the code fingerprint)
CODE = (networks, vae, objectives, schedules, training, loop, optimizers, checkpoints, _kernels,
        bernoulli_vae, discrete_objectives, discrete_estimators, relaxations)  # fmt: skip


@dataclass(frozen=True)
class ModelSpec:
    """A model as a value: its class name (a key of :data:`MODELS`) and its constructor's arguments."""

    kind: str
    args: tuple = ()
    kwargs: tuple = ()

    @classmethod
    def of(cls, kind: str, *args: object, **kwargs: object) -> ModelSpec:
        """``ModelSpec.of("VAE", 784, likelihood="gaussian")``: lists become tuples, keywords are sorted."""
        if kind not in MODELS:
            raise ValueError(f"kind must be one of {sorted(MODELS)} (got {kind!r}).")

        def plain(v: object) -> object:
            return tuple(v) if isinstance(v, list) else v

        return cls(kind, tuple(plain(a) for a in args), tuple(sorted((k, plain(v)) for k, v in kwargs.items())))

    def build(self) -> nn.Module:
        return MODELS[self.kind](*self.args, **dict(self.kwargs))


@dataclass(frozen=True)
class Run:
    """One training run, replicated over ``seeds``: everything that defines it, as a value."""

    model: ModelSpec
    objective: Objective
    epochs: int
    seeds: tuple[int, ...]
    batch_size: int = 100
    optimizer: Adam = field(default_factory=Adam)
    binarization: str | None = None
    beta_schedule: object = None
    test_objective: Objective | None = None
    train_images: int | None = None

    def __post_init__(self) -> None:
        check_instance(self.model, "model", ModelSpec, how='e.g. deep.ModelSpec.of("VAE", 784)')
        check_instance(self.objective, "objective", Objective, how="e.g. deep.ELBO()")
        check_count(self.epochs, "epochs")
        if not (isinstance(self.seeds, tuple) and self.seeds and all(isinstance(s, int) for s in self.seeds)):
            raise ValueError(f"seeds must be a non-empty tuple of ints, e.g. (0, 1, 2) (got {self.seeds!r}).")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct (got {self.seeds!r}): equal seeds are copies, not replicas.")
        if self.train_images is not None:
            check_count(self.train_images, "train_images")

    def initial_models(self) -> list[nn.Module]:
        """The R models at their initial weights: seed s builds its model under ``torch.manual_seed(s)``."""
        models = []
        for seed in self.seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                models.append(self.model.build())
        return models

    def generators(self, device: torch.device | str = "cpu") -> list[torch.Generator]:
        return [torch.Generator(device=device).manual_seed(TRAIN_SEED_OFFSET + s) for s in self.seeds]


@dataclass
class Result:
    """A trained run: its R models (single, one per seed), their histories, and what the training cost."""

    run: Run
    models: list[nn.Module]
    histories: list[History]
    seconds: float
    cpu_seconds: float
    loaded: bool

    def per_seed(self, fn: Callable[[nn.Module], object]) -> Tensor:
        """fn applied to each seed's model, as a float64 tensor (R, ...)."""
        return torch.stack([torch.as_tensor(fn(m), dtype=torch.float64).detach().cpu() for m in self.models])

    def last_gain(self) -> Tensor:
        """The test curve's rise over the last pass, per seed (R,): the input of a flattening verdict."""
        if len(self.histories[0].test) < 2:
            raise ValueError("last_gain needs at least 2 recorded passes with a test set.")
        return torch.tensor([h.test[-1] - h.test[-2] for h in self.histories], dtype=torch.float64)


def code_fingerprint() -> str:
    """SHA-256 of the source of the modules that define what a run computes, and torch's version."""
    digest = hashlib.sha256(torch.__version__.encode())
    for module in CODE:
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()


def run_key(run: Run, x_train: Tensor, x_test: Tensor | None) -> str:
    """The store key of a run on these data with this code: 32 hex digits."""
    check_instance(run, "run", Run, how="a deep.Run(...)")
    text = repr(sorted(describe(run, "run").items())) + f"|{data_hash(x_train)}|{data_hash(x_test)}|"
    return hashlib.sha256((text + code_fingerprint()).encode()).hexdigest()[:32]


def train_runs(
    runs: Mapping[str, Run],
    x_train: Tensor,
    *,
    x_test: Tensor | None = None,
    store: str | Path | None = None,
    device: str | torch.device = "cpu",
    test_batch_size: int = 500,
    progress: bool = False,
) -> dict[str, Result]:
    """Train every run (its seeds stacked) on ``x_train`` (the first ``run.train_images`` rows), evaluating the test
    objective on ``x_test`` after every pass; return {name: Result}, in the order given.

    With ``store`` (a directory), each run is kept as ``<store>/<name>-<key>.pt`` and loaded (or resumed) from
    there when the run, the data and the code are unchanged; the console says which."""
    if store is not None:
        store = Path(store)
        store.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, run in runs.items():
        check_instance(run, f"runs[{name!r}]", Run, how="a deep.Run(...)")
        x = x_train if run.train_images is None else x_train[: run.train_images]
        path = None
        if store is not None:
            safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(name))
            path = store / f"{safe}-{run_key(run, x, x_test)}.pt"
        loaded = path is not None and path.exists()
        models = run.initial_models()
        stacked = networks.stack(models)
        started, cpu = time.perf_counter(), time.process_time()
        histories = training.train(
            stacked, x, objective=run.objective, epochs=run.epochs, batch_size=run.batch_size,
            optimizer=run.optimizer, x_test=x_test, test_objective=run.test_objective,
            test_batch_size=test_batch_size, binarization=run.binarization, beta_schedule=run.beta_schedule,
            checkpoint=path, device=device, generator=run.generators(device), progress=progress,
        )  # fmt: skip
        networks.copy_into(models, stacked)
        out[name] = Result(run, models, histories, time.perf_counter() - started, time.process_time() - cpu, loaded)
    return out
