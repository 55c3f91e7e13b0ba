"""The student edition: the book without its solutions, with a stub in each self-check cell (``make book-student``).

``prepare`` copies ``book/`` (without ``_build``) to a folder (``book/_build/student/src``) and there

* removes every solution: the gated ``solution-start`` ... ``solution-end`` blocks (the markdown between them, and
  every cell in between, code included) and the one-block ``{solution}`` directive; code blocks that merely *show*
  the syntax (a fenced block with no directive) are left alone. A cross-reference to a label that only existed
  inside a removed solution becomes plain text, so the strict build has no dangling reference;
* keeps the exercises, their hints and the self-check cells, but replaces each self-check cell (a code cell with
  ``feedback = check.<chapter>.<name>(my_xxx)`` for a ``def my_xxx`` of the same cell) by one stub per checked
  function: the same ``def my_xxx(...)`` (the arguments the check passes), a docstring made from the check's public
  docstring (what to return and the shapes, not the formula), the body ``raise NotImplementedError("your code
  here")``, then the check's call and ``print(feedback)``, which says "not attempted" until the student writes the
  function. The reference answer, the chapter's deliberate mistakes, the comment above them (which may state the
  formula) and the ``assert`` on the verdicts go; so does the sentence of the cell above that says the cell runs a
  reference answer;
* titles the copy "(student edition)" and adds a line saying so to the landing page.

Then it fills a jupyter-cache for the copy (``--cache``) without executing the chapters twice: the student notebook
of a chapter is the original with cells dropped and the self-check cells changed, and in every chapter the only code
cells that follow the first dropped or changed one are self-check cells (and the ``check.summary`` cell that reports
on them). So the outputs of every cell before it are those of the original's execution, read from the main build's
jupyter-cache (``--main-cache``, the one ``make book``/``make test-build`` just filled at the same scale:
``--main-key`` must equal the key the main build wrote to ``<main-cache>/../.build-key``), and only the stub cells
and the summary cell run, after the chapter's set-up cell (the one calling ``helpers.setup``), in the chapter's
folder with an empty namespace (``%reset -f``): a student who runs the notebook top to bottom gets the same outputs.
The chapters share a kernel (``--jobs`` kernels in all), so the course's imports are paid once, not per chapter.
A chapter where that does not hold (a kept cell after a dropped one, or no matching execution in the
main cache) is executed in full instead. The strict ``jupyter-book build`` of the copy then reads every notebook
from that cache (the Makefile's ``book-student`` target).

``branch`` writes the copy's book folder as a commit of a git branch (default ``student``) of the checkout: the
checkout's ``HEAD`` tree with the tracked files of ``book/`` replaced by their student versions, through a
temporary index (the working tree and the current branch are not touched). Pushed, it is what the student site's
launch buttons open (``BOOK_REPOSITORY_BRANCH=student``): see README.md, "Student edition".

What was done (solutions removed, stubs written, how each chapter was executed, seconds) is written to
``<dest>/../student-edition.json``; ``tests/book/test_student_edition.py`` reads it.

Usage::

    python book/_ext/student_edition.py prepare book book/_build/student/src \\
        --cache book/_build/student/.jupyter_cache --main-cache book/_build/.jupyter_cache --main-key quick-0123abcd
    python book/_ext/student_edition.py branch book/_build/student/src [--branch student]
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

STUB_BODY = 'raise NotImplementedError("your code here")'
TITLE_SUFFIX = " (student edition)"
#: the landing page's note (inserted after its first heading)
EDITION_NOTE = (
    "```{note}\nThis is the **student edition** of the course: the exercises' solutions are not included, and each "
    "self-check cell holds a stub (`raise NotImplementedError`) for your own answer. The check says "
    '"not attempted" until you write it, then "correct" or what is wrong.\n```'
)
#: the self-check markdown's sentence about the reference answer, and what the student edition says instead
REFERENCE_SENTENCE = re.compile(
    r"The cell below calls it on a reference answer,\s+then on one of\s+the mistakes discussed in this chapter;"
    r"\s+pass your own function instead of `[^`]+`\."
)
STUB_SENTENCE = (
    "The cell below holds a stub of each function to write, with the arguments the check passes and a docstring "
    "that says what to return: replace its `raise NotImplementedError` line by your code and run the cell (until "
    'then the check says "not attempted").'
)
#: pages for instructors only (their worked example shows a self-check's reference answer): the student copy drops
#: them from its table of contents (a part left empty goes too), and its footer's pointer to them
INSTRUCTOR_PAGES = ("instructors",)
FOOTER_POINTER = re.compile(r';\s*the part "For instructors" says how to adopt a chapter\.')
#: the local extension that links each chapter page to its PDF (``make pdf`` prints the full site only, solutions
#: included): the student copy's _config.yml goes without it
PDF_EXTENSION = re.compile(r"^[ \t]+pdf:[ \t]*_ext\b.*\n", re.M)
#: code cells that are not self-checks but report on them (``check.summary("vae")``): run again after the stubs
RERUN = re.compile(r"^\s*check\.summary\(", re.M)
#: MyST roles whose target is a label, and the label definitions a removed solution can hold
REFERENCE_ROLE = re.compile(r"\{(?P<role>ref|numref|eq|prf:ref|numref|doc|any)\}`(?P<body>[^`]*)`")
LINK_TO_LABEL = re.compile(r"\[(?P<text>[^\]]*)\]\(#?(?P<label>[\w:.-]+)\)")
LABEL_DEFINITIONS = (
    re.compile(r"^\s*:(?:label|name):\s*(\S+)\s*$", re.M),
    re.compile(r"^\s*\(([\w:.-]+)\)=\s*$", re.M),
    re.compile(r"\$\$\s*\(([\w:.-]+)\)\s*$", re.M),
)
FENCE = re.compile(r"^(?P<indent>\s{0,3})(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*?)\s*$")
#: fenced blocks whose content is code (never scanned for solutions), besides those with no directive at all
CODE_DIRECTIVES = ("{code-block}", "{code}", "{sourcecode}", "{code-cell}", "{literalinclude}", "{eval-rst}")


# ------------------------------------------------------------------------------------------ removing solutions
@dataclass
class Solutions:
    """What was removed from one file: the solutions' texts (markdown and code, one string each), their labels."""

    texts: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    inside: bool = False  # a gated solution is open (it spans cells)
    current: list[str] = field(default_factory=list)  # the open solution's text so far


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes the fence ``fence`` opened at ``start`` (len(lines) when it stays open)."""
    char, n = fence[0], len(fence)
    closer = re.compile(rf"^\s{{0,3}}{re.escape(char)}{{{n},}}\s*$")
    for j in range(start + 1, len(lines)):
        if closer.match(lines[j]):
            return j
    return len(lines)


def strip_solutions(text: str, state: Solutions) -> str:
    """``text`` (one markdown cell or file) without its solutions; ``state`` carries an open gated solution from
    one cell to the next and collects what was removed."""
    lines = text.split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = FENCE.match(line)
        info = match["info"] if match else ""
        if state.inside:
            if match and info.startswith("{solution-end}"):
                end = _closing(lines, i, match["fence"])
                state.current.append("\n".join(lines[i : end + 1]))
                state.texts.append("\n".join(state.current))
                state.inside, state.current = False, []
                i = end + 1
            else:
                state.current.append(line)
                i += 1
            continue
        if not match or not info:
            kept.append(line)
            i += 1
            continue
        end = _closing(lines, i, match["fence"])
        if info.startswith("{solution-start}"):
            state.inside, state.current = True, lines[i : end + 1]
            i = end + 1
        elif info.startswith("{solution}"):
            state.texts.append("\n".join(lines[i : end + 1]))
            i = end + 1
        elif not info.startswith("{") or info.startswith(CODE_DIRECTIVES):  # code: copied as it is
            kept.extend(lines[i : end + 1])
            i = end + 1
        else:  # another directive: its options and body may hold a solution, scan them
            inner = strip_solutions("\n".join(lines[i + 1 : end]), state)
            kept.extend([line, *([inner] if inner else []), *lines[end : end + 1]])
            i = end + 1
    out = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", out).strip("\n") if out.strip() else ""


def labels_in(text: str) -> set[str]:
    return {m for pattern in LABEL_DEFINITIONS for m in pattern.findall(text)}


def unlink_removed(text: str, removed: set[str]) -> tuple[str, int]:
    """``text`` with its references to the ``removed`` labels made plain text; the number of references changed."""
    count = 0

    def role(match: re.Match) -> str:
        nonlocal count
        body = match["body"]
        titled = re.fullmatch(r"(?P<title>.*?)\s*<(?P<label>[^>]+)>", body, re.S)
        label = (titled["label"] if titled else body).strip().lstrip("#")
        if label not in removed:
            return match[0]
        count += 1
        if titled:
            return titled["title"]
        if match["role"] == "doc":
            return "the instructors' page (not in the student edition)"
        return "the solution (not in the student edition)"

    def link(match: re.Match) -> str:
        nonlocal count
        if match["label"] not in removed:
            return match[0]
        count += 1
        return match["text"]

    return LINK_TO_LABEL.sub(link, REFERENCE_ROLE.sub(role, text)), count


# ------------------------------------------------------------------------------------------ self-check stubs
def _check_function(module: str, name: str):
    mod = importlib.import_module(f"helpers.check.{module}")
    fn = getattr(mod, name, None)
    if fn is None or not callable(fn):
        raise ValueError(f"check.{module}.{name} does not exist: the self-check cell calls a check that is not there")
    return fn


def check_signature(check_fn) -> list[str] | None:
    """The argument names of ``answer(...)`` in the check's docstring ("Check ``answer(a, b) -> ...``")."""
    match = re.search(r"``answer\((?P<args>[^)]*)\)", inspect.getdoc(check_fn) or "")
    return [a.strip() for a in match["args"].split(",") if a.strip()] if match else None


