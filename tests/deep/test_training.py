"""deep.train: a resumed run equals an uninterrupted one bit for bit, an interrupt loses at most one epoch,
the objective sees beta, errors are clear."""

from __future__ import annotations

import os
from functools import partial

import pytest
import torch
from _shared import generator

from helpers import deep

X, _ = deep.load_images("digits", "train", limit=120)
X_TEST, _ = deep.load_images("digits", "test", limit=40)


def small_model(seed: int = 0, latent_dim: int = 3) -> deep.VAE:
    torch.manual_seed(seed)
    return deep.VAE(64, (16,), latent_dim)


def run(epochs: int, checkpoint=None, objective=None, seed: int = 5, model=None, **kwargs) -> tuple:
    model = model if model is not None else small_model()
    history = deep.train(
        model,
        X,
        objective=objective or partial(deep.iwelbo, num_samples=3),
        epochs=epochs,
        batch_size=32,
        lr=3e-3,
        x_test=X_TEST,
        binarization="dynamic",
        checkpoint=checkpoint,
        device="cpu",
        generator=generator(seed),
        progress=False,
        **kwargs,
    )
    return model, history


def assert_same_run(a: tuple, b: tuple) -> None:
    (model_a, hist_a), (model_b, hist_b) = a, b
    for (name, p), q in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(p, q), f"parameter {name} differs"
    assert hist_a.epoch == hist_b.epoch
    assert hist_a.train == hist_b.train
    assert hist_a.test == hist_b.test


def test_a_resumed_run_is_bitwise_the_uninterrupted_run(tmp_path):
    path = tmp_path / "run.pt"
    uninterrupted = run(4)
    first, history = run(2, checkpoint=path)
    assert len(history) == 2 and path.exists()
    # a fresh model and a generator with ANOTHER seed: both are restored from the checkpoint
    resumed = run(4, checkpoint=path, seed=123, model=small_model(seed=9))
    assert_same_run(resumed, uninterrupted)
    assert resumed[1].test[-1] > resumed[1].test[0]  # and it learns


def test_an_interrupt_mid_epoch_loses_at_most_that_epoch(tmp_path, capsys):
    path = tmp_path / "run.pt"
    calls = {"n": 0}

    def interrupted(model, x, generator):
        calls["n"] += 1
        if calls["n"] == 2 * 4 + 2:  # 4 steps per epoch (120 images, batch 32): the 2nd step of epoch 3
            raise KeyboardInterrupt
        return deep.iwelbo(model, x, 3, generator=generator)

    with pytest.raises(KeyboardInterrupt):
        run(4, checkpoint=path, objective=interrupted, test_objective=partial(deep.iwelbo, num_samples=3))
    assert "interrupted during epoch 3" in capsys.readouterr().err
    assert torch.load(path, weights_only=True)["epoch"] == 2
    # resumed with the same objective (its counter is past the interrupt now): the checkpoint's fingerprint matches
    resumed = run(4, checkpoint=path, objective=interrupted, test_objective=partial(deep.iwelbo, num_samples=3))
    assert_same_run(resumed, run(4))


def test_a_finished_checkpoint_returns_its_history(tmp_path, capsys):
    path = tmp_path / "run.pt"
    _, history = run(2, checkpoint=path)
    _, again = run(2, checkpoint=path)
    assert again.train == history.train
    assert "nothing to do" in capsys.readouterr().out


def test_a_checkpoint_from_another_model_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    run(1, checkpoint=path)
    with pytest.raises(ValueError, match="different model"):
        run(2, checkpoint=path, model=small_model(latent_dim=4))


