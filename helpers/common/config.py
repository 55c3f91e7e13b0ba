"""Scale presets, device choice and the one set-up call every notebook makes.

Importing this module changes no global state. :func:`setup` is the only function that does, and every
notebook calls it once, in its imports-and-seed cell::

    cfg = helpers.setup(seed=0)
    cfg.scale.deep.iwae.epochs, cfg.device, cfg.generator

The scale is read from the environment variable ``BOOK_SCALE`` (``quick`` | ``standard`` | ``full``):
``make test`` runs the notebooks at ``quick``, ``make book`` at ``standard``, and ``full`` reproduces
paper-scale experiments (a GPU is advised for the deep-model chapters). Without ``BOOK_SCALE`` the scale is
``standard``, except in Google Colab (:func:`in_colab`), where it is ``quick``: a free Colab runtime runs a deep
chapter at ``standard`` for about twenty minutes on its CPU. :func:`setup` then says so, and how to change it.

A chapter's sizes are one frozen dataclass beside its code, in ``helpers/<part>/scales.py``, read as
``cfg.scale.<part>.<chapter>.<field>``; that module's ``SCALES`` maps each scale name to the part's sizes. This
module knows no part (``common`` imports nothing else in ``helpers``): ``helpers.setup`` passes every part's
``SCALES`` to :func:`setup` as ``parts``, and nothing is registered at import time.
"""

from __future__ import annotations

import numbers
import os
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers.common.validation import check_device

ENV_VAR = "BOOK_SCALE"
DEFAULT_SCALE = "standard"
#: the scale without BOOK_SCALE in Google Colab: what a free runtime runs in minutes
COLAB_SCALE = "quick"
#: set in every Colab runtime (e.g. "release-colab_20250107-060112_RC00"), before any module is imported
COLAB_ENV_VAR = "COLAB_RELEASE_TAG"
#: The presets, from smallest to largest: ``quick`` for ``make test``, ``standard`` for the website, ``full`` for
#: paper-scale runs.
SCALE_NAMES = ("quick", "standard", "full")

#: {part: {scale name: that part's sizes}}, the type of the ``parts`` argument of :func:`get_scale` and :func:`setup`
PartPresets = Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class Scale:
    """Sizes that change with the scale preset; chapters read them instead of hard-coding numbers.

    ``scale.name`` is ``"quick"``, ``"standard"`` or ``"full"``; each part of the book has its sizes, one frozen
    dataclass per chapter, read as ``scale.<part>.<chapter>.<field>``, e.g. ``cfg.scale.deep.iwae.epochs``
    (defined in ``helpers/deep/scales.py``).
    """

    name: str
    parts: Mapping[str, object] = field(default_factory=dict, repr=False)

    def __getattr__(self, part: str) -> object:
        parts = object.__getattribute__(self, "parts")
        if part in parts:
            return parts[part]
        how = "(each defined in helpers/<part>/scales.py)" if parts else "(helpers.setup passes every part's sizes)"
        raise AttributeError(f"the scale has no part {part!r}; parts: {sorted(parts)} {how}.")

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.parts]


def _check_parts(parts: PartPresets) -> None:
    if not isinstance(parts, Mapping):
        raise TypeError(f"parts must be a mapping {{part: {{scale name: sizes}}}} (got {type(parts).__name__}).")
    for part, presets in parts.items():
        if not (isinstance(part, str) and part.isidentifier() and part != "name"):
            raise ValueError(f"parts: a part must be a Python identifier other than 'name' (got {part!r}).")
        if not isinstance(presets, Mapping) or set(presets) != set(SCALE_NAMES):
            got = sorted(presets) if isinstance(presets, Mapping) else type(presets).__name__
            raise ValueError(f"parts[{part!r}] must map each of {SCALE_NAMES} to the part's sizes (got {got}).")


def in_colab() -> bool:
    """True in a Google Colab runtime: its module ``google.colab`` is imported, or ``$COLAB_RELEASE_TAG`` is set."""
    return "google.colab" in sys.modules or bool(os.environ.get(COLAB_ENV_VAR, "").strip())


def default_scale() -> str:
    """The scale without ``$BOOK_SCALE``: ``quick`` in Google Colab (:func:`in_colab`), else ``standard``."""
    return COLAB_SCALE if in_colab() else DEFAULT_SCALE