def stub_docstring(check_fn, module: str, name: str, function: str) -> str:
    """The stub's docstring, from the check's public docstring: what to return and the shapes, then which check
    tests it. The docstrings of helpers/check give no formula (tests/check/test_docstrings.py)."""
    doc = inspect.getdoc(check_fn) or ""
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    first = paragraphs[0] if paragraphs else ""
    match = re.match(r"Check ``answer\([^)]*\)\s*->\s*(?P<ret>[^`]+)``,?\s*(?P<what>.*)", first)
    if match:
        what = match["what"].rstrip(".")
        what = what[:1].upper() + what[1:]
        returns = f"Returns {match['ret'].strip()}."
    else:
        what, returns = first, ""
    shapes = next((p for p in paragraphs if p.startswith("Shapes:")), "")
    shapes = re.split(r"\s*References?:", shapes)[0].strip()
    parts = [f"{what}.", " ".join(x for x in (returns, shapes) if x), f"Checked by check.{module}.{name}({function})."]
    wrapped = ["\n".join(textwrap.wrap(p, 108)) for p in parts if p.strip(". ")]
    return "\n\n".join(wrapped)


@dataclass
class Stub:
    module: str  # helpers.check.<module>
    check: str  # the check function's name
    function: str  # my_xxx
    source: str  # the stub's code


