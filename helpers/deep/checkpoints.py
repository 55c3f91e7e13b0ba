"""Checkpoints of :func:`helpers.deep.train`: one file holds the model, the optimizer, the generator state, the epoch
and the History, written atomically (a crash leaves the old file or the new one, never half of one)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from helpers.deep.history import History

CHECKPOINT_FORMAT = 1


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` to ``path`` atomically: to ``path.tmp`` first, then an atomic rename."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a crash leaves the old checkpoint or the new one, never half of one


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator):
    """Restore model, optimizer and generator from ``path``; return (epoch, History). Refuses another model."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint {path} is not a helpers.train checkpoint (format {state.get('format')!r}).")
    config = getattr(model, "config", None)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    saved = {k: tuple(v.shape) for k, v in state["model"].items()}
    if (config is not None and state.get("model_config") != config) or own != saved:
        raise ValueError(
            f"checkpoint {path} was saved from a different model (saved {state.get('model_config')}, this one "
            f"{config}); delete the file, or pass another checkpoint path, to train this model from scratch."
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    return state["epoch"], History(**state["history"])