def test_history_records_train_and_test_objectives_and_beta():
    seen = []

    def objective(model, x, generator, beta):
        seen.append(beta)
        return deep.elbo(model, x, kl="analytic", beta=beta, generator=generator)

    _, history = run(3, objective=objective, test_objective=deep.elbo, beta_schedule=deep.cyclical_beta(2.0, ratio=0.5))
    assert history.epoch == [1, 2, 3]
    assert all(len(v) == 3 for v in history.as_dict().values())
    assert all(torch.isfinite(torch.tensor(history.test)))
    assert seen[0] == 0.0 and max(seen) == 1.0  # rises from 0, saturates at 1, then restarts
    assert seen[4 * 2] == 0.0  # epoch 2 starts a new cycle
    assert history.beta[0] == seen[3]


def test_beta_schedules():
    cyc = deep.cyclical_beta(4.0, ratio=0.5)
    assert [cyc(t) for t in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)] == [0.0, 0.5, 1.0, 1.0, 0.0, 0.5]
    lin = deep.linear_beta(10.0)
    assert [lin(t) for t in (0.0, 5.0, 20.0)] == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="ratio"):
        deep.cyclical_beta(4.0, ratio=0.0)


def test_callback_and_progress_bar(capsys):
    calls = []
    run(2, callback=lambda epoch, model, history: calls.append((epoch, len(history))))
    assert calls == [(1, 1), (2, 2)]
    deep.train(small_model(), X, objective=deep.elbo, epochs=1, generator=generator(0), device="cpu")
    assert "step" in capsys.readouterr().err  # tqdm writes to stderr


def test_a_diverging_loss_stops_with_the_step_and_a_hint():
    def nan_objective(model, x, generator):
        return deep.elbo(model, x, generator=generator) * float("nan")

    with pytest.raises(ValueError, match=r"epoch 1, step 1 of 4.*Lower the learning rate"):
        run(1, objective=nan_objective)


@pytest.mark.parametrize("check_every", [50, 3])
def test_a_loss_that_turns_non_finite_later_is_located_at_its_step(monkeypatch, check_every):
    """The finiteness check runs every CHECK_EVERY steps and at the end of each epoch, not per step; it must still
    name the first non-finite step."""
    from helpers.deep import training

    monkeypatch.setattr(training, "CHECK_EVERY", check_every)
    calls = {"n": 0}

    def late_nan(model, x, generator):
        calls["n"] += 1
        value = deep.elbo(model, x, generator=generator)
        return value * float("inf") if calls["n"] >= 4 + 3 else value  # from step 3 of epoch 2 on (4 steps/epoch)

    with pytest.raises(ValueError, match=r"loss is (nan|-?inf) at epoch 2, step 3 of 4.*Lower the learning rate"):
        run(3, objective=late_nan, test_objective=deep.elbo)


def test_bad_arguments_are_named():
    model = small_model()
    kwargs = {"objective": deep.elbo, "epochs": 1, "device": "cpu", "progress": False}
    for bad, match in (
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"binarization": "sometimes"}, "binarization"),
        ({"device": "gpu"}, "device"),
    ):
        with pytest.raises(ValueError, match=match):
            deep.train(model, X, **{**kwargs, **bad})
    for bad, match in (
        ({"objective": None}, "objective must be callable"),
        ({"beta_schedule": 0.5}, "beta_schedule must be callable"),
        ({"generator": 0}, "generator must be a torch.Generator"),
        ({"progress": "no"}, "progress must be True or False"),
        ({"device": 0}, "device must be a str"),
        ({"checkpoint": 3}, "checkpoint must be a str or Path"),
    ):
        with pytest.raises(TypeError, match=match):
            deep.train(model, X, **{**kwargs, **bad})
    with pytest.raises(TypeError, match="x_train must be a torch.Tensor or a numpy array"):
        deep.train(model, X.tolist(), **kwargs)
    for empty, name in ((X[:0], "x_train"), (X_TEST[:0], "x_test")):
        with pytest.raises(ValueError, match=f"{name} must hold at least one image"):
            deep.train(model, X if name == "x_test" else empty, x_test=empty if name == "x_test" else None, **kwargs)
    with pytest.raises(ValueError, match=r"x_train must be in \[0, 1\]"):
        deep.train(model, X * 16, **kwargs)
    with pytest.raises(ValueError, match=r"x_train must have shape \(B, 64\)"):
        deep.train(model, X[:, :10], **kwargs)
    with pytest.raises(ValueError, match="one value per data point"):
        deep.train(model, X, **{**kwargs, "objective": lambda m, x, generator: deep.elbo(m, x).mean()})


