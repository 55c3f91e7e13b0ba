"""The inner loop of :func:`helpers.deep.train` (its public face is :mod:`helpers.deep.training`): the checked and
prepared state of a run, one epoch of minibatch steps, the test evaluation, the finiteness checks and the run's
fingerprint.

Randomness: one ``torch.Generator`` per replica draws, in this order, the epoch's permutation, then at every step the
dynamic binarization u ~ U[0, 1) (when asked) and the objective's noise (``objective.draw``): replica r of a
replicated model draws exactly what a single model trained with that generator draws.
Shapes: x (N, P) training data; a batch (B, P), or (R, B, P) for a model with R replicas; losses () or (R,).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from helpers.common.config import get_device
from helpers.common.validation import check_choice, check_count, check_device, check_images, check_instance
from helpers.deep.checkpoints import CHECKPOINT_FORMAT, data_hash, describe
from helpers.deep.data import binarize_with
from helpers.deep.objectives import Objective
from helpers.deep.optimizers import Adam

TRAIN_BINARIZATION_SEED, TEST_BINARIZATION_SEED = 0, 1
#: minibatch steps between the checks that the loss is finite (one host sync per check, not one per step)
CHECK_EVERY = 50
#: a finite loss that rises above its epoch's first loss L by more than DIVERGENCE_FACTOR (|L| + 1) has diverged
DIVERGENCE_FACTOR = 1e6
#: minibatch steps between progress-bar updates (a notebook widget update costs more than a small model's step)
PROGRESS_EVERY = 25


def progress_bar(total: int, enabled: bool):
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
class RunState:
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


def as_images(x: object, name: str, model: nn.Module) -> Tensor:
    """A numpy array becomes a tensor; floating data of another dtype (numpy's float64) take the model's dtype."""
    x = check_images(x, name)
    param = next(iter(model.parameters()), None)
    if param is not None and x.is_floating_point() and x.dtype != param.dtype:
        x = x.to(param.dtype)
    return x


def generators_for(generator: object, replicas: int | None, device: torch.device) -> list[torch.Generator]:
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


def prepare(model, x_train, x_test, *, objective, test_objective, batch_size, test_batch_size, binarization,
             beta_schedule, optimizer, device, generator) -> RunState:  # fmt: skip
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
    test_objective.check_model(model)
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
    generators = generators_for(generator, replicas, device)
    model.to(device)
    x_train = as_images(x_train, "x_train", model).to(device)
    x_train = model.check_input(x_train, "x_train")
    if x_test is not None:
        x_test = model.check_input(as_images(x_test, "x_test", model).to(device), "x_test")
    if binarization is not None and (bool((x_train < 0).any()) or bool((x_train > 1).any())):
        raise ValueError("x_train must be in [0, 1] to be binarized; scale pixels with x / 255.")
    return RunState(model, replicas, generators, x_train, x_test, objective, test_objective, batch_size,
                    test_batch_size, binarization, beta_schedule, optimizer, device)  # fmt: skip


def fingerprint(run: RunState, x_train: Tensor, x_test: Tensor | None) -> dict[str, object]:
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


def check_finite(losses: list[Tensor], checked: int, epoch: int, steps: int, lr: float) -> int:
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


def run_epoch(run: RunState, opt: torch.optim.Optimizer, epoch: int, bar) -> tuple[list[float], float]:
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
            checked = check_finite(losses, checked, epoch, steps, run.optimizer.lr)
        if bar is not None:
            pending += 1
            if pending >= PROGRESS_EVERY:
                bar.update(pending)
                pending = 0
    check_finite(losses, checked, epoch, steps, run.optimizer.lr)
    if bar is not None and pending:
        bar.update(pending)
    sizes = torch.full((steps, 1), float(size), dtype=torch.float64, device=run.device)
    sizes[-1] = n - size * (steps - 1)
    totals = -(torch.stack(losses).double().reshape(steps, -1) * sizes).sum(0) / n
    return totals.tolist(), beta
