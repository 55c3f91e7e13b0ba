"""Every chapter starts with the two cells book/_ext/notebook_header.py writes from one place each.

The macros cell carries book/_config.yml's LaTeX macros (for JupyterLab-MyST and MathJax outside the website;
tests/book/test_lab.py checks that they typeset in JupyterLab) and the Colab guard names pyproject.toml's
repository in its `%pip install` line. Out of date: run `make notebook-headers`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import nbformat
import pytest
import yaml
from _shared import BOOK, ROOT

_spec = importlib.util.spec_from_file_location("notebook_header", BOOK / "_ext" / "notebook_header.py")
header = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(header)
_spec = importlib.util.spec_from_file_location("launch_links", BOOK / "_ext" / "launch_links.py")
launch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launch)

CHAPTERS = header.chapters()
MACROS = header.macros()
URL = header.repository_url()


def test_the_tool_finds_every_chapter_and_the_book_s_macros():
    assert len(CHAPTERS) >= 10 and all(p.suffix == ".ipynb" for p in CHAPTERS)
    assert {"E", "KL", "R", "elbo"} <= set(MACROS)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_first_cells_are_up_to_date(path):
    text = path.read_text(encoding="utf-8")
    assert header.updated(text, MACROS, URL) == text, f"{path.name}: run `make notebook-headers`"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_macros_cell_comes_first_hidden_on_the_website_and_defines_every_macro(path):
    cells = nbformat.read(path, as_version=4).cells
    cell = cells[0]
    assert cell.cell_type == "markdown" and cell.id == header.MACROS_CELL_ID
    assert cell.metadata["tags"] == ["remove-cell"]  # MyST-NB drops it: the website has _config.yml's macros
    assert cells[1].cell_type == "markdown" and cells[1].source.startswith("# "), "the title follows it"
    # JupyterLab-MyST: YAML front matter at the very start of the notebook's first markdown cell
    match = re.fullmatch(r"---\n(.*?)\n---\n(.*)", cell.source, re.S)
    assert match, "the cell must start with front matter"
    front = yaml.safe_load(match[1])
    assert front == {"math": {f"\\{name}": body for name, body in MACROS.items()}}
    # MathJax (Colab, Jupyter without MyST): one inline formula of \def's, read by every later formula
    defs = re.fullmatch(r"\$(.*)\$", match[2].strip())
    assert defs, match[2]
    assert dict(re.findall(r"\\def\\([A-Za-z]+)\{((?:[^{}]|\{[^{}]*\})*)\}", defs[1])) == MACROS
    # plain Markdown (Colab) must not read the YAML as a setext heading: a blank line before the closing ---
    assert match[1].endswith("\n")


def test_no_chapter_defines_macros_of_its_own():
    """_config.yml stays the one place: a chapter's own \\newcommand would reach neither the website's MathJax
    settings nor JupyterLab-MyST's other cells."""
    for path in CHAPTERS:
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells[1:] if c.cell_type == "markdown")
        assert not re.search(r"\\(newcommand|renewcommand|def)(?![A-Za-z])", text), f"{path.name} defines a macro"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_colab_guard_names_the_repository_of_pyproject(path):
    guard = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert guard.source == header.guard_source(URL)
    assert f'COURSE_REPOSITORY = "{URL}"' in guard.source
    assert f'#     %pip install "vi-gradients-course @ git+{URL}"' in guard.source


def test_the_repository_is_set_in_pyproject():
    """The one place: [project.urls] Repository. Until the course is published it is the placeholder, and the
    guard then tells a Colab user where to read the owner and name; this check says so instead of passing."""
    if URL == header.PLACEHOLDER_URL:
        pytest.skip(
            f"pyproject.toml's [project.urls] Repository is the placeholder {URL}: set it to the public GitHub "
            "repository and run `make notebook-headers`, so that Colab's install line works as committed"
        )
    assert launch.normalize_url(URL) == URL, f"{URL} is not a GitHub or GitLab repository address"


def test_a_stale_notebook_is_rewritten_in_its_first_cells_only(tmp_path):
    path = BOOK / "vi" / "elbo.ipynb"
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    del notebook["cells"][0]  # a notebook from before the macros cell, with an old guard
    guard = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    guard["source"] = ["import importlib.util\n", 'find_spec("helpers")']
    old = json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert header.updated(old, MACROS, URL) == text
    other = header.updated(text, {**MACROS, "N": "\\mathcal{N}"}, "https://github.com/o/r")
    rewritten, original = json.loads(other)["cells"], notebook["cells"]
    assert rewritten[1:] != json.loads(text)["cells"][1:]  # the guard changed
    changed = [i for i, (a, b) in enumerate(zip(rewritten[1:], json.loads(text)["cells"][1:])) if a != b]
    guard_at = next(i for i, c in enumerate(json.loads(text)["cells"][1:]) if c["cell_type"] == "code")
    assert changed == [guard_at], changed  # only the guard (the title cell and every other cell are untouched)
    assert "\\def\\N{\\mathcal{N}}" in "".join(rewritten[0]["source"])
    assert len(original) + 1 == len(rewritten)


def test_the_check_mode_passes_here_and_an_unusable_repository_is_refused(tmp_path):
    script = BOOK / "_ext" / "notebook_header.py"
    ok = subprocess.run([sys.executable, str(script), "--check"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    pyproject = (ROOT / "pyproject.toml").read_text()
    for value in ("x", "github.com/o/r", ""):
        bad = tmp_path / "pyproject.toml"
        bad.write_text(pyproject.replace(f'Repository = "{URL}"', f'Repository = "{value}"'))
        with pytest.raises(ValueError, match="Repository"):
            header.repository_url(bad)
