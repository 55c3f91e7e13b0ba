"""One training loop for every VAE variant (chapters *The variational autoencoder*, *Importance-weighted bounds*,
*Sticking the landing*).

Variants differ by the **objective**, a callable ``objective(model, x_batch, *, generator) -> Tensor (B,)`` that
returns a per-data-point value to maximize (any of :func:`helpers.deep.elbo`, :func:`helpers.deep.iwelbo` with
options fixed by ``functools.partial``, or the chapter's own). The loop minimizes ``-objective(...).mean()`` over
shuffled minibatches with Adam (by default), so the gradient of a minibatch is the unbiased (N/M)-scaled estimate of
Kingma & Welling divided by N. When a ``beta_schedule`` is given, the loop also passes ``beta=beta_schedule(t)``
with t the fractional epoch (epoch + step / steps per epoch): KL annealing (:func:`linear_beta`,
:func:`cyclical_beta`) needs no other change.

Randomness: ONE ``torch.Generator`` draws the shuffles, the dynamic binarization and the objective's noise; its
state is checkpointed with the model and the optimizer, so a run stopped after any completed epoch and resumed
with ``train(..., checkpoint=path)`` reproduces the uninterrupted run bit for bit (same settings, same device,
same thread count). The checkpoint records the settings that define the run (:mod:`helpers.deep.checkpoints`) and a
resume under other ones is refused with a message that names what differs; only ``epochs`` may change.

Usage::

    history = deep.train(model, x_train, objective=partial(deep.iwelbo, num_samples=5), epochs=10,
                         batch_size=100, x_test=x_test, binarization="dynamic", generator=cfg.generator)
    plt.plot(history.epoch, history.train); plt.plot(history.epoch, history.test)
"""

from __future__ import annotations

import inspect
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from helpers.common.config import get_device
from helpers.common.validation import (
    check_callable,
    check_choice,
    check_count,
    check_device,
    check_flag,
    check_generator,
    check_images,
    check_instance,
    check_positive_number,
)
from helpers.deep.checkpoints import (
    CHECKPOINT_FORMAT,
    check_checkpoint_path,
    data_hash,
    describe_callable,
    describe_optimizer,
    load_checkpoint,
    save_checkpoint,
)
from helpers.deep.data import fixed_binarization
from helpers.deep.history import History

Objective = Callable[..., Tensor]  # objective(model, x (B, P), *, generator, [beta]) -> (B,)
#: seeds of the fixed binarization of the training set ("fixed") and of the test set (both modes)
TRAIN_BINARIZATION_SEED, TEST_BINARIZATION_SEED = 0, 1


def binarize_with(u: Tensor, x: Tensor) -> Tensor:
    """Dynamic binarization from uniform draws u ~ U[0, 1) of x's shape: 1[u < x] ~ Bernoulli(x), in x's dtype.

    The same distribution as ``torch.bernoulli(x)``, about three times faster on the CPU (benchmarks/RESULTS.md);
    train and the stacked replicas draw u the same way, so their draws agree.
    """
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


