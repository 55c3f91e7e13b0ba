"""One figure style for the whole course. Nothing here runs at import; :func:`helpers.setup` applies it."""

from __future__ import annotations

#: The book's content column is about 780 px wide at a desktop width; the notebooks' inline figures are drawn at
#: figure.dpi, so a figure 7.5 in wide (750 px) is shown at its natural size and a 10 pt font is ~14 px on screen
#: (7 pt, the smallest any chapter uses, ~10 px). A wider figure would be shrunk to the column, and its text with it:
#: chapters keep figsize widths <= 7.5 in (tests/book/test_site.py measures the rendered font size).
COURSE_STYLE: dict[str, object] = {
    "figure.figsize": (7.5, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "font.size": 10,
}

#: One colour per estimator, used by every chapter so the same estimator looks the same everywhere.
ESTIMATOR_COLORS: dict[str, str] = {
    "score function": "#d62728",
    "score function + baseline": "#ff7f0e",
    "reparameterization": "#1f77b4",
    "reference": "#000000",
}


def use_course_style() -> None:
    """Apply :data:`COURSE_STYLE` to matplotlib's rcParams (a global change: only :func:`helpers.setup` calls it)."""
    import matplotlib as mpl

    mpl.rcParams.update(COURSE_STYLE)
