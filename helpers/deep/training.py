"""The one training loop of the deep part: every model the book trains (the VAE and IWAE, the Bernoulli VAE with
each discrete estimator, the diffusion noise model), single or as R replicas (seeds) at once.

A run is (model, data, objective, optimizer, schedules, batch size, epochs, generators); every setting except
``epochs`` is a value and goes into the run's fingerprint. The loop minimizes ``-objective.value(...).mean()`` over
shuffled minibatches, so the gradient of a minibatch is the unbiased (N/M)-scaled estimate of Kingma & Welling
divided by N.

Randomness: one ``torch.Generator`` per replica draws, in this order, the epoch's permutation, then at every step the
dynamic binarization u ~ U[0, 1) (when asked) and the objective's noise (``objective.draw``): replica r of a
replicated model draws exactly what a single model trained with that generator draws, so R replicas trained together
are R single runs computed at once (tests/deep/test_engine.py). The generators' states are checkpointed with the
model and the optimizer, so a run stopped after any completed epoch and resumed with ``train(..., checkpoint=path)``
reproduces the uninterrupted run bit for bit (same device, same thread count); a resume under other settings is
refused naming the field. The loss is checked every ``CHECK_EVERY`` steps and before each epoch is recorded, so no
checkpoint holds a diverged epoch: it has diverged when it is not finite, or when it has risen above its epoch's
first loss L by more than ``DIVERGENCE_FACTOR`` (|L| + 1) (a learning rate far too high drives the loss of a smooth
network such as the diffusion noise MLP to 1e20-1e30 without overflowing).

Usage::

    history = deep.train(model, x_train, objective=deep.IWELBO(5), epochs=10, x_test=x_test,
                         binarization="dynamic", generator=cfg.generator)
    histories = deep.train(deep.stack(models), x_train, objective=deep.ELBO(), epochs=10, generator=generators)
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from helpers.common.config import get_device
from helpers.common.validation import (
    check_choice,
    check_count,
    check_device,
    check_flag,
    check_images,
    check_instance,
    check_positive_number,
)
from helpers.deep import networks
from helpers.deep.checkpoints import (
    CHECKPOINT_FORMAT,
    check_checkpoint_path,
    check_fingerprint,
    data_hash,
    describe,
    read_checkpoint,
    save_checkpoint,
)
from helpers.deep.data import fixed_binarization
from helpers.deep.history import History
from helpers.deep.objectives import Objective

#: seeds of the fixed binarization of the training set ("fixed") and of the test set (both modes)
TRAIN_BINARIZATION_SEED, TEST_BINARIZATION_SEED = 0, 1
#: minibatch steps between the checks that the loss is finite (one host sync per check, not one per step)
CHECK_EVERY = 50
#: a finite loss that rises above its epoch's first loss L by more than DIVERGENCE_FACTOR (|L| + 1) has diverged
DIVERGENCE_FACTOR = 1e6
#: minibatch steps between progress-bar updates (a notebook widget update costs more than a small model's step)
PROGRESS_EVERY = 25


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


def binarize_with(u: Tensor, x: Tensor) -> Tensor:
    """Dynamic binarization from uniform draws u ~ U[0, 1) of x's shape: 1[u < x] ~ Bernoulli(x), in x's dtype
    (the distribution of ``torch.bernoulli(x)``, about three times faster on the CPU)."""
    return torch.lt(u, x, out=torch.empty(x.shape, dtype=torch.bool, device=x.device)).to(x.dtype)


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    try:  # the notebook widget when ipywidgets is installed, text otherwise (tqdm.auto would only warn)
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm
    return tqdm(total=total, unit="step", dynamic_ncols=True, leave=True)


def _stacked(draws: list) -> Tensor | tuple:
    """Stack per-replica noise (tensors, or tuples of tensors) along a new axis 0."""
    if isinstance(draws[0], tuple):
        return tuple(torch.stack(parts) for parts in zip(*draws))
    return torch.stack(draws)


@dataclass
class _Run:
    """Everything one call of :func:`train` has checked and prepared."""

    model: nn.Module
    replicas: int | None
    generators: list[torch.Generator]
    x_train: Tensor
    x_test: Tensor | None
    objective: Objective
    test_objective: Objective
    batch_size: int
    test_batch_size: int
    binarization: str | None
    beta_schedule: Callable[[float], float] | None
    optimizer: Adam
    device: torch.device

    def draw(self, objective: Objective, xb: Tensor, u: Tensor | None):
        """(binarized batch, noise) for one step: each replica draws u then its noise from its own generator."""
        if self.replicas is None:
            g = self.generators[0]
            if u is not None:
                u.uniform_(generator=g)
                xb = binarize_with(u, xb)
            return xb, objective.draw(self.model, xb, g)
        noise = []
        for r, g in enumerate(self.generators):
            if u is not None:
                u[r].uniform_(generator=g)
                xb[r] = binarize_with(u[r], xb[r])
            noise.append(objective.draw(self.model, xb[r], g))
        return xb, _stacked(noise)

    def batch(self, x: Tensor, index: Tensor) -> Tensor:
        """Rows ``index`` (B,) or (R, B) of x (N, P) -> (B, P) or (R, B, P)."""
        return x.index_select(0, index) if index.ndim == 1 else x[index]

    def evaluate(self) -> list[float]:
        """The mean of the test objective over x_test, per replica, without gradient."""
        x, r = self.x_test, self.replicas
        total = torch.zeros(r or 1, dtype=torch.float64, device=self.device)
        self.model.eval()
        with torch.no_grad():
            for i in range(0, len(x), self.test_batch_size):
                xb = x[i : i + self.test_batch_size]
                if r is not None:
                    xb = xb.expand(r, *xb.shape)
                _, noise = self.draw(self.test_objective, xb, None)
                total += self.test_objective.value(self.model, xb, noise).double().sum(-1).reshape(-1)
        self.model.train()
        return (total / len(x)).tolist()


def _as_images(x: object, name: str, model: nn.Module) -> Tensor:
    """A numpy array becomes a tensor; floating data of another dtype (numpy's float64) take the model's dtype."""
    x = check_images(x, name)
    param = next(iter(model.parameters()), None)
    if param is not None and x.is_floating_point() and x.dtype != param.dtype:
        x = x.to(param.dtype)
    return x


def _generators(generator: object, replicas: int | None, device: torch.device) -> list[torch.Generator]:
    expected = "one torch.Generator" if replicas is None else f"a list of {replicas} torch.Generator objects"
    if generator is None:
        seeds = torch.randint(2**62, (replicas or 1,)).tolist()
        return [torch.Generator(device=device).manual_seed(s) for s in seeds]
    gens = [generator] if isinstance(generator, torch.Generator) else generator
    if (
        not isinstance(gens, (list, tuple))
        or len(gens) != (replicas or 1)
        or not all(isinstance(g, torch.Generator) for g in gens)
    ):
        raise TypeError(f"generator must be {expected}, one per replica (got {type(generator).__name__}).")
    if len({id(g) for g in gens}) != len(gens):
        raise ValueError("generator must hold R distinct generators (replicas that share one are not independent).")
    for g in gens:
        if g.device.type != device.type:
            raise ValueError(
                f"generator is on {g.device} but training runs on {device}; pass torch.Generator(device='{device}') "
                f"or device='{g.device}'."
            )
    return list(gens)


def _prepare(model, x_train, x_test, *, objective, test_objective, batch_size, test_batch_size, binarization,
             beta_schedule, optimizer, device, generator) -> _Run:  # fmt: skip
    check_instance(model, "model", nn.Module, how="e.g. deep.VAE(784), or deep.stack(models) for R replicas")
    for name in ("check_input", "config"):
        if not hasattr(model, name):
            raise TypeError(f"model must be a deep model with {name} (deep.VAE, deep.BernoulliVAE, deep.NoiseMLP).")
    if not isinstance(objective, Objective):
        raise TypeError(
            f"objective must be an objective value such as deep.ELBO(), deep.IWELBO(5) or deep.DiscreteELBO('disarm') "
            f"(got {type(objective).__name__} {getattr(objective, '__name__', '')}); its fields say what the run "
            "optimizes (the functions deep.elbo, deep.iwelbo evaluate an objective once; train takes the value)."
        )
    objective.check_model(model)
    test_objective = objective if test_objective is None else test_objective
    check_instance(test_objective, "test_objective", Objective, how="e.g. deep.ELBO()")
    if not isinstance(optimizer, Adam):
        raise TypeError(
            f"optimizer must be an optimizer value such as deep.Adam(lr=1e-3, eps=1e-4) (got {type(optimizer).__name__}"
            "); its fields are recorded so that a resume can be checked."
        )
    if beta_schedule is not None:
        if not callable(beta_schedule):
            raise TypeError("beta_schedule must be a schedule value t -> beta, e.g. deep.LinearBeta(5), or None.")
        if not objective.takes_beta:
            raise ValueError(f"beta_schedule needs an objective with a KL weight beta; {objective!r} has none.")
    check_choice(binarization, "binarization", (None, "dynamic", "fixed"))
    batch_size = check_count(batch_size, "batch_size")
    test_batch_size = check_count(test_batch_size, "test_batch_size")
    replicas = getattr(model, "replicas", None)
    if device is None:
        if isinstance(generator, torch.Generator):
            device = generator.device
        elif isinstance(generator, (list, tuple)) and generator and isinstance(generator[0], torch.Generator):
            device = generator[0].device
        else:
            device = get_device()
    device = check_device(device)
    generators = _generators(generator, replicas, device)
    model.to(device)
    x_train = _as_images(x_train, "x_train", model).to(device)
    x_train = model.check_input(x_train, "x_train")
    if x_test is not None:
        x_test = model.check_input(_as_images(x_test, "x_test", model).to(device), "x_test")
    if binarization is not None and (bool((x_train < 0).any()) or bool((x_train > 1).any())):
        raise ValueError("x_train must be in [0, 1] to be binarized; scale pixels with x / 255.")
    return _Run(model, replicas, generators, x_train, x_test, objective, test_objective, batch_size, test_batch_size,
                binarization, beta_schedule, optimizer, device)  # fmt: skip


def fingerprint(run: _Run, x_train: Tensor, x_test: Tensor | None) -> dict[str, object]:
    """What defines the run (every setting but ``epochs``), as a flat dict of comparable values."""
    out: dict[str, object] = {
        "format": CHECKPOINT_FORMAT,
        "model": type(run.model).__qualname__,
        "model.replicas": run.replicas,
        **{f"model.{k}": v for k, v in run.model.config.items()},
        "x_train_hash": data_hash(x_train),
        "x_test_hash": data_hash(x_test),
        "batch_size": run.batch_size,
        "test_batch_size": run.test_batch_size if x_test is not None else None,
        "binarization": run.binarization,
        "device": run.device.type,
    }
    out.update(describe(run.objective, "objective"))
    out.update(describe(run.test_objective if x_test is not None else None, "test_objective"))
    out.update(describe(run.beta_schedule, "beta_schedule"))
    out.update(describe(run.optimizer, "optimizer"))
    return out


def _check_finite(losses: list[Tensor], checked: int, epoch: int, steps: int, lr: float) -> int:
    """Raise a ValueError naming the first step (and replica) among ``losses[checked:]`` whose loss is not finite
    or has risen above the epoch's first loss L by more than DIVERGENCE_FACTOR (|L| + 1) (one host sync); return
    how many losses are checked now."""
    if checked == len(losses):
        return checked
    recent = torch.stack(losses[checked:]).reshape(len(losses) - checked, -1)  # (steps, R or 1)
    first = losses[0].reshape(-1)
    sane = torch.isfinite(recent) & (recent - first <= DIVERGENCE_FACTOR * (first.abs() + 1))
    if not bool(sane.all()):
        step, replica = ((~sane).nonzero()[0]).tolist()
        which = f" of replica {replica}" if recent.shape[1] > 1 else ""
        raise ValueError(
            f"the loss{which} is {float(recent[step, replica]):.4g} at epoch {epoch + 1}, step {checked + step + 1} "
            f"of {steps}: training diverged (the epoch's first loss: {float(first[replica]):.4g}). Lower the learning "
            f"rate (lr={lr:g}; try {lr / 10:g}), or check the data and the likelihood (e.g. a learned variance "
            f"needs min_log_var). The model holds the parameters of at most {CHECK_EVERY} steps later; a checkpoint "
            "holds the last completed epoch."
        )
    return len(losses)


def _epoch(run: _Run, opt: torch.optim.Optimizer, epoch: int, bar) -> tuple[list[float], float]:
    """One pass of minibatch stochastic gradient ascent; returns (mean objective per replica, last beta)."""
    n, size = len(run.x_train), run.batch_size
    steps = math.ceil(n / size)
    orders = [torch.randperm(n, generator=g, device=run.device) for g in run.generators]
    beta = math.nan
    losses: list[Tensor] = []  # the detached loss of each step, (R,) or ()
    checked = pending = 0
    for step in range(steps):
        index = orders[0][step * size : (step + 1) * size]
        if run.replicas is not None:
            index = torch.stack([order[step * size : (step + 1) * size] for order in orders])
        xb = run.batch(run.x_train, index)
        u = torch.empty_like(xb) if run.binarization == "dynamic" else None
        xb, noise = run.draw(run.objective, xb, u)
        t = epoch + step / steps
        if run.beta_schedule is not None:
            beta = float(run.beta_schedule(t))
        run.optimizer.set_lr(opt, t)
        values = run.objective.value(run.model, xb, noise, beta if run.beta_schedule is not None else None)
        loss = -values.mean(-1)  # (R,) or (): replica r's loss depends on replica r's weights only
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        losses.append(loss.detach())
        if len(losses) - checked >= CHECK_EVERY:
            checked = _check_finite(losses, checked, epoch, steps, run.optimizer.lr)
        if bar is not None:
            pending += 1
            if pending >= PROGRESS_EVERY:
                bar.update(pending)
                pending = 0
    _check_finite(losses, checked, epoch, steps, run.optimizer.lr)
    if bar is not None and pending:
        bar.update(pending)
    sizes = torch.full((steps, 1), float(size), dtype=torch.float64, device=run.device)
    sizes[-1] = n - size * (steps - 1)
    totals = -(torch.stack(losses).double().reshape(steps, -1) * sizes).sum(0) / n
    return totals.tolist(), beta


def train(
    model: nn.Module,
    x_train: Tensor,
    *,
    objective: Objective,
    epochs: int,
    batch_size: int = 100,
    optimizer: Adam | None = None,
    lr: float | None = None,
    x_test: Tensor | None = None,
    test_objective: Objective | None = None,
    test_batch_size: int = 500,
    binarization: Literal["dynamic", "fixed"] | None = None,
    beta_schedule: Callable[[float], float] | None = None,
    checkpoint: str | Path | None = None,
    device: str | torch.device | None = None,
    generator: torch.Generator | Sequence[torch.Generator] | None = None,
    progress: bool = True,
    callback: Callable[[int, nn.Module, History | list[History]], None] | None = None,
) -> History | list[History]:
    """Train ``model`` (in place) by maximizing ``objective`` over shuffled minibatches; return its History, or one
    History per replica for a replicated model (``deep.stack(models)``).

    Args:
        model: a deep model (deep.VAE, deep.BernoulliVAE, diffusion.NoiseMLP), single or with R replicas.
        x_train: (N, P) training data (in [0, 1] when binarized or for a Bernoulli likelihood); numpy arrays and
            floating data of another dtype (numpy's float64) are converted to the model's dtype.
        objective: an objective value, e.g. ``deep.ELBO()``, ``deep.IWELBO(50)``, ``deep.DiscreteELBO("disarm")``.
        epochs: train until this many epochs are complete (counting those already in ``checkpoint``).
        batch_size: minibatch size M (the last minibatch of an epoch may be smaller).
        optimizer: a ``deep.Adam(...)`` value (default ``deep.Adam(lr)``); ``lr``: shorthand for
            ``optimizer=deep.Adam(lr=lr)`` (default 1e-3); give one of the two.
        x_test, test_objective: evaluated without gradient at the end of every epoch, in batches of
            ``test_batch_size``; ``test_objective`` defaults to ``objective`` (at its own beta).
        binarization: ``"dynamic"`` (every minibatch redrawn x ~ Bernoulli(x), Burda et al. 2016), ``"fixed"``
            (the training set binarized once, seed ``TRAIN_BINARIZATION_SEED``) or None. With either, x_test is
            binarized once (seed ``TEST_BINARIZATION_SEED``).
        beta_schedule: a schedule value t -> beta (deep.LinearBeta, deep.CyclicalBeta), t the fractional epoch.
        checkpoint: a file path, checked before training starts. After every epoch the run's state and fingerprint
            are written there atomically with a checksum; when the file exists, training resumes from it, and
            refuses to when any setting differs (the error names the field; only ``epochs`` may change) or the
            file is damaged.
        device: default: the generators' device, else :func:`helpers.get_device`.
        generator: one ``torch.Generator`` (single model) or a list of R (replicated); it draws every random
            number of the run (default: new ones seeded from torch's global RNG).
        progress: show a tqdm progress bar. callback: ``callback(epoch, model, history)`` after each epoch.

    Raises:
        TypeError, ValueError: bad arguments (the message names the argument); an unusable checkpoint path; a
            damaged checkpoint; a checkpoint of another model or run; a non-finite loss (the message names the
            step and the replica and suggests a lower learning rate).
        KeyboardInterrupt: re-raised after saying which epoch the checkpoint holds.
    """
    if optimizer is not None and lr is not None:
        raise ValueError("give either optimizer=deep.Adam(lr=...) or lr=..., not both.")
    optimizer = optimizer if optimizer is not None else Adam(1e-3 if lr is None else lr)
    epochs = check_count(epochs, "epochs")
    check_flag(progress, "progress")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable as callback(epoch, model, history), or None.")
    path = None
    if checkpoint is not None:
        check_instance(checkpoint, "checkpoint", (str, Path), how="a file path such as 'runs/vae.pt'")
        path = Path(checkpoint)
        check_checkpoint_path(path)  # before training: a bad path must not cost an epoch
    run = _prepare(model, x_train, x_test, objective=objective, test_objective=test_objective, batch_size=batch_size,
                   test_batch_size=test_batch_size, binarization=binarization, beta_schedule=beta_schedule,
                   optimizer=optimizer, device=device, generator=generator)  # fmt: skip
    print_hash = fingerprint(run, run.x_train, run.x_test)
    if binarization == "fixed":
        run.x_train = fixed_binarization(run.x_train, seed=TRAIN_BINARIZATION_SEED)
    if run.x_test is not None and binarization is not None:
        run.x_test = fixed_binarization(run.x_test, seed=TEST_BINARIZATION_SEED)

    opt = optimizer.build(list(model.parameters()))
    histories = [History() for _ in range(run.replicas or 1)]
    start = 0
    if path is not None and path.exists():
        start, histories = _resume(path, run, opt, print_hash)
    result = histories[0] if run.replicas is None else histories
    if start >= epochs:
        print(f"helpers.train: {path} already holds {start} epochs (asked for {epochs}); nothing to do.")
        return result
    bar = _progress_bar((epochs - start) * math.ceil(len(run.x_train) / run.batch_size), progress)
    epoch = start
    try:
        model.train()
        for epoch in range(start, epochs):
            started = time.perf_counter()
            totals, beta = _epoch(run, opt, epoch, bar)
            seconds = time.perf_counter() - started
            started = time.perf_counter()
            tests = run.evaluate() if run.x_test is not None else [math.nan] * len(histories)
            for history, total, test in zip(histories, totals, tests):
                history.record(epoch + 1, total, test, beta, seconds, time.perf_counter() - started)
            if path is not None:
                _save(path, run, opt, print_hash, epoch + 1, histories)
            if bar is not None:
                bar.set_postfix(epoch=epoch + 1, train=f"{totals[0]:.2f}", test=f"{tests[0]:.2f}")
            if callback is not None:
                callback(epoch + 1, model, result)
    except KeyboardInterrupt:
        where = f"; {path} holds epoch {len(histories[0])}: call train again to resume" if path is not None else ""
        print(f"helpers.train: interrupted during epoch {epoch + 1}{where}.", file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()
    return result


def _save(path: Path, run: _Run, opt, fp: dict, epoch: int, histories: list[History]) -> None:
    save_checkpoint({
        "fingerprint": fp,
        "model": run.model.state_dict(),
        "optimizer": opt.state_dict(),
        "generators": [g.get_state() for g in run.generators],
        "epoch": epoch,
        "histories": [h.as_dict() for h in histories],
    }, path)  # fmt: skip


def _resume(path: Path, run: _Run, opt, fp: dict) -> tuple[int, list[History]]:
    state = read_checkpoint(path)
    check_fingerprint(path, state, fp)
    own = {k: tuple(v.shape) for k, v in run.model.state_dict().items()}
    saved = {k: tuple(v.shape) for k, v in state["model"].items()}
    if own != saved:  # pragma: no cover - the fingerprint's model entries catch this first
        raise ValueError(f"checkpoint {path} holds another model's parameters; delete it to start afresh.")
    run.model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    for g, s in zip(run.generators, state["generators"]):
        g.set_state(s)
    return state["epoch"], [History(**h) for h in state["histories"]]


def train_replicas(
    models: Sequence[nn.Module],
    x_train: Tensor,
    *,
    generators: Sequence[torch.Generator],
    objective: Objective,
    epochs: int,
    stack: bool = True,
    **kwargs,
) -> list[History]:
    """Train R independent replicas (seeds): ``models[r]`` with ``generators[r]``, in place; return R Histories.

    ``stack=True`` (default): one call of :func:`train` on ``deep.stack(models)`` (one batched matrix product per
    layer for all R), then the trained weights are copied back into the models. ``stack=False``: R calls of
    :func:`train`, one per model (the reference the stacked run equals; tests/deep/test_engine.py). The other
    arguments are those of :func:`train`."""
    if "generator" in kwargs:
        raise TypeError("train_replicas takes generators=[...], one per model, not generator=.")
    models, generators = list(models), list(generators)
    if not models or len(models) != len(generators):
        raise ValueError(
            f"models and generators must be non-empty lists of the same length R (got {len(models)} models and "
            f"{len(generators)} generators): give one generator per replica."
        )
    if len({id(m) for m in models}) != len(models):
        raise ValueError("models must be R distinct objects (a replica trains its own model).")
    check_flag(stack, "stack")
    if not stack:
        return [train(m, x_train, objective=objective, epochs=epochs, generator=g, **kwargs)
                for m, g in zip(models, generators)]  # fmt: skip
    device = kwargs.get("device") or generators[0].device
    stacked = networks.stack([m.to(device) for m in models])
    histories = train(stacked, x_train, objective=objective, epochs=epochs, generator=generators, **kwargs)
    networks.copy_into(models, stacked)
    return histories
