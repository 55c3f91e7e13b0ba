"""The networks of every deep model of the book (the VAE, the Bernoulli VAE, the diffusion noise model): multilayer
perceptrons that hold one model, or R independent **replicas** of it as stacked weights.

A replicated layer keeps W (R, out, in) and b (R, 1, out) and maps h (R, M, in) -> (R, M, out) with one batched
matrix product (``torch.baddbmm``); a single layer is ``nn.Linear``. Small models are overhead-bound, so R replicas
(seeds) trained at once cost little more than one (benchmarks/RESULTS.md). Replica r of a stacked model is the
model built r-th from the global RNG: :func:`stack` copies R single models into one replicated model and
:func:`unstack` copies them back, so "R replicas trained together" and "R models trained one after the other" are the
same computation (tests/deep/test_training.py checks it). Shapes: R replicas, M rows (any leading shape between R and
the features is flattened into M).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from helpers.deep._kernels import FastTanh

#: tanh is computed as 2 sigmoid(2x) - 1 (_kernels.FastTanh: the same function, faster on the CPU)
ACTIVATIONS = {"tanh": FastTanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "silu": nn.SiLU}


class StackedLinear(nn.Module):
    """R affine layers at once: h (R, ..., in) -> (R, ..., out), weight (R, out, in), bias (R, 1, out)."""

    def __init__(self, layers: Sequence[nn.Linear]) -> None:
        super().__init__()
        self.in_features, self.out_features = layers[0].in_features, layers[0].out_features
        self.weight = nn.Parameter(torch.stack([layer.weight.detach() for layer in layers]).clone())
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers]).unsqueeze(1).clone())

    def forward(self, h: Tensor) -> Tensor:
        shape = h.shape
        flat = h.reshape(shape[0], -1, shape[-1])
        return torch.baddbmm(self.bias, flat, self.weight.transpose(1, 2)).view(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"replicas={self.weight.shape[0]}, in_features={self.in_features}, out_features={self.out_features}"


def mlp(sizes: Sequence[int], activation: str) -> nn.Sequential:
    """Affine layers of the given sizes with ``activation`` between them (none after the last), initialized as
    ``nn.Linear`` is (from the global RNG)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _stack_module(modules: Sequence[nn.Module]) -> nn.Module:
    """One module whose every nn.Linear holds the R modules' layers stacked; other leaves are shared (stateless)."""
    first = modules[0]
    if isinstance(first, nn.Linear):
        return StackedLinear(modules)
    out = copy.copy(first)
    out._modules = {name: _stack_module([m._modules[name] for m in modules]) for name in first._modules}
    out._parameters = {}
    for name, param in first._parameters.items():
        if param is not None:  # a free parameter (e.g. learned prior logits): stacked along a new axis 0
            stacked = torch.stack([m._parameters[name].detach() for m in modules]).clone()
            out._parameters[name] = nn.Parameter(stacked, requires_grad=param.requires_grad)
    out._buffers = {name: buf.clone() for name, buf in first._buffers.items()}
    return out


def stack(models: Sequence[nn.Module]) -> nn.Module:
    """One model holding R = len(models) replicas (copies of the models' weights; the models are unchanged).

    The models must be of one class and configuration (``model.config``) and single (``model.replicas is None``).
    """
    models = list(models)
    if not models:
        raise ValueError("stack needs at least one model (got an empty list).")
    first = models[0]
    if any(type(m) is not type(first) for m in models) or any(m.config != first.config for m in models):
        raise ValueError("stack needs models of one class and one configuration (model.config); got mixed models.")
    if any(getattr(m, "replicas", None) is not None for m in models):
        raise ValueError("stack takes single models (replicas=None); unstack a replicated model first.")
    out = _stack_module(models)
    out.replicas = len(models)
    return out


def _unstack_module(module: nn.Module, r: int) -> nn.Module:
    if isinstance(module, StackedLinear):
        layer = nn.Linear(module.in_features, module.out_features, device=module.weight.device,
                          dtype=module.weight.dtype)  # fmt: skip
        with torch.no_grad():
            layer.weight.copy_(module.weight[r])
            layer.bias.copy_(module.bias[r, 0])
        return layer
    out = copy.copy(module)
    out._modules = {name: _unstack_module(child, r) for name, child in module._modules.items()}
    out._parameters = {
        name: nn.Parameter(p.detach()[r].clone(), requires_grad=p.requires_grad)
        for name, p in module._parameters.items()
        if p is not None
    }
    out._buffers = {name: buf.clone() for name, buf in module._buffers.items()}
    return out


def unstack(model: nn.Module) -> list[nn.Module]:
    """The R replicas of a stacked model as R single models (copies)."""
    if getattr(model, "replicas", None) is None:
        raise ValueError("unstack takes a replicated model (replicas=R); this one is single.")
    out = []
    for r in range(model.replicas):
        single = _unstack_module(model, r)
        single.replicas = None
        out.append(single)
    return out


def copy_into(models: Sequence[nn.Module], stacked: nn.Module) -> None:
    """Write replica r of ``stacked`` into ``models[r]`` in place (the inverse of :func:`stack`)."""
    with torch.no_grad():
        for model, single in zip(models, unstack(stacked)):
            for target, source in zip(model.state_dict().values(), single.state_dict().values()):
                target.copy_(source)


def uniform_init_(module: nn.Module, generator: torch.Generator) -> None:
    """Redraw every nn.Linear's weights and biases from ``generator`` as U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the
    scale of PyTorch's default, in layer order (weight then bias)."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                bound = 1 / math.sqrt(layer.in_features)
                for param in (layer.weight, layer.bias):
                    draw = torch.rand(param.shape, generator=generator, dtype=param.dtype)
                    param.copy_((2 * draw - 1) * bound)
