"""One chapter skeleton: an opening that says what the chapter checks and its notation, the chapter's sections,
then Exercises, Summary and References, in that order; a bibliography whose key prefix every citation uses."""

from __future__ import annotations

import re

import nbformat
import pytest
from _shared import BOOK

CHAPTERS = sorted(p for p in BOOK.glob("*/*.ipynb") if "_build" not in p.parts)


def _markdown(path):
    """The chapter's markdown cells, without the macros cell before the title (book/_ext/notebook_header.py)."""
    cells = nbformat.read(path, as_version=4).cells
    return [cell.source for cell in cells if cell.cell_type == "markdown" and cell.get("id") != "course-macros"]


def _opening(cells: list[str]) -> str:
    """The markdown before the first section heading (## ...)."""
    text = []
    for source in cells:
        match = re.search(r"^## ", source, re.M)
        if match:
            text.append(source[: match.start()])
            break
        text.append(source)
    return "\n".join(text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_opening_says_what_is_checked_and_the_notation(path):
    cells = _markdown(path)
    assert re.match(r"# \S", cells[0]), f"{path.name}: the first cell starts with the chapter title (# ...)"
    opening = _opening(cells)
    assert re.search(r"^\*\*Checks\.\*\* \S", opening, re.M), f"{path.name}: the opening needs a **Checks.** paragraph"
    assert re.search(r"^\*\*Notation\.\*\* \S", opening, re.M), (
        f"{path.name}: the opening needs a **Notation.** paragraph"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_sections_end_with_exercises_summary_references(path):
    headings = [
        line[3:].strip() for source in _markdown(path) for line in source.splitlines() if line.startswith("## ")
    ]
    assert headings[-3:] == ["Exercises", "Summary", "References"], f"{path.name}: ends with {headings[-3:]}"
    assert len(headings) >= 5, f"{path.name}: the chapter's own sections come before Exercises"
    assert headings.count("Exercises") == headings.count("Summary") == headings.count("References") == 1


def _prefixes(path) -> tuple[str, str]:
    text = "\n".join(_markdown(path))
    block = re.search(r"```\{bibliography\}\n(.*?)```", text, re.S)
    assert block, f"{path.name}: no bibliography"
    key = re.search(r"^:keyprefix: (\S+)$", block.group(1), re.M)
    label = re.search(r"^:labelprefix: (\S+)$", block.group(1), re.M)
    assert key and label, f"{path.name}: its bibliography needs :keyprefix: and :labelprefix:"
    return key.group(1), label.group(1)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_citation_uses_the_chapter_key_prefix(path):
    prefix, _ = _prefixes(path)
    text = "\n".join(_markdown(path))
    keys = [k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text) for k in group.split(",")]
    assert keys, f"{path.name}: cites nothing"
    wrong = [k for k in keys if not k.startswith(prefix)]
    assert not wrong, f"{path.name}: citations without the prefix {prefix}: {wrong}"


def test_prefixes_are_unique_across_chapters():
    pairs = [_prefixes(p) for p in CHAPTERS]
    assert len({k for k, _ in pairs}) == len(pairs) and len({label for _, label in pairs}) == len(pairs), pairs


def test_references_bib_parses_and_has_every_cited_key():
    from pybtex.database import parse_file

    entries = set(parse_file(str(BOOK / "references.bib")).entries)  # a syntax error fails here, not in the build
    for path in CHAPTERS:
        prefix, _ = _prefixes(path)
        text = "\n".join(_markdown(path))
        keys = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text) for k in group.split(",")}
        missing = sorted(k for k in keys if k[len(prefix) :] not in entries)
        assert not missing, f"{path.name}: cited but not in references.bib: {missing}"