def _adam(params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(params, lr=lr)


def _evaluate(model: nn.Module, objective: Objective, x: Tensor, batch_size: int, generator: torch.Generator) -> float:
    """The mean of ``objective`` over the rows of x, in batches, without gradient."""
    with torch.no_grad():
        batches = (x[i : i + batch_size] for i in range(0, len(x), batch_size))
        total = sum(objective(model, xb, generator=generator).sum() for xb in batches)
    return float(total) / len(x)


@dataclass
class _Run:
    """Everything one call of :func:`train` has checked and prepared: data on the device, already binarized when the
    binarization is fixed, and the generator that draws every random number of the run."""

    device: torch.device
    generator: torch.Generator
    x_train: Tensor
    x_test: Tensor | None
    test_objective: Objective
    data: dict[str, str | None]  # hashes of the images as given (before any binarization), for the fingerprint


def _as_images(x: object, name: str, model: nn.Module) -> Tensor:
    """A numpy array becomes a tensor; floating images of another dtype (numpy's float64) take the model's."""
    x = check_images(x, name)
    param = next(iter(model.parameters()), None)
    if param is not None and x.is_floating_point() and x.dtype != param.dtype:
        x = x.to(param.dtype)
    return x


def _prepare(model, x_train, x_test, objective, test_objective, binarization, device, generator) -> _Run:
    x_train = _as_images(x_train, "x_train", model)
    x_test = None if x_test is None else _as_images(x_test, "x_test", model)
    if device is None:
        device = generator.device if generator is not None else get_device()
    device = check_device(device)
    if generator is None:
        generator = torch.Generator(device=device).manual_seed(int(torch.randint(2**62, ()).item()))
    if generator.device.type != device.type:
        raise ValueError(
            f"generator is on {generator.device} but training runs on {device}; pass "
            f"torch.Generator(device='{device}') or device='{generator.device}'."
        )
    model.to(device)
    check = getattr(model, "check_input", None)
    x_train = x_train.to(device)
    if check is not None:
        check(x_train, "x_train")
    if x_test is not None:
        x_test = x_test.to(device)
        if check is not None:
            check(x_test, "x_test")
    if binarization is not None and ((x_train < 0).any() or (x_train > 1).any()):
        raise ValueError("x_train must be in [0, 1] to be binarized; scale pixels with x / 255.")
    data = {"x_train_hash": data_hash(x_train), "x_test_hash": data_hash(x_test)}
    if binarization == "fixed":
        x_train = fixed_binarization(x_train, seed=TRAIN_BINARIZATION_SEED)
    if x_test is not None and binarization is not None:
        x_test = fixed_binarization(x_test, seed=TEST_BINARIZATION_SEED)
    return _Run(device, generator, x_train, x_test, objective if test_objective is None else test_objective, data)


#: minibatch steps between the checks that the loss is finite (one host sync per check, not one per step)
CHECK_EVERY = 50
#: minibatch steps between progress-bar updates (a notebook widget update costs more than a small model's step)
PROGRESS_EVERY = 25


def _sgd_epoch(model, opt, run: _Run, objective, *, epoch, batch_size, binarization, beta_schedule, lr, bar):
    """One pass of minibatch stochastic gradient ascent on the objective; returns (sum of the objective, last beta).

    For each minibatch of a fresh random permutation: (binarize it afresh,) estimate the objective per data point,
    step on the gradient of minus its mean. The minibatch losses stay on the device; every ``CHECK_EVERY`` steps
    and at the end of the epoch (before anything is recorded or checkpointed) one check finds the first
    non-finite one and names its step (:func:`_check_finite`).
    """
    n = len(run.x_train)
    steps_per_epoch = math.ceil(n / batch_size)
    beta = math.nan
    losses: list[Tensor] = []  # (), the detached loss of each minibatch of the epoch so far
    checked = pending = 0
    order = torch.randperm(n, generator=run.generator, device=run.device)
    kwargs: dict[str, Any] = {"generator": run.generator}
    for step, index in enumerate(order.split(batch_size)):
        xb = run.x_train.index_select(0, index)
        if binarization == "dynamic":
            xb = binarize_with(torch.empty_like(xb).uniform_(generator=run.generator), xb)
        if beta_schedule is not None:
            beta = float(beta_schedule(epoch + step / steps_per_epoch))
            kwargs["beta"] = beta
        values = objective(model, xb, **kwargs)
        if values.shape != (len(xb),):
            raise ValueError(
                f"objective must return one value per data point, shape ({len(xb)},) (got {tuple(values.shape)}); "
                "do not reduce it (train takes the mean)."
            )
        loss = -values.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
        if len(losses) - checked >= CHECK_EVERY:
            checked = _check_finite(losses, checked, epoch, steps_per_epoch, lr)
        if bar is not None:
            pending += 1
            if pending >= PROGRESS_EVERY:
                bar.update(pending)
                pending = 0
    _check_finite(losses, checked, epoch, steps_per_epoch, lr)
    if bar is not None and pending:
        bar.update(pending)
    sizes = torch.full((len(losses),), float(batch_size), dtype=torch.float64, device=run.device)
    sizes[-1] = n - batch_size * (len(losses) - 1)
    total = -(torch.stack(losses).double() * sizes).sum()  # the sum of the objective over the epoch's images
    return total, beta


def _check_finite(losses: list[Tensor], checked: int, epoch: int, steps_per_epoch: int, lr: float) -> int:
    """Raise a ValueError naming the first minibatch step whose loss is not finite, among ``losses[checked:]``
    (one host sync); return how many losses are checked now."""
    if checked == len(losses):
        return checked
    recent = torch.stack(losses[checked:])
    finite = torch.isfinite(recent)
    if not bool(finite.all()):
        first = int((~finite).nonzero()[0, 0])
        step = checked + first
        raise ValueError(
            f"the loss is {float(recent[first])} at epoch {epoch + 1}, step {step + 1} of {steps_per_epoch}: "
            f"training diverged. Lower the learning rate (lr={lr:g}; try {lr / 10:g}), or check the data and the "
            "likelihood (e.g. a learned variance needs min_log_var). The model holds the parameters of at most "
            f"{CHECK_EVERY} steps later; a checkpoint holds the last completed epoch."
        )
    return len(losses)


def _check_arguments(
    model, *, objective, epochs, batch_size, lr, test_objective, test_batch_size, binarization, beta_schedule,
    optimizer, checkpoint, generator, progress, callback,
) -> tuple[int, int, int, float, Path | None]:  # fmt: skip
    """The argument checks of :func:`train` (shared with the stacked replicas); returns (epochs, batch_size,
    test_batch_size, lr, checkpoint path or None)."""
    check_callable(
        objective, "objective", how="objective(model, x_batch, generator=...) -> (B,) values, e.g. deep.elbo"
    )
    for value, name in ((test_objective, "test_objective"), (beta_schedule, "beta_schedule"),
                        (optimizer, "optimizer"), (callback, "callback")):  # fmt: skip
        if value is not None:
            check_callable(value, name)
    check_instance(model, "model", nn.Module, how="e.g. deep.VAE(784)")
    epochs = check_count(epochs, "epochs")
    batch_size = check_count(batch_size, "batch_size")
    test_batch_size = check_count(test_batch_size, "test_batch_size")
    lr = check_positive_number(lr, "lr", example="lr=1e-3")
    check_choice(binarization, "binarization", (None, "dynamic", "fixed"))
    check_flag(progress, "progress")
    check_generator(generator)
    path = None
    if checkpoint is not None:
        check_instance(checkpoint, "checkpoint", (str, Path), how="a file path such as 'runs/vae.pt'")
        path = Path(checkpoint)
        check_checkpoint_path(path)  # before training: a bad path must not cost an epoch and its History
    return epochs, batch_size, test_batch_size, lr, path


def train(
    model: nn.Module,
    x_train: Tensor,
    *,
    objective: Objective,
    epochs: int,
    batch_size: int = 100,
    lr: float = 1e-3,
    x_test: Tensor | None = None,
    test_objective: Objective | None = None,
    test_batch_size: int = 500,
    binarization: Literal["dynamic", "fixed"] | None = None,
    beta_schedule: Callable[[float], float] | None = None,
    optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] | None = None,
    checkpoint: str | Path | None = None,
    device: str | torch.device | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callable[[int, nn.Module, History], None] | None = None,
) -> History:
    """Train ``model`` (in place) by maximizing ``objective`` over shuffled minibatches; return the History.

    Args:
        model: a :class:`helpers.deep.VAE` (or any module the objective accepts); moved to ``device``.
        x_train: (N, P) float images (in [0, 1] when binarized or for a Bernoulli likelihood); a numpy array, or
            floating images of another dtype (numpy's float64), are converted to the model's dtype.
        objective: ``objective(model, x_batch, *, generator[, beta]) -> (B,)``, maximized, e.g.
            ``deep.elbo`` or ``functools.partial(deep.iwelbo, num_samples=50)``.
        epochs: train until this many epochs are complete (counting those already in ``checkpoint``).
        batch_size: minibatch size M (the last minibatch of an epoch may be smaller).
        lr: Adam's learning rate (ignored when ``optimizer`` is given).
        x_test, test_objective: evaluated (without gradient) at the end of every epoch in batches of
            ``test_batch_size``; ``test_objective`` defaults to ``objective`` (called without ``beta``).
        binarization: ``"dynamic"``: every minibatch is redrawn x ~ Bernoulli(x) (Burda et al. 2016);
            ``"fixed"``: the training set is binarized once (:func:`helpers.fixed_binarization`, seed 0);
            ``None``: the pixels are used as they are. With either binarization, ``x_test`` is binarized once
            (seed 1), so every epoch is evaluated on the same binary test images.
        beta_schedule: t -> beta, t the fractional epoch; when given, the objective is called with ``beta=``.
        optimizer: ``params -> torch.optim.Optimizer``; default ``torch.optim.Adam(params, lr=lr, fused=True)``
            (faster than the default on the CPU, benchmarks/RESULTS.md; the same updates up to rounding).
        checkpoint: a file path, checked before training starts (its directory must exist and be writable). After
            every epoch the model, the optimizer, the generator state, the epoch, the history and the run's
            fingerprint (data hashes, batch sizes, binarization, objectives, beta schedule, optimizer and its
            hyperparameters) are written there atomically; when the file exists, training resumes from it, and
            refuses to when any of those settings differ (only ``epochs`` may change).
        device: default: ``generator``'s device when one is given, else :func:`helpers.get_device`.
        generator: draws every random number of the run (default: a new one seeded from torch's global RNG).
        progress: show a tqdm progress bar (one step per minibatch).
        callback: called as ``callback(epoch, model, history)`` after each epoch (its state is not checkpointed).

    Raises:
        TypeError: an argument of the wrong type (the message names it).
        ValueError: bad arguments; an unusable checkpoint path; a corrupt checkpoint; a checkpoint from a different
            model or from a run with other settings (the message names what differs); a non-finite loss (the
            message names the first such step and suggests a lower learning rate; the losses are checked every
            ``CHECK_EVERY`` steps and before each epoch is recorded, so no checkpoint holds a diverged epoch).
        KeyboardInterrupt: re-raised after saying which epoch the checkpoint holds (at most the current epoch
            is lost).
    """
    epochs, batch_size, test_batch_size, lr, path = _check_arguments(
        model, objective=objective, epochs=epochs, batch_size=batch_size, lr=lr, test_objective=test_objective,
        test_batch_size=test_batch_size, binarization=binarization, beta_schedule=beta_schedule, optimizer=optimizer,
        checkpoint=checkpoint, generator=generator, progress=progress, callback=callback,
    )  # fmt: skip
    run = _prepare(model, x_train, x_test, objective, test_objective, binarization, device, generator)

    params = list(model.parameters())
    opt = optimizer(params) if optimizer is not None else _adam(params, lr)
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(f"optimizer must return a torch.optim.Optimizer (got {type(opt).__name__}).")
    fingerprint = {
        "format": CHECKPOINT_FORMAT,
        "model_config": getattr(model, "config", None),
        **run.data,
        "batch_size": batch_size,
        "test_batch_size": test_batch_size if run.x_test is not None else None,
        "binarization": binarization,
        "objective": describe_callable(objective),
        "test_objective": describe_callable(run.test_objective) if run.x_test is not None else None,
        "beta_schedule": describe_callable(beta_schedule),
        "optimizer": describe_optimizer(opt),
    }
    history, start_epoch = History(), 0
    if path is not None and path.exists():
        start_epoch, history = load_checkpoint(path, model, opt, run.generator, fingerprint)
        if start_epoch >= epochs:
            print(f"helpers.train: {path} already holds {start_epoch} epochs (asked for {epochs}); nothing to do.")
            return history

    bar = _progress_bar((epochs - start_epoch) * math.ceil(len(run.x_train) / batch_size), progress)
    epoch = start_epoch
    try:
        for epoch in range(start_epoch, epochs):
            model.train()
            started = time.perf_counter()
            total, beta = _sgd_epoch(
                model, opt, run, objective, epoch=epoch, batch_size=batch_size, binarization=binarization,
                beta_schedule=beta_schedule, lr=lr, bar=bar,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            started = time.perf_counter()
            test_value = math.nan
            if run.x_test is not None:
                model.eval()
                test_value = _evaluate(model, run.test_objective, run.x_test, test_batch_size, run.generator)
            history.record(epoch + 1, float(total) / len(run.x_train), test_value, beta, seconds,
                           time.perf_counter() - started)  # fmt: skip
            if path is not None:
                state = {
                    "format": CHECKPOINT_FORMAT,
                    "fingerprint": fingerprint,
                    "model_config": getattr(model, "config", None),
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "generator": run.generator.get_state(),
                    "epoch": epoch + 1,
                    "history": history.as_dict(),
                }
                save_checkpoint(state, path)
            if bar is not None:
                bar.set_postfix(epoch=epoch + 1, train=f"{history.train[-1]:.2f}", test=f"{test_value:.2f}")
            if callback is not None:
                callback(epoch + 1, model, history)
    except KeyboardInterrupt:
        where = f"; {path} holds epoch {len(history)}: call train again to resume" if path is not None else ""
        print(f"helpers.train: interrupted during epoch {epoch + 1}{where}.", file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()
    return history


def train_replicas(
    models: Sequence[nn.Module],
    x_train: Tensor,
    *,
    generators: Sequence[torch.Generator],
    objective: Objective,
    epochs: int,
    stack: bool | None = None,
    **kwargs: Any,
) -> list[History]:
    """Train R independent replicas (seeds) of one run: ``models[r]`` with ``generators[r]``; return R Histories.

    Each replica follows the algorithm of :func:`train` called as
    ``train(models[r], x_train, generator=generators[r], objective=objective, epochs=epochs, **kwargs)``: the
    same settings, its own shuffles, binarization and objective noise; the models are trained in place. The
    replicas share nothing but the data, so the spread of their results across r is the seed-to-seed spread of
    the method (Shapes: x_train (N, P); R = len(models) = len(generators)).

    Two implementations. **Stacked** (:mod:`helpers.deep.replicas`): the R replicas' weights are stacked and every
    layer runs as one batched matrix product over them, which for small, overhead-bound models gives several
    times the model-images per second of R calls of :func:`train` (benchmarks/RESULTS.md). It takes deep.VAE
    models of one configuration (every likelihood and encoder type), the objectives deep.elbo and deep.iwelbo
    (or ``functools.partial`` of them: ``num_samples``, ``kl``, ``beta``, ``path_derivative``), and the default Adam
    or an optimizer factory returning Adam, AdamW, SGD or RMSprop. Each replica draws with its own generator in
    the order train() draws, so the stacked run is the sequential one up to floating-point rounding.
    **Sequential** (the reference): R calls of :func:`train`, for everything else (another module, a chapter's own
    objective closure, another optimizer). ``History.seconds`` of a stacked run is the epoch's time for all R.

    Args:
        models: R modules of one architecture (each initialized from its own seed).
        generators: R ``torch.Generator`` objects, one per replica (distinct seeds).
        objective, epochs, kwargs: as in :func:`train`; ``generator``, ``checkpoint`` and ``callback`` are not
            accepted (one generator per replica is given by ``generators``).
        stack: None (default): stacked when possible, else sequential; True: stacked, or a ValueError that says
            why it cannot be; False: the sequential reference.

    Raises:
        TypeError, ValueError: as :func:`train`, and when ``models`` and ``generators`` differ in length or are empty,
            or ``stack=True`` cannot be honoured (the message says why).
    """
    for name in ("generator", "checkpoint", "callback"):
        if name in kwargs:
            raise TypeError(
                f"train_replicas does not take {name}=: give one generator per replica in generators= (checkpoints "
                "and callbacks: call train for each replica)."
            )
    unknown = sorted(set(kwargs) - set(inspect.signature(train).parameters))
    if unknown:
        raise TypeError(f"train_replicas got unexpected keyword arguments {unknown}; it takes those of train.")
    if stack is not None:
        check_flag(stack, "stack")
    models = list(models) if isinstance(models, (list, tuple)) else models
    generators = list(generators) if isinstance(generators, (list, tuple)) else generators
    check_instance(models, "models", list, how="a list of R modules, e.g. [deep.VAE(784) for _ in range(3)]")
    check_instance(generators, "generators", list, how="a list of R torch.Generator objects, one per model")
    if not models or len(models) != len(generators):
        raise ValueError(
            f"models and generators must be non-empty lists of the same length R (got {len(models)} models and "
            f"{len(generators)} generators): give one generator per replica."
        )
    for r, g in enumerate(generators):
        if not isinstance(g, torch.Generator):
            raise TypeError(f"generators[{r}] must be a torch.Generator (got {type(g).__name__}).")
    if len({id(m) for m in models}) != len(models) or len({id(g) for g in generators}) != len(generators):
        raise ValueError("models and generators must be R distinct objects each (a replica trains its own model).")
    for r, m in enumerate(models):
        check_instance(m, f"models[{r}]", nn.Module, how="e.g. deep.VAE(784)")
    if stack is not False:
        from helpers.deep import replicas  # lazily: replicas uses this module's loop pieces

        settings = {k: kwargs.get(k, v.default) for k, v in inspect.signature(train).parameters.items()
                    if v.default is not inspect.Parameter.empty}  # fmt: skip
        settings.update(kwargs)
        why = replicas.stacking_refusal(models, objective, settings["beta_schedule"], settings["optimizer"])
        if why is None:
            return _train_stacked(models, x_train, generators, objective, epochs, settings)
        if stack:
            raise ValueError(f"train_replicas cannot stack these replicas: {why}; pass stack=None or False.")
    return [
        train(model, x_train, generator=g, objective=objective, epochs=epochs, **kwargs)
        for model, g in zip(models, generators)
    ]


def _train_stacked(models, x_train, generators, objective, epochs, settings) -> list[History]:
    """Check the arguments as train does, prepare every replica's run, then train them stacked."""
    from helpers.deep import replicas

    epochs, batch_size, test_batch_size, lr, _ = _check_arguments(
        models[0], objective=objective, epochs=epochs, batch_size=settings["batch_size"], lr=settings["lr"],
        test_objective=settings["test_objective"], test_batch_size=settings["test_batch_size"],
        binarization=settings["binarization"], beta_schedule=settings["beta_schedule"],
        optimizer=settings["optimizer"], checkpoint=None, generator=None, progress=settings["progress"],
        callback=None,
    )  # fmt: skip
    first = _prepare(models[0], x_train, settings["x_test"], objective, settings["test_objective"],
                     settings["binarization"], settings["device"], generators[0])  # fmt: skip
    runs = [first]
    for model, g in zip(models[1:], generators[1:]):
        if g.device.type != first.device.type:
            raise ValueError(
                f"every generator must be on the training device {first.device} (one is on {g.device}); pass "
                f"torch.Generator(device='{first.device}')."
            )
        model.to(first.device)
        runs.append(_Run(first.device, g, first.x_train, first.x_test, first.test_objective, first.data))
    return replicas.train_stacked(
        models, runs, spec=replicas.objective_spec(objective), epochs=epochs, batch_size=batch_size, lr=lr,
        test_batch_size=test_batch_size, binarization=settings["binarization"],
        beta_schedule=settings["beta_schedule"], optimizer=settings["optimizer"], progress=settings["progress"],
    )  # fmt: skip
