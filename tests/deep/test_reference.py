"""deep.reference: the catalogue declares the chapters' runs; the CLI trains a run resumably (a run killed with
SIGKILL and resumed equals an uninterrupted one bit for bit); load refuses a flipped byte, a changed run value
(naming the field) and weights of another structure; a loaded run's evaluation agrees with its manifest within Monte
Carlo error (and a perturbed model does not); the pooch path fetches by hash from a file:// mirror and refuses a
wrong file. Everything runs offline on the smoke entry (two passes of a small VAE on 200 digits)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from _shared import ROOT

from helpers import deep
from helpers.deep.reference import catalogue, files, loading, trainer
from helpers.deep.reference.__main__ import main

REF = deep.reference
SMOKE = REF.entry("smoke", "digits")


@pytest.fixture
def threads():
    """main() sets torch's thread count (1 by default): restore it after the test."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The smoke run trained once (in this process) into a temporary root."""
    root = tmp_path_factory.mktemp("reference")
    assert REF.advance(SMOKE, root=root, progress=False)
    return root


def copy_run(src: Path, dst: Path, *names: str) -> Path:
    (dst / "smoke" / "digits").mkdir(parents=True, exist_ok=True)
    for name in names or ("manifest.json", "weights.safetensors"):
        shutil.copy(src / "smoke" / "digits" / name, dst / "smoke" / "digits" / name)
    return dst


def weights_of(root: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(root / "smoke" / "digits" / "weights.safetensors"))


