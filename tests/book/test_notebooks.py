"""Notebooks are committed clean (valid nbformat, no outputs), listed in the table of contents, and start
with exactly one imports-and-seed cell that calls helpers.setup."""

from __future__ import annotations

import importlib.util
import re

import nbformat
import pytest
import yaml
from _shared import BOOK

NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def _toc_files() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_every_chapter_is_a_notebook_and_the_test_build_executes_them_all():
    """The chapters of _toc.yml are exactly the notebooks found here, and they are what book/_ext/execute_parallel.py
    executes for `make test-build` (the one execution of every notebook in `make test`)."""
    chapters = [f for f in _toc_files() if not (BOOK / f"{f}.md").exists()]  # not the pages intro and instructors
    assert [p.relative_to(BOOK).with_suffix("").as_posix() for p in NOTEBOOKS] == sorted(chapters)
    spec = importlib.util.spec_from_file_location("execute_parallel", BOOK / "_ext" / "execute_parallel.py")
    execute_parallel = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(execute_parallel)
    assert sorted(execute_parallel.toc_notebooks(BOOK)) == NOTEBOOKS


def test_toc_entries_exist_and_every_notebook_is_listed():
    listed = _toc_files()
    for entry in listed:
        assert any((BOOK / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), f"_toc.yml lists missing {entry}"
    for notebook in NOTEBOOKS:
        assert notebook.relative_to(BOOK).with_suffix("").as_posix() in listed, f"{notebook} is not in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_and_has_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has committed outputs: clear them"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"
    # the course's named kernel, installed into .venv by the Makefile's set-up (make lab shows it as "VI course")
    assert notebook.metadata["kernelspec"]["name"] == "vi-course"
    assert notebook.metadata["kernelspec"]["display_name"] == "VI course"


def _is_colab_guard(cell) -> bool:
    return cell.cell_type == "code" and 'find_spec("helpers")' in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_the_hidden_colab_guard(path):
    """Before the imports cell, a cell hidden on the website (tag remove-cell; collapsed in JupyterLab and Colab)
    stops a Python without the course with the one line to run, instead of an ImportError in a later cell."""
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    guard = code[0]
    assert _is_colab_guard(guard), f"{path.name}: the first code cell must be the Colab guard"
    assert "remove-cell" in guard.metadata.get("tags", []), f"{path.name}: the guard is hidden on the website"
    assert guard.metadata.get("cellView") == "form" and guard.metadata["jupyter"]["source_hidden"] is True
    assert '%pip install "vi-gradients-course @ git+' in guard.source
    assert sum(_is_colab_guard(cell) for cell in code) == 1


def test_the_colab_guard_says_the_one_line_to_run_when_the_course_is_missing(tmp_path):
    """Run the guard in a Python that cannot import the course (isolated, no site-packages, empty folder): it
    raises ModuleNotFoundError whose message holds the pip line; with the course importable it passes silently."""
    import subprocess
    import sys

    guard = next(c for c in nbformat.read(NOTEBOOKS[0], as_version=4).cells if _is_colab_guard(c)).source
    script = tmp_path / "guard.py"
    script.write_text(guard)
    isolated = subprocess.run([sys.executable, "-I", "-S", str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert isolated.returncode != 0
    assert "ModuleNotFoundError" in isolated.stderr, isolated.stderr
    assert '%pip install "vi-gradients-course @ git+https://github.com/<owner>/<repo>"' in isolated.stderr
    assert "Restart session" in isolated.stderr and "colab.research.google.com/github/" in isolated.stderr
    filled = tmp_path / "filled.py"
    filled.write_text(re.sub(r'COURSE_REPOSITORY = "[^"]*"', 'COURSE_REPOSITORY = "https://github.com/o/r"', guard))
    known = subprocess.run([sys.executable, "-I", "-S", str(filled)], cwd=tmp_path, capture_output=True, text=True)
    assert '%pip install "vi-gradients-course @ git+https://github.com/o/r"' in known.stderr, known.stderr
    assert "<owner>" not in known.stderr.split("ModuleNotFoundError", 1)[1]
    ok = subprocess.run([sys.executable, str(script)], cwd=BOOK.parent, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr  # the course is installed here


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_imports_and_seed_cell_near_the_top(path):
    notebook = nbformat.read(path, as_version=4)
    # the hidden Colab guard comes first and imports only importlib; the imports-and-seed cell follows it
    code_cells = [cell.source for cell in notebook.cells if cell.cell_type == "code" and not _is_colab_guard(cell)]
    setup_cells = [i for i, source in enumerate(code_cells) if re.search(r"helpers\.setup\(", source)]
    assert setup_cells == [0], f"{path.name}: helpers.setup(...) must be called once, in the first code cell"
    assert re.search(r"helpers\.setup\(seed=\d+", code_cells[0]), "seed helpers.setup explicitly"
    for i, source in enumerate(code_cells[1:], start=1):
        assert not re.search(r"torch\.manual_seed|np\.random\.seed|random\.seed", source), f"cell {i} re-seeds globally"
        assert not re.search(r"^\s*(import|from)\s+\w", source, re.MULTILINE), (
            f"{path.name}: code cell {i} imports; keep imports in the first cell"
        )


#: no code cell is longer (non-blank lines): one idea per cell, readable on the website (issue 28; QuantEcon's
#: lectures keep cells at 10-26 lines); a longer cell is split where one idea ends, or its code moves into helpers
MAX_CELL_LINES = 40
#: how a chapter could decide a comparison over seeds by a rule of its own (the book has one: common.verdict)
OWN_VERDICT = re.compile(r"^\s*def verdict\b|\bt\.ppf\(|stats\.t\.ppf\(|\bttest_(1samp|rel|ind)\(", re.M)


def _code_cells(path):
    return [(i, c.source) for i, c in enumerate(nbformat.read(path, as_version=4).cells) if c.cell_type == "code"]


def long_cells(cells: list[tuple[int, str]], limit: int = MAX_CELL_LINES) -> list[str]:
    """The code cells of ``cells`` ((index, source) pairs) with more than ``limit`` non-blank lines."""
    out = []
    for index, source in cells:
        n = sum(1 for line in source.splitlines() if line.strip())
        if n > limit:
            out.append(f"cell {index}: {n} non-blank lines (at most {limit}): split it where one idea ends")
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_cell_is_longer_than_the_bound(path):
    assert long_cells(_code_cells(path)) == [], path.name


def test_the_cell_bound_catches_a_planted_long_cell():
    ok = "\n".join(f"x{i} = {i}" for i in range(MAX_CELL_LINES)) + "\n\n\n"  # blank lines do not count
    planted = ok + "y = 0\n"
    assert long_cells([(3, ok)]) == []
    assert long_cells([(3, ok), (5, planted)]) == [
        f"cell 5: {MAX_CELL_LINES + 1} non-blank lines (at most {MAX_CELL_LINES}): split it where one idea ends"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_comparisons_over_seeds_use_the_one_verdict_function(path):
    """No chapter defines its own comparison rule (a t quantile, a t-test, a function named verdict)."""
    for index, source in _code_cells(path):
        found = OWN_VERDICT.search(source)
        assert found is None, f"{path.name} cell {index}: {found.group(0)!r}; use common.verdict"


def test_the_rules_catch_a_planted_violation():
    source = "def verdict(d):\n    return stats.t.ppf(0.975, len(d) - 1)\n"
    assert OWN_VERDICT.search(source)
    assert not OWN_VERDICT.search("v = common.verdict(diff)\nprint(v.word)\n")
