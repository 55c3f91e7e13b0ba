"""The catalogue of the reference runs: for each deep chapter, the runs its verdicts rest on, declared once, as values.

An :class:`Entry` is a :class:`helpers.deep.Run` (model, objective, optimizer, schedules, batch size, passes, seeds,
training images) plus its data (the data set; the test images of its per-pass curve) and its :class:`Evaluation`
(the test images and importance samples of the evaluation written to its manifest). The chapters get the same
``Run`` values from :func:`runs` (``deep.reference.runs("iwae")``), so a chapter's live run and its reference run
differ only where the chapter says so (``dataclasses.replace(run, epochs=...)``).

The settings are the chapters' own (book/deep/iwae.ipynb, vae.ipynb, discrete.ipynb, stl.ipynb); seed s fixes a
run's initial weights, so seed s of every run of one network starts from the same weights and the differences
between methods are paired.

Data: the training images are the first ``run.train_images`` of the data set's ``"train"`` split; the curve's test
images are the first ``test_images`` of its ``"test"`` split (all when None), binarized once by deep.train when the
run binarizes; the evaluation images are the first ``evaluation.images`` of those (:func:`data`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from torch import Tensor

from helpers.common.validation import check_count, check_instance
from helpers.deep.data import DATASETS, fixed_binarization, load_images
from helpers.deep.discrete_objectives import DiscreteELBO, DiscreteIWELBO
from helpers.deep.objectives import ELBO, IWELBO
from helpers.deep.optimizers import Adam
from helpers.deep.runs import ModelSpec, Run
from helpers.deep.schedules import StagedLR, cyclical_beta
from helpers.deep.training import TEST_BINARIZATION_SEED

#: the chapters whose reference runs `make reference` trains, in training order (``smoke`` is the tests' two-pass run
#: on the digits)
CHAPTERS = ("vae", "iwae", "discrete", "stl")


@dataclass(frozen=True)
class Evaluation:
    """How a reference run is evaluated when its training ends: on the first ``images`` evaluation images, per
    image, the ELBO (closed-form KL, averaged over ``elbo_samples`` draws) and the importance-sampled log p(x) with
    k = ``loglik_samples`` (Burda et al. 2016: 5,000), replica r drawing from ``Generator().manual_seed(seed + r)``.
    """

    images: int = 1_000
    loglik_samples: int = 5_000
    elbo_samples: int = 10
    seed: int = 9_000

    def __post_init__(self) -> None:
        for name in ("images", "loglik_samples", "elbo_samples"):
            check_count(getattr(self, name), name)
        check_count(self.seed, "seed", minimum=0)


@dataclass(frozen=True)
class Entry:
    """One reference run: where it is stored (``chapter``/``name``), the run, its data and its evaluation."""

    chapter: str
    name: str
    run: Run
    dataset: str = "fashion-mnist"
    test_images: int | None = None
    evaluation: Evaluation = field(default_factory=Evaluation)

    def __post_init__(self) -> None:
        for attr in ("chapter", "name"):
            value = getattr(self, attr)
            if not (isinstance(value, str) and value and all(c.isalnum() or c in "-_" for c in value)):
                raise ValueError(f"{attr} must be a non-empty name of letters, digits, - and _ (got {value!r}).")
        check_instance(self.run, "run", Run, how="a deep.Run(...)")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS} (got {self.dataset!r}).")
        if self.test_images is not None:
            check_count(self.test_images, "test_images")
            if self.evaluation.images > self.test_images:
                raise ValueError(
                    f"evaluation.images ({self.evaluation.images}) must not exceed test_images ({self.test_images}): "
                    "the evaluation images are the first test images."
                )

    @property
    def key(self) -> str:
        """``chapter/name``: what ``make reference RUN=...`` takes."""
        return f"{self.chapter}/{self.name}"


def data(entry: Entry) -> tuple[Tensor, Tensor, Tensor]:
    """(x_train (N, P), x_test (T, P), x_eval (n, P)) of a reference run: N = ``run.train_images`` training images,
    the T test images of its per-pass curve (raw: deep.train binarizes them when the run binarizes), and the
    n = ``evaluation.images`` evaluation images, binarized (seed ``TEST_BINARIZATION_SEED``, as deep.train
    binarizes x_test) when the run binarizes. Raises DatasetNotAvailableError when the data set is missing, and a
    ValueError when it has fewer training images than the run declares."""
    check_instance(entry, "entry", Entry, how="an entry of the catalogue, deep.reference.entry(chapter, name)")
    x_train, _ = load_images(entry.dataset, "train", limit=entry.run.train_images)
    if entry.run.train_images is not None and len(x_train) < entry.run.train_images:
        raise ValueError(
            f"{entry.key} declares {entry.run.train_images} training images but {entry.dataset} has {len(x_train)}."
        )
    x_test, _ = load_images(entry.dataset, "test", limit=entry.test_images)
    x_eval = x_test if entry.run.binarization is None else fixed_binarization(x_test, seed=TEST_BINARIZATION_SEED)
    return x_train, x_test, x_eval[: entry.evaluation.images]


# ---------------------------------------------------------------------------------------------- the chapters
#: Burda et al.'s network, optimizer and data (chapter *Importance-weighted bounds*, cells 14-15)
IWAE_SPEC = ModelSpec.of("VAE", 784, hidden_dims=(200, 200), latent_dim=50, likelihood="bernoulli", activation="tanh")
IWAE_ADAM = Adam(1e-3, eps=1e-4, lr_schedule=StagedLR(growth=3, factor=10 ** (-1 / 7)))
IWAE_SEEDS = (2_000, 2_001, 2_002)
#: passes per K (Burda et al.: 3,280); a K = 50 pass costs about 25 K = 1 passes
IWAE_PASSES = {1: 100, 5: 100, 50: 20}


def _iwae_entries() -> list[Entry]:
    out = []
    for k, passes in IWAE_PASSES.items():
        for kind, objective in (("vae", ELBO(k)), ("iwae", IWELBO(k))):
            run = Run(IWAE_SPEC, objective, passes, IWAE_SEEDS, batch_size=100, optimizer=IWAE_ADAM,
                      binarization="dynamic", train_images=60_000)  # fmt: skip
            out.append(Entry("iwae", f"{kind}-k{k}", run))
    return out


#: the course exercise's networks (chapter *The variational autoencoder*, cells 6 and 10)
EXERCISE = dict(hidden_dims=(20, 20), latent_dim=5, activation="relu", encoder="separate", scale_activation="sigmoid")
SIGMA = 0.1
MIN_LOG_VAR = 2 * math.log(0.01)  # the learned variance's floor: sd >= 0.01
VAE_SEEDS = (100, 101, 102)
VAE_PASSES = 100
L_A = ELBO(kl="monte-carlo")  # the exercise's estimator: one draw, Monte Carlo KL


def _exercise(**kwargs: object) -> ModelSpec:
    return ModelSpec.of("VAE", 784, **{**EXERCISE, **kwargs})


def _vae_entries() -> list[Entry]:
    gaussian = _exercise(likelihood="gaussian", sigma=SIGMA)
    declared = {  # name -> (model, objective, binarized, beta schedule)
        "exercise": (gaussian, L_A, False, None),
        "learned-variance": (_exercise(likelihood="gaussian-learned", min_log_var=MIN_LOG_VAR), L_A, False, None),
        "beta-vae": (gaussian, ELBO(kl="monte-carlo", beta=4.0), False, None),
        "cyclical": (gaussian, L_A, False, cyclical_beta(VAE_PASSES / 4, ratio=0.5)),
        "bernoulli": (_exercise(likelihood="bernoulli"), L_A, True, None),
    }
    out = []
    for name, (spec, objective, binarized, schedule) in declared.items():
        run = Run(spec, objective, VAE_PASSES, VAE_SEEDS, batch_size=100, optimizer=Adam(1e-3),
                  binarization="dynamic" if binarized else None, beta_schedule=schedule, test_objective=ELBO(),
                  train_images=60_000)  # fmt: skip
        out.append(Entry("vae", name, run))
    return out


#: the discrete chapter's benchmark (*Gradients for discrete latent variables*, "A benchmark on images"): 200 binary
#: latents, a linear and a nonlinear network, each estimator at two decoder evaluations per image where it can
DISCRETE_NETWORKS = {"linear": (), "nonlinear": (200, 200)}
DISCRETE_ESTIMATORS = {
    "leave-one-out": DiscreteELBO("leave-one-out", 2),
    "nvil": DiscreteELBO("nvil", 2),
    "gumbel": DiscreteELBO("gumbel", 2, 0.5),
    "arm": DiscreteELBO("arm"),
    "disarm": DiscreteELBO("disarm"),
}
DISCRETE_SEEDS = (3_000, 3_001, 3_002)
#: 14 passes over 60,000 images in batches of 50: 16,800 steps per run (the chapter's build trained 1,600 when the
#: reference runs were planned; its standard scale now trains 320)
DISCRETE_PASSES = 14
#: log p(x) with k = 1,000 (the papers compare the estimators by their bounds, not by Burda et al.'s k = 5,000; the
#: build evaluates 10 runs x 3 seeds, 5 times cheaper)
DISCRETE_EVALUATION = Evaluation(loglik_samples=1_000)


def _discrete_entries() -> list[Entry]:
    out = []
    for net, hidden in DISCRETE_NETWORKS.items():
        for name, objective in DISCRETE_ESTIMATORS.items():
            # NVIL's baseline network b(x) (784-100-1) only where it is used: it is built after the encoder, the
            # decoder and the prior, so seed s starts every estimator from the same model (and 3 x 8 baselines
            # stored for nothing would cost 7 MB of the 100 MB cap)
            spec = ModelSpec.of("BernoulliVAE", 784, 200, hidden_dims=hidden, baseline_hidden=100 * (name == "nvil"))
            run = Run(spec, objective, DISCRETE_PASSES, DISCRETE_SEEDS, batch_size=50, optimizer=Adam(1e-3),
                      binarization="dynamic", test_objective=DiscreteIWELBO(20), train_images=60_000)  # fmt: skip
            out.append(Entry("discrete", f"{net}-{name}", run, test_images=2_000, evaluation=DISCRETE_EVALUATION))
    return out


#: the sticking-the-landing chapter's estimators on Burda et al.'s network and optimizer (as the IWAE chapter). The
#: total derivatives are the IWAE chapter's runs, not trained twice: the IWAE's at K = 5 is iwae/iwae-k5 (the same
#: value), the VAE's is iwae/iwae-k1, because L_1 is the ELBO with a one-sample KL on the same draws, value and
#: gradient (tests/deep/test_vae.py). A run of ELBO(kl="monte-carlo") trained for 100 passes from the same seeds
#: ended within rounding of iwae/iwae-k1: log p(x) -237.33 +- 0.24 nats for both.
STL_K = 5
STL_ESTIMATORS = {
    "vae-stl": ELBO(kl="monte-carlo", gradient="path"),
    "iwae-stl": IWELBO(STL_K, gradient="path"),
    "iwae-dreg": IWELBO(STL_K, gradient="dreg"),
}


def _stl_entries() -> list[Entry]:
    out = []
    for name, objective in STL_ESTIMATORS.items():
        test = ELBO() if name.startswith("vae") else IWELBO(STL_K)
        run = Run(IWAE_SPEC, objective, IWAE_PASSES[STL_K], IWAE_SEEDS, batch_size=100, optimizer=IWAE_ADAM,
                  binarization="dynamic", test_objective=test, train_images=60_000)  # fmt: skip
        out.append(Entry("stl", name, run))
    return out


def _smoke_entries() -> list[Entry]:
    """Two passes of a small VAE on 200 of the 8 x 8 digits (always offline): the tests' reference run."""
    spec = ModelSpec.of("VAE", 64, hidden_dims=(16,), latent_dim=4)
    run = Run(spec, ELBO(), 2, (0, 1), batch_size=50, binarization="dynamic", train_images=200)
    return [Entry("smoke", "digits", run, dataset="digits", test_images=100,
                  evaluation=Evaluation(images=60, loglik_samples=200, elbo_samples=10))]  # fmt: skip


