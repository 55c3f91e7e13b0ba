"""What a chapter does with its reference runs: load the ones that are available, verified, and evaluate them in
the build with a check against their manifests.

``available(chapter)`` loads every run of the chapter it can (:func:`helpers.deep.reference.load`: the run value,
the SHA-256 and the structure are verified) and prints one line per run: its passes and cost, or why it is not
available (not trained yet; the weights not fetchable; the data set it was trained on missing). A run whose files
do not match is not skipped: :class:`~helpers.deep.reference.ReferenceMismatchError` stops the chapter, naming the
command that retrains it.

``evaluate_in_build(loaded, images)`` evaluates the R models on the first ``images`` evaluation images with other
draws than the manifest's (replica r draws from ``Generator().manual_seed(BUILD_SEED + r)``), so the numbers on
the page are computed from the weights, and checks them against the manifest's per-image values on the same
images (:func:`helpers.deep.reference.agreement`): a paired difference more than ``Z_LIMIT`` standard errors from 0
raises an AssertionError naming the run, the seed and the metric. Other draws make it a check that can fail only
for a real difference (other weights, other images, changed code), not for Monte Carlo noise.
"""

from __future__ import annotations

from dataclasses import replace

from torch import Tensor

from helpers.common.validation import check_count, check_instance
from helpers.deep.data import DatasetNotAvailableError
from helpers.deep.reference.catalogue import data, entries
from helpers.deep.reference.files import ReferenceNotAvailableError
from helpers.deep.reference.loading import Loaded, load
from helpers.deep.reference.metrics import agreement, evaluate

#: the seed of the build's evaluation draws (the manifests use Evaluation.seed = 9,000)
BUILD_SEED = 77_000
#: |z| above this is a disagreement (about 7e-6 per test under N(0, 1): 30 tests per chapter stay below 3e-4)
Z_LIMIT = 4.5


def available(chapter: str, names: list[str] | tuple[str, ...] | None = None, *, quiet: bool = False
              ) -> dict[str, Loaded]:  # fmt: skip
    """{name: Loaded} of the chapter's reference runs (``names``, default all, in catalogue order) that are
    available, each verified; prints what was loaded and why any run is missing (unless ``quiet``)."""
    known = entries(chapter)
    names = list(known) if names is None else list(names)
    for name in names:
        if name not in known:
            raise KeyError(f"no reference run {chapter}/{name}; {chapter}'s runs are {list(known)}.")
    out: dict[str, Loaded] = {}
    for name in names:
        try:
            loaded = load(chapter, name)
            data(loaded.entry)  # the evaluation images must be on this machine too
        except (ReferenceNotAvailableError, DatasetNotAvailableError) as why:
            if not quiet:
                reason = str(why).removeprefix(f"reference run {chapter}/{name}").lstrip(": ")
                print(f"reference run {chapter}/{name}: not available; it {reason}" if reason.startswith("has no")
                      else f"reference run {chapter}/{name}: not available ({reason})")  # fmt: skip
            continue
        out[name] = loaded
        if not quiet:
            m = loaded.manifest
            print(f"reference run {chapter}/{name}: {m['passes']} passes of {m['data']['train_images']:,} images, "
                  f"seeds {m['seeds']}, {m['core_hours']:.2f} core-hours to train and evaluate; weights verified "
                  f"(SHA-256 {m['weights']['sha256'][:12]}...)"
                  + ("" if loaded.same_code else "; trained by an earlier version of the code"))  # fmt: skip
    return out


def evaluate_in_build(loaded: Loaded, images: int) -> dict[str, Tensor]:
    """Per-image ``elbo`` and ``log_px`` (k as in the manifest) of the run's R models on its first ``images``
    evaluation images, float64 (R, n), with the build's own draws; raises AssertionError when they disagree with
    the manifest beyond Monte Carlo error (module docstring)."""
    check_instance(loaded, "loaded", Loaded, how="a run returned by deep.reference.load or available()")
    e = loaded.entry
    images = check_count(images, "images", minimum=2)
    if images > e.evaluation.images:
        raise ValueError(f"images must be at most the {e.evaluation.images} evaluation images of {e.key} "
                         f"(got {images}).")  # fmt: skip
    x_eval = data(e)[2][:images]
    build = replace(e, evaluation=replace(e.evaluation, seed=BUILD_SEED))
    values = evaluate(build, loaded.models, x_eval)
    bad = [row for row in agreement(loaded.manifest, values) if not abs(row["z"]) < Z_LIMIT]
    if bad:
        raise AssertionError(
            f"reference run {e.key}: the build's evaluation disagrees with the manifest's beyond Monte Carlo error ("
            + "; ".join(
                f"seed {r['seed']} {r['metric']}: {r['difference']:+.3f} ± {r['se']:.3f}, z = {r['z']:+.1f}"
                for r in bad
            )
            + "): the weights, the images or the code are not those the manifest was written with."
        )
    return values