def get_scale(name: str | None = None, parts: PartPresets | None = None) -> Scale:
    """Return the scale preset ``name``, or the one named by ``$BOOK_SCALE``, or :func:`default_scale`, with the
    sizes of every part in ``parts`` at that scale (``helpers.get_scale`` passes every part of the book).

    Args:
        name: ``quick`` | ``standard`` | ``full`` (any case, surrounding spaces ignored).
        parts: {part: {scale name: that part's sizes}}, e.g. ``{"deep": helpers.deep.scales.SCALES}``; None: none.

    Raises:
        ValueError: if the name is not one of ``quick``, ``standard``, ``full``, or a part lacks a scale name.
        TypeError: if ``name`` is not a str or ``parts`` is not a mapping.
    """
    return _get_scale(name, parts, "name")


def _get_scale(name: object, parts: PartPresets | None, argument: str) -> Scale:
    """:func:`get_scale`, its errors naming the caller's ``argument`` (``name`` there, ``scale`` in :func:`setup`)."""
    parts = {} if parts is None else parts
    _check_parts(parts)
    if name is not None and not isinstance(name, str):
        raise TypeError(
            f"{argument} must be a scale name, a str, one of {list(SCALE_NAMES)} (got {type(name).__name__}); "
            f"e.g. {argument}='quick'."
        )
    chosen = name if name is not None else os.environ.get(ENV_VAR, default_scale())
    key = chosen.strip().lower()
    if key not in SCALE_NAMES:
        if name is not None:
            raise ValueError(
                f"{argument} must be a scale name, one of {list(SCALE_NAMES)} (got {chosen!r}); "
                f"e.g. {argument}='quick'."
            )
        raise ValueError(
            f"scale {chosen!r} is unknown (from ${ENV_VAR}); use one of {list(SCALE_NAMES)}, "
            f"e.g. `export {ENV_VAR}=quick`."
        )
    return Scale(name=key, parts={part: presets[key] for part, presets in parts.items()})


def get_device(prefer: str | None = None) -> torch.device:
    """CUDA when it is present, the CPU otherwise; ``prefer="cpu"`` forces the CPU.

    Every chapter runs the same code path on both devices.
    """
    if prefer is not None:
        return check_device(prefer, "prefer")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Setup:
    """What :func:`setup` returns: the seed, the scale preset, the device and a seeded generator on it."""

    seed: int
    scale: Scale
    device: torch.device
    generator: torch.Generator


def setup(
    seed: int = 0, *, scale: str | None = None, device: str | None = None, parts: PartPresets | None = None
) -> Setup:
    """Seed every random number generator and set numeric and plotting defaults; call once per notebook.

    Seeds Python's ``random``, NumPy's legacy global generator and PyTorch (CPU and CUDA); sets PyTorch's
    print precision (5 digits) and the course's matplotlib style (:func:`helpers.common.plotting.use_course_style`).
    In Google Colab without ``$BOOK_SCALE`` it prints that the scale is ``quick`` and how to change it.

    Args:
        seed: the seed for every generator.
        scale: overrides ``$BOOK_SCALE`` (``quick`` | ``standard`` | ``full``; without either: ``standard``, or
            ``quick`` in Google Colab).
        device: overrides the device choice (``"cpu"`` or ``"cuda"``).
        parts: the sizes of each part, {part: {scale name: sizes}} (:func:`get_scale`); ``helpers.setup``, the
            call every chapter makes, passes every part of the book.

    Returns:
        A :class:`Setup` with ``generator``, a ``torch.Generator`` seeded with ``seed`` on ``device``:
        pass it to every helper that draws random numbers.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int (got {seed!r}); pass e.g. seed=0.")
    seed = int(seed)
    chosen_scale = _get_scale(scale, parts, "scale")
    chosen_device = get_device() if device is None else check_device(device, "device")
    if scale is None and ENV_VAR not in os.environ and in_colab():
        print(
            f"Colab: scale {COLAB_SCALE!r}, sized for a free runtime (minutes per chapter; the website uses "
            f"'{DEFAULT_SCALE}'). To change it, run `%env {ENV_VAR}={DEFAULT_SCALE}` (or 'full', with a GPU) and "
            "run this cell again."
        )
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global generator a reader may call
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.set_printoptions(precision=5)
    from helpers.common.plotting import use_course_style  # local import: matplotlib only when a notebook asks

    use_course_style()
    generator = torch.Generator(device=chosen_device).manual_seed(seed)
    return Setup(seed=seed, scale=chosen_scale, device=chosen_device, generator=generator)
