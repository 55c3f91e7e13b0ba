"""A chapter's expected time at each scale, printed from measurement.

``book/_ext/execute_parallel.py`` writes the wall-clock seconds of every notebook it executes, per ``BOOK_SCALE``,
into the committed ``book/_data/timings.json`` (with the machine's cores and CPU, the number of notebooks that ran
at once, and the date). Each chapter's header cell (an admonition of class ``chapter-header`` right after the
title) ends with a paragraph that starts with ``**Expected time.**``; on the website this extension replaces that
paragraph's text with the page's own notebook's measurements, e.g. "This notebook executes in about 40 s at
quick and about 3 min at standard (measured by the build of 2026-12-07 on a 2-core AMD EPYC, one notebook at a
time)". A scale with no measurement yet says so and how it gets one (the next build at that scale writes it).

A notebook without a ``quick`` time is an error (a warning, which fails the strict build): ``make test-build``
always measures it. JupyterLab, Binder and Colab show the paragraph's own text, a plain sentence (a directive of
this extension would show there as raw text).
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: the scales a header states, and the command whose build measures each
SCALES = {"quick": "make test-build", "standard": "make book"}


def timings_file(confdir: str | Path) -> Path:
    return Path(confdir) / "_data" / "timings.json"


def duration(seconds: float) -> str:
    """``seconds`` in words: "about 40 s" under 90 s, else "about N min" (rounded, at least 2)."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} min"


def sentence(notebook: str, entries: dict[str, dict]) -> str:
    """The header's sentence for ``notebook`` from its timings ``{scale: {"seconds", "cores", "cpu", "jobs",
    "date"}}``."""
    parts, notes, machines = [], [], []
    for scale, command in SCALES.items():
        entry = entries.get(scale)
        if entry is None:
            notes.append(f"not yet measured at {scale}: the next {command} measures it")
            continue
        parts.append(f"{duration(entry['seconds'])} at {scale}")
        together = "one notebook at a time" if entry["jobs"] == 1 else f"{entry['jobs']} notebooks at a time"
        machine = f"{entry['date']} on a {entry['cores']}-core {entry['cpu']}, {together}"
        if (entry.get("load") or 0) > entry["cores"]:  # a shared machine: the times are upper bounds
            machine += f", with the CPU shared with other work at a load average of {entry['load']:.0f}"
        if machine not in machines:
            machines.append(machine)
    builds = "the builds of" if len(machines) > 1 else "the build of"
    text = f"This notebook executes in {' and '.join(parts)} (measured by {builds} {'; '.join(machines)})"
    return text + "".join(f"; {note}" for note in notes) + "."


HEADER_CLASS = "chapter-header"
LABEL = "Expected time"


def fill_header(app, doctree: nodes.document) -> None:
    """Put the measured times into the chapter header's "Expected time" paragraph (``doctree-read``)."""
    env = app.env
    headers = [n for n in doctree.findall(nodes.Element) if HEADER_CLASS in n.get("classes", [])]
    if not headers:
        return
    path = timings_file(app.confdir)
    env.note_dependency(str(path))  # the page is read again when the timings change
    notebook = f"{env.docname}.ipynb"
    entries = json.loads(path.read_text()).get("notebooks", {}).get(notebook, {}) if path.exists() else {}
    for paragraph in headers[0].findall(nodes.paragraph):
        # MyST may start a paragraph with an empty Text node before its **bold** label
        first = next((c for c in paragraph.children if not (isinstance(c, nodes.Text) and not c.strip())), None)
        if isinstance(first, nodes.strong) and first.astext().startswith(LABEL):
            break
    else:
        logger.warning(
            f"the chapter header of {notebook} has no paragraph starting with **{LABEL}.**", location=headers[0]
        )
        return
    if "quick" not in entries:
        logger.warning(
            f"no measured time at the quick scale for {notebook} in {path}: book/_ext/execute_parallel.py writes it "
            "when it executes the notebook (make test-build, make book)",
            location=paragraph,
        )
        return
    paragraph.children = []
    paragraph += nodes.strong(text=f"{LABEL}.")
    paragraph += nodes.Text(" " + sentence(notebook, entries))
    paragraph["classes"].append("execution-time")


def setup(app) -> dict:
    app.connect("doctree-read", fill_header)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
