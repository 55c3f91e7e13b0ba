"""One figure style for the whole course. Nothing here runs at import; :func:`helpers.setup` applies it."""

from __future__ import annotations

COURSE_STYLE: dict[str, object] = {
    "figure.figsize": (7.0, 4.0),
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
