"""Checkpoints of :func:`helpers.deep.train`: one file holds the model, the optimizer, the generators' states, the
epoch, the Histories and the **fingerprint** of the run, with a SHA-256 checksum of the payload, written atomically
(a crash leaves the old file or the new one, never half of one; the file and its directory are fsynced around the
rename). A flipped bit is an error, not a silently changed weight.

The fingerprint is a flat dict of what defines a run: the model's class, configuration and replica count, a hash of
the training (and test) images, the batch sizes, the binarization, and every field of the objective, the test
objective, the beta schedule and the optimizer (all values: frozen dataclasses). A resume under other settings
would produce a run that is neither the old one nor the new one, so :func:`load_checkpoint` refuses it and names
each field that differs (``objective.num_samples: saved 3, now 5``); only ``epochs`` may change.

File layout: the line ``helpers.deep checkpoint <format> sha256 <hex>`` then the payload, ``torch.save`` of a dict
of tensors and plain values, read back with ``weights_only=True`` (no code runs on load).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

CHECKPOINT_FORMAT = 3
_MAGIC = b"helpers.deep checkpoint"
_KEYS = ("fingerprint", "model", "optimizer", "generators", "epoch", "histories")


def data_hash(x: Tensor | None) -> str | None:
    """A BLAKE2b hash of the images (shape, dtype and bytes), or None; identifies the data of a run."""
    if x is None:
        return None
    x = x.detach().cpu().contiguous()
    digest = hashlib.blake2b(f"{tuple(x.shape)}|{x.dtype}|".encode(), digest_size=16)
    digest.update(x.view(torch.uint8).numpy().tobytes() if x.numel() else b"")
    return digest.hexdigest()


def _plain(value: object) -> bool:
    """None, a bool, a number, a string, or a tuple of those (nested)."""
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def describe(value: object, prefix: str) -> dict[str, object]:
    """A value as a flat dict of comparable entries: ``{prefix: class name, prefix.field: value, ...}`` for a
    dataclass value (recursively), ``{prefix: value}`` for None, numbers, strings and tuples of them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {prefix: type(value).__qualname__}
        for f in dataclasses.fields(value):
            out.update(describe(getattr(value, f.name), f"{prefix}.{f.name}"))
        return out
    if value is None or isinstance(value, (bool, int, float, str)):
        return {prefix: value}
    if isinstance(value, tuple) and all(_plain(v) for v in value):
        return {prefix: value}
    raise TypeError(
        f"{prefix} must be a value whose fields say what it computes (a frozen dataclass such as deep.ELBO(), "
        f"deep.LinearBeta(5), deep.Adam(lr=1e-3)), not a {type(value).__name__}: a function or closure cannot be "
        "recorded in a checkpoint, so a resume could not be checked."
    )


def check_checkpoint_path(path: Path) -> None:
    """Before training starts: ``path`` must be a file (or not exist yet) in an existing, writable directory."""
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
    """Write ``state`` to ``path`` atomically, with the SHA-256 of its payload in the first line."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = _MAGIC + f" {CHECKPOINT_FORMAT} sha256 {hashlib.sha256(payload).hexdigest()}\n".encode()
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(header + payload)
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
    """The state stored at ``path``, its checksum verified; a ValueError naming the file otherwise."""
    if path.is_dir():
        raise _corrupt(path, "it is a directory")
    raw = path.read_bytes()
    header, _, payload = raw.partition(b"\n")
    parts = header.split(b" ")
    if not header.startswith(_MAGIC) or len(parts) != 5 or parts[3] != b"sha256":
        raise _corrupt(path, "no checkpoint header: written by another program or an older helpers")
    if parts[2] != str(CHECKPOINT_FORMAT).encode():
        raise _corrupt(path, f"format {parts[2].decode(errors='replace')}, this helpers reads {CHECKPOINT_FORMAT}")
    if hashlib.sha256(payload).hexdigest().encode() != parts[4]:
        raise _corrupt(path, "its checksum does not match its contents: the file was changed or damaged")
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as error:  # pragma: no cover - the checksum catches damage first
        raise _corrupt(path, f"{type(error).__name__}: {error}") from None
    if not isinstance(state, dict) or any(k not in state for k in _KEYS):
        raise _corrupt(path, "missing entries")
    return state


def differences(saved: dict[str, object], now: dict[str, object]) -> list[str]:
    """The entries of two fingerprints that differ, as ``name: saved a, now b``."""
    out = []
    for key in sorted(set(saved) | set(now)):
        a, b = saved.get(key, "(absent)"), now.get(key, "(absent)")
        if a == b:
            continue
        if key.endswith("_hash") and a is not None and b is not None and "(absent)" not in (a, b):
            out.append(f"{key}: other images")
        else:
            out.append(f"{key}: saved {a!r}, now {b!r}")
    return out


def check_fingerprint(path: Path, state: dict[str, Any], fingerprint: dict[str, object]) -> None:
    """Refuse a resume whose run differs from the saved one, naming each field that differs."""
    diffs = differences(state["fingerprint"], fingerprint)
    if diffs:
        raise ValueError(
            f"checkpoint {path} was written by a run with other settings ({'; '.join(diffs)}). Resuming would mix "
            "two runs. Pass the saved settings to continue it (only epochs may change), or delete the file (or pass "
            "another checkpoint path) to start afresh."
        )
