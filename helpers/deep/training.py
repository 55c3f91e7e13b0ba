"""The one training loop of the deep part: every model the book trains (the VAE and IWAE, the Bernoulli VAE with
each discrete estimator, the diffusion noise model), single or as R replicas (seeds) at once.

A run is (model, data, objective, optimizer, schedules, batch size, epochs, generators); every setting except
``epochs`` is a value and goes into the run's fingerprint. The loop minimizes ``-objective.value(...).mean()`` over
shuffled minibatches, so the gradient of a minibatch is the unbiased (N/M)-scaled estimate of Kingma & Welling
divided by N.

Randomness: one ``torch.Generator`` per replica draws, in this order, the epoch's permutation, then at every step the
dynamic binarization u ~ U[0, 1) (when asked) and the objective's noise (``objective.draw``): replica r of a
replicated model draws exactly what a single model trained with that generator draws, so R replicas trained together
are R single runs computed at once (tests/deep/test_training.py). The generators' states are checkpointed with the
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
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from helpers.common.validation import check_count, check_flag, check_instance
from helpers.deep import networks
from helpers.deep.checkpoints import check_checkpoint_path, check_fingerprint, read_checkpoint, save_checkpoint
from helpers.deep.data import fixed_binarization
from helpers.deep.history import History
from helpers.deep.loop import RunState, fingerprint, prepare, progress_bar, run_epoch
from helpers.deep.objectives import Objective
from helpers.deep.optimizers import Adam

#: seeds of the fixed binarization of the training set ("fixed") and of the test set (both modes)
TRAIN_BINARIZATION_SEED, TEST_BINARIZATION_SEED = 0, 1
#: seeds of the fixed binarization of the training set ("fixed") and of the test set (both modes)


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
    run = prepare(model, x_train, x_test, objective=objective, test_objective=test_objective, batch_size=batch_size,
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
    bar = progress_bar((epochs - start) * math.ceil(len(run.x_train) / run.batch_size), progress)
    epoch = start
    try:
        model.train()
        for epoch in range(start, epochs):
            started = time.perf_counter()
            totals, beta = run_epoch(run, opt, epoch, bar)
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


def _save(path: Path, run: RunState, opt, fp: dict, epoch: int, histories: list[History]) -> None:
    save_checkpoint({
        "fingerprint": fp,
        "model": run.model.state_dict(),
        "optimizer": opt.state_dict(),
        "generators": [g.get_state() for g in run.generators],
        "epoch": epoch,
        "histories": [h.as_dict() for h in histories],
    }, path)  # fmt: skip


def _resume(path: Path, run: RunState, opt, fp: dict) -> tuple[int, list[History]]:
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
    :func:`train`, one per model (the reference the stacked run equals; tests/deep/test_training.py). The other
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