def test_numpy_and_float64_images_train_as_float32():
    as_numpy = X.double().numpy()  # numpy's default dtype
    model_np, hist_np = small_model(), None
    hist_np = deep.train(model_np, as_numpy, objective=deep.elbo, epochs=1, batch_size=32, device="cpu",
                         generator=generator(3), progress=False, x_test=X_TEST.double())  # fmt: skip
    model_t = small_model()
    hist_t = deep.train(model_t, X, objective=deep.elbo, epochs=1, batch_size=32, device="cpu",
                        generator=generator(3), progress=False, x_test=X_TEST)  # fmt: skip
    assert_same_run((model_np, hist_np), (model_t, hist_t))
    assert deep.elbo(model_t, X.double()[:4]).dtype == torch.float32


# ------------------------------------------------------------------------------- resuming under other settings
OTHER_X = X.flip(0)
#: (what changed, the train keywords of the resumed run, the fingerprint key the refusal must name)
CHANGED_SETTINGS = [
    ("batch size", {"batch_size": 16}, "batch_size"),
    ("objective ELBO -> IWELBO", {"objective": partial(deep.iwelbo, num_samples=5)}, "objective"),
    ("IWELBO K=3 -> K=5", {"objective": partial(deep.iwelbo, num_samples=5), "_base": "iwelbo3"}, "objective"),
    ("analytic -> Monte Carlo KL", {"objective": partial(deep.elbo, kl="monte-carlo")}, "objective"),
    ("binarization dynamic -> fixed", {"binarization": "fixed"}, "binarization"),
    ("binarization dynamic -> none", {"binarization": None}, "binarization"),
    ("other training images", {"x_train": OTHER_X}, "x_train_hash"),
    ("fewer training images", {"x_train": X[:100]}, "x_train_hash"),
    ("other test images", {"x_test": X_TEST[:20]}, "x_test_hash"),
    ("test set removed", {"x_test": None}, "x_test_hash"),
    ("test objective", {"test_objective": partial(deep.iwelbo, num_samples=3)}, "test_objective"),
    ("test batch size", {"test_batch_size": 7}, "test_batch_size"),
    ("beta schedule added", {"beta_schedule": deep.linear_beta(2.0)}, "beta_schedule"),
    ("beta schedule warm-up 2 -> 3", {"beta_schedule": deep.linear_beta(3.0), "_base": "linear2"}, "beta_schedule"),
    ("learning rate", {"lr": 1e-2}, "optimizer"),
    ("optimizer Adam -> SGD", {"optimizer": lambda p: torch.optim.SGD(p, lr=1e-3)}, "optimizer"),
]
BASES = {
    "elbo": {"objective": deep.elbo},
    "iwelbo3": {"objective": partial(deep.iwelbo, num_samples=3)},
    "linear2": {"objective": deep.elbo, "beta_schedule": deep.linear_beta(2.0)},
}


