"""The files of the reference runs: where they live, how they are written (atomically) and read.

Each run has a folder ``helpers/deep/reference/<chapter>/<name>/`` (next to this module, so a checkout, Binder and
JupyterLab find it relative to the package): ``weights.safetensors`` (the R replicas' state dicts, keys
``seed<s>/<parameter>``; safetensors holds tensors only, so loading runs no code) and ``manifest.json`` (the run's
declared value, seeds, passes, times, code fingerprint, the weights' SHA-256, the curves and the evaluation). While a
run trains, the folder holds its deep.train ``checkpoint.pt`` and the bookkeeping ``progress.json`` (commit both to
resume on another machine); a finished run keeps them as ``final-checkpoint.pt`` and ``final-progress.json`` (not
committed: .gitignore) so that raising its target on this machine resumes instead of retraining.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from torch import nn

from helpers.deep.checkpoints import describe
from helpers.deep.reference.catalogue import Entry

ROOT = Path(__file__).resolve().parent
WEIGHTS, MANIFEST = "weights.safetensors", "manifest.json"
CHECKPOINT, PROGRESS = "checkpoint.pt", "progress.json"
FINAL_CHECKPOINT, FINAL_PROGRESS = "final-checkpoint.pt", "final-progress.json"
MANIFEST_FORMAT = 1
#: the cap on the stored weights of all runs together (issue: reference runs)
SIZE_CAP_BYTES = 100 * 2**20


class ReferenceNotAvailableError(FileNotFoundError):
    """A reference run is not on this machine and cannot be fetched (not trained yet, no repository URL, or no
    network): the chapter runs its live part only."""


class ReferenceMismatchError(ValueError):
    """Stored reference files that do not match the catalogue or the code (a hash, a run value, a structure)."""


def retrain(e: Entry) -> str:
    return f"`make reference RUN={e.key}` (or `python -m helpers.deep.reference {e.key}`) retrains it"


def shown(path: str | Path) -> str:
    """``path`` as a message prints it: relative to the folder that holds the package (``helpers/deep/reference/...``
    in a checkout and in an installed package alike), so that a page built on one machine names no private path."""
    path = Path(path)
    try:
        return path.resolve().relative_to(ROOT.parents[2]).as_posix()
    except ValueError:  # elsewhere (a fetched copy in the download cache)
        return str(path)


def run_dir(e: Entry, root: str | Path | None = None) -> Path:
    """The folder of a run: ``<root>/<chapter>/<name>`` (default root: next to this module)."""
    return (ROOT if root is None else Path(root)) / e.chapter / e.name


def value_of(e: Entry) -> dict[str, object]:
    """The entry as a flat dict of comparable fields (``reference.run.objective.num_samples``, ...)."""
    return describe(e, "reference")


def _tuples(value: object) -> object:
    """JSON's lists back to the tuples :func:`describe` wrote."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def stored_value(manifest: dict) -> dict[str, object]:
    return {k: _tuples(v) for k, v in manifest["value"].items()}


def _dumps(value: object, depth: int = 0) -> str:
    """JSON with one line per key of the first two levels of dicts; lists and deeper values on one line."""
    if not isinstance(value, dict) or depth >= 2 or not value:
        return json.dumps(value, allow_nan=True)
    pad = " " * (depth + 1)
    items = ",\n".join(f"{pad}{json.dumps(str(k))}: {_dumps(v, depth + 1)}" for k, v in value.items())
    return "{\n" + items + "\n" + " " * depth + "}"


def write_json(path: Path, payload: dict) -> None:
    """Write ``payload`` as JSON atomically (a temporary file renamed over the target)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(_dumps(payload) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ReferenceMismatchError(
            f"{shown(path)} is not readable JSON ({error}); restore it with git checkout."
        ) from None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_weights(path: Path, models: list[nn.Module], seeds: tuple[int, ...], metadata: dict[str, str]) -> str:
    """The R models' state dicts as one safetensors file (keys ``seed<s>/<parameter>``), written atomically;
    returns its SHA-256."""
    from safetensors.torch import save_file

    tensors = {f"seed{s}/{k}": v.detach().cpu().contiguous().clone() for s, m in zip(seeds, models)
               for k, v in m.state_dict().items()}  # fmt: skip
    tmp = path.with_name(path.name + ".tmp")
    # one metadata entry: safetensors writes a map's entries in no fixed order, and equal runs must be equal bytes
    save_file(tensors, str(tmp), metadata={"reference": json.dumps(metadata, sort_keys=True)})
    os.chmod(tmp, 0o644)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return sha256(path)


def read_weights(path: Path) -> dict[int, dict[str, torch.Tensor]]:
    """{seed: state dict} from a safetensors file written by :func:`save_weights`."""
    from safetensors.torch import load_file

    states: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in load_file(str(path)).items():
        head, _, param = key.partition("/")
        if not (head.startswith("seed") and head[4:].lstrip("-").isdigit() and param):
            raise ReferenceMismatchError(f"{shown(path)}: key {key!r} is not seed<s>/<parameter>.")
        states.setdefault(int(head[4:]), {})[param] = tensor
    return states
