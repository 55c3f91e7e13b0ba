"""R replicas (seeds) of one training run at once, with stacked weights (the engine of
:func:`helpers.deep.train_replicas`; chapters *The variational autoencoder* and *Importance-weighted bounds*).

Small VAEs are overhead-bound: a step of the exercise's 784-20-20-5 network costs more in Python and kernel launches
than in arithmetic. Stacking the R replicas' weights, W (R, out, in), and running every layer as one batched matrix
product over the leading R axis (``torch.baddbmm``) pays that overhead once for all R. Each replica r keeps its own
generator, which draws, in the order :func:`helpers.deep.train` draws them, its permutation of the training set,
its dynamic binarization and its noise eps (K, B, D); Adam is elementwise, so one Adam on the stacked tensors is R
independent Adams. The stacked run is therefore the sequential one up to floating-point rounding (the batched
products sum in another order), tests/deep/test_replicas.py checks it.

Shapes: X (R, B, P) one minibatch per replica, mu and sigma (R, B, D), eps and z (R, K, B, D), log-weights
(R, K, B), objective values (R, B).

What is stacked: ``type(model) is VAE`` (every likelihood, both encoder types, every scale activation), one
configuration for all R; the objectives :func:`~helpers.deep.elbo` (``kl`` analytic or Monte Carlo, ``num_samples``,
``beta``, ``path_derivative``) and :func:`~helpers.deep.iwelbo` (``num_samples``, ``path_derivative``), as
themselves or as ``functools.partial`` of them; the default Adam or an ``optimizer`` factory returning Adam, AdamW,
SGD or RMSprop (elementwise updates). Anything else (another module or objective, a chapter's own closure)
is trained by the sequential reference: :func:`stacking_refusal` says why.
"""

from __future__ import annotations

import functools
import inspect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from helpers.common.densities import (
    bernoulli_log_prob,
    normal_log_prob,
    normal_log_prob_from_noise,
    normal_log_prob_log_var,
    standard_normal_log_prob,
)
from helpers.common.validation import check_choice, check_count, check_flag, check_nonnegative_number
from helpers.deep import objectives
from helpers.deep._kernels import BernoulliLogProb
from helpers.deep.history import History
from helpers.deep.vae import VAE

#: optimizers whose update of a parameter entry depends on that entry's gradient history only, so that one
#: optimizer over the stacked (R, ...) tensors makes the R replicas' updates
ELEMENTWISE_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD, torch.optim.RMSprop)


@dataclass(frozen=True)
class ObjectiveSpec:
    """What a stackable objective computes: ``kind`` "elbo" or "iwelbo" and its options."""

    kind: str
    num_samples: int
    kl: str
    beta: float
    path_derivative: bool


def objective_spec(objective: object) -> ObjectiveSpec | None:
    """The :class:`ObjectiveSpec` of ``deep.elbo`` / ``deep.iwelbo`` or a ``functools.partial`` of them with valid
    options; None for any other callable (or invalid options: the sequential path then raises the usual error)."""
    fn, args, keywords = objective, (), {}
    if isinstance(objective, functools.partial):
        fn, args, keywords = objective.func, objective.args, dict(objective.keywords)
    if fn not in (objectives.elbo, objectives.iwelbo) or "generator" in keywords:
        return None
    try:
        bound = inspect.signature(fn).bind(None, None, *args, **keywords)
    except TypeError:  # e.g. iwelbo without num_samples
        return None
    bound.apply_defaults()
    options = bound.arguments
    try:
        num_samples = check_count(options["num_samples"], "num_samples")
        path_derivative = check_flag(options["path_derivative"], "path_derivative")
        if fn is objectives.elbo:
            kl = check_choice(options["kl"], "kl", ("analytic", "monte-carlo"))
            beta = check_nonnegative_number(options["beta"], "beta")
            if path_derivative and kl == "analytic":
                return None
            return ObjectiveSpec("elbo", num_samples, str(kl), beta, path_derivative)
    except (TypeError, ValueError):
        return None
    return ObjectiveSpec("iwelbo", num_samples, "monte-carlo", 1.0, path_derivative)


