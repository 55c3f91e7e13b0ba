"""Results tables that render as HTML in a notebook (and on the book's pages) and as aligned text elsewhere.

A chapter formats every number itself (the strings are what the table shows, so the printed digits do not depend on
where the table is shown); :func:`show_table` only lays the strings out. In a Jupyter kernel it displays a
:class:`Table`, whose output carries both an HTML table (what JupyterLab and Jupyter Book render) and the text
table (``text/plain``: what nbmake, a terminal and a text diff see); outside a kernel it prints the text table.
No pandas: the table is a few lines of escaped HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["Table", "show_table"]

_ALIGNS = ("left", "right")


class Table:
    """A table of preformatted cells: ``rows`` (N rows of C strings) under ``columns`` (C headers).

    ``align`` gives each column "left" or "right" (default: the first column left, the others right, the usual
    layout of a comparison of methods); ``title`` is a caption above the table and ``notes`` lines below it.
    """

    def __init__(
        self,
        rows: Sequence[Sequence[object]],
        columns: Sequence[str],
        *,
        align: Sequence[str] | None = None,
        title: str | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        if isinstance(columns, str) or not isinstance(columns, Sequence) or len(columns) == 0:
            raise ValueError(f"columns must be a non-empty list of header strings, got {columns!r}")
        self.columns = [str(c) for c in columns]
        if isinstance(rows, str) or not isinstance(rows, Sequence):
            raise TypeError(f"rows must be a list of rows (each a list of cells), got {type(rows).__name__}")
        self.rows: list[list[str]] = []
        for i, row in enumerate(rows):
            if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != len(self.columns):
                raise ValueError(
                    f"rows[{i}] must have one cell per column ({len(self.columns)}: {self.columns}), got {row!r}"
                )
            self.rows.append([str(cell) for cell in row])
        if align is None:
            align = ["left"] + ["right"] * (len(self.columns) - 1)
        align = list(align)
        if len(align) != len(self.columns) or any(a not in _ALIGNS for a in align):
            raise ValueError(
                f"align must give 'left' or 'right' for each of the {len(self.columns)} columns, got {align}"
            )
        self.align = align
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a str or None, got {type(title).__name__}")
        self.title = title
        if isinstance(notes, str):
            raise TypeError("notes must be a list of lines, not one str: wrap it in a list, notes=[...]")
        self.notes = [str(n) for n in notes]

    def to_text(self) -> str:
        """The aligned text table: each column as wide as its widest cell, two spaces between columns."""
        widths = [max([len(header), *(len(row[j]) for row in self.rows)]) for j, header in enumerate(self.columns)]

        def line(cells: Sequence[str]) -> str:
            parts = [c.ljust(w) if a == "left" else c.rjust(w) for c, w, a in zip(cells, widths, self.align)]
            return "  ".join(parts).rstrip()

        lines = [self.title, ""] if self.title else []
        lines += [line(self.columns), line(["-" * w for w in widths])]
        lines += [line(row) for row in self.rows]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def cell(tag: str, text: str, align: str) -> str:
            return f'<{tag} style="text-align: {align}">{html.escape(text)}</{tag}>'

        head = "".join(cell("th", c, a) for c, a in zip(self.columns, self.align))
        body = "".join(
            "<tr>" + "".join(cell("td", c, a) for c, a in zip(row, self.align)) + "</tr>" for row in self.rows
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        table = f'<table class="course-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        return f'<div class="course-table-wrap">{table}{notes}</div>'

    def __repr__(self) -> str:  # text/plain of the displayed output
        return self.to_text()

    __str__ = to_text


def _in_kernel() -> bool:
    """True when running in a Jupyter kernel (a notebook, JupyterLab, nbmake, the book's execution)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_table(
    rows: Sequence[Sequence[object]],
    columns: Sequence[str],
    *,
    align: Sequence[str] | None = None,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> Table:
    """Show a results table: HTML in a Jupyter kernel (with the text table as its plain-text form), text otherwise.

    ``rows`` is N rows of C preformatted cells (the caller formats the numbers, e.g. ``f"{x:.2f} ± {se:.2f}"``),
    ``columns`` the C headers; see :class:`Table` for ``align``, ``title`` and ``notes``. Returns the table.
    """
    table = Table(rows, columns, align=align, title=title, notes=notes)
    if _in_kernel():
        from IPython.display import display

        display(table)
    else:
        print(table.to_text())
    return table
