"""Execute the book's notebooks on every core into jupyter-cache, before ``jupyter-book build`` reads them.

Jupyter Book 1 (myst-nb, ``execute_notebooks: cache``) executes the notebooks one after another while Sphinx
reads them, so a 2-core machine runs the standard build on one core. This script runs them ``--jobs`` at a time
(default: the number of cores), longest first, each in its own kernel with one BLAS/OpenMP thread per job (so two
jobs do not fight over the same cores), and stores each executed notebook in the cache the build uses; the build
then finds every notebook there and executes nothing. A notebook already in the cache (same code) is skipped.

The cache is keyed on the code cells and the kernelspec only (jupyter-cache's hash), exactly as myst-nb looks it
up, so the site is the same as after a serial build, up to the rounding of reductions on one thread instead of two.
A notebook that fails is reported with its traceback and not cached, and the script exits with status 1 (the
build would run it again and fail on the same cell).

Usage (the Makefile's book targets call it)::

    BOOK_SCALE=standard python book/_ext/execute_parallel.py book [--jobs 2] [--cache book/_build/.jupyter_cache]

Per-notebook wall-clock times, the jobs and the whole run's wall clock go to ``<cache>/../execution-times.json``
(``benchmarks/run_all.py`` copies them into RESULTS.md) and are printed as a table. Each notebook that executed
without error also gets its time at this ``BOOK_SCALE`` written into the committed ``<book>/_data/timings.json``
(keyed by notebook and scale, with the machine's cores and CPU and the number of jobs), which each chapter's header
prints (``book/_ext/timings.py``, in the header's "Expected time" paragraph): the times a chapter states are the
last build's measurements, never typed. Commit the file after a build to publish them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: starts of a kernel that dies before it answers (a port taken by a parallel job's kernel) before giving up
KERNEL_START_ATTEMPTS = 3
#: the chapters that train networks, longest first at the standard scale (the times are in benchmarks/RESULTS.md);
#: the order of a build with no recorded times (a fresh clone): the longest must not start last
LONGEST_FIRST = ("deep/vae.ipynb", "deep/iwae.ipynb", "deep/stl.ipynb", "deep/discrete.ipynb", "deep/diffusion.ipynb")


def toc_notebooks(book: Path) -> list[Path]:
    """The ``.ipynb`` files that ``_toc.yml`` lists (root and chapters), in book order."""
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    files += [chapter["file"] for chapter in toc.get("chapters", [])]
    return [book / f"{f}.ipynb" for f in files if (book / f"{f}.ipynb").exists()]


def priority(name: str, code_length: int, previous: dict[str, float]) -> tuple[float, int, int]:
    """Sort key (highest first) of the notebook ``name`` (relative to the book): its recorded seconds, else its place
    in LONGEST_FIRST, else the length of its code."""
    hint = len(LONGEST_FIRST) - LONGEST_FIRST.index(name) if name in LONGEST_FIRST else 0
    return previous.get(name, -1.0), hint, code_length


def machine() -> dict[str, object]:
    """The machine the times were measured on: its cores and its CPU's model name (Linux), else the platform's."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count() or 1, "cpu": model}


def committed_times(book: Path, scale: str) -> dict[str, float]:
    """{notebook: seconds} at ``scale`` from the committed ``<book>/_data/timings.json`` ({} when absent)."""
    path = book / "_data" / "timings.json"
    if not path.exists():
        return {}
    notebooks = json.loads(path.read_text()).get("notebooks", {})
    return {name: float(times[scale]["seconds"]) for name, times in notebooks.items() if scale in times}