def stacking_refusal(
    models: Sequence[nn.Module], objective: object, beta_schedule: object = None, optimizer: object = None
) -> str | None:
    """Why these replicas cannot be trained stacked (a sentence), or None when they can."""
    first = models[0]
    if any(type(m) is not VAE for m in models):
        return "the models are not all deep.VAE (subclasses and other modules train one after the other)"
    if any(m.config != first.config for m in models):
        return "the models have different configurations"
    params = [list(m.parameters()) for m in models]
    if any(not p.requires_grad for ps in params for p in ps) or any(len(list(m.buffers())) for m in models):
        return "a model has frozen parameters or buffers"
    if len({(p.dtype, p.device) for ps in params for p in ps}) != 1:
        return "the models' parameters differ in dtype or device"
    for m in models:
        for seq in _mlps(m):
            for layer in seq:
                if isinstance(layer, nn.Linear) and layer.bias is None:
                    return "a linear layer has no bias"
    spec = objective_spec(objective)
    if spec is None:
        return "the objective is not deep.elbo or deep.iwelbo (or a functools.partial of them with valid options)"
    if spec.kind == "iwelbo" and beta_schedule is not None:
        return "deep.iwelbo takes no beta (a beta_schedule needs deep.elbo)"
    if optimizer is not None:
        probe = optimizer([nn.Parameter(torch.zeros(1))])
        if type(probe) not in ELEMENTWISE_OPTIMIZERS:
            return f"the optimizer {type(probe).__name__} is not one of the elementwise Adam, AdamW, SGD, RMSprop"
    return None


def _mlps(model: VAE) -> list[nn.Sequential]:
    if model.encoder_type == "shared":
        return [model.encoder, model.decoder]
    return [model.encoder_loc, model.encoder_scale, model.decoder]


class StackedMLP:
    """R copies of one ``nn.Sequential`` MLP with stacked weights: h (R, M, in) -> (R, M, out), each layer one
    ``torch.baddbmm`` (weights (R, out, in), biases (R, out)); the activations are the (stateless) modules."""

    def __init__(self, mlps: Sequence[nn.Sequential]) -> None:
        self.layers: list[tuple[Tensor, Tensor] | nn.Module] = []
        for i, layer in enumerate(mlps[0]):
            if isinstance(layer, nn.Linear):
                weight = torch.stack([m[i].weight.detach() for m in mlps]).clone().requires_grad_()
                bias = torch.stack([m[i].bias.detach() for m in mlps]).unsqueeze(1).clone().requires_grad_()
                self.layers.append((weight, bias))  # bias (R, 1, out): broadcasts over the M rows
            else:
                self.layers.append(layer)
        self.mlps = list(mlps)

    def __call__(self, h: Tensor) -> Tensor:
        for layer in self.layers:
            if isinstance(layer, tuple):
                h = torch.baddbmm(layer[1], h, layer[0].transpose(1, 2))
            else:
                h = layer(h)
        return h

    def parameters(self) -> list[Tensor]:
        return [t for layer in self.layers if isinstance(layer, tuple) for t in layer]

    @torch.no_grad()
    def write_back(self) -> None:
        """Copy replica r's weights into ``mlps[r]`` (the models are trained in place)."""
        for i, layer in enumerate(self.layers):
            if isinstance(layer, tuple):
                for r, mlp in enumerate(self.mlps):
                    mlp[i].weight.copy_(layer[0][r])
                    mlp[i].bias.copy_(layer[1][r, 0])


