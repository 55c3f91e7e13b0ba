"""book/_ext/execute_parallel.py: the notebooks it executes are the ones the book build then finds in the cache.

A throw-away book of three tiny notebooks (real kernels, real jupyter-cache): two succeed, one raises. The two
are cached under the hash myst-nb looks up, with their outputs, each kernel got one BLAS thread, the failing one
is not cached and makes the script exit with status 1 and its traceback; a second run executes nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import nbformat
import pytest
from _shared import BOOK

_spec = importlib.util.spec_from_file_location("execute_parallel", BOOK / "_ext" / "execute_parallel.py")
execute_parallel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_parallel)

SCRIPT = BOOK / "_ext" / "execute_parallel.py"


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return nb


@pytest.fixture
def tiny_book(tmp_path):
    (tmp_path / "part").mkdir()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: A\n    chapters:\n      - file: part/ok\n"
        "      - file: part/broken\n"
    )
    (tmp_path / "_config.yml").write_text("execute:\n  timeout: 120\n")
    _notebook(tmp_path / "intro.ipynb", "import os\nprint(os.environ.get('OMP_NUM_THREADS'))")
    _notebook(tmp_path / "part" / "ok.ipynb", "from pathlib import Path\nprint(Path.cwd().name)", "6 * 7")
    _notebook(tmp_path / "part" / "broken.ipynb", "x = 1", "raise ValueError('the broken chapter')", "x = 2")
    return tmp_path


def test_toc_order(tiny_book):
    names = [p.relative_to(tiny_book).as_posix() for p in execute_parallel.toc_notebooks(tiny_book)]
    assert names == ["intro.ipynb", "part/ok.ipynb", "part/broken.ipynb"]


def test_longest_first():
    names = ["vi/elbo.ipynb", "deep/vae.ipynb", "deep/iwae.ipynb", "estimators/gradient-estimators.ipynb"]
    code = dict(zip(names, (10, 900, 500, 999)))  # characters of code

    def order(previous):
        return sorted(names, key=lambda n: execute_parallel.priority(n, code[n], previous), reverse=True)

    # no times at all: the VAE chapter (the longest at the standard scale) first, then the rest by code length
    assert order({}) == ["deep/vae.ipynb", "deep/iwae.ipynb", "estimators/gradient-estimators.ipynb", "vi/elbo.ipynb"]
    recorded = {"vi/elbo.ipynb": 5.0, "deep/vae.ipynb": 600.0, "deep/iwae.ipynb": 300.0}
    assert order(recorded)[:3] == ["deep/vae.ipynb", "deep/iwae.ipynb", "vi/elbo.ipynb"]  # recorded times win


def test_executes_into_the_cache_the_build_reads(tiny_book):
    from jupyter_cache import get_cache

    cache_dir = tiny_book / "_build" / ".jupyter_cache"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(tiny_book), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BOOK_SCALE": "quick"},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "part/broken.ipynb FAILED" in run.stderr and "failed: part/broken.ipynb" in run.stderr
    # the traceback, as nbmake shows it: the failing cell's source, the exception's type and its message
    stderr = re.sub(r"\x1b\[[0-9;]*m", "", run.stderr)  # the kernel's traceback is coloured
    assert "raise ValueError('the broken chapter')" in stderr and "ValueError: the broken chapter" in stderr

    cache = get_cache(str(cache_dir))
    outputs = {}
    for name in ("intro", "part/ok"):
        nb = nbformat.read(tiny_book / f"{name}.ipynb", as_version=4)  # as myst-nb reads it: no outputs
        record = cache.match_cache_notebook(nb)  # KeyError if the build would execute it again
        _, merged = cache.merge_match_into_notebook(nb)
        outputs[name] = [o for cell in merged.cells for o in cell.outputs]
        assert record.data["execution_seconds"] > 0
    assert outputs["intro"][0]["text"].strip() == "1"  # one thread per kernel when jobs share the cores
    assert outputs["part/ok"][0]["text"].strip() == "part"  # executed in the notebook's own folder, as myst-nb does
    assert outputs["part/ok"][1]["data"]["text/plain"] == "42"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(tiny_book / "part" / "broken.ipynb", as_version=4))
    times = json.loads((tiny_book / "_build" / "execution-times.json").read_text())
    assert set(times["notebooks"]) == set(times["executed"]) == {"intro.ipynb", "part/ok.ipynb", "part/broken.ipynb"}
    assert times["jobs"] == 2 and 0 < times["wall_seconds"] <= sum(times["notebooks"].values()) + 5
    # the committed per-scale record that the chapter headers print: the notebooks that succeeded, at this scale
    timings = json.loads((tiny_book / "_data" / "timings.json").read_text())["notebooks"]
    assert set(timings) == {"intro.ipynb", "part/ok.ipynb"} and all(set(t) == {"quick"} for t in timings.values())
    assert timings["part/ok.ipynb"]["quick"]["seconds"] == times["notebooks"]["part/ok.ipynb"]
    assert timings["part/ok.ipynb"]["quick"]["jobs"] == 2 and timings["part/ok.ipynb"]["quick"]["cores"] >= 1

    (tiny_book / "part" / "broken.ipynb").unlink()  # fixed: now only the cached ones are left
    (tiny_book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: part/ok\n")
    again = subprocess.run([sys.executable, str(SCRIPT), str(tiny_book)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "every notebook is in the cache" in again.stdout


def test_only_some_notebooks(tiny_book):
    """--only executes the named notebooks (to measure them), and refuses a name that is not in _toc.yml."""
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(tiny_book), "--only", "part/ok.ipynb", "--jobs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BOOK_SCALE": "standard"},
    )
    assert run.returncode == 0 and "1 notebook(s)" in run.stdout, run.stdout + run.stderr
    timings = json.loads((tiny_book / "_data" / "timings.json").read_text())["notebooks"]
    assert set(timings) == {"part/ok.ipynb"} and set(timings["part/ok.ipynb"]) == {"standard"}
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), str(tiny_book), "--only", "part/no.ipynb"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "part/no.ipynb not in _toc.yml" in bad.stderr and "part/ok.ipynb" in bad.stderr


def test_refuses_zero_jobs(tiny_book):
    run = subprocess.run([sys.executable, str(SCRIPT), str(tiny_book), "--jobs", "0"], capture_output=True, text=True)
    assert run.returncode == 2 and "--jobs must be at least 1" in run.stderr


def test_make_test_executes_each_notebook_once_and_stops_on_a_failure():
    """`make test` runs no nbmake pass: test-build's execute_parallel.py is the one execution, and its status 1
    stops make before the build (no ``-`` prefix, no ``|| true``)."""
    makefile = (BOOK.parent / "Makefile").read_text()
    steps = re.search(r"^test: (.+)$", makefile, re.M).group(1).split()
    assert steps == ["lint", "unit", "test-build", "site-check"]
    build = makefile[makefile.index("define build_book") : makefile.index("endef")]
    lines = [line.strip() for line in build.splitlines()]
    execute = next(i for i, line in enumerate(lines) if "execute_parallel.py" in line)
    assert lines[execute].startswith("BOOK_SCALE=") and "||" not in lines[execute], lines[execute]
    assert execute < next(i for i, line in enumerate(lines) if "jupyter-book build" in line)
    assert "$(call build_book,quick" in makefile[makefile.index("\ntest-build:") :]


def test_a_kernel_that_dies_before_it_answers_is_started_again(tiny_book, monkeypatch):
    """Two kernels started at once by parallel jobs can pick the same TCP port; the loser dies before it answers
    (nbclient: "Kernel died before replying to kernel_info"). execute_one starts it again, on a real kernel."""
    from jupyter_cache.executors import utils

    real, calls = utils.single_nb_execution, []

    def first_kernel_dies(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(*args, **kwargs)

    monkeypatch.setattr(utils, "single_nb_execution", first_kernel_dies)
    monkeypatch.setattr(execute_parallel.time, "sleep", lambda seconds: None)
    path, nb, _, error_text = execute_parallel.execute_one(str(tiny_book / "part" / "ok.ipynb"), timeout=60)
    assert error_text is None and len(calls) == 2
    assert nb.cells[0].outputs  # executed by the second kernel


@pytest.mark.parametrize(
    "error, starts",
    [(RuntimeError("Kernel died before replying to kernel_info"), execute_parallel.KERNEL_START_ATTEMPTS),
     (OSError("no such kernel: vi-course"), 1)],
)  # fmt: skip
def test_a_kernel_that_never_starts_is_a_failure_with_its_traceback_not_a_crash(tiny_book, monkeypatch, error, starts):
    from jupyter_cache.executors import utils

    calls = []

    def never_starts(*args, **kwargs):
        calls.append(1)
        raise error

    monkeypatch.setattr(utils, "single_nb_execution", never_starts)
    monkeypatch.setattr(execute_parallel.time, "sleep", lambda seconds: None)
    path, nb, _, error_text = execute_parallel.execute_one(str(tiny_book / "part" / "ok.ipynb"), timeout=60)
    assert nb is None and len(calls) == starts  # only the port race is retried
    assert type(error).__name__ in error_text and str(error) in error_text


def test_a_fresh_clone_orders_by_the_committed_times_at_its_scale(tmp_path):
    (tmp_path / "_data").mkdir()
    times = {"a.ipynb": {"quick": {"seconds": 5.0}, "standard": {"seconds": 50.0}}}
    times["b.ipynb"] = {"quick": {"seconds": 9.0}}
    (tmp_path / "_data" / "timings.json").write_text(json.dumps({"notebooks": times}))
    assert execute_parallel.committed_times(tmp_path, "quick") == {"a.ipynb": 5.0, "b.ipynb": 9.0}
    assert execute_parallel.committed_times(tmp_path, "standard") == {"a.ipynb": 50.0}
    assert execute_parallel.committed_times(tmp_path / "nowhere", "quick") == {}
    # the book's own file has a time for every chapter at quick and standard (the build records them)
    for scale in ("quick", "standard"):
        assert set(execute_parallel.committed_times(BOOK, scale)) == {
            p.relative_to(BOOK).as_posix() for p in execute_parallel.toc_notebooks(BOOK)
        }