CATALOGUE: dict[str, dict[str, Entry]] = {}
for _entry in (*_iwae_entries(), *_vae_entries(), *_discrete_entries(), *_stl_entries(), *_smoke_entries()):
    CATALOGUE.setdefault(_entry.chapter, {})[_entry.name] = _entry
del _entry


def entry(chapter: str, name: str) -> Entry:
    """The catalogue's entry ``chapter/name``; a KeyError listing the known ones otherwise."""
    if chapter not in CATALOGUE:
        raise KeyError(f"no reference runs for chapter {chapter!r}; the chapters are {sorted(CATALOGUE)}.")
    if name not in CATALOGUE[chapter]:
        raise KeyError(f"no reference run {chapter}/{name}; {chapter}'s runs are {sorted(CATALOGUE[chapter])}.")
    return CATALOGUE[chapter][name]


def entries(chapter: str) -> dict[str, Entry]:
    """{name: Entry} of a chapter, in the catalogue's order."""
    if chapter not in CATALOGUE:
        raise KeyError(f"no reference runs for chapter {chapter!r}; the chapters are {sorted(CATALOGUE)}.")
    return dict(CATALOGUE[chapter])


def runs(chapter: str) -> dict[str, Run]:
    """{name: deep.Run} of a chapter's reference runs: the one place they are declared (``deep.reference.runs``)."""
    return {name: e.run for name, e in entries(chapter).items()}


def select(selectors: list[str] | tuple[str, ...] = ()) -> list[Entry]:
    """The entries named by ``chapter/name`` or ``chapter`` selectors, in catalogue order; none: every chapter's
    runs (:data:`CHAPTERS`, not ``smoke``)."""
    if not selectors:
        return [e for chapter in CHAPTERS for e in CATALOGUE[chapter].values()]
    out: list[Entry] = []
    for selector in selectors:
        chapter, _, name = str(selector).strip("/").partition("/")
        chosen = [entry(chapter, name)] if name else list(entries(chapter).values())
        out += [e for e in chosen if e not in out]
    return out