def record_timings(
    book: Path, scale: str, seconds: dict[str, float], jobs: int, loads: dict[str, float] | None = None
) -> Path:
    """Write the seconds of the notebooks that just executed at ``scale`` into ``<book>/_data/timings.json``.

    The file keeps the other notebooks' and scales' entries: ``{"notebooks": {name: {scale: {"seconds", "jobs",
    "cores", "cpu", "date", "load"}}}}``. ``jobs`` is how many notebooks ran at once (they share the cores);
    ``loads`` the machine's 5-minute load average when each finished (other work on a shared machine slows it)."""
    if not scale:
        raise ValueError("record_timings: the scale is empty; set BOOK_SCALE (quick, standard or full)")
    path = book / "_data" / "timings.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    notebooks = record.setdefault("notebooks", {})
    date = time.strftime("%Y-%m-%d", time.gmtime())
    for name, value in seconds.items():
        entry = {"seconds": value, "jobs": jobs, "date": date, **machine()}
        if loads and name in loads:
            entry["load"] = loads[name]
        notebooks.setdefault(name, {})[scale] = entry
    record["about"] = (
        "Written by book/_ext/execute_parallel.py whenever a build executes a notebook (do not edit by hand): "
        "the wall-clock seconds of each notebook at each BOOK_SCALE, which book/_ext/timings.py prints in each "
        "chapter's header."
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return path


def kernel_did_not_start(error: BaseException) -> bool:
    """Whether ``error`` is jupyter_client's report of a kernel that died before it answered (nbclient raises
    ``RuntimeError("Kernel died before replying to kernel_info")``), as when two kernels started at the same moment
    by parallel jobs pick the same free TCP port ("Address already in use")."""
    return isinstance(error, RuntimeError) and "Kernel died before replying" in str(error)


def execute_one(path: str, timeout: int, attempts: int = KERNEL_START_ATTEMPTS
                ) -> tuple[str, dict | None, float, str | None]:  # fmt: skip
    """Execute one notebook in its own folder (as myst-nb does): (path, executed notebook, seconds, traceback).

    A kernel that does not start is started again, up to ``attempts`` times, after a random pause of 1-3 s (the
    port race above; a notebook's own error is not retried). Any other exception is returned as the traceback, so
    that one notebook's failure is reported with the others' results instead of stopping the run."""
    from jupyter_cache.executors.utils import single_nb_execution

    started = time.perf_counter()
    for attempt in range(1, attempts + 1):
        nb = nbformat.read(path, as_version=4)
        try:
            result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout, allow_errors=False)
        except Exception as error:
            if kernel_did_not_start(error) and attempt < attempts:
                print(f"execute_parallel: {path}: the kernel did not start ({error}); starting it again", flush=True)
                time.sleep(random.uniform(1.0, 3.0))
                continue
            return path, None, time.perf_counter() - started, traceback.format_exc()
        if result.err is not None:
            return path, None, result.time, result.exc_string
        return path, result.nb, result.time, None
    raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book", type=Path, help="the book's folder (holds _toc.yml and _config.yml)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("BOOK_JOBS", os.cpu_count() or 1)),
        help="notebooks executed at once (default: $BOOK_JOBS, else the number of cores)",
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="jupyter-cache folder (default: <book>/_build/.jupyter_cache)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NOTEBOOK",
        help="execute only these notebooks of _toc.yml (relative to the book, e.g. vi/elbo.ipynb): to measure some",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    book = args.book.resolve()
    cache_path = (args.cache or book / "_build" / ".jupyter_cache").resolve()
    config = yaml.safe_load((book / "_config.yml").read_text()).get("execute", {})
    timeout = int(config.get("timeout", 1200))
    cache = get_cache(str(cache_path))

    notebooks = toc_notebooks(book)
    if args.only is not None:
        names = {p.relative_to(book).as_posix(): p for p in notebooks}
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"--only: {', '.join(unknown)} not in _toc.yml; its notebooks are {', '.join(names)}")
        notebooks = [names[name] for name in args.only]
    todo = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        try:
            cache.match_cache_notebook(nb)
            continue  # already executed with this code
        except KeyError:
            pass
        code = sum(len(cell.source) for cell in nb.cells if cell.cell_type == "code")
        todo.append((code, path))
    if not todo:
        print("execute_parallel: every notebook is in the cache")
        return 0
    # Longest first, so that the last job to start is a short one: by the previous run's times when recorded (else
    # the committed times at this scale), else the chapters that train networks in the order of LONGEST_FIRST, then
    # the others by the length of their code.
    times_file = cache_path.parent / "execution-times.json"
    previous = json.loads(times_file.read_text()).get("notebooks", {}) if times_file.exists() else {}
    if not previous:  # a fresh clone: the committed times of the last build at this scale
        previous = committed_times(book, os.environ.get("BOOK_SCALE", ""))

    todo.sort(key=lambda item: priority(item[1].relative_to(book).as_posix(), item[0], previous), reverse=True)

    jobs = min(args.jobs, len(todo))
    if jobs > 1:  # one thread per kernel: the jobs share the cores
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, "1")
    print(f"execute_parallel: {len(todo)} notebook(s), {jobs} at a time, BOOK_SCALE={os.environ.get('BOOK_SCALE', '')}")
    start = time.perf_counter()
    seconds, loads, failed = {}, {}, []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(execute_one, str(path), timeout) for _, path in todo]
        for future in as_completed(futures):
            path, nb, elapsed, error_text = future.result()
            name = str(Path(path).relative_to(book))
            seconds[name] = round(elapsed, 1)
            loads[name] = round(os.getloadavg()[1], 1) if hasattr(os, "getloadavg") else None
            if error_text is not None:
                failed.append(name)
                print(f"execute_parallel: {name} FAILED after {elapsed:.0f} s\n{error_text}", file=sys.stderr)
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, str(Path(path)), data={"execution_seconds": elapsed}),
                check_validity=False,
                overwrite=True,
            )
            print(f"execute_parallel: {name} executed in {elapsed:.0f} s", flush=True)
    wall = time.perf_counter() - start
    times_file.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "scale": os.environ.get("BOOK_SCALE", ""),
        "jobs": jobs,
        "wall_seconds": round(wall, 1),
        "executed": sorted(seconds),
        "notebooks": {**previous, **seconds},
    }
    times_file.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    succeeded = {name: value for name, value in seconds.items() if name not in failed}
    scale = os.environ.get("BOOK_SCALE", "")
    if succeeded and scale:
        record_timings(book, scale, succeeded, jobs, loads)
    print(f"execute_parallel: {sum(seconds.values()):.0f} s of notebooks in {wall:.0f} s wall clock on {jobs} job(s)")
    for name, value in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"  {value:8.1f} s  {name}")
    if failed:
        print(f"execute_parallel: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