def _train(epochs, checkpoint, **kwargs):
    kwargs = {"x_train": X, "x_test": X_TEST, "batch_size": 32, "lr": 3e-3, "binarization": "dynamic", **kwargs}
    x = kwargs.pop("x_train")
    return deep.train(small_model(), x, epochs=epochs, checkpoint=checkpoint, device="cpu", generator=generator(5),
                      progress=False, **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def one_epoch_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("fingerprints")
    paths = {}
    for name, kwargs in BASES.items():
        paths[name] = root / f"{name}.pt"
        _train(1, paths[name], **kwargs)
    return paths


@pytest.mark.parametrize("what, change, key", CHANGED_SETTINGS, ids=[c[0] for c in CHANGED_SETTINGS])
def test_a_resume_under_another_setting_is_refused(what, change, key, one_epoch_checkpoints, tmp_path):
    change = dict(change)
    base = change.pop("_base", "elbo")
    path = tmp_path / "run.pt"
    path.write_bytes(one_epoch_checkpoints[base].read_bytes())
    with pytest.raises(ValueError, match=rf"other settings \(.*{key}: .*start afresh") as error:
        _train(2, path, **{**BASES[base], **change})
    assert str(path) in str(error.value)
    assert torch.load(path, weights_only=True)["epoch"] == 1  # untouched


def test_the_refusal_says_what_differs_in_words(one_epoch_checkpoints, tmp_path):
    path = tmp_path / "run.pt"
    for change, words in (
        (
            {"objective": partial(deep.iwelbo, num_samples=5)},
            "objective: saved elbo, now partial(iwelbo, num_samples=5)",
        ),
        ({"lr": 1e-2}, "optimizer: lr saved 0.003, now 0.01"),
        ({"x_train": X[:100]}, "x_train_hash: other images"),
    ):
        path.write_bytes(one_epoch_checkpoints["elbo"].read_bytes())
        with pytest.raises(ValueError) as error:
            _train(2, path, **{**BASES["elbo"], **change})
        assert words in str(error.value)


def test_a_resume_with_more_epochs_and_the_same_settings_is_allowed(one_epoch_checkpoints, tmp_path):
    path = tmp_path / "run.pt"
    path.write_bytes(one_epoch_checkpoints["linear2"].read_bytes())
    history = _train(2, path, **BASES["linear2"])  # a new but equal schedule and partial: the same run
    assert history.epoch == [1, 2]


# ------------------------------------------------------------------------------- unusable checkpoint files
def _not_a_checkpoint(path):
    torch.save([1, 2, 3], path)


CORRUPT = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated": None,  # the first half of a real checkpoint
    "text": lambda p: p.write_text("not a checkpoint\n"),
    "another pickle": _not_a_checkpoint,
    "a directory": lambda p: p.mkdir(),
}


@pytest.mark.parametrize("kind", CORRUPT)
def test_a_corrupt_checkpoint_says_so_and_names_the_file(kind, one_epoch_checkpoints, tmp_path):
    path = tmp_path / "run.pt"
    if kind == "truncated":
        data = one_epoch_checkpoints["elbo"].read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        CORRUPT[kind](path)
    match = "is a directory" if kind == "a directory" else "is corrupt or not a helpers.deep.train checkpoint"
    with pytest.raises(ValueError, match=match) as error:
        _train(2, path, objective=deep.elbo)
    assert str(path) in str(error.value)
    assert "from scratch" in str(error.value) or "directory" in str(error.value)


def test_a_bad_checkpoint_path_fails_before_the_first_epoch(tmp_path):
    calls = []

    def counting(model, x, generator):
        calls.append(1)
        return deep.elbo(model, x, generator=generator)

    with pytest.raises(ValueError, match="does not exist"):
        _train(1, tmp_path / "missing" / "run.pt", objective=counting)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="does not exist"):
        _train(1, tmp_path / "file" / "run.pt", objective=counting)
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        if not os.access(read_only, os.W_OK):  # root may write anywhere
            with pytest.raises(ValueError, match="cannot be written"):
                _train(1, read_only / "run.pt", objective=counting)
    finally:
        read_only.chmod(0o700)
    assert calls == []