class StackedVAE:
    """R replicas of one :class:`~helpers.deep.VAE` configuration, computed together; the same maths as VAE.encode
    and VAE.log_likelihood with a leading R axis."""

    def __init__(self, models: Sequence[VAE]) -> None:
        self.model = models[0]  # configuration (likelihood, scale activation, ...)
        self.nets = [StackedMLP(seqs) for seqs in zip(*(_mlps(m) for m in models))]

    def parameters(self) -> list[Tensor]:
        return [p for net in self.nets for p in net.parameters()]

    def write_back(self) -> None:
        for net in self.nets:
            net.write_back()

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x (R, B, P) -> mu, sigma (R, B, D)."""
        if self.model.encoder_type == "shared":
            mu, h = self.nets[0](x).chunk(2, dim=-1)
        else:
            mu, h = self.nets[0](x), self.nets[1](x)
        if self.model.scale_activation == "exp":
            return mu, torch.exp(h)
        if self.model.scale_activation == "softplus":
            return mu, F.softplus(h)
        return mu, torch.sigmoid(h)

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x | z) summed over pixels: x (R, B, P), z (R, K, B, D) -> (R, K, B)."""
        num_replicas, k, b, d = z.shape
        out = self.nets[-1](z.reshape(num_replicas, k * b, d)).view(num_replicas, k, b, -1)
        x = x.unsqueeze(1)  # (R, 1, B, P)
        model = self.model
        if model.likelihood == "bernoulli":
            if model.fused_likelihood:
                return BernoulliLogProb.apply(out, x)
            return bernoulli_log_prob(x.expand_as(out), out)
        if model.likelihood == "gaussian":
            return normal_log_prob_log_var(x, out, 2.0 * math.log(model.sigma))
        mean, log_var = out.chunk(2, dim=-1)
        if model.min_log_var is not None:
            log_var = model.min_log_var + F.softplus(log_var - model.min_log_var)
        return normal_log_prob_log_var(x, mean, log_var)

    def objective(self, spec: ObjectiveSpec, x: Tensor, eps: Tensor, beta: float | None = None) -> Tensor:
        """The objective of ``spec`` per replica and data point, x (R, B, P), eps (R, K, B, D) -> (R, B); the
        same formulas as :func:`helpers.deep.elbo` and :func:`helpers.deep.iwelbo` (see their docstrings)."""
        mu, sigma = self.encode(x)
        z = mu.unsqueeze(1) + sigma.unsqueeze(1) * eps  # (R, K, B, D)
        log_px = self.log_likelihood(x, z)  # (R, K, B)
        beta = spec.beta if beta is None else beta
        if spec.kind == "elbo" and spec.kl == "analytic":
            return log_px.mean(1) - beta * objectives.standard_normal_kl(mu, sigma).sum(-1)
        if spec.path_derivative:
            log_qz = normal_log_prob(z, mu.detach().unsqueeze(1), sigma.detach().unsqueeze(1))
        else:
            log_qz = normal_log_prob_from_noise(eps, torch.log(sigma).sum(-1).unsqueeze(1))
        log_pz = standard_normal_log_prob(z)
        if spec.kind == "elbo":
            return (log_px + beta * (log_pz - log_qz)).mean(1)
        return torch.logsumexp(log_px + log_pz - log_qz, 1) - math.log(spec.num_samples)