# ---------------------------------------------------------------------------------------------- the catalogue
def test_the_catalogue_declares_the_runs_as_the_chapters_build_them():
    """The IWAE chapter's cells 14-15 and the VAE chapter's `fit`, at the reference passes, give equal Run values."""
    burda_lr = deep.StagedLR(growth=3, factor=10 ** (-1 / 7))
    adam = deep.Adam(1e-3, eps=1e-4, lr_schedule=burda_lr)
    spec = deep.ModelSpec.of("VAE", 784, hidden_dims=(200, 200), latent_dim=50, likelihood="bernoulli",
                             activation="tanh")  # fmt: skip
    iwae = {f"{kind.lower()}-k{k}": deep.Run(spec, deep.ELBO(k) if kind == "VAE" else deep.IWELBO(k),
                                              {1: 100, 5: 100, 50: 20}[k], (2000, 2001, 2002), batch_size=100,
                                              optimizer=adam, binarization="dynamic", train_images=60_000)
            for k in (1, 5, 50) for kind in ("VAE", "IWAE")}  # fmt: skip
    assert REF.runs("iwae") == iwae
    exercise = dict(hidden_dims=(20, 20), latent_dim=5, activation="relu", encoder="separate",
                    scale_activation="sigmoid")  # fmt: skip

    L_A = deep.ELBO(kl="monte-carlo")  # noqa: N806 - the chapter's name

    def fit(model, objective=L_A, *, binarized=False, beta_schedule=None):
        return deep.Run(model, objective, 100, (100, 101, 102), batch_size=100, optimizer=deep.Adam(1e-3),
                        binarization="dynamic" if binarized else None, beta_schedule=beta_schedule,
                        test_objective=deep.ELBO(), train_images=60_000)  # fmt: skip

    def vae_spec(**kwargs):
        return deep.ModelSpec.of("VAE", 784, **{**exercise, **kwargs})

    gaussian = vae_spec(likelihood="gaussian", sigma=0.1)
    vae = {
        "exercise": fit(gaussian),
        "learned-variance": fit(vae_spec(likelihood="gaussian-learned", min_log_var=2 * math.log(0.01))),
        "beta-vae": fit(gaussian, deep.ELBO(kl="monte-carlo", beta=4.0)),
        "cyclical": fit(gaussian, beta_schedule=deep.cyclical_beta(100 / 4, ratio=0.5)),
        "bernoulli": fit(vae_spec(likelihood="bernoulli"), binarized=True),
    }
    assert REF.runs("vae") == vae
    # the discrete chapter's benchmark (cell "train_network"), 16,800 steps: 14 passes of 60,000 images in batches of 50
    estimators = {"leave-one-out": deep.DiscreteELBO("leave-one-out", 2), "nvil": deep.DiscreteELBO("nvil", 2),
                  "gumbel": deep.DiscreteELBO("gumbel", 2, 0.5), "arm": deep.DiscreteELBO("arm"),
                  "disarm": deep.DiscreteELBO("disarm")}  # fmt: skip
    discrete = {f"{net}-{name}": deep.Run(
        deep.ModelSpec.of("BernoulliVAE", 784, 200, hidden_dims=hidden, baseline_hidden=100 if name == "nvil" else 0),
        objective, 14, (3000, 3001, 3002), batch_size=50, optimizer=deep.Adam(1e-3), binarization="dynamic",
        test_objective=deep.DiscreteIWELBO(20), train_images=60_000)
        for net, hidden in (("linear", ()), ("nonlinear", (200, 200))) for name, objective in estimators.items()
    }  # fmt: skip
    assert REF.runs("discrete") == discrete
    steps = [r.epochs * math.ceil(r.train_images / r.batch_size) for r in REF.runs("discrete").values()]
    assert min(steps) >= 10 * 1_600  # the target: 10 x the chapter's 1,600 steps when it was filed
    # sticking the landing: the IWAE chapter's network, optimizer and seeds; its total derivatives are iwae-k1 (L_1 is
    # the ELBO with a one-sample KL) and iwae-k5
    stl = {"vae-stl": (deep.ELBO(kl="monte-carlo", gradient="path"), deep.ELBO()),
           "iwae-stl": (deep.IWELBO(5, gradient="path"), deep.IWELBO(5)),
           "iwae-dreg": (deep.IWELBO(5, gradient="dreg"), deep.IWELBO(5))}  # fmt: skip
    assert REF.runs("stl") == {
        name: replace(iwae["iwae-k5"], objective=objective, test_objective=test)
        for name, (objective, test) in stl.items()
    }
    assert iwae["iwae-k5"].test_objective is None  # (deep.train then evaluates the training objective: L_5)
    assert [e.key for e in REF.select()] == (
        [f"vae/{n}" for n in vae] + [f"iwae/{n}" for n in iwae] + [f"discrete/{n}" for n in discrete]
        + [f"stl/{n}" for n in stl]
    )  # fmt: skip
    assert REF.select(["iwae/iwae-k5", "smoke"]) == [REF.entry("iwae", "iwae-k5"), SMOKE]
    with pytest.raises(KeyError, match="iwae's runs are"):
        REF.entry("iwae", "iwae-k2")
    with pytest.raises(ValueError, match="evaluation.images"):
        replace(SMOKE, test_images=10)


def test_all_reference_weights_fit_the_size_cap():
    rows = [trainer.status(e, root="/nonexistent") for e in REF.select()]
    sizes = {row["key"]: row["bytes"] for row in rows}
    # Burda et al.'s network, 784-200-200-(50 + 50) and 50-200-200-784, weights and biases
    params = (784 + 1) * 200 + (200 + 1) * 200 + (200 + 1) * 100 + (50 + 1) * 200 + (200 + 1) * 200 + (200 + 1) * 784
    assert sizes["iwae/iwae-k50"] == 3 * 4 * params
    assert sum(sizes.values()) <= files.SIZE_CAP_BYTES, sum(sizes.values()) / 2**20


def test_data_gives_the_binarized_evaluation_images_deep_train_evaluates_on():
    x_train, x_test, x_eval = REF.data(SMOKE)
    assert x_train.shape == (200, 64) and x_test.shape == (100, 64) and x_eval.shape == (60, 64)
    binary = deep.fixed_binarization(x_test, seed=deep.TEST_BINARIZATION_SEED)
    assert torch.equal(x_eval, binary[:60]) and set(x_eval.unique().tolist()) <= {0.0, 1.0}