# ------------------------------------------------------------------------------- SIGKILL during training
SETUP = """
torch.manual_seed(0)
model = deep.VAE(64, (8,), 2)
x, _ = deep.load_images("digits", "train", limit=48)
settings = dict(objective=deep.elbo, epochs=6, batch_size=16, lr=3e-3, binarization="dynamic", device="cpu",
                generator=torch.Generator().manual_seed(7), progress=False)
"""
CHILD = (
    r"""
import sys, time
import torch
from helpers import deep

path, threads, slow = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
torch.set_num_threads(threads)
save = torch.save

def announced_save(obj, f, *args, **kwargs):  # says when a checkpoint write starts; slow: half a file for a while
    if isinstance(obj, dict) and "fingerprint" in obj:
        print("writing", flush=True)
        if slow:
            save(obj, f, *args, **kwargs)
            f.flush()
            f.truncate(f.tell() // 2)  # half a temporary file on disk while the kill may land
            time.sleep(0.2)
            f.seek(0)
            f.truncate()
    save(obj, f, *args, **kwargs)
    if isinstance(obj, dict) and "fingerprint" in obj:
        time.sleep(0.1)  # every epoch lasts >= 0.1 s: the run cannot end before the kill (at most 0.3 s later)

torch.save = announced_save
"""
    + SETUP
    + """
deep.train(model, x, checkpoint=path, **settings)
"""
)


def test_training_killed_at_random_points_resumes_bit_identically(tmp_path):
    """Two training processes killed with SIGKILL (one in the middle of a checkpoint write, with half a temporary
    file on disk; one at a random time after a write began), then a resume here: the same parameters and History
    as an uninterrupted run, bit for bit."""
    import random
    import subprocess
    import sys
    import time

    from _shared import ROOT

    script, path = tmp_path / "child.py", tmp_path / "run.pt"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    rng = random.Random(0)
    for slow, writes, delay in (("1", rng.randint(1, 2), rng.uniform(0.0, 0.15)), ("0", 1, rng.uniform(0.0, 0.3))):
        proc = subprocess.Popen([sys.executable, str(script), str(path), str(torch.get_num_threads()), slow],
                                env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            for _ in range(writes):
                assert proc.stdout.readline().strip() == "writing"
            time.sleep(delay)
        finally:
            proc.kill()  # SIGKILL
            proc.wait(timeout=30)
        assert proc.returncode == -9
    assert torch.load(path, weights_only=True)["epoch"] < 6  # the run was cut short

    def fresh():
        namespace = {"torch": torch, "deep": deep}
        exec(SETUP, namespace)
        return namespace["model"], namespace["x"], namespace["settings"]

    model, x, settings = fresh()
    resumed = deep.train(model, x, checkpoint=path, **settings)
    model_ref, x, settings = fresh()
    reference = deep.train(model_ref, x, **settings)
    for (name, value), ref in zip(model.state_dict().items(), model_ref.state_dict().values()):
        assert torch.equal(value, ref), name
    for field in ("epoch", "train", "test", "beta"):
        got, want = torch.tensor(getattr(resumed, field)), torch.tensor(getattr(reference, field))
        torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True, msg=field)


def test_train_replicas_match_independent_train_runs():
    """Each replica is the run train() makes with that replica's generator (the sequential reference)."""
    x = torch.rand(60, 16, generator=torch.Generator().manual_seed(3))
    kw = dict(objective=deep.elbo, epochs=2, batch_size=20, progress=False, binarization="dynamic")
    seeds = [11, 12]
    ref_models = []
    for s in seeds:
        torch.manual_seed(s)
        ref_models.append(deep.VAE(16, (8,), 2))
    ref = [deep.train(m, x, generator=torch.Generator().manual_seed(s), **kw) for m, s in zip(ref_models, seeds)]
    models = []
    for s in seeds:
        torch.manual_seed(s)
        models.append(deep.VAE(16, (8,), 2))
    got = deep.train_replicas(models, x, generators=[torch.Generator().manual_seed(s) for s in seeds], **kw)
    assert len(got) == 2
    for h, h_ref, m, m_ref in zip(got, ref, models, ref_models):
        assert h.train == pytest.approx(h_ref.train, rel=1e-5)
        for p, q in zip(m.parameters(), m_ref.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)
    assert got[0].train != got[1].train  # the replicas are independent runs
