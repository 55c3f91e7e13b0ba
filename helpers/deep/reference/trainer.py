"""Training the reference runs: resumable, bit for bit, one run at a time or round-robin, and their manifests.

A run trains with :func:`helpers.deep.train` (its R seeds stacked) on the CPU with a checkpoint
``<run>/checkpoint.pt`` written atomically after every pass, so it can be stopped at any time (Ctrl-C, SIGKILL, the
end of a session) and resumed later, on this machine or, once the checkpoint is committed, on another one. A resume
on the same machine with the same thread count reproduces the uninterrupted run bit for bit. ``progress.json``
beside it keeps the wall and CPU time of every pass and the sessions that trained it, and the run's value: a
checkpoint is never continued under another run (other seeds, objective, schedule, ...; only the passes may change).

When a run reaches its catalogue passes (``run.epochs``) it is **finalized**: evaluated
(:mod:`helpers.deep.reference.metrics`), its weights written to ``weights.safetensors`` and its ``manifest.json``;
then the checkpoint becomes ``final-checkpoint.pt`` (kept on this machine, not committed).

Raising a target: edit the run's passes in the catalogue and run ``make reference RUN=chapter/name``: it resumes
from ``final-checkpoint.pt`` (this machine) or from a committed ``checkpoint.pt``, else trains from pass 0 (it says
so); until it is finalized again, :func:`helpers.deep.reference.load` refuses the old weights naming
``reference.run.epochs``. ``--target N`` trains beyond the catalogue's passes into the checkpoint without touching
the stored weights (finalized later, when the catalogue is raised to N, at the cost of the evaluation only). The
cyclical schedule's period is a quarter of the passes, so raising that run's passes makes another run: it restarts.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from helpers.deep import networks, training
from helpers.deep.checkpoints import data_hash, differences, read_checkpoint
from helpers.deep.history import History
from helpers.deep.reference import metrics
from helpers.deep.reference.catalogue import Entry, data
from helpers.deep.reference.files import (
    CHECKPOINT,
    FINAL_CHECKPOINT,
    FINAL_PROGRESS,
    MANIFEST,
    MANIFEST_FORMAT,
    PROGRESS,
    SIZE_CAP_BYTES,
    WEIGHTS,
    ReferenceMismatchError,
    read_json,
    run_dir,
    save_weights,
    stored_value,
    value_of,
    write_json,
)
from helpers.deep.runs import code_fingerprint

LOCK = ".lock"
#: the batch size of the per-pass test evaluation (part of deep.train's checkpoint fingerprint)
TEST_BATCH_SIZE = 500


def training_value(e: Entry) -> dict[str, object]:
    """What a checkpoint may be continued under: the entry's value without its passes and its evaluation."""
    return {k: v for k, v in value_of(e).items()
            if k != "reference.run.epochs" and not k.startswith("reference.evaluation")}  # fmt: skip


def manifest_matches(e: Entry, root: str | Path | None) -> bool:
    path = run_dir(e, root) / MANIFEST
    return path.is_file() and not differences(stored_value(read_json(path)), value_of(e))


def checkpoint_passes(path: Path) -> int:
    return int(read_checkpoint(path)["epoch"]) if path.exists() else 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _open_progress(e: Entry, d: Path, start: int) -> dict:
    """The bookkeeping of a run in progress, checked to belong to this run; a new session appended."""
    path = d / PROGRESS
    if path.is_file() and (d / CHECKPOINT).exists():
        progress = read_json(path)
        diffs = differences(stored_value({"value": progress["value"]}), training_value(e))
        if diffs:
            raise ReferenceMismatchError(
                f"{d / CHECKPOINT} was trained as another run ({'; '.join(diffs)}; saved = checkpoint, now = "
                f"catalogue). Delete {d / CHECKPOINT} and {path} to train {e.key} from pass 0."
            )
    else:
        progress = {"format": MANIFEST_FORMAT, "key": e.key, "value": training_value(e), "passes": {}, "sessions": []}
    threads = torch.get_num_threads()
    earlier = {s["threads"] for s in progress["sessions"]}
    if earlier and earlier != {threads}:
        print(f"note: {e.key} was trained with {sorted(earlier)} threads before, now {threads}: the resumed run may "
              "differ from an uninterrupted one in the last bits.")  # fmt: skip
    progress["sessions"].append({
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "from_pass": start, "threads": threads,
        "torch": torch.__version__, "python": platform.python_version(), "cpu": _cpu_model(),
        "code_fingerprint": code_fingerprint(),
    })  # fmt: skip
    write_json(path, progress)
    return progress


