"""The instructors' page (book/instructors.md) is exercised, not just written.

Every ``make`` target in its shell blocks exists (``make -n <target>`` succeeds), every repository path it names
exists, every code excerpt headed ``# <file>`` is in that file (its lines in order; ``...`` elides), the table of
chapters agrees with each notebook's imports and data, and the one-chapter test commands really run and pass for
the chapter the page uses as its example (the ELBO chapter: seconds at the quick scale).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import nbformat
import pytest
import yaml
from _shared import BOOK, ROOT

PAGE = BOOK / "instructors.md"
TEXT = PAGE.read_text()
#: targets that other work of issue 26 adds to the Makefile: until it is merged the page describes them per
#: the shared contract and this test marks them xfail instead of passing (the student edition and the PDF
#: are both merged now)
PENDING: dict[str, str] = {}


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", TEXT, re.M | re.S)


def _commands() -> list[str]:
    lines = [line.split("  #")[0].strip() for block in _blocks("bash") for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _make_targets() -> list[str]:
    targets = []
    for command in _commands():
        words = shlex.split(command)
        while words and "=" in words[0]:  # VARIABLE=value prefixes
            words = words[1:]
        if words and words[0] == "make":
            targets += [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    return targets


def test_the_page_is_in_the_table_of_contents_as_the_last_part():
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    last = toc["parts"][-1]
    assert last["caption"] == "For instructors" and last["chapters"] == [{"file": "instructors"}]


def test_the_page_covers_what_an_instructor_needs():
    headings = re.findall(r"^## (.+)$", TEXT, re.M)
    assert headings == [
        "Adopting one chapter",
        "Building the editions and the PDF",
        "Adding an exercise with its self-check",
        "Running one chapter's tests",
        "What the self-checks can and cannot prove",
    ]
    for needed in ("BOOK_SCALE", "make book-student", "make pdf", "check.summary", "NotImplementedError", "CC BY 4.0"):
        assert needed in TEXT, needed
    assert set(_make_targets()) >= {"book", "book-student", "pdf", "clean"}


@pytest.mark.parametrize("target", sorted(set(_make_targets())))
def test_every_make_target_exists(target):
    makefile = (ROOT / "Makefile").read_text()
    if target in PENDING and not re.search(rf"^{re.escape(target)}:", makefile, re.M):
        pytest.xfail(f"make {target}: {PENDING[target]} is not merged into this branch yet")
    run = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"make -n {target}: {run.stderr}"


def _paths() -> set[str]:
    """Repository paths the page names: in commands and in inline code, without placeholders or build outputs."""
    words = [w for c in _commands() for w in shlex.split(c)] + re.findall(r"`([^`\s]+)`", TEXT)
    words += [b.splitlines()[0][2:] for b in _blocks("python") if b.startswith("# ")]
    roots = ("book/", "helpers/", "tests/", "binder/", "data/", "LICENSE", "README")
    return {
        w.rstrip(",.:;)")
        for w in words
        if w.startswith(roots) and not re.search(r"[<>*]", w) and not w.startswith("book/_build")
    }


def test_every_path_exists():
    paths = _paths()
    assert {"book/vi/elbo.ipynb", "helpers/check/vae.py", "tests/check/test_deep.py", "LICENSE"} <= paths
    missing = sorted(p for p in paths if not (ROOT / p).exists() and not p.startswith("data/"))
    assert not missing, f"the page names paths that do not exist: {missing}"


def _source_lines(path: str) -> list[str]:
    if path.endswith(".ipynb"):
        text = "\n".join(c.source for c in nbformat.read(ROOT / path, as_version=4).cells)
    else:
        text = (ROOT / path).read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("block", [b for b in _blocks("python") if b.startswith("# ")], ids=lambda b: b.split()[1])
def test_every_code_excerpt_is_in_its_file(block):
    path, *lines = block.splitlines()
    source, at = _source_lines(path[2:]), 0
    for line in (line.strip() for line in lines):
        if not line or line == "...":
            continue
        assert line in source[at:], f"{path[2:]} does not have (after the previous excerpt line): {line}"
        at = source.index(line, at) + 1


def test_the_table_of_chapters_matches_the_notebooks():
    rows = re.findall(r"^\| \{doc\}`([^`]+)` \| `([^`]+)` \| ([^|]+) \| ([^|]+) \|$", TEXT, re.M)
    notebooks = sorted(p.relative_to(BOOK).with_suffix("").as_posix() for p in BOOK.glob("*/*.ipynb"))
    assert sorted(r[0] for r in rows) == notebooks
    for chapter, path, parts, data in rows:
        assert path == f"book/{chapter}.ipynb"
        code = "\n".join(c.source for c in nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4).cells)
        imported = re.search(r"^from helpers import (.+)$", code, re.M)[1]
        assert [p.strip() for p in parts.split(",")] == [p.strip() for p in imported.split(",")], chapter
        assert ("images" in data) == ("load_images(" in code), chapter


def test_the_one_chapter_commands_run_and_pass():
    """The page's commands for the ELBO chapter, as written (``.venv/bin/pytest`` is this interpreter's pytest)."""
    commands = [c for c in _commands() if "pytest" in c]
    assert len(commands) == 3 and "book/vi/elbo.ipynb" in commands[0] and "-k elbo" in commands[2]
    for command in commands:
        words = shlex.split(command)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        while "=" in words[0]:
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        assert words[0] == ".venv/bin/pytest"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        assert run.returncode == 0, f"{command}\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
        assert re.search(r"\b[1-9]\d* passed\b", run.stdout) and " failed" not in run.stdout, run.stdout[-500:]