def _checked_pairs(tree: ast.Module) -> list[tuple[str, str, str]]:
    """(module, check, function) for every ``feedback = check.<module>.<check>(<function>)`` of the cell, also in a
    tuple assignment ``feedback, mistaken = check...(f), check...(g)``, in the cell's order."""
    pairs = []
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            candidates = list(zip(target.elts, value.elts))
        else:
            candidates = [(target, value)]
        for t, v in candidates:
            if not (isinstance(t, ast.Name) and t.id == "feedback" and isinstance(v, ast.Call)):
                continue
            f = v.func
            ok = (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Attribute)
                and isinstance(f.value.value, ast.Name)
                and f.value.value.id == "check"
                and len(v.args) == 1
                and isinstance(v.args[0], ast.Name)
            )
            if ok:
                pairs.append((f.value.attr, f.attr, v.args[0].id))
    return pairs


def is_self_check(source: str) -> bool:
    """A self-check cell: it assigns ``feedback = check.<chapter>.<name>(f)`` for a function ``f`` it defines."""
    if "feedback" not in source or "check." not in source:
        return False
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return any(function in defined for _, _, function in _checked_pairs(tree))


def stub_self_check(source: str, where: str = "") -> tuple[str, list[Stub]]:
    """The student version of a self-check cell: a stub and the check's call for each checked function."""
    tree = ast.parse(source)
    defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    stubs = []
    for module, name, function in _checked_pairs(tree):
        if function not in defs:
            raise ValueError(f"{where}: check.{module}.{name}({function}) but the cell defines no {function}")
        node = defs[function]
        check_fn = _check_function(module, name)
        expected = check_signature(check_fn)
        args = node.args
        positional = [a.arg for a in args.posonlyargs + args.args]
        defaults = len(args.defaults)
        required = positional[: len(positional) - defaults] if defaults else positional
        if expected and required == expected[: len(required)] and set(expected) <= set(positional):
            # the arguments the check passes; extra parameters with defaults (the chapter's switch to its mistake)
            # would only hint at the solution
            signature = ", ".join(expected)
        else:
            signature = ast.unparse(args)
        doc = ast.get_docstring(node) or stub_docstring(check_fn, module, name, function)
        doc_lines = doc.replace('"""', "'''").split("\n")
        body = "\n".join(f"    {line}".rstrip() for line in doc_lines)
        code = (
            f"# self-check: write {function} in place of its stub, then run this cell\n"
            f"def {function}({signature}):\n"
            f'    """{body.lstrip()}\n    """\n'
            f"    {STUB_BODY}\n\n\n"
            f"feedback = check.{module}.{name}({function})\n"
            "print(feedback)"
        )
        stubs.append(Stub(module, name, function, code))
    if not stubs:
        raise ValueError(f"{where}: a self-check cell without `feedback = check.<chapter>.<name>(my_function)`")
    return "\n\n\n".join(s.source for s in stubs), stubs