def _train_chunk(e: Entry, d: Path, start: int, stop: int, progress_bar: bool) -> tuple[list, list[History]]:
    """Passes start+1..stop of run e from its checkpoint; returns (R single models, R histories)."""
    progress = _open_progress(e, d, start)
    x_train, x_test, _ = data(e)
    models = e.run.initial_models()
    stacked = networks.stack(models)
    mark = [time.perf_counter(), time.process_time()]

    def bookkeeping(epoch: int, model, histories) -> None:  # after deep.train wrote the pass's checkpoint
        now = [time.perf_counter(), time.process_time()]
        progress["passes"][str(epoch)] = [now[0] - mark[0], now[1] - mark[1]]
        progress["sessions"][-1]["to_pass"] = epoch
        write_json(d / PROGRESS, progress)
        mark[:] = now

    print(f"{e.key}: passes {start + 1}-{stop} of {e.run.epochs} ({len(e.run.seeds)} seeds stacked, "
          f"{torch.get_num_threads()} thread(s))", flush=True)  # fmt: skip
    histories = training.train(
        stacked, x_train, objective=e.run.objective, epochs=stop, batch_size=e.run.batch_size,
        optimizer=e.run.optimizer, x_test=x_test, test_objective=e.run.test_objective,
        test_batch_size=TEST_BATCH_SIZE, binarization=e.run.binarization, beta_schedule=e.run.beta_schedule,
        checkpoint=d / CHECKPOINT, device="cpu", generator=e.run.generators("cpu"), progress=progress_bar,
        callback=bookkeeping,
    )  # fmt: skip
    networks.copy_into(models, stacked)
    return models, histories


def finalize(e: Entry, d: Path, models: list, histories: list[History]) -> dict:
    """Evaluate the trained run, write its weights and manifest (module docstring); returns the manifest."""
    passes = len(histories[0])
    x_train, x_test, x_eval = data(e)
    print(f"{e.key}: evaluating {len(models)} models on {len(x_eval)} test images (log p(x) with k = "
          f"{e.evaluation.loglik_samples})", flush=True)  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    values = metrics.evaluate(e, models, x_eval)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    meta = {"chapter": e.chapter, "name": e.name, "seeds": ",".join(map(str, e.run.seeds)), "passes": str(passes)}
    sha = save_weights(d / WEIGHTS, models, e.run.seeds, meta)
    progress = read_json(d / PROGRESS) if (d / PROGRESS).is_file() else {"passes": {}, "sessions": []}
    known = [progress["passes"][str(p)] for p in range(1, passes + 1) if str(p) in progress["passes"]]
    train_cpu = sum(c for _, c in known)
    steps = passes * math.ceil(len(x_train) / e.run.batch_size)
    manifest = {
        "format": MANIFEST_FORMAT, "key": e.key, "value": value_of(e), "run": repr(e.run),
        "seeds": list(e.run.seeds), "passes": passes, "steps_per_seed": steps,
        "data": {"dataset": e.dataset, "train_images": len(x_train), "test_images": len(x_test),
                 "eval_images": len(x_eval), "train_hash": data_hash(x_train), "test_hash": data_hash(x_test),
                 "eval_hash": data_hash(x_eval)},
        "train_wall_seconds": sum(sum(h.seconds) + sum(h.test_seconds) for h in histories[:1]),
        "train_cpu_seconds": train_cpu, "train_cpu_passes_recorded": len(known),
        "eval_wall_seconds": wall, "eval_cpu_seconds": cpu, "core_hours": (train_cpu + cpu) / 3600,
        "torch": torch.__version__, "python": platform.python_version(), "code_fingerprint": code_fingerprint(),
        "sessions": progress["sessions"],
        "weights": {"file": WEIGHTS, "sha256": sha, "bytes": (d / WEIGHTS).stat().st_size},
        "histories": [h.as_dict() for h in histories],
        "evaluation": {"seconds": wall, "cpu_seconds": cpu, **metrics.summary(e, values)},
    }  # fmt: skip
    write_json(d / MANIFEST, manifest)
    across = manifest["evaluation"]["across_seeds"]
    print(
        f"{e.key}: done, {passes} passes; test ELBO {across['elbo']['mean']:.2f} ± "
        f"{across['elbo']['se_across_seeds']:.2f}, log p(x) {across['log_px']['mean']:.2f} ± "
        f"{across['log_px']['se_across_seeds']:.2f} (mean over seeds ± SE across seeds); weights "
        f"{manifest['weights']['bytes'] / 2**20:.1f} MB, {manifest['core_hours']:.2f} core-hours",
        flush=True,
    )
    return manifest


def _restore_final(e: Entry, d: Path) -> None:
    for final, live in ((FINAL_CHECKPOINT, CHECKPOINT), (FINAL_PROGRESS, PROGRESS)):
        if (d / final).exists():
            os.replace(d / final, d / live)


def _retire(d: Path) -> None:
    for live, final in ((CHECKPOINT, FINAL_CHECKPOINT), (PROGRESS, FINAL_PROGRESS)):
        if (d / live).exists():
            os.replace(d / live, d / final)