def train_stacked(
    models: list[VAE],
    runs: list[Any],
    *,
    spec: ObjectiveSpec,
    epochs: int,
    batch_size: int,
    lr: float,
    test_batch_size: int,
    binarization: str | None,
    beta_schedule: Callable[[float], float] | None,
    optimizer: Callable | None,
    progress: bool,
) -> list[History]:
    """Train the R models together (``runs[r]``: replica r's prepared data and generator, from
    ``training._prepare``); return their Histories. The arguments are checked by the caller."""
    from helpers.deep import training  # the shared pieces of the loop (training imports this module lazily)

    stacked = StackedVAE(models)
    params = stacked.parameters()
    opt = optimizer(params) if optimizer is not None else training._adam(params, lr)
    x_train = runs[0].x_train  # the same images for every replica (a fixed binarization uses one seed)
    n, device = len(x_train), runs[0].device
    generators = [run.generator for run in runs]
    num_replicas, latent = len(models), models[0].latent_dim
    steps_per_epoch = math.ceil(n / batch_size)
    histories = [History() for _ in models]
    bar = training._progress_bar(epochs * steps_per_epoch, progress)
    epoch = 0
    try:
        for epoch in range(epochs):
            for model in models:
                model.train()
            started = time.perf_counter()
            orders = [torch.randperm(n, generator=g, device=device) for g in generators]
            losses: list[Tensor] = []  # (R,) per step, checked for finiteness every CHECK_EVERY steps
            checked = pending = 0
            beta = math.nan
            for step in range(steps_per_epoch):
                index = torch.stack([order[step * batch_size : (step + 1) * batch_size] for order in orders])
                xb = x_train[index]  # (R, B, P)
                size = xb.shape[1]
                eps = torch.empty((num_replicas, spec.num_samples, size, latent), device=device, dtype=xb.dtype)
                u = torch.empty_like(xb) if binarization == "dynamic" else None
                for r, g in enumerate(generators):  # replica r draws in the order train() draws
                    if u is not None:
                        u[r].uniform_(generator=g)
                    eps[r] = torch.randn(eps.shape[1:], generator=g, device=device, dtype=xb.dtype)
                if u is not None:
                    xb = training.binarize_with(u, xb)
                if beta_schedule is not None:
                    beta = float(beta_schedule(epoch + step / steps_per_epoch))
                values = stacked.objective(spec, xb, eps, None if beta_schedule is None else beta)  # (R, B)
                loss = -values.mean(1)  # (R,): replica r's loss depends on replica r's weights only
                opt.zero_grad(set_to_none=True)
                loss.sum().backward()
                opt.step()
                losses.append(loss.detach())
                if len(losses) - checked >= training.CHECK_EVERY:
                    checked = _check_finite(losses, checked, epoch, steps_per_epoch, lr)
                if bar is not None:
                    pending += 1
                    if pending >= training.PROGRESS_EVERY:
                        bar.update(pending)
                        pending = 0
            _check_finite(losses, checked, epoch, steps_per_epoch, lr)
            if bar is not None and pending:
                bar.update(pending)
            sizes = torch.full((len(losses), 1), float(batch_size), dtype=torch.float64, device=device)
            sizes[-1] = n - batch_size * (len(losses) - 1)
            totals = (-(torch.stack(losses).double() * sizes).sum(0)).tolist()  # (R,) sums of the objective
            seconds = time.perf_counter() - started
            stacked.write_back()
            for r, (model, run) in enumerate(zip(models, runs)):
                started = time.perf_counter()
                test_value = math.nan
                if run.x_test is not None:
                    model.eval()
                    test_value = training._evaluate(model, run.test_objective, run.x_test, test_batch_size,
                                                    run.generator)  # fmt: skip
                histories[r].record(epoch + 1, totals[r] / n, test_value, beta, seconds, time.perf_counter() - started)
            if bar is not None:
                bar.set_postfix(epoch=epoch + 1)
    except KeyboardInterrupt:
        stacked.write_back()
        print(f"helpers.train_replicas: interrupted during epoch {epoch + 1}.", flush=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return histories


def _check_finite(losses: list[Tensor], checked: int, epoch: int, steps_per_epoch: int, lr: float) -> int:
    """As training._check_finite, for (R,) losses per step: names the replica and the step."""
    if checked == len(losses):
        return checked
    recent = torch.stack(losses[checked:])  # (steps, R)
    finite = torch.isfinite(recent)
    if not bool(finite.all()):
        step, replica = ((~finite).nonzero()[0]).tolist()
        raise ValueError(
            f"the loss of replica {replica} is {float(recent[step, replica])} at epoch {epoch + 1}, step "
            f"{checked + step + 1} of {steps_per_epoch}: training diverged. Lower the learning rate (lr={lr:g}; "
            f"try {lr / 10:g}), or check the data and the likelihood (e.g. a learned variance needs min_log_var)."
        )
    return len(losses)