def check_names(stubs: list[Stub], where: str) -> None:
    """The stubs of a chapter are the functions its check modules' ``SELF_CHECKS`` tables name, each with its check
    (what ``check.summary`` looks up): ``ValueError`` saying which differ otherwise."""
    modules = sorted({s.module for s in stubs})
    for module in modules:
        table = getattr(importlib.import_module(f"helpers.check.{module}"), "SELF_CHECKS", None)
        if table is None:
            raise ValueError(f"{where}: helpers/check/{module}.py has no SELF_CHECKS table (check.summary needs it)")
        found = {s.function: s.check for s in stubs if s.module == module}
        declared = {name: fn.__name__ for name, fn in table.items()}
        if found != declared:
            raise ValueError(
                f"{where}: the self-check cell checks {found} but helpers/check/{module}.py's SELF_CHECKS declares "
                f"{declared}: make the cell's function names and SELF_CHECKS agree"
            )


# ------------------------------------------------------------------------------------------ the notebooks
@dataclass
class Chapter:
    """One transformed notebook: the student notebook, for each of its cells the index of the original cell and
    whether its source changed, and what was removed."""

    path: str  # relative to the book
    notebook: nbformat.NotebookNode
    origin: list[int]
    changed: list[bool]
    solutions: Solutions
    stubs: list[Stub]
    dropped_code: list[int]  # indices (in the original) of the code cells removed with a solution


