"""The two cells every chapter notebook starts with, written from one place each: ``make notebook-headers``.

1. **The macros cell** (the notebook's first cell: markdown, id ``course-macros``, tag ``remove-cell``). The book's
   LaTeX macros (``\\E``, ``\\KL``, ``\\R``, ``\\elbo``) live in one place, the MathJax settings of
   ``book/_config.yml`` (``sphinx.config.mathjax3_config.tex.macros``), which only the website reads. So that
   JupyterLab, Binder, Colab and the website typeset them alike, the cell defines them twice:

   * as MyST front matter ``math:``: JupyterLab-MyST (``jupyterlab-myst``, installed by ``make lab`` and Binder)
     typesets with KaTeX and takes macros only from the front matter of a notebook's *first* markdown cell
     (hence the cell's place, before the title); a ``\\def`` in one cell does not reach the others there;
   * as ``\\def`` in inline math: MathJax (Colab, Jupyter without MyST) keeps a definition for every later
     formula of the page. ``\\def`` rather than ``\\newcommand`` because KaTeX refuses to ``\\newcommand`` a
     macro the front matter already defined, and ``\\renewcommand`` one it did not.

   The website drops the cell (``remove-cell``; MyST-NB reads no front matter in notebooks) and takes the macros
   from ``_config.yml``. In Colab the cell shows its front matter as a line of text above the title.

2. **The Colab guard** (the first code cell; collapsed, tag ``remove-cell``): it stops a Python without the course
   with the one ``%pip install`` line to run, for the repository named in ``pyproject.toml``'s ``[project.urls]
   Repository`` (``https://github.com/<owner>/<repo>`` until the course has a public home: then the guard also
   says how to find the owner and name). The website's downloadable copies get the build's own repository
   instead (``launch_links.fill_guard``).

``python book/_ext/notebook_header.py`` rewrites these two cells of every chapter in ``book/`` (nothing else:
other cells, ids and the file's JSON layout, nbformat's indent=1 with sorted keys, stay as they are);
``--check`` only lists the notebooks that differ (exit status 1). ``tests/book/test_notebook_header.py`` runs the
check.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

BOOK = Path(__file__).resolve().parents[1]
ROOT = BOOK.parent
MACROS_CELL_ID = "course-macros"
PLACEHOLDER_URL = "https://github.com/<owner>/<repo>"
#: the guard's source; {url} is the repository (a PLACEHOLDER_URL guard adds how to find the owner and name)
GUARD_TEMPLATE = """\
# @title Colab, or a Python without the course: run this cell first {{ display-mode: "form" }}
# It stops with the one line to run when the course package is missing (hidden on the website; `make lab`,
# Binder and CI have the package). The line:
#     %pip install "vi-gradients-course @ git+{url}"
import importlib.util

# pyproject.toml's [project.urls] Repository (make notebook-headers)
COURSE_REPOSITORY = "{url}"
if importlib.util.find_spec("helpers") is None or importlib.util.find_spec("helpers.common") is None:
    raise ModuleNotFoundError(
        "This chapter needs the course package (vi-gradients-course, imported as `helpers`). Run this one line in a "
        f'new cell:\\n\\n    %pip install "vi-gradients-course @ git+{{COURSE_REPOSITORY}}"\\n\\n'
        + (
            "with <owner>/<repo> the GitHub repository this notebook comes from (on Colab: the part of the address "
            "after colab.research.google.com/github/, up to /blob/). "
            if "<owner>" in COURSE_REPOSITORY
            else ""
        )
        + "Then restart the session (Colab: Runtime > Restart session) and run all cells again."
    ) from None"""


def chapters(book: Path = BOOK) -> list[Path]:
    """The chapter notebooks: ``book/<part>/<chapter>.ipynb``."""
    return sorted(p for p in book.glob("*/*.ipynb") if not p.parent.name.startswith(("_", ".")))


def macros(config: Path = BOOK / "_config.yml") -> dict[str, str]:
    """The book's macros, ``{"E": "\\\\mathbb{E}", ...}``, from ``_config.yml``'s MathJax settings."""
    settings = yaml.safe_load(config.read_text())
    found = settings["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    for name, body in found.items():
        if not (re.fullmatch(r"[A-Za-z]+", name) and isinstance(body, str) and "'" not in body):
            raise ValueError(f"{config}: macro {name!r}: {body!r} needs a name of letters and a body without '")
    return found


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """``[project.urls] Repository`` of ``pyproject.toml``; :data:`PLACEHOLDER_URL` while it is unset."""
    urls = tomllib.loads(pyproject.read_text())["project"].get("urls", {})
    url = urls.get("Repository", "").strip()
    if not url:
        raise ValueError(f'{pyproject}: set [project.urls] Repository (e.g. "{PLACEHOLDER_URL}" while there is none)')
    if url != PLACEHOLDER_URL and not re.fullmatch(r"https://[\w.-]+/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"{pyproject}: [project.urls] Repository {url!r} is not https://<host>/<owner>/<repo>")
    return url


def macros_cell_source(found: dict[str, str]) -> str:
    """The macros cell: front matter ``math:`` for JupyterLab-MyST, then ``\\def``s for MathJax."""
    front = "\n".join(f"  '\\{name}': '{body}'" for name, body in found.items())
    defs = "".join(f"\\def\\{name}{{{body}}}" for name, body in found.items())
    # the blank line before the closing --- keeps plain Markdown (Colab) from reading the YAML as a heading
    return f"---\nmath:\n{front}\n\n---\n${defs}$"


def guard_source(url: str) -> str:
    return GUARD_TEMPLATE.format(url=url)


def _lines(source: str) -> list[str]:
    """A cell source as nbformat stores it: lines that keep their newline, the last without."""
    return source.splitlines(keepends=True)


def _is_guard(cell: dict) -> bool:
    return cell["cell_type"] == "code" and 'find_spec("helpers")' in "".join(cell["source"])


def updated(text: str, found: dict[str, str], url: str) -> str:
    """The notebook JSON ``text`` with its macros cell and Colab guard written afresh (the rest unchanged)."""
    notebook = json.loads(text)
    cells = notebook["cells"]
    macros_cell = {
        "cell_type": "markdown",
        "id": MACROS_CELL_ID,
        "metadata": {"tags": ["remove-cell"]},
        "source": _lines(macros_cell_source(found)),
    }
    if cells and cells[0].get("id") == MACROS_CELL_ID:
        cells[0] = macros_cell
    else:
        if any(cell.get("id") == MACROS_CELL_ID for cell in cells):
            raise ValueError(f"the cell {MACROS_CELL_ID!r} must be the notebook's first cell")
        cells.insert(0, macros_cell)
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    if not code or not _is_guard(code[0]):
        raise ValueError('the first code cell must be the Colab guard (it tests find_spec("helpers"))')
    code[0]["source"] = _lines(guard_source(url))
    return json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    found, url = macros(), repository_url()
    stale = []
    for path in chapters():
        text = path.read_text(encoding="utf-8")
        new = updated(text, found, url)
        if new != text:
            stale.append(path.relative_to(ROOT))
            if not check:
                path.write_text(new, encoding="utf-8")
    verb = "differ from" if check else "rewritten from"
    for path in stale:
        print(f"{path}: first cells {verb} book/_config.yml's macros and pyproject.toml's repository")
    if url == PLACEHOLDER_URL:
        print(f"note: pyproject.toml's [project.urls] Repository is the placeholder {PLACEHOLDER_URL}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
