"""Notebooks are committed clean (valid nbformat, no outputs), listed in the table of contents, and start
with exactly one imports-and-seed cell that calls helpers.setup."""

from __future__ import annotations

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


def test_there_are_notebooks():
    assert NOTEBOOKS


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
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_imports_and_seed_cell_near_the_top(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    setup_cells = [i for i, source in enumerate(code_cells) if re.search(r"helpers\.setup\(", source)]
    assert setup_cells == [0], f"{path.name}: helpers.setup(...) must be called once, in the first code cell"
    assert re.search(r"helpers\.setup\(seed=\d+", code_cells[0]), "seed helpers.setup explicitly"
    for i, source in enumerate(code_cells[1:], start=1):
        assert not re.search(r"torch\.manual_seed|np\.random\.seed|random\.seed", source), f"cell {i} re-seeds globally"
        assert not re.search(r"^\s*(import|from)\s+\w", source, re.MULTILINE), (
            f"{path.name}: code cell {i} imports; keep imports in the first cell"
        )