# ---------------------------------------------------------------------------------------------- training
KILL_AFTER_PASS_1 = """
import os, signal, sys
from helpers.deep import training
original = training.train
def killed_after_pass_1(*args, **kwargs):
    def callback(epoch, model, histories):
        kwargs["callback"](epoch, model, histories)  # the trainer's bookkeeping, then SIGKILL
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **{**kwargs, "callback": callback})
training.train = killed_after_pass_1
from helpers.deep.reference.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_run_killed_by_sigkill_and_resumed_by_the_cli_equals_the_uninterrupted_run(tmp_path, threads):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_PASS_1, "smoke/digits", "--root", str(tmp_path),
                             "--no-progress"], env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    folder = tmp_path / "smoke" / "digits"
    assert trainer.checkpoint_passes(folder / "checkpoint.pt") == 1 and not (folder / "manifest.json").exists()
    assert main(["smoke/digits", "--root", str(tmp_path), "--no-progress"]) == 0  # resumes from pass 1
    assert not (folder / "checkpoint.pt").exists() and (folder / "final-checkpoint.pt").exists()
    uninterrupted = tmp_path.parent / f"{tmp_path.name}-whole"
    assert main(["smoke/digits", "--root", str(uninterrupted), "--no-progress"]) == 0
    a, b = [json.loads((r / "smoke" / "digits" / "manifest.json").read_text()) for r in (tmp_path, uninterrupted)]
    assert a["weights"]["sha256"] == b["weights"]["sha256"]  # the same bytes
    for key in ("train", "test"):
        assert [h[key] for h in a["histories"]] == [h[key] for h in b["histories"]]
    assert a["evaluation"]["per_image"] == b["evaluation"]["per_image"]
    assert len(a["sessions"]) == 2 and a["sessions"][1]["from_pass"] == 1 and a["train_cpu_passes_recorded"] == 2
    # round-robin in chunks of one pass: the same run again
    chunked = tmp_path.parent / f"{tmp_path.name}-chunked"
    assert main(["smoke/digits", "--round-robin", "--chunk", "1", "--root", str(chunked), "--no-progress"]) == 0
    assert json.loads((chunked / "smoke/digits/manifest.json").read_text())["weights"] == a["weights"]


def test_a_target_beyond_the_catalogue_and_a_raised_target_resume_bit_for_bit(tmp_path, monkeypatch):
    root = tmp_path / "a"
    assert REF.advance(SMOKE, root=root, progress=False)  # 2 passes, finalized
    first = weights_of(root)
    assert REF.advance(SMOKE, root=root, target=3, progress=False)  # pass 3 into the checkpoint only
    assert trainer.checkpoint_passes(root / "smoke/digits/checkpoint.pt") == 3
    assert REF.load("smoke", "digits", root=root).passes == 2  # the stored run is untouched
    assert all(torch.equal(first[k], v) for k, v in weights_of(root).items())
    three = replace(SMOKE, run=replace(SMOKE.run, epochs=3))
    monkeypatch.setitem(catalogue.CATALOGUE["smoke"], "digits", three)
    with pytest.raises(REF.ReferenceMismatchError, match=r"reference.run.epochs: saved 2, now 3.*RUN=smoke/digits"):
        REF.load("smoke", "digits", root=root)
    assert REF.advance(three, root=root, progress=False)  # finalized from the checkpoint, no training
    assert REF.advance(three, root=tmp_path / "b", progress=False)  # three passes at once
    assert REF.load("smoke", "digits", root=root).passes == 3
    assert (
        REF.load("smoke", "digits", root=root).manifest["weights"]
        == json.loads((tmp_path / "b/smoke/digits/manifest.json").read_text())["weights"]
    )


def test_a_second_process_on_the_same_run_stops_at_once(tmp_path):
    import fcntl

    folder = trainer.run_dir(SMOKE, tmp_path)
    folder.mkdir(parents=True)
    with open(folder / trainer.LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as a running `make reference` holds it
        with pytest.raises(RuntimeError, match="smoke/digits is being trained by another process"):
            REF.advance(SMOKE, root=tmp_path, progress=False)
    assert not (folder / "checkpoint.pt").exists()
    assert REF.advance(SMOKE, root=tmp_path, target=1, progress=False)  # released: it trains


def test_a_checkpoint_is_not_continued_under_another_run(tmp_path, monkeypatch):
    assert REF.advance(SMOKE, root=tmp_path, target=1, progress=False)
    other = replace(SMOKE, run=replace(SMOKE.run, seeds=(0, 7)))  # deep.train's fingerprint does not see seeds
    monkeypatch.setitem(catalogue.CATALOGUE["smoke"], "digits", other)
    with pytest.raises(REF.ReferenceMismatchError, match=r"reference.run.seeds: saved \(0, 1\), now \(0, 7\)"):
        REF.advance(other, root=tmp_path, progress=False)


# ---------------------------------------------------------------------------------------------- loading, verified
def test_load_returns_the_trained_models_and_their_histories(trained):
    loaded = REF.load("smoke", "digits", root=trained)
    assert loaded.passes == 2 and loaded.same_code and len(loaded.models) == 2
    assert [len(h) for h in loaded.histories] == [2, 2]
    stored = weights_of(trained)
    for seed, model in zip(SMOKE.run.seeds, loaded.models):
        assert model.replicas is None and not model.training
        for key, value in model.state_dict().items():
            assert torch.equal(value, stored[f"seed{seed}/{key}"])
    assert not torch.equal(loaded.models[0].decoder[0].weight, SMOKE.run.initial_models()[0].decoder[0].weight)


def test_not_trained_yet_is_not_available_and_says_how_to_train_it(tmp_path):
    with pytest.raises(REF.ReferenceNotAvailableError, match=r"make reference RUN=iwae/vae-k1"):
        REF.load("iwae", "vae-k1", root=tmp_path)


def test_a_missing_run_is_reported_by_its_path_in_the_package_not_this_machines_path(capsys):
    assert REF.available("smoke") == {}  # the smoke run is never committed
    printed = capsys.readouterr().out
    where = "helpers/deep/reference/smoke/digits/manifest.json"
    assert f"smoke/digits: not available; it has no manifest ({where})" in printed
    assert str(Path(files.__file__).resolve().parents[3]) not in printed  # the checkout's absolute path


def test_one_flipped_byte_of_the_weights_is_refused(trained, tmp_path):
    root = copy_run(trained, tmp_path)
    path = root / "smoke/digits/weights.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) - 5] ^= 0x01  # one bit of one stored weight
    path.write_bytes(bytes(data))
    with pytest.raises(REF.ReferenceMismatchError, match=r"SHA-256.*changed or damaged.*RUN=smoke/digits"):
        REF.load("smoke", "digits", root=root)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: replace(e, run=replace(e.run, objective=deep.ELBO(beta=0.5))), r"reference.run.objective.beta"),
        (lambda e: replace(e, run=replace(e.run, batch_size=25)), r"reference.run.batch_size: saved 50, now 25"),
        (lambda e: replace(e, run=replace(e.run, model=deep.ModelSpec.of("VAE", 64, hidden_dims=(17,), latent_dim=4))),
         r"reference.run.model.kwargs"),
        (lambda e: replace(e, evaluation=replace(e.evaluation, loglik_samples=100)),
         r"reference.evaluation.loglik_samples: saved 200, now 100"),
    ],
)  # fmt: skip
def test_a_changed_run_value_is_refused_naming_the_field(trained, monkeypatch, change, field):
    monkeypatch.setitem(catalogue.CATALOGUE["smoke"], "digits", change(SMOKE))
    with pytest.raises(REF.ReferenceMismatchError, match=rf"smoke/digits.*{field}.*make reference RUN=smoke/digits"):
        REF.load("smoke", "digits", root=trained)


def test_an_edited_manifest_is_refused(trained, tmp_path):
    root = copy_run(trained, tmp_path)
    path = root / "smoke/digits/manifest.json"
    manifest = json.loads(path.read_text())
    manifest["histories"] = manifest["histories"][:1]
    files.write_json(path, manifest)
    with pytest.raises(REF.ReferenceMismatchError, match="1 curves.*2 seeds.*edited or damaged"):
        REF.load("smoke", "digits", root=root)


def test_weights_of_another_structure_are_refused_naming_the_parameter(trained, tmp_path):
    root = copy_run(trained, tmp_path)
    other = replace(SMOKE.run, model=deep.ModelSpec.of("VAE", 64, hidden_dims=(17,), latent_dim=4)).initial_models()
    folder = root / "smoke" / "digits"
    sha = files.save_weights(folder / "weights.safetensors", other, SMOKE.run.seeds, {})
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["weights"]["sha256"] = sha  # a consistent manifest: only the structure is wrong
    files.write_json(folder / "manifest.json", manifest)
    with pytest.raises(REF.ReferenceMismatchError, match=r"seed 0: encoder.0.weight stored \(17, 64\).*\(16, 64\)"):
        REF.load("smoke", "digits", root=root)


# ---------------------------------------------------------------------------------------------- evaluation
def test_a_new_evaluation_agrees_with_the_manifest_within_monte_carlo_error_and_a_changed_model_does_not(trained):
    loaded = REF.load("smoke", "digits", root=trained)
    again = REF.evaluate(loaded.entry, loaded.models)  # the manifest's own draws: equal up to its rounding
    for metric in ("elbo", "log_px"):
        stored = torch.tensor(loaded.manifest["evaluation"]["per_image"][metric], dtype=torch.float64)
        assert (again[metric] - stored).abs().max() <= 0.5 * 10**-REF.metrics.ROUND + 1e-9
    other_draws = replace(loaded.entry, evaluation=replace(loaded.entry.evaluation, seed=123))
    rows = REF.agreement(loaded.manifest, REF.evaluate(other_draws, loaded.models))
    assert len(rows) == 4 and all(row["se"] > 0 for row in rows)
    assert all(abs(row["z"]) < 4.5 for row in rows), rows  # other draws, same models: Monte Carlo noise only
    with torch.no_grad():
        for model in loaded.models:
            model.decoder[-1].bias.add_(0.2)  # a slightly different model
    rows = REF.agreement(loaded.manifest, REF.evaluate(other_draws, loaded.models))
    assert all(abs(row["z"]) > 4.5 for row in rows), rows
    with torch.no_grad():
        for model in loaded.models:
            model.decoder[-1].bias.sub_(0.2)  # back: the first 30 images agree, too
    rows = REF.agreement(loaded.manifest, REF.evaluate(other_draws, loaded.models, REF.data(SMOKE)[2][:30]))
    assert all(abs(row["z"]) < 4.5 for row in rows), rows
    with pytest.raises(ValueError, match="shape"):
        REF.agreement(loaded.manifest, {k: v[:1] for k, v in again.items()})


# ---------------------------------------------------------------------------------------------- fetching with pooch
def test_missing_weights_are_fetched_by_hash_and_a_wrong_file_is_refused(trained, tmp_path, monkeypatch):
    installed = copy_run(trained, tmp_path / "installed", "manifest.json")  # a pip install: manifests only
    monkeypatch.setenv("VI_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("VI_COURSE_REFERENCE_URL", trained.as_uri())
    loaded = REF.load("smoke", "digits", root=installed)
    assert loaded.weights.parent == tmp_path / "cache" / "reference"
    assert loaded.weights.read_bytes() == (trained / "smoke/digits/weights.safetensors").read_bytes()
    # a mirror that serves another file under the same name: refused, and nothing is kept in the cache
    mirror = copy_run(trained, tmp_path / "mirror")
    path = mirror / "smoke/digits/weights.safetensors"
    path.write_bytes(path.read_bytes()[:-1] + bytes([path.read_bytes()[-1] ^ 1]))
    monkeypatch.setenv("VI_COURSE_CACHE", str(tmp_path / "cache2"))
    monkeypatch.setenv("VI_COURSE_REFERENCE_URL", mirror.as_uri())
    with pytest.raises(REF.ReferenceMismatchError, match=r"smoke/digits.*not the one its manifest names"):
        REF.load("smoke", "digits", root=installed)
    assert not list((tmp_path / "cache2").rglob("*.safetensors"))
    # nothing at the URL (as offline): not available, which a chapter catches
    monkeypatch.setenv("VI_COURSE_REFERENCE_URL", (tmp_path / "nowhere").as_uri())
    with pytest.raises(REF.ReferenceNotAvailableError, match="live part only"):
        REF.load("smoke", "digits", root=installed)


def test_the_fetch_url_comes_from_the_settings_in_order(monkeypatch):
    raw = "https://raw.githubusercontent.com/o/r/{}/helpers/deep/reference"
    assert REF.base_url({"VI_COURSE_REFERENCE_URL": "file:///m/", "BOOK_REPOSITORY_URL": "x"}) == "file:///m"
    assert REF.base_url({"BOOK_REPOSITORY_URL": "git@github.com:o/r.git"}) == raw.format("main")
    assert REF.base_url({"BOOK_REPOSITORY_URL": "https://github.com/o/r", "BOOK_REPOSITORY_BRANCH": "b"}) == raw.format(
        "b"
    )
    assert (
        loading.raw_base("https://gitlab.com/g/o/r.git", "c")
        == "https://gitlab.com/g/o/r/-/raw/c/helpers/deep/reference"
    )

    class Installed:  # pip install "vi-gradients-course @ git+https://github.com/o/r" records PEP 610 direct_url.json
        def read_text(self, name):
            assert name == "direct_url.json"
            return json.dumps({"url": "https://github.com/o/r.git", "vcs_info": {"vcs": "git", "commit_id": "abc123"}})

    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Installed())
    assert REF.base_url({"BOOK_REPOSITORY_URL": "https://github.com/x/y"}) == raw.format("abc123")

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    assert REF.base_url({"BOOK_REPOSITORY_URL": "off"}) is None
    for name in ("VI_COURSE_REFERENCE_URL", "BOOK_REPOSITORY_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(REF.ReferenceNotAvailableError, match="no repository is known"):
        REF.fetch(SMOKE, "0" * 64)


# ---------------------------------------------------------------------------------------------- the committed runs
COMMITTED = [e for e in REF.select() if (REF.run_dir(e) / files.MANIFEST).is_file()]


@pytest.mark.skipif(not COMMITTED, reason="no reference run is finished yet")
@pytest.mark.parametrize("key", [e.key for e in COMMITTED])
def test_the_builds_evaluation_of_each_committed_run_agrees_with_its_manifest(key):
    """What each chapter does in the build (deep.reference.evaluate_in_build, other draws than the manifest's), on
    the first 10 evaluation images; a changed model is refused by the same check (decoder bias + 2: a binary-latent
    run's evaluation is noisier, about 1 nat of SE per seed in log p(x) on 10 images, so + 0.5, a change of about
    2 nats there, is not always resolved)."""
    chapter, name = key.split("/")
    try:
        loaded = REF.load(chapter, name, fetch_missing=False)
        REF.data(loaded.entry)
    except (REF.ReferenceNotAvailableError, deep.DatasetNotAvailableError) as why:
        pytest.skip(str(why))
    values = REF.evaluate_in_build(loaded, 10)
    assert set(values) >= {"elbo", "log_px"} and values["elbo"].shape == (len(loaded.entry.run.seeds), 10)
    with torch.no_grad():
        for model in loaded.models:
            model.decoder[-1].bias.add_(2.0)
    with pytest.raises(AssertionError, match=f"reference run {key}: the build's evaluation disagrees"):
        REF.evaluate_in_build(loaded, 10)


@pytest.mark.skipif(not COMMITTED, reason="no reference run is finished yet")
def test_one_flipped_byte_of_a_committed_weight_file_is_refused(tmp_path):
    e = COMMITTED[0]
    for name in (files.MANIFEST, files.WEIGHTS):
        (tmp_path / e.chapter / e.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(REF.run_dir(e) / name, tmp_path / e.chapter / e.name / name)
    path = tmp_path / e.chapter / e.name / files.WEIGHTS
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(REF.ReferenceMismatchError, match=f"reference run {e.key}: .* SHA-256"):
        REF.load(e.chapter, e.name, root=tmp_path, fetch_missing=False)


def test_evaluate_in_build_names_a_bad_number_of_images(trained):
    loaded = REF.load("smoke", "digits", root=trained)
    for bad in (1, 61):
        with pytest.raises(ValueError, match="images"):
            REF.evaluate_in_build(loaded, bad)


def test_the_evaluation_of_binary_latents_agrees_with_exact_enumeration():
    """A deep.BernoulliVAE with 6 binary latents (64 states): the evaluation's ELBO and log p(x) against their exact
    values by enumeration, within the exact Monte Carlo SE of each (per image; the ELBO's SE from Var_q log p(x | z),
    log p(x)'s from the delta method with Var_q(w) exact, its O(1/k) bias added)."""
    spec = deep.ModelSpec.of("BernoulliVAE", 64, 6, hidden_dims=(16,))
    run = deep.Run(spec, deep.DiscreteELBO("disarm"), 1, (0, 1), batch_size=50, binarization="dynamic",
                   test_objective=deep.DiscreteIWELBO(5), train_images=100)  # fmt: skip
    ev = REF.Evaluation(images=20, loglik_samples=2_000, elbo_samples=2_000, seed=5)
    e = catalogue.Entry("smoke", "binary", run, dataset="digits", test_images=100, evaluation=ev)
    models = [m.double() for m in run.initial_models()]  # untrained: q is far from the posterior
    x = REF.data(e)[2].double()
    values = REF.evaluate(e, models, x)
    from helpers.common.densities import bernoulli_log_prob

    states = deep.binary_states(6, dtype=torch.float64)[:, None, :].expand(64, len(x), 6)  # (64, n, 6)
    for r, model in enumerate(models):
        with torch.no_grad():
            logits = model.encode(x)
            log_lik = model.log_likelihood(x, states)  # (64, n)
            log_q = bernoulli_log_prob(states, logits)
            q = log_q.exp()
            log_joint = log_lik + model.log_prior(states)
            exact_log_px = torch.logsumexp(log_joint, 0)
            exact_elbo = (q * log_lik).sum(0) - model.kl(logits)
            elbo_sd = ((q * (log_lik - (q * log_lik).sum(0)) ** 2).sum(0) / ev.elbo_samples).sqrt()
            w_rel = (log_joint - log_q - exact_log_px).exp()  # w / p(x)
            var_rel = (q * w_rel**2).sum(0) - 1  # Var_q(w) / p(x)^2
        z_elbo = (values["elbo"][r] - exact_elbo) / elbo_sd
        sd = (var_rel / ev.loglik_samples).sqrt()
        z_log_px = (values["log_px"][r] - (exact_log_px - var_rel / (2 * ev.loglik_samples))) / sd
        assert z_elbo.abs().max() < 4.5 and z_log_px.abs().max() < 4.5, (z_elbo, z_log_px)
        assert (values["log_px"][r] > values["elbo"][r]).all()  # the bound is loose for an untrained q
