"""show_table: the text layout, the HTML form, the choice between them, and clear errors on malformed rows."""

from __future__ import annotations

import html.parser

import pytest

from helpers import common
from helpers.common import tables


class _Cells(html.parser.HTMLParser):
    """The text of every <th> and <td>, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.rows[-1][-1] += data


ROWS = [["VAE", 3, "-91.20 ± 0.31"], ["IWAE, K = 50", 3, "-89.74 ± 0.28"]]
COLUMNS = ["run", "seeds", "test ELBO"]


def test_text_table_aligns_columns_and_keeps_the_cells_verbatim():
    text = common.Table(ROWS, COLUMNS).to_text().splitlines()
    assert text[0].split() == ["run", "seeds", "test", "ELBO"]
    assert set(text[1].replace(" ", "")) == {"-"}
    # first column left-aligned, others right-aligned: every line ends at the same column
    assert text[2].startswith("VAE ") and text[3].startswith("IWAE, K = 50")
    assert len({len(line) for line in text}) == 1
    assert text[2].endswith("-91.20 ± 0.31") and text[3].endswith("-89.74 ± 0.28")
    assert text[2].index("3") == text[3].index("3", len("IWAE, K = 50"))  # the seeds column lines up


def test_html_table_holds_the_same_cells_escaped():
    table = common.Table([["a < b & c", 1, "2"]], ["x", "y", "z"], title="t & u", notes=["n > 0"])
    markup = table._repr_html_()
    assert "a &lt; b &amp; c" in markup and "t &amp; u" in markup and "n &gt; 0" in markup
    parser = _Cells()
    parser.feed(markup)
    assert parser.rows == [["x", "y", "z"], ["a < b & c", "1", "2"]]


def test_show_table_prints_text_outside_a_kernel(capsys):
    table = common.show_table(ROWS, COLUMNS, title="comparison")
    out = capsys.readouterr().out
    assert out == table.to_text() + "\n" and out.startswith("comparison\n")
    assert repr(table) == str(table) == table.to_text()  # the text/plain form a notebook output carries


def test_show_table_displays_the_table_in_a_kernel(monkeypatch):
    shown = []
    monkeypatch.setattr(tables, "_in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    table = common.show_table(ROWS, COLUMNS)
    assert shown == [table]


@pytest.mark.parametrize(
    ("rows", "columns", "kwargs", "error", "name"),
    [
        ([["a", 1]], COLUMNS, {}, ValueError, "rows[0]"),
        ("abc", COLUMNS, {}, TypeError, "rows"),
        (ROWS, [], {}, ValueError, "columns"),
        (ROWS, "run", {}, ValueError, "columns"),
        (ROWS, COLUMNS, {"align": ["left", "centre", "right"]}, ValueError, "align"),
        (ROWS, COLUMNS, {"align": ["left"]}, ValueError, "align"),
        (ROWS, COLUMNS, {"notes": "one line"}, TypeError, "notes"),
    ],
)
def test_malformed_input_names_the_argument(rows, columns, kwargs, error, name):
    with pytest.raises(error, match=name.replace("[", r"\[").replace("]", r"\]")):
        common.Table(rows, columns, **kwargs)