@contextmanager
def _exclusive(e: Entry, d: Path):
    """Hold ``<run>/.lock`` while training: a second process on the same run stops at once instead of interleaving
    its checkpoints with this one's (POSIX; elsewhere no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(d / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"{e.key} is being trained by another process (it holds {d / LOCK}).") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def advance(e: Entry, *, root: str | Path | None = None, target: int | None = None, passes: float = math.inf,
            progress: bool = True) -> bool:  # fmt: skip
    """Train run ``e`` by at most ``passes`` passes toward ``target`` (default: its catalogue passes), finalizing
    it when it reaches its catalogue passes. Returns True when nothing is left to do for this target."""
    d = run_dir(e, root)
    d.mkdir(parents=True, exist_ok=True)
    with _exclusive(e, d):
        return _advance(e, d, root, e.run.epochs if target is None else int(target), passes, progress)


def _advance(e: Entry, d: Path, root: str | Path | None, goal: int, passes: float, progress: bool) -> bool:
    finished = manifest_matches(e, root)
    if not (d / CHECKPOINT).exists() and (d / FINAL_CHECKPOINT).exists():
        if goal > checkpoint_passes(d / FINAL_CHECKPOINT) or not finished:
            _restore_final(e, d)
    done = checkpoint_passes(d / CHECKPOINT)
    if finished and goal <= e.run.epochs and done in (0, e.run.epochs):
        _retire(d)
        return True
    if done == 0 and finished:
        print(f"{e.key}: no checkpoint on this machine: training from pass 0 toward {goal} passes (the stored "
              f"{e.run.epochs}-pass weights stay until the new run is finalized)")  # fmt: skip
    if done > e.run.epochs and not finished and goal < done:
        raise ReferenceMismatchError(
            f"{d / CHECKPOINT} holds {done} passes, more than the catalogue's {e.run.epochs}: raise the run's passes "
            f"in the catalogue to {done} (or train further with --target), or delete the checkpoint to restart."
        )
    models = histories = None
    budget = passes
    while done < goal and budget > 0:
        stop = min(goal, done + int(min(budget, goal)))
        if done < e.run.epochs < stop:
            stop = e.run.epochs  # finalize exactly at the catalogue's passes
        models, histories = _train_chunk(e, d, done, stop, progress)
        budget -= stop - done
        done = stop
        if done == e.run.epochs and not finished:
            finalize(e, d, models, histories)
            finished = True
    if done == e.run.epochs and not finished:  # reached before (e.g. killed while finalizing): finalize now
        models, histories = _train_chunk(e, d, done, done, False)
        finalize(e, d, models, histories)
        finished = True
    if done >= goal and finished and goal == e.run.epochs:
        _retire(d)
    return done >= goal


def status(e: Entry, root: str | Path | None = None) -> dict:
    """What is stored for run e: state, passes, weights size (actual, or projected from the model), time per pass."""
    d = run_dir(e, root)
    size = sum(t.numel() * t.element_size() for m in e.run.initial_models() for t in m.state_dict().values())
    row = {"key": e.key, "target": e.run.epochs, "passes": 0, "state": "not started", "bytes": size, "stored": False}
    progress_file = d / PROGRESS if (d / PROGRESS).is_file() else d / FINAL_PROGRESS
    if progress_file.is_file():
        cpu = [c for _, c in read_json(progress_file)["passes"].values()]
        row["cpu_per_pass"] = sum(cpu) / len(cpu) if cpu else math.nan
    if (d / MANIFEST).is_file():
        manifest = read_json(d / MANIFEST)
        diffs = differences(stored_value(manifest), value_of(e))
        row.update(passes=manifest["passes"], stored=not diffs, bytes=manifest["weights"]["bytes"],
                   state="done" if not diffs else "stale: " + "; ".join(diffs))  # fmt: skip
    if (d / CHECKPOINT).exists():
        row["passes"] = checkpoint_passes(d / CHECKPOINT)
        row["state"] = f"training ({row['passes']} of {e.run.epochs} passes)" + (
            f"; stored: {row['state']}" if (d / MANIFEST).is_file() else ""
        )
    return row


def print_status(selected: list[Entry], root: str | Path | None = None, cap: int | None = None) -> list[dict]:
    cap = SIZE_CAP_BYTES if cap is None else cap
    rows = [status(e, root) for e in selected]
    total, fits = 0, []
    print(f"{'run':<34}{'passes':>12}{'MB':>8}{'CPU s/pass':>12}  state")
    for row in rows:
        total += row["bytes"]
        fits.append(total <= cap)
        per_pass = row.get("cpu_per_pass", math.nan)
        print(
            f"{row['key']:<34}{row['passes']:>6} / {row['target']:<4}{row['bytes'] / 2**20:>8.1f}"
            f"{per_pass:>12.1f}  {row['state']}{'' if fits[-1] else '  (beyond the size cap)'}",
            file=sys.stdout,
        )
    print(f"weights of these runs: {total / 2**20:.1f} MB (stored or projected) of the {cap / 2**20:.0f} MB cap")
    return rows
