"""Each chapter opens with "Before you start": learning objectives, prerequisites and the expected time, the last
printed from measurement (``book/_data/timings.json``, written by ``book/_ext/execute_parallel.py`` when a build
executes a notebook, rendered by ``book/_ext/timings.py``).

The prerequisites may only name chapters that come earlier in the book, except where a chapter says which part of a
later one to read first; the timings file covers every notebook of ``_toc.yml`` at the quick scale, with the
machine it was measured on; the sentence and the recording are checked on their own."""

from __future__ import annotations

import importlib.util
import json
import re

import nbformat
import pytest
from _shared import BOOK


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BOOK / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute_parallel = _load("execute_parallel")
timings = _load("timings")

NOTEBOOKS = execute_parallel.toc_notebooks(BOOK)
ORDER = [p.relative_to(BOOK).with_suffix("").as_posix() for p in NOTEBOOKS]
#: prerequisites that come later in the book's order, and the sentence that says what to read first
FORWARD = {
    ("vi/bbvi", "estimators/gradient-estimators"): "read its sections on the score function",
    ("vi/natural-gradients", "estimators/gradient-estimators"): "for the last section",
}


def _header(path) -> str:
    cells = nbformat.read(path, as_version=4).cells
    assert cells[1].cell_type == "markdown" and cells[1].source.startswith("# "), f"{path.name}: the title cell"
    header = cells[2]
    assert header.cell_type == "markdown" and header.get("id") == "chapter-header", (
        f"{path.name}: the cell after the title must be the 'Before you start' header (id chapter-header)"
    )
    return header.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_header_states_objectives_prerequisites_and_time(path):
    source = _header(path)
    assert source.startswith("````{admonition} Before you start\n:class: chapter-header\n"), source[:80]
    assert "```{" not in source.split("\n", 1)[1], "no directive inside: JupyterLab and Colab show the text as is"
    objectives = re.findall(r"^- \S.*$", source, re.M)
    assert 3 <= len(objectives) <= 5, f"{path.name}: {len(objectives)} learning objectives (3 to 5)"
    assert re.search(r"^\*\*Learning objectives\.\*\* ", source, re.M)
    prerequisites = re.search(r"^\*\*Prerequisites\.\*\* (.*)$", source, re.M)
    assert prerequisites and "Maths:" in prerequisites[1], f"{path.name}: prerequisites name chapters and maths"
    assert re.search(rf"^\*\*{timings.LABEL}\.\*\* ", source, re.M), "the paragraph the build fills with the times"
    assert not re.search(r"\d+\s*(s|min|minutes|seconds)\b", source.split(f"**{timings.LABEL}.**")[1]), (
        "a time typed into the header: it is printed from book/_data/timings.json"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prerequisites_are_earlier_chapters(path):
    chapter = path.relative_to(BOOK).with_suffix("").as_posix()
    source = _header(path)
    named = [f"{m[1]}" for m in re.finditer(r"\{doc\}`[^`<]*<\.\./([^>]+)>`", source)]
    for other in named:
        assert other in ORDER, f"{chapter}: prerequisite {other} is not a chapter of _toc.yml"
        if ORDER.index(other) >= ORDER.index(chapter):
            assert FORWARD.get((chapter, other), "\0") in source, f"{chapter} names the later chapter {other}"


def test_the_timings_cover_every_notebook_at_quick():
    """Written by the build (execute_parallel.record_timings), never by hand: every notebook of _toc.yml has a
    quick time with the machine it was measured on."""
    record = json.loads((BOOK / "_data" / "timings.json").read_text())
    assert "do not edit by hand" in record["about"]
    for path in NOTEBOOKS:
        name = path.relative_to(BOOK).as_posix()
        entry = record["notebooks"].get(name, {}).get("quick")
        assert entry is not None, f"{name} has no quick time: run make test-build and commit book/_data/timings.json"
        assert entry["seconds"] > 0 and entry["cores"] >= 1 and entry["cpu"] and entry["jobs"] >= 1
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", entry["date"])
        assert set(record["notebooks"][name]) <= {"quick", "standard", "full"}
    assert set(record["notebooks"]) <= {p.relative_to(BOOK).as_posix() for p in NOTEBOOKS}, "a stale notebook"


def test_record_timings_keeps_the_other_entries(tmp_path):
    book = tmp_path
    execute_parallel.record_timings(book, "quick", {"a/x.ipynb": 12.5, "a/y.ipynb": 3.0}, 2, {"a/x.ipynb": 1.5})
    execute_parallel.record_timings(book, "standard", {"a/x.ipynb": 300.0}, 1)
    execute_parallel.record_timings(book, "quick", {"a/y.ipynb": 4.0}, 1)
    notebooks = json.loads((book / "_data" / "timings.json").read_text())["notebooks"]
    assert notebooks["a/x.ipynb"]["quick"]["seconds"] == 12.5 and notebooks["a/x.ipynb"]["quick"]["load"] == 1.5
    assert notebooks["a/x.ipynb"]["standard"]["seconds"] == 300.0 and notebooks["a/x.ipynb"]["standard"]["jobs"] == 1
    assert notebooks["a/y.ipynb"] == {"quick": {**notebooks["a/y.ipynb"]["quick"], "seconds": 4.0, "jobs": 1}}
    with pytest.raises(ValueError, match="set BOOK_SCALE"):
        execute_parallel.record_timings(book, "", {"a/x.ipynb": 1.0}, 1)


def _entry(seconds, jobs=1, load=None):
    entry = {"seconds": seconds, "jobs": jobs, "cores": 2, "cpu": "AMD EPYC", "date": "2026-12-07"}
    return entry if load is None else {**entry, "load": load}


def test_the_sentence():
    assert timings.duration(0.2) == "about 1 s" and timings.duration(89) == "about 89 s"
    assert timings.duration(90) == "about 2 min" and timings.duration(1500) == "about 25 min"
    both = timings.sentence("vi/elbo.ipynb", {"quick": _entry(23.4, jobs=2), "standard": _entry(230)})
    assert both == (
        "This notebook executes in about 23 s at quick and about 4 min at standard (measured by the builds of "
        "2026-12-07 on a 2-core AMD EPYC, 2 notebooks at a time; 2026-12-07 on a 2-core AMD EPYC, one notebook at a "
        "time)."
    )
    quick_only = timings.sentence("deep/iwae.ipynb", {"quick": _entry(423, load=9.3)})
    assert quick_only == (
        "This notebook executes in about 7 min at quick (measured by the build of 2026-12-07 on a 2-core AMD EPYC, "
        "one notebook at a time, with the CPU shared with other work at a load average of 9); not yet measured at "
        "standard: the next make book measures it."
    )
    assert "load average" not in timings.sentence("x.ipynb", {"quick": _entry(5, load=1.2)})


def test_the_built_site_prints_the_measured_times():
    """After a build (make test-build or make book), every chapter page states its times from the file."""
    html = BOOK / "_build" / "html"
    if not (html / "index.html").exists():
        pytest.skip("no built site: run make test-build")
    record = json.loads((BOOK / "_data" / "timings.json").read_text())["notebooks"]
    for path in NOTEBOOKS:
        name = path.relative_to(BOOK).as_posix()
        page = (html / name).with_suffix(".html").read_text()
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
        assert "Before you start" in text and "Learning objectives." in text, name
        assert timings.sentence(name, record[name]).replace("'", "&#8217;") in text.replace("'", "&#8217;"), name