def transform_notebook(nb: nbformat.NotebookNode, where: str) -> Chapter:
    """The student version of ``nb`` (a copy; ``nb`` is not changed)."""
    state = Solutions()
    out = copy.deepcopy(nb)
    cells, origin, changed, stubs, dropped = [], [], [], [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" or cell.cell_type == "raw":
            text = strip_solutions(cell.source, state)
            text = REFERENCE_SENTENCE.sub(STUB_SENTENCE, text)
            if not text.strip():
                continue
            new = copy.deepcopy(cell)
            new.source = text
            cells.append(new), origin.append(i), changed.append(text != cell.source)
            continue
        if state.inside:  # a code cell inside a gated solution
            state.current.append(cell.source)
            dropped.append(i)
            continue
        new = copy.deepcopy(cell)
        if is_self_check(cell.source):
            new.source, cell_stubs = stub_self_check(cell.source, f"{where}, cell {i}")
            stubs += cell_stubs
        new.outputs, new.execution_count = [], None
        cells.append(new), origin.append(i), changed.append(new.source != cell.source)
    if state.inside:
        raise ValueError(f"{where}: a solution-start without its solution-end")
    check_names(stubs, where)
    for text in state.texts:
        state.labels |= labels_in(text)
    out.cells = cells
    return Chapter(where, out, origin, changed, state, stubs, dropped)


def toc_files(book: Path) -> list[str]:
    """The files of _toc.yml (root and chapters, with their suffix), in book order."""
    import yaml

    toc = yaml.safe_load((book / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [chapter["file"] for chapter in part.get("chapters", [])]
    names += [chapter["file"] for chapter in toc.get("chapters", [])]
    files = []
    for name in names:
        for suffix in (".ipynb", ".md", ""):
            if (book / f"{name}{suffix}").is_file():
                files.append(f"{name}{suffix}")
                break
    return files


def drop_instructor_pages(dest: Path) -> list[str]:
    """Remove the instructors' pages (:data:`INSTRUCTOR_PAGES`) from the copy ``dest``: its ``_toc.yml`` entries (and a
    part they leave empty) and their files. Returns the names dropped (as in _toc.yml)."""
    import yaml

    path = dest / "_toc.yml"
    toc = yaml.safe_load(path.read_text())
    dropped: list[str] = []

    def keep(entries: list[dict]) -> list[dict]:
        kept = []
        for entry in entries:
            if entry.get("file") in INSTRUCTOR_PAGES:
                dropped.append(entry["file"])
            else:
                kept.append(entry)
        return kept

    if "parts" in toc:
        parts = []
        for part in toc["parts"]:
            chapters = keep(part.get("chapters", []))
            if chapters:
                parts.append({**part, "chapters": chapters})
        toc["parts"] = parts
    if "chapters" in toc:
        toc["chapters"] = keep(toc["chapters"])
    if not dropped:
        return []
    header = "".join(line + "\n" for line in path.read_text().splitlines() if line.startswith("#"))
    header += "# The student edition (book/_ext/student_edition.py): without the instructors' pages.\n"
    path.write_text(header + yaml.safe_dump(toc, sort_keys=False))
    for name in dropped:
        for suffix in (".md", ".ipynb", ""):
            (dest / f"{name}{suffix}").unlink(missing_ok=True)
    return dropped


@dataclass
class Edition:
    chapters: dict[str, Chapter]
    markdown: dict[str, Solutions]
    references_unlinked: int
    pages_dropped: list[str] = field(default_factory=list)


def make_copy(book: Path, dest: Path) -> Edition:
    """Copy ``book`` (without _build) to ``dest`` and turn the copy into the student edition."""
    book, dest = book.resolve(), dest.resolve()
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(book, dest, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"))
    dropped = drop_instructor_pages(dest)
    chapters: dict[str, Chapter] = {}
    markdown: dict[str, Solutions] = {}
    texts: dict[str, str] = {}
    for rel in toc_files(dest):
        if rel.endswith(".ipynb"):
            chapters[rel] = transform_notebook(nbformat.read(book / rel, as_version=4), rel)
        else:
            state = Solutions()
            texts[rel] = strip_solutions((book / rel).read_text(), state)
            if state.inside:
                raise ValueError(f"{rel}: a solution-start without its solution-end")
            state.labels = set().union(*(labels_in(t) for t in state.texts)) if state.texts else set()
            markdown[rel] = state
    removed = set().union(*(c.solutions.labels for c in chapters.values()), *(s.labels for s in markdown.values()))
    removed |= {f"{prefix}{name}" for name in dropped for prefix in ("", "/", "../")}  # {doc} links to dropped pages
    unlinked = 0
    for chapter in chapters.values():
        for cell in chapter.notebook.cells:
            if cell.cell_type == "markdown" and removed:
                cell.source, n = unlink_removed(cell.source, removed)
                unlinked += n
    for rel, text in texts.items():
        text, n = unlink_removed(text, removed) if removed else (text, 0)
        unlinked += n
        if not text.endswith("\n"):
            text += "\n"
        texts[rel] = text
    root = toc_files(dest)[0]
    if root in texts:
        texts[root] = _with_note(texts[root])
    for rel, text in texts.items():
        (dest / rel).write_text(text)
    for rel, chapter in chapters.items():
        nbformat.write(chapter.notebook, dest / rel)
    config = dest / "_config.yml"
    title = re.compile(r"^(title:\s*)(.+?)\s*$", re.M)
    text = title.sub(lambda m: f"{m[1]}{m[2]}{TITLE_SUFFIX}", config.read_text(), count=1)
    text = PDF_EXTENSION.sub("", text)  # the PDFs are printed from the full site: no links to them here
    config.write_text(FOOTER_POINTER.sub(".", text) if dropped else text)
    return Edition(chapters, markdown, unlinked, dropped)


def _with_note(text: str) -> str:
    """The landing page with the student edition's note after its first heading."""
    match = re.search(r"^# .+$", text, re.M)
    if not match:
        return f"{EDITION_NOTE}\n\n{text}"
    return f"{text[: match.end()]}\n\n{EDITION_NOTE}\n{text[match.end() :]}"


# ------------------------------------------------------------------------------------------ execution
def setup_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the chapter's set-up cell: the first code cell that calls ``helpers.setup``."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "helpers.setup(" in cell.source:
            return i
    return None


def stitch_plan(chapter: Chapter) -> tuple[int | None, list[int], str]:
    """(set-up cell, student cells to run, why not) for executing only the stub cells: every code cell of the
    student notebook after its first changed code cell (or after the first dropped code cell of the original) must
    be a changed (stub) cell or a report on them (``check.summary(...)``, :data:`RERUN`), and there must be a set-up
    cell before them. ``why not`` is "" when it holds."""
    nb = chapter.notebook
    code = [j for j, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    first_dropped = min(chapter.dropped_code, default=None)
    first = None
    for j in code:
        after_drop = first_dropped is not None and chapter.origin[j] > first_dropped
        if chapter.changed[j] or after_drop:
            first = j
            break
    if first is None:
        return None, [], ""  # nothing changed: every output comes from the main execution
    tail = [j for j in code if j >= first]
    unchanged = [j for j in tail if not chapter.changed[j] and not RERUN.search(nb.cells[j].source)]
    if unchanged:
        return None, tail, f"cell {unchanged[0]} follows a removed or changed cell and is not a self-check"
    setup = setup_cell(nb)
    if setup is None or setup >= first:
        return None, tail, "no set-up cell (calling helpers.setup) before the self-check cells"
    return setup, tail, ""


def _run_cells(items: list[tuple[str, str, list[str]]], metadata: dict, timeout: int) -> tuple:
    """Execute, for each ``(path, set-up source, sources)`` of ``items`` in turn, the set-up cell and ``sources`` in one
    kernel, each chapter in its notebook's folder and with an emptied namespace: (outputs per cell of each item's
    ``sources``, seconds, traceback or None, the item that failed or None)."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.v4.new_notebook(metadata=metadata)
    where: list[tuple[int, int | None]] = []  # per cell: (item, index in its sources; None for the preamble cells)
    for k, (path, setup_source, sources) in enumerate(items):
        folder = str(Path(path).resolve().parent)
        nb.cells.append(nbformat.v4.new_code_cell(f"%reset -f\nimport os\n\nos.chdir({folder!r})\ndel os"))
        nb.cells.append(nbformat.v4.new_code_cell(setup_source))
        nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
        where += [(k, None), (k, None)] + [(k, j) for j in range(len(sources))]
    first = str(Path(items[0][0]).resolve().parent)
    result = single_nb_execution(nb, cwd=first, timeout=timeout, allow_errors=False)
    if result.err is not None:
        failed = next(
            (where[i][0] for i, c in enumerate(result.nb.cells) if any(o.output_type == "error" for o in c.outputs)),
            None,
        )
        return None, result.time, result.exc_string, failed
    outputs: list[list] = [[None] * len(sources) for _, _, sources in items]
    for (k, j), cell in zip(where, result.nb.cells, strict=True):
        if j is not None:
            outputs[k][j] = cell.outputs
    return outputs, result.time, None, None


def _run_notebook(path: str, timeout: int) -> tuple:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from execute_parallel import execute_one

    _, nb, seconds, traceback = execute_one(path, timeout)
    return nb, seconds, traceback


def fill_cache(book: Path, dest: Path, edition: Edition, cache_path: Path, main_cache: Path | None,
               jobs: int, timeout: int) -> dict:  # fmt: skip
    """Fill the jupyter-cache ``cache_path`` with every student notebook, executed (see the module's docstring)."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path))
    main = get_cache(str(main_cache)) if main_cache is not None and main_cache.is_dir() else None
    record: dict[str, dict] = {}
    stitched: dict[str, tuple] = {}  # rel -> (merged original, setup cell, tail cells)
    full: list[str] = []
    for rel, chapter in edition.chapters.items():
        setup, tail, why = stitch_plan(chapter)
        merged = None
        if main is not None and not why:
            try:
                _, merged = main.merge_match_into_notebook(nbformat.read(book / rel, as_version=4))
            except KeyError:
                why = "not in the main build's jupyter-cache"
        elif main is None and not why:
            why = "no main build at this scale to read the outputs from"
        if why:
            full.append(rel)
            record[rel] = {"mode": "executed in full", "why": why}
        else:
            stitched[rel] = (merged, setup, tail)
    jobs = max(1, min(jobs, len(stitched) + len(full)))
    if jobs > 1:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    failed = []
    groups = [list(stitched)[k::jobs] for k in range(jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {}
        for group in (g for g in groups if g):
            items = []
            for rel in group:
                nb, (_, setup, tail) = edition.chapters[rel].notebook, stitched[rel]
                items.append((str(dest / rel), nb.cells[setup].source, [nb.cells[j].source for j in tail]))
            metadata = dict(edition.chapters[group[0]].notebook.metadata)
            futures[tuple(group)] = pool.submit(_run_cells, items, metadata, timeout)
        for rel in full:
            futures[rel] = pool.submit(_run_notebook, str(dest / rel), timeout)
        for key, future in futures.items():
            if isinstance(key, tuple):
                outputs, seconds, traceback, where = future.result()
                if traceback is not None:
                    culprit = key[where] if where is not None else ", ".join(key)
                    failed.append(culprit)
                    print(f"student_edition: the stub cells of {culprit} FAILED\n{traceback}", file=sys.stderr)
                    continue
                for rel, chapter_outputs in zip(key, outputs, strict=True):
                    chapter, (merged, _, tail) = edition.chapters[rel], stitched[rel]
                    executed = _stitch(chapter, merged, tail, chapter_outputs)
                    code = sum(1 for cell in executed.cells if cell.cell_type == "code")
                    record[rel] = {
                        "mode": "stub cells executed, the rest from the main build",
                        "cells_executed": len(tail) + 1,
                        "cells_reused": code - len(tail),
                        "kernel_shared_with": len(key),
                        "seconds_kernel": round(seconds, 1),
                    }
                    cache.cache_notebook_bundle(CacheBundleIn(executed, str(dest / rel)), check_validity=False,
                                                overwrite=True)  # fmt: skip
                print(f"student_edition: the stub cells of {len(key)} chapter(s) executed in one kernel "
                      f"({seconds:.0f} s): {', '.join(key)}", flush=True)  # fmt: skip
                continue
            rel = key
            executed, seconds, traceback = future.result()
            record[rel]["seconds"] = round(seconds, 1)
            if traceback is not None:
                failed.append(rel)
                print(f"student_edition: {rel} FAILED\n{traceback}", file=sys.stderr)
                continue
            cache.cache_notebook_bundle(CacheBundleIn(executed, str(dest / rel)), check_validity=False, overwrite=True)
            print(f"student_edition: {rel}: executed in full ({seconds:.0f} s)", flush=True)
    if failed:
        raise RuntimeError(f"student notebooks failed to execute: {', '.join(failed)} (tracebacks above)")
    return record


def _stitch(chapter: Chapter, merged: nbformat.NotebookNode, tail: list[int], outputs: list) -> nbformat.NotebookNode:
    """The student notebook with the outputs of the original's execution (``merged``) in its unchanged code cells
    and ``outputs`` in the ``tail`` cells; execution counts numbered as one run from the top."""
    nb = copy.deepcopy(chapter.notebook)
    ran = dict(zip(tail, outputs))
    count = 0
    for j, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if j in ran:
            cell.outputs = ran[j]
        else:
            source = merged.cells[chapter.origin[j]]
            assert source.source == cell.source, (chapter.path, j)
            cell.outputs = copy.deepcopy(source.get("outputs", []))
        count += 1
        cell.execution_count = count
        for output in cell.outputs:
            if "execution_count" in output:
                output["execution_count"] = count
    for key in ("kernelspec", "language_info"):
        if key in merged.metadata:
            nb.metadata[key] = merged.metadata[key]
    return nb


# ------------------------------------------------------------------------------------------ the student branch
def _git(*args: str, cwd: Path, env: dict | None = None, stdin: str | None = None) -> str:
    out = subprocess.run(("git", *args), cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout.strip()


def write_branch(src: Path, repo: Path, branch: str = "student", book: str = "book", message: str = "") -> str:
    """Commit the student copy ``src`` as ``branch`` of the git checkout ``repo``: HEAD's tree with every tracked
    file under ``book/`` replaced by the copy's version (files the copy lacks are dropped, untracked files of the
    copy are not added). The previous tip of ``branch`` is the parent. Returns the commit's hash."""
    src, repo = src.resolve(), repo.resolve()
    head = _git("rev-parse", "HEAD", cwd=repo)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git("read-tree", "HEAD", cwd=repo, env=env)
        tracked = [p for p in _git("ls-files", "-z", "--", book, cwd=repo, env=env).split("\0") if p]
        updates, removals = [], []
        for path in tracked:
            copied = src / Path(path).relative_to(book)
            if copied.is_file():
                sha = _git("hash-object", "-w", "--", str(copied), cwd=repo)
                mode = "100755" if os.access(copied, os.X_OK) else "100644"
                updates.append(f"{mode} {sha}\t{path}")
            else:
                removals.append(path)
        if removals:
            _git("rm", "--cached", "-q", "--", *removals, cwd=repo, env=env)
        _git("update-index", "--index-info", cwd=repo, env=env, stdin="\n".join(updates) + "\n")
        tree = _git("write-tree", cwd=repo, env=env)
    try:
        parent = _git("rev-parse", "--verify", "-q", f"refs/heads/{branch}", cwd=repo)
    except RuntimeError:
        parent = ""
    if parent and _git("rev-parse", f"{parent}^{{tree}}", cwd=repo) == tree:
        return parent  # nothing changed
    message = message or f"student edition of {head[:12]}: solutions removed, self-check stubs (make book-student)"
    commit = _git("commit-tree", tree, *(["-p", parent] if parent else []), "-m", message, cwd=repo)
    _git("update-ref", f"refs/heads/{branch}", commit, cwd=repo)
    return commit


# ------------------------------------------------------------------------------------------ command line
def prepare(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    edition = make_copy(args.book, args.dest)
    copied = time.perf_counter() - start
    main_cache = args.main_cache
    key_file = main_cache.parent / ".build-key" if main_cache is not None else None
    if main_cache is not None and args.main_key:
        found = key_file.read_text().strip() if key_file.is_file() else ""
        if found != args.main_key:
            print(f"student_edition: the main build's cache is for {found or 'nothing'!r}, not {args.main_key!r}: "
                  "executing the student notebooks in full")  # fmt: skip
            main_cache = None
    record_path = args.dest.parent / "student-edition.json"
    executed: dict = {}
    if args.cache is not None:
        key = args.cache.parent / ".student-key"
        if args.main_key and (not key.is_file() or key.read_text().strip() != args.main_key):
            shutil.rmtree(args.cache, ignore_errors=True)
        executed = fill_cache(args.book, args.dest, edition, args.cache, main_cache, args.jobs, args.timeout)
        if args.main_key:
            key.write_text(args.main_key + "\n")
    chapters = {
        rel: {
            "solutions_removed": len(c.solutions.texts),
            "code_cells_removed": len(c.dropped_code),
            "stubs": [f"check.{s.module}.{s.check}({s.function})" for s in c.stubs],
            **executed.get(rel, {}),
        }
        for rel, c in edition.chapters.items()
    }
    record = {
        "scale": os.environ.get("BOOK_SCALE", ""),
        "solutions_removed": sum(v["solutions_removed"] for v in chapters.values())
        + sum(len(s.texts) for s in edition.markdown.values()),
        "stubs": sum(len(v["stubs"]) for v in chapters.values()),
        "references_unlinked": edition.references_unlinked,
        "pages_dropped": edition.pages_dropped,
        "labels_removed": sorted(
            set().union(*(c.solutions.labels for c in edition.chapters.values()))
            | set().union(*(s.labels for s in edition.markdown.values()))
        ),
        "seconds_copy": round(copied, 1),
        "seconds": round(time.perf_counter() - start, 1),
        "chapters": chapters,
    }
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"student_edition: {record['solutions_removed']} solutions removed, {record['stubs']} self-check stubs, "
          f"{record['references_unlinked']} references to removed labels unlinked, in {record['seconds']:.0f} s; "
          f"the copy is {args.dest}")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write the student copy of the book and fill its jupyter-cache")
    p.add_argument("book", type=Path, help="the book's folder (holds _toc.yml)")
    p.add_argument("dest", type=Path, help="where the student copy goes (replaced)")
    p.add_argument("--cache", type=Path, default=None, help="jupyter-cache to fill for the copy (none: no execution)")
    p.add_argument("--main-cache", type=Path, default=None, help="the main build's jupyter-cache, read only")
    p.add_argument("--main-key", default="", help="the build key the main cache must have (<scale>-<hash>)")
    p.add_argument("--jobs", type=int, default=int(os.environ.get("BOOK_JOBS", os.cpu_count() or 1)))
    p.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    b = sub.add_parser("branch", help="commit the student copy's book folder as a branch of this checkout")
    b.add_argument("src", type=Path, help="the student copy (written by prepare)")
    b.add_argument("--branch", default="student")
    b.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return prepare(args)
    commit = write_branch(args.src, args.repo, args.branch)
    print(f"student_edition: branch {args.branch} is at {commit[:12]}; publish it with: git push origin {args.branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
