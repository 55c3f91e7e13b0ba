"""Checkpoints of :func:`helpers.deep.train`: one file holds the model, the optimizer, the generator state, the epoch,
the History and the **fingerprint** of the run, written atomically (a crash leaves the old file or the new one, never
half of one; the file and its directory are fsynced around the rename).

The fingerprint records what defines a run: the model's configuration, a hash of the training (and test) images,
the batch sizes, the binarization, the objective and the test objective with their options, the beta schedule,
the optimizer with its hyperparameters and the checkpoint format. A resume under other settings would produce a
run that is neither the old one nor the new one, so :func:`load_checkpoint` refuses it and names what differs;
only ``epochs`` may change (it is not part of the fingerprint).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from helpers.deep.history import History

CHECKPOINT_FORMAT = 2
_KEYS = ("format", "fingerprint", "model_config", "model", "optimizer", "generator", "epoch", "history")
#: optimizer defaults that choose an implementation, not the updates' hyperparameters
_IMPLEMENTATION_FLAGS = frozenset({"fused", "foreach", "capturable", "differentiable"})


def data_hash(x: Tensor | None) -> str | None:
    """A BLAKE2b hash of the images (shape, dtype and bytes), or None; identifies the data of a run."""
    if x is None:
        return None
    x = x.detach().cpu().contiguous()
    digest = hashlib.blake2b(f"{tuple(x.shape)}|{x.dtype}|".encode(), digest_size=16)
    digest.update(x.view(torch.uint8).numpy().tobytes() if x.numel() else b"")
    return digest.hexdigest()


def _simple(value: object, depth: int = 0) -> object:
    """A value as it can be compared across sessions: numbers, strings, None, bools and tuples of those as they are,
    a callable described by :func:`describe_callable`, anything else (a dict of counters, a module, a big tensor)
    by its type only: state that changes during a run must not make its own resume look like another run."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 4:
        return type(value).__qualname__
    if isinstance(value, tuple):
        return tuple(_simple(v, depth + 1) for v in value)
    if isinstance(value, Tensor) and value.numel() <= 16:
        return ("tensor", tuple(value.detach().cpu().reshape(-1).tolist()))
    if callable(value) and not isinstance(value, type):
        return describe_callable(value, depth + 1)
    return type(value).__qualname__


def describe_callable(fn: object, depth: int = 0) -> object:
    """What a callable computes, comparable across sessions: for ``functools.partial`` the function with its
    arguments and keywords; for a function its qualified name (module included) and the values it closes over
    (so ``linear_beta(5)`` and ``linear_beta(10)`` differ); for another callable object its class and attributes."""
    if fn is None:
        return None
    if depth > 4:
        return type(fn).__qualname__
    if isinstance(fn, functools.partial):
        keywords = tuple(sorted((k, _simple(v, depth + 1)) for k, v in fn.keywords.items()))
        return ("partial", describe_callable(fn.func, depth + 1), _simple(tuple(fn.args), depth + 1), keywords)
    code = getattr(fn, "__code__", None)
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    if code is not None:
        cells = getattr(fn, "__closure__", None) or ()
        closure = []
        for var, cell in zip(code.co_freevars, cells):
            try:
                closure.append((var, _simple(cell.cell_contents, depth + 1)))
            except ValueError:  # an empty cell
                closure.append((var, None))
        defaults = _simple(getattr(fn, "__defaults__", None), depth + 1)
        kwdefaults = getattr(fn, "__kwdefaults__", None) or {}
        kwdefaults = tuple(sorted((k, _simple(v, depth + 1)) for k, v in kwdefaults.items()))
        return ("function", name, tuple(closure), defaults, kwdefaults)
    if hasattr(fn, "__dict__"):
        attributes = tuple(sorted((k, _simple(v, depth + 1)) for k, v in vars(fn).items()))
        return ("object", f"{type(fn).__module__}.{type(fn).__qualname__}", attributes)
    return ("callable", name)


def describe_optimizer(opt: torch.optim.Optimizer) -> object:
    """The optimizer's class and hyperparameters (learning rate, betas, weight decay, ...) of every group."""
    groups = tuple(
        tuple(sorted((k, _simple(v)) for k, v in group.items() if k != "params" and k not in _IMPLEMENTATION_FLAGS))
        for group in opt.param_groups
    )
    return (f"{type(opt).__module__}.{type(opt).__qualname__}", groups)


