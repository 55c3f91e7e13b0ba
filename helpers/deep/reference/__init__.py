"""Reference runs: the deep chapters' models trained once, far beyond the build's budget, stored verified, and
loaded by the chapters beside their short live runs (issue: reference runs).

* :mod:`~helpers.deep.reference.catalogue`: the runs each chapter's verdicts rest on, declared once as values;
  a chapter gets the same ``deep.Run`` values with ``deep.reference.runs("iwae")`` -> {name: Run}.
* :mod:`~helpers.deep.reference.trainer`: ``make reference`` (``python -m helpers.deep.reference``) trains them
  resumably, bit for bit, one at a time or round-robin, and writes each finished run's ``weights.safetensors`` and
  ``manifest.json`` into ``helpers/deep/reference/<chapter>/<name>/``.
* :mod:`~helpers.deep.reference.files`: the folder of each run and its files (weights, manifest, checkpoint).
* :mod:`~helpers.deep.reference.loading`: ``deep.reference.load(chapter, name)`` verifies the run value, the
  SHA-256 and the structure and returns the R trained models, their histories and the manifest (fetching the
  weights by hash with pooch when the package was installed without them).
* :mod:`~helpers.deep.reference.chapters`: what a chapter calls: ``available(chapter)`` (the verified runs that are
  here, one line each) and ``evaluate_in_build(loaded, images)`` (the build's own evaluation, checked against the
  manifest within Monte Carlo error).
* :mod:`~helpers.deep.reference.metrics`: the evaluation written to the manifest, and ``agreement``, the check
  that a chapter's own evaluation of the loaded weights agrees with it within Monte Carlo error.

Usage in a chapter::

    try:
        ref = {name: deep.reference.load("iwae", name) for name in deep.reference.runs("iwae")}
    except deep.reference.ReferenceNotAvailableError as why:  # not trained yet, or offline without the files
        print(why); ref = None                                   # the chapter runs its live part only
"""

from helpers.deep.reference.catalogue import CATALOGUE, CHAPTERS, Entry, Evaluation, data, entries, entry, runs, select
from helpers.deep.reference.chapters import available, evaluate_in_build
from helpers.deep.reference.files import ReferenceMismatchError, ReferenceNotAvailableError, run_dir
from helpers.deep.reference.loading import Loaded, base_url, fetch, load
from helpers.deep.reference.metrics import agreement, evaluate
from helpers.deep.reference.trainer import advance, print_status, status

__all__ = [
    "CATALOGUE",
    "CHAPTERS",
    "Entry",
    "Evaluation",
    "Loaded",
    "ReferenceMismatchError",
    "ReferenceNotAvailableError",
    "advance",
    "agreement",
    "available",
    "base_url",
    "data",
    "entries",
    "entry",
    "evaluate",
    "evaluate_in_build",
    "fetch",
    "load",
    "print_status",
    "run_dir",
    "runs",
    "select",
    "status",
]