def check_checkpoint_path(path: Path) -> None:
    """Before training starts: ``path`` must be a file (or not exist yet) in an existing, writable directory.

    A checkpoint that could not be written would otherwise fail only after the first epoch, losing its History."""
    fix = "pass checkpoint= a file in an existing, writable directory"
    if path.is_dir():
        raise ValueError(f"checkpoint must be a file path, but {path} is a directory; {fix}, e.g. {path / 'run.pt'}.")
    parent = path.parent
    if not parent.is_dir():
        raise ValueError(f"checkpoint {path}: its directory {parent} does not exist; create it first or {fix}.")
    probe = path.with_name(path.name + ".tmp")
    try:
        with open(probe, "wb"):
            pass
        probe.unlink()
    except OSError as error:
        raise ValueError(f"checkpoint {path} cannot be written ({error.strerror or error}); {fix}.") from None


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems without directory fsync
        pass
    finally:
        os.close(fd)


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` to ``path`` atomically: to ``path.tmp`` first (fsynced), then an atomic rename (the directory
    fsynced after it), so that a crash or a power loss leaves the old checkpoint or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # atomic: a crash leaves the old checkpoint or the new one, never half of one
    _fsync_directory(path.parent)


def _corrupt(path: Path, why: str) -> ValueError:
    return ValueError(
        f"checkpoint {path} is corrupt or not a helpers.deep.train checkpoint ({why}); delete it, or pass another "
        "checkpoint path, to train from scratch."
    )


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The state stored at ``path``; a ValueError naming the file when it is not a readable checkpoint."""
    if path.is_dir():
        raise _corrupt(path, "it is a directory")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated, empty, another format: torch raises many kinds
        raise _corrupt(path, f"{type(error).__name__}: {error}") from None
    if not isinstance(state, dict):
        raise _corrupt(path, f"it holds a {type(state).__name__}, not a dict")
    if state.get("format") == 1:
        raise ValueError(
            f"checkpoint {path} was written by an older helpers (format 1) that did not record the run's settings, "
            "so a resume cannot be checked; delete it, or pass another checkpoint path, to train from scratch."
        )
    if state.get("format") != CHECKPOINT_FORMAT or any(k not in state for k in _KEYS):
        missing = [k for k in _KEYS if k not in state]
        raise _corrupt(path, f"format {state.get('format')!r}, missing {missing}")
    return state


def _render(desc: object) -> str:
    """A description from :func:`describe_callable` as a short string: ``partial(iwelbo, num_samples=5)``."""
    if isinstance(desc, tuple) and desc and desc[0] == "function":
        name = desc[1].split(".<locals>")[0].rsplit(".", 1)[-1]
        closure = ", ".join(f"{k}={_render(v)}" for k, v in desc[2])
        return f"{name}({closure})" if closure else name
    if isinstance(desc, tuple) and desc and desc[0] == "partial":
        parts = [_render(desc[1]), *(_render(a) for a in desc[2]), *(f"{k}={_render(v)}" for k, v in desc[3])]
        return f"partial({', '.join(parts)})"
    if isinstance(desc, tuple) and desc and desc[0] in ("object", "callable"):
        return desc[1].rsplit(".", 1)[-1]
    return repr(desc)


def _optimizer_difference(saved: object, now: object) -> str:
    (saved_cls, saved_groups), (now_cls, now_groups) = saved, now
    if saved_cls != now_cls:
        return f"saved {saved_cls.rsplit('.', 1)[-1]}, now {now_cls.rsplit('.', 1)[-1]}"
    diffs = []
    for a, b in zip(saved_groups, now_groups):
        a, b = dict(a), dict(b)
        diffs += [f"{k} saved {a.get(k)!r}, now {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if len(saved_groups) != len(now_groups):
        diffs.append(f"{len(saved_groups)} parameter groups saved, {len(now_groups)} now")
    return ", ".join(diffs)


def _differences(saved: dict[str, object], now: dict[str, object]) -> list[str]:
    out = []
    for key in sorted(set(saved) | set(now)):
        a, b = saved.get(key), now.get(key)
        if a == b:
            continue
        if key.endswith("_hash"):
            if a is not None and b is not None:
                out.append(f"{key}: other images")
            else:
                shown = ["no images" if h is None else "images" for h in (a, b)]
                out.append(f"{key}: saved {shown[0]}, now {shown[1]}")
        elif key == "optimizer":
            try:
                out.append(f"optimizer: {_optimizer_difference(a, b)}")
            except (TypeError, ValueError):
                out.append(f"optimizer: saved {a!r}, now {b!r}")
        elif key in ("objective", "test_objective", "beta_schedule"):
            shown_a, shown_b = _render(a), _render(b)
            if shown_a == shown_b:  # the same name, other closure state or defaults: show it all
                shown_a, shown_b = repr(a), repr(b)
            out.append(f"{key}: saved {shown_a}, now {shown_b}")
        else:
            out.append(f"{key}: saved {a!r}, now {b!r}")
    return out


def load_checkpoint(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    fingerprint: dict[str, object] | None = None,
):
    """Restore model, optimizer and generator from ``path``; return (epoch, History).

    Refuses another model, and (when ``fingerprint`` is given) a run with other settings: the ValueError names
    each setting that differs and how to start afresh."""
    state = read_checkpoint(path)
    config = getattr(model, "config", None)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    try:
        saved = {k: tuple(v.shape) for k, v in state["model"].items()}
    except AttributeError:
        raise _corrupt(path, "its model entry is not a state dict") from None
    if (config is not None and state.get("model_config") != config) or own != saved:
        raise ValueError(
            f"checkpoint {path} was saved from a different model (saved {state.get('model_config')}, this one "
            f"{config}); delete the file, or pass another checkpoint path, to train this model from scratch."
        )
    if fingerprint is not None and state["fingerprint"] != fingerprint:
        diffs = "; ".join(_differences(state["fingerprint"], fingerprint))
        raise ValueError(
            f"checkpoint {path} was written by a run with other settings ({diffs}). Resuming would mix two runs. "
            "Pass the saved settings to continue it (only epochs may change), or delete the file (or pass another "
            "checkpoint path) to start afresh."
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    return state["epoch"], History(**state["history"])
