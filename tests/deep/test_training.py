"""deep.train, the one loop: a resumed run equals an uninterrupted one bit for bit (also after SIGKILL), an
interrupt loses at most one epoch, a resume under any other setting or from a damaged file is refused naming what
differs, the objective sees beta, divergence names its step, errors are clear, and R replicas trained together
equal R single runs."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
import torch
from _shared import generator

from helpers import deep
from helpers.deep import checkpoints

X, _ = deep.load_images("digits", "train", limit=120)
X_TEST, _ = deep.load_images("digits", "test", limit=40)
#: what the probe objective does at its n-th training step (steps with gradients; evaluation is not counted)
PROBE = {"n": 0, "interrupt_at": None, "nan_from": None, "betas": []}


@dataclass(frozen=True)
class Probe(deep.ELBO):
    """deep.ELBO that counts its training steps, records the beta it is given, and can raise KeyboardInterrupt or
    return non-finite values from a given step on (the module-level PROBE says when)."""

    def value(self, model, x, noise, beta=None):
        out = super().value(model, x, noise, beta)
        if torch.is_grad_enabled():
            PROBE["n"] += 1
            PROBE["betas"].append(beta)
            if PROBE["n"] == PROBE["interrupt_at"]:
                raise KeyboardInterrupt
            if PROBE["nan_from"] is not None and PROBE["n"] >= PROBE["nan_from"]:
                return out * float("inf")
        return out


@pytest.fixture(autouse=True)
def _reset_probe():
    PROBE.update(n=0, interrupt_at=None, nan_from=None, betas=[])


def small_model(seed: int = 0, latent_dim: int = 3) -> deep.VAE:
    torch.manual_seed(seed)
    return deep.VAE(64, (16,), latent_dim)


def run(epochs: int, checkpoint=None, objective=None, seed: int = 5, model=None, **kwargs) -> tuple:
    model = model if model is not None else small_model()
    history = deep.train(
        model,
        X,
        objective=objective or deep.IWELBO(3),
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
    PROBE["interrupt_at"] = 2 * 4 + 2  # 4 steps per epoch (120 images, batch 32): the 2nd step of epoch 3
    with pytest.raises(KeyboardInterrupt):
        run(4, checkpoint=path, objective=Probe())
    assert "interrupted during epoch 3" in capsys.readouterr().err
    assert checkpoints.read_checkpoint(path)["epoch"] == 2
    PROBE["interrupt_at"] = None
    resumed = run(4, checkpoint=path, objective=Probe())
    assert_same_run(resumed, run(4, objective=Probe()))


def test_a_finished_checkpoint_returns_its_history(tmp_path, capsys):
    path = tmp_path / "run.pt"
    _, history = run(2, checkpoint=path)
    _, again = run(2, checkpoint=path)
    assert again.train == history.train
    assert "nothing to do" in capsys.readouterr().out


def test_a_checkpoint_from_another_model_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    run(1, checkpoint=path)
    with pytest.raises(ValueError, match="model.latent_dim: saved 3, now 4"):
        run(2, checkpoint=path, model=small_model(latent_dim=4))


def test_history_records_train_and_test_objectives_and_beta():
    _, history = run(3, objective=Probe(), test_objective=deep.ELBO(), beta_schedule=deep.cyclical_beta(2.0, ratio=0.5))
    seen = PROBE["betas"]
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
    burda = deep.StagedLR()
    assert [burda.stage(e) for e in (0, 1, 3, 4, 12, 13, 3279)] == [0, 1, 1, 2, 2, 3, 7]
    assert burda(4.5) == pytest.approx(10 ** (-2 / 7))
    assert [deep.LinearDecayLR(4.0)(t) for t in (0.0, 1.0, 4.0, 5.0)] == [1.0, 0.75, 0.0, 0.0]
    assert deep.linear_beta(2.0) == deep.LinearBeta(2.0) != deep.LinearBeta(3.0)  # values: equal by their fields


def test_callback_and_progress_bar(capsys):
    calls = []
    run(2, callback=lambda epoch, model, history: calls.append((epoch, len(history))))
    assert calls == [(1, 1), (2, 2)]
    deep.train(small_model(), X, objective=deep.ELBO(), epochs=1, generator=generator(0), device="cpu")
    assert "step" in capsys.readouterr().err  # tqdm writes to stderr


def test_a_diverging_loss_stops_with_the_step_and_a_hint():
    PROBE["nan_from"] = 1
    with pytest.raises(ValueError, match=r"epoch 1, step 1 of 4.*Lower the learning rate"):
        run(1, objective=Probe())
    with pytest.raises(ValueError, match=r"loss is (nan|-?inf) at epoch 1, step \d+ of 4: training diverged"):
        deep.train(
            small_model(),
            X,
            objective=deep.ELBO(),
            epochs=1,
            batch_size=32,
            lr=1e6,
            progress=False,
            generator=generator(5),
        )  # a real divergence: the step size blows the weights up


@pytest.mark.parametrize("check_every", [50, 3])
def test_a_loss_that_turns_non_finite_later_is_located_at_its_step(monkeypatch, check_every):
    """The finiteness check runs every CHECK_EVERY steps and at the end of each epoch, not per step; it must still
    name the first non-finite step."""
    from helpers.deep import loop

    monkeypatch.setattr(loop, "CHECK_EVERY", check_every)
    PROBE["nan_from"] = 4 + 3  # from step 3 of epoch 2 on (4 steps per epoch)
    with pytest.raises(ValueError, match=r"loss is (nan|-?inf) at epoch 2, step 3 of 4.*Lower the learning rate"):
        run(3, objective=Probe(), test_objective=deep.ELBO())


def test_bad_arguments_are_named():
    model = small_model()
    kwargs = {"objective": deep.ELBO(), "epochs": 1, "device": "cpu", "progress": False}
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
        ({"objective": None}, "objective must be an objective value such as deep.ELBO()"),
        ({"objective": deep.elbo}, r"objective must be an objective value .*\(got function elbo\)"),
        ({"beta_schedule": 0.5}, "beta_schedule must be a schedule value"),
        ({"beta_schedule": lambda t: 1.0}, "beta_schedule must be a value"),
        ({"optimizer": lambda p: torch.optim.SGD(p, lr=1e-3)}, "optimizer must be an optimizer value"),
        ({"generator": 0}, "generator must be one torch.Generator"),
        ({"generator": [generator(0), generator(1)]}, "generator must be one torch.Generator"),
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
    with pytest.raises(ValueError, match="beta_schedule needs an objective with a KL weight"):
        deep.train(model, X, **{**kwargs, "objective": deep.IWELBO(2), "beta_schedule": deep.LinearBeta(1.0)})
    with pytest.raises(ValueError, match="either optimizer"):
        deep.train(model, X, **{**kwargs, "lr": 1e-3, "optimizer": deep.Adam()})
    with pytest.raises(ValueError, match="num_samples must be"):
        deep.IWELBO(0)
    with pytest.raises(ValueError, match="kl must be one of"):
        deep.ELBO(kl="exact")
    with pytest.raises(ValueError, match="gradient='path'.*kl='monte-carlo'"):
        deep.ELBO(gradient="path")
    with pytest.raises(ValueError, match="betas must be a pair"):
        deep.Adam(betas=(0.9, 1.0))


def test_numpy_and_float64_images_train_as_float32():
    as_numpy = X.double().numpy()  # numpy's default dtype
    model_np, hist_np = small_model(), None
    hist_np = deep.train(model_np, as_numpy, objective=deep.ELBO(), epochs=1, batch_size=32, device="cpu",
                         generator=generator(3), progress=False, x_test=X_TEST.double())  # fmt: skip
    model_t = small_model()
    hist_t = deep.train(model_t, X, objective=deep.ELBO(), epochs=1, batch_size=32, device="cpu",
                        generator=generator(3), progress=False, x_test=X_TEST)  # fmt: skip
    assert_same_run((model_np, hist_np), (model_t, hist_t))
    assert deep.elbo(model_t, X.double()[:4]).dtype == torch.float32


# ------------------------------------------------------------------------------- resuming under other settings
OTHER_X = X.flip(0)
#: (what changed, the train keywords of the resumed run, the fingerprint field the refusal must name)
CHANGED_SETTINGS = [
    ("batch size", {"batch_size": 16}, "batch_size"),
    ("objective ELBO -> IWELBO", {"objective": deep.IWELBO(5)}, "objective"),
    ("IWELBO K=3 -> K=5", {"objective": deep.IWELBO(5), "_base": "iwelbo3"}, "objective.num_samples"),
    ("IWELBO total -> DReG gradient", {"objective": deep.IWELBO(3, "dreg"), "_base": "iwelbo3"}, "objective.gradient"),
    ("analytic -> Monte Carlo KL", {"objective": deep.ELBO(kl="monte-carlo")}, "objective.kl"),
    ("ELBO draws 1 -> 2", {"objective": deep.ELBO(2)}, "objective.num_samples"),
    ("ELBO beta 1 -> 0.5", {"objective": deep.ELBO(beta=0.5)}, "objective.beta"),
    ("binarization dynamic -> fixed", {"binarization": "fixed"}, "binarization"),
    ("binarization dynamic -> none", {"binarization": None}, "binarization"),
    ("other training images", {"x_train": OTHER_X}, "x_train_hash"),
    ("fewer training images", {"x_train": X[:100]}, "x_train_hash"),
    ("other test images", {"x_test": X_TEST[:20]}, "x_test_hash"),
    ("test set removed", {"x_test": None}, "x_test_hash"),
    ("test objective", {"test_objective": deep.IWELBO(3)}, "test_objective"),
    ("test batch size", {"test_batch_size": 7}, "test_batch_size"),
    ("beta schedule added", {"beta_schedule": deep.linear_beta(2.0)}, "beta_schedule"),
    ("beta schedule warm-up 2 -> 3", {"beta_schedule": deep.linear_beta(3.0), "_base": "linear2"},
     "beta_schedule.warmup_epochs"),
    ("beta schedule linear -> cyclical", {"beta_schedule": deep.cyclical_beta(2.0), "_base": "linear2"},
     "beta_schedule"),
    ("learning rate", {"lr": 1e-2}, "optimizer.lr"),
    ("Adam eps", {"optimizer": deep.Adam(3e-3, eps=1e-4)}, "optimizer.eps"),
    ("Adam betas", {"optimizer": deep.Adam(3e-3, betas=(0.5, 0.999))}, "optimizer.betas"),
    ("learning-rate schedule added", {"optimizer": deep.Adam(3e-3, lr_schedule=deep.StagedLR())},
     "optimizer.lr_schedule"),
    ("model latent dimension", {"model": "latent4"}, "model.latent_dim"),
    ("model likelihood", {"model": "gaussian"}, "model.likelihood"),
    ("single model -> replicas", {"model": "stacked"}, "model.replicas"),
]  # fmt: skip
BASES = {
    "elbo": {"objective": deep.ELBO()},
    "iwelbo3": {"objective": deep.IWELBO(3)},
    "linear2": {"objective": deep.ELBO(), "beta_schedule": deep.linear_beta(2.0)},
}
MODELS = {
    "latent4": lambda: small_model(latent_dim=4),
    "gaussian": lambda: (torch.manual_seed(0), deep.VAE(64, (16,), 3, likelihood="gaussian"))[1],
    "stacked": lambda: deep.stack([small_model()]),
}


def _train(epochs, checkpoint, **kwargs):
    kwargs = {"x_train": X, "x_test": X_TEST, "batch_size": 32, "binarization": "dynamic", **kwargs}
    if "optimizer" not in kwargs:
        kwargs.setdefault("lr", 3e-3)
    x = kwargs.pop("x_train")
    model = MODELS[kwargs.pop("model")]() if "model" in kwargs else small_model()
    gen = generator(5) if model.replicas is None else [generator(5)]
    return deep.train(model, x, epochs=epochs, checkpoint=checkpoint, device="cpu", generator=gen, progress=False,
                      **kwargs)  # fmt: skip


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
    with pytest.raises(ValueError, match=rf"other settings \(.*{key}: (saved|other images).*start afresh") as error:
        _train(2, path, **{**BASES[base], **change})
    assert str(path) in str(error.value)
    assert checkpoints.read_checkpoint(path)["epoch"] == 1  # untouched


def test_the_refusal_table_covers_at_least_twenty_settings():
    assert len(CHANGED_SETTINGS) >= 20
    assert any(key.startswith("objective.") for _, _, key in CHANGED_SETTINGS)
    assert any(key.startswith("beta_schedule") for _, _, key in CHANGED_SETTINGS)


def test_the_refusal_says_what_differs_in_words(one_epoch_checkpoints, tmp_path):
    path = tmp_path / "run.pt"
    for change, words in (
        ({"objective": deep.IWELBO(5)}, "objective: saved 'ELBO', now 'IWELBO'"),
        ({"lr": 1e-2}, "optimizer.lr: saved 0.003, now 0.01"),
        ({"x_train": X[:100]}, "x_train_hash: other images"),
    ):
        path.write_bytes(one_epoch_checkpoints["elbo"].read_bytes())
        with pytest.raises(ValueError) as error:
            _train(2, path, **{**BASES["elbo"], **change})
        assert words in str(error.value)


def test_a_resume_with_more_epochs_and_the_same_settings_is_allowed(one_epoch_checkpoints, tmp_path):
    path = tmp_path / "run.pt"
    path.write_bytes(one_epoch_checkpoints["linear2"].read_bytes())
    history = _train(2, path, **BASES["linear2"])  # a new but equal schedule and objective: the same run
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
        _train(2, path, objective=deep.ELBO())
    assert str(path) in str(error.value)
    assert "from scratch" in str(error.value) or "directory" in str(error.value)


def test_every_flipped_bit_of_a_checkpoint_is_refused(one_epoch_checkpoints, tmp_path):
    """The payload's SHA-256 is in the header: a single flipped bit anywhere (header or payload) is an error, never a
    silently changed weight. 40 bits at random places, plus the first and the last byte."""
    data = bytearray(one_epoch_checkpoints["elbo"].read_bytes())
    rng = torch.Generator().manual_seed(0)
    places = [0, len(data) - 1, *torch.randint(len(data), (40,), generator=rng).tolist()]
    path = tmp_path / "run.pt"
    for place in places:
        flipped = bytearray(data)
        flipped[place] ^= 1 << int(torch.randint(8, (), generator=rng))
        path.write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match="corrupt or not a helpers.deep.train checkpoint"):
            checkpoints.read_checkpoint(path)


def test_a_bad_checkpoint_path_fails_before_the_first_epoch(tmp_path):
    counting = Probe()

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
    assert PROBE["n"] == 0


# ------------------------------------------------------------------------------- SIGKILL during training
#: every kind of model the book trains, single and as R stacked replicas: (model, data, settings) built in a
#: subprocess that is killed, and here again for the resume and the uninterrupted reference
SETUPS = {
    "VAE, single": """
torch.manual_seed(0)
model = deep.VAE(64, (8,), 2)
x, _ = deep.load_images("digits", "train", limit=48)
settings = dict(objective=deep.ELBO(), epochs=6, batch_size=16, lr=3e-3, binarization="dynamic", device="cpu",
                generator=torch.Generator().manual_seed(7), progress=False)
""",
    "IWAE, 2 stacked replicas": """
torch.manual_seed(0)
model = deep.stack([deep.VAE(64, (8,), 2) for _ in range(2)])
x, _ = deep.load_images("digits", "train", limit=48)
settings = dict(objective=deep.IWELBO(3), epochs=6, batch_size=16, lr=3e-3, binarization="dynamic", device="cpu",
                generator=[torch.Generator().manual_seed(7), torch.Generator().manual_seed(8)], progress=False)
""",
    "Bernoulli VAE with DisARM, 2 stacked replicas": """
torch.manual_seed(0)
model = deep.stack([deep.BernoulliVAE(64, 6) for _ in range(2)])
x, _ = deep.load_images("digits", "train", limit=48)
settings = dict(objective=deep.DiscreteELBO("disarm"), epochs=6, batch_size=16, lr=3e-3, binarization="fixed",
                device="cpu", generator=[torch.Generator().manual_seed(7), torch.Generator().manual_seed(8)],
                progress=False)
""",
    "diffusion noise network, single": """
torch.manual_seed(0)
model = deep.diffusion.NoiseMLP(2, 20, hidden=16, depth=2)
x = torch.randn(64, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)  # float64, converted
settings = dict(objective=deep.diffusion.SimpleLoss(deep.diffusion.LinearSchedule(20)), epochs=6, batch_size=16,
                lr=3e-3, device="cpu", generator=torch.Generator().manual_seed(7), progress=False)
""",
}
CHILD = (
    r"""
import sys, time
import torch
from helpers import deep

path, threads, slow = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
torch.set_num_threads(threads)
from helpers.deep import checkpoints
replace = checkpoints.os.replace

def announced_replace(tmp, path):  # says when a checkpoint write starts; slow: half a file for a while
    print("writing", flush=True)
    if slow:
        data = open(tmp, "rb").read()
        open(tmp, "wb").write(data[: len(data) // 2])  # half a temporary file on disk while the kill may land
        time.sleep(0.2)
        open(tmp, "wb").write(data)
    replace(tmp, path)
    time.sleep(0.1)  # every epoch lasts >= 0.1 s: the run cannot end before the kill (at most 0.3 s later)

checkpoints.os.replace = announced_replace
"""
    + """
exec(open(sys.argv[4]).read())
deep.train(model, x, checkpoint=path, **settings)
"""
)


@pytest.mark.parametrize("kind", SETUPS)
def test_training_killed_at_random_points_resumes_bit_identically(kind, tmp_path):
    """Two training processes killed with SIGKILL (one in the middle of a checkpoint write, with half a temporary
    file on disk; one at a random time after a write began), then a resume here: the same parameters and History
    as an uninterrupted run, bit for bit; for every kind of model the book trains, single and stacked."""
    import random
    import subprocess
    import sys
    import time

    from _shared import ROOT

    script, path, setup = tmp_path / "child.py", tmp_path / "run.pt", tmp_path / "setup.py"
    script.write_text(CHILD)
    setup.write_text(SETUPS[kind])
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    rng = random.Random(0)
    for slow, writes, delay in (("1", rng.randint(1, 2), rng.uniform(0.0, 0.15)), ("0", 1, rng.uniform(0.0, 0.3))):
        args = [sys.executable, script, path, torch.get_num_threads(), slow, setup]
        proc = subprocess.Popen([str(a) for a in args], env=env, stdout=subprocess.PIPE, text=True)
        try:
            for _ in range(writes):
                assert proc.stdout.readline().strip() == "writing"
            time.sleep(delay)
        finally:
            proc.kill()  # SIGKILL
            proc.wait(timeout=30)
        assert proc.returncode == -9
    assert checkpoints.read_checkpoint(path)["epoch"] < 6  # the run was cut short

    def fresh():
        namespace = {"torch": torch, "deep": deep}
        exec(SETUPS[kind], namespace)
        return namespace["model"], namespace["x"], namespace["settings"]

    model, x, settings = fresh()
    resumed = deep.train(model, x, checkpoint=path, **settings)
    model_ref, x, settings = fresh()
    reference = deep.train(model_ref, x, **settings)
    for (name, value), ref in zip(model.state_dict().items(), model_ref.state_dict().values()):
        assert torch.equal(value, ref), name
    resumed = resumed if isinstance(resumed, list) else [resumed]
    reference = reference if isinstance(reference, list) else [reference]
    for got_history, want_history in zip(resumed, reference, strict=True):
        for field in ("epoch", "train", "test", "beta"):
            got, want = torch.tensor(getattr(got_history, field)), torch.tensor(getattr(want_history, field))
            torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True, msg=field)


# ------------------------------------------------------------------------------- R replicas trained together
REPLICA_CASES = {
    "bernoulli, ELBO, dynamic": ({}, {"objective": deep.ELBO(), "binarization": "dynamic"}),
    "bernoulli unfused, MC KL, K=2, fixed": (
        {"fused_likelihood": False}, {"objective": deep.ELBO(2, "monte-carlo"), "binarization": "fixed"}),
    "separate relu sigmoid, IWELBO K=4": (
        {"encoder": "separate", "activation": "relu", "scale_activation": "sigmoid"},
        {"objective": deep.IWELBO(4), "binarization": "dynamic", "test_objective": deep.IWELBO(2)}),
    "gaussian, beta schedule": (
        {"likelihood": "gaussian", "sigma": 0.3}, {"objective": deep.ELBO(), "beta_schedule": deep.linear_beta(1.5)}),
    "gaussian-learned, softplus, Adam eps, staged lr": (
        {"likelihood": "gaussian-learned", "min_log_var": -3.0, "scale_activation": "softplus"},
        {"objective": deep.ELBO(beta=0.5), "optimizer": deep.Adam(2e-3, eps=1e-4, lr_schedule=deep.StagedLR())}),
    "STL IWELBO": ({}, {"objective": deep.IWELBO(3, "path")}),
    "DReG IWELBO, no test set": ({}, {"objective": deep.IWELBO(3, "dreg"), "x_test": None}),
    "STL ELBO": ({}, {"objective": deep.ELBO(kl="monte-carlo", gradient="path")}),
}  # fmt: skip


@pytest.mark.parametrize("config, kwargs", REPLICA_CASES.values(), ids=list(REPLICA_CASES))
def test_replicas_trained_together_equal_single_runs(config, kwargs):
    """R = 3 replicas in one stacked model against R single models trained one after the other with the same
    generators: the same draws, so the same run up to float32 rounding (the batched and the plain matrix products,
    and the vectorized Adam over tensors of other lengths, may round the last bit differently; measured <= 1e-6);
    far below the spread between seeds (checked too)."""
    seeds = (21, 22, 23)
    x = X[:90]
    kw = {"epochs": 2, "batch_size": 20, "lr": 3e-3, "progress": False, "x_test": X_TEST[:30], **kwargs}
    if "optimizer" in kw:
        kw.pop("lr")
    out = []
    for stack in (True, False):
        models = []
        for s in seeds:
            torch.manual_seed(s)
            models.append(deep.VAE(64, (12,), 3, **config))
        gens = [torch.Generator().manual_seed(100 + s) for s in seeds]
        out.append((models, deep.train_replicas(models, x, generators=gens, stack=stack, **kw)))
    (stacked, h_stacked), (single, h_single) = out
    for m, m_ref, h, h_ref in zip(stacked, single, h_stacked, h_single):
        assert type(m) is deep.VAE and m.replicas is None
        assert h.epoch == h_ref.epoch == [1, 2]
        assert h.train == pytest.approx(h_ref.train, rel=1e-5)
        assert h.test == pytest.approx(h_ref.test, rel=1e-5, nan_ok=True)
        for (name, p), q in zip(m.named_parameters(), m_ref.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5, msg=name)
    finals = [h.train[-1] for h in h_stacked]
    assert len(set(finals)) == len(finals)  # independent replicas, not copies
    spread = max(finals) - min(finals)
    assert max(abs(a - b) for a, b in zip(finals, (h.train[-1] for h in h_single))) < 1e-3 * spread


def test_a_replicated_run_resumes_bitwise_and_names_the_replica_that_diverges(tmp_path):
    def models():
        out = []
        for s in (1, 2):
            torch.manual_seed(s)
            out.append(deep.VAE(64, (12,), 3))
        return deep.stack(out)

    kw = {"objective": deep.IWELBO(2), "batch_size": 30, "lr": 3e-3, "progress": False, "x_test": X_TEST}
    whole = models()
    h_whole = deep.train(whole, X, epochs=3, generator=[generator(1), generator(2)], **kw)
    path = tmp_path / "r.pt"
    deep.train(models(), X, epochs=1, checkpoint=path, generator=[generator(1), generator(2)], **kw)
    resumed = models()
    h_resumed = deep.train(resumed, X, epochs=3, checkpoint=path, generator=[generator(8), generator(9)], **kw)
    assert [h.train for h in h_resumed] == [h.train for h in h_whole]
    for p, q in zip(resumed.parameters(), whole.parameters()):
        assert torch.equal(p, q)
    broken = models()
    with torch.no_grad():
        broken.decoder[-1].weight[1].fill_(float("nan"))  # replica 1 only
    with pytest.raises(ValueError, match="loss of replica 1 is nan at epoch 1, step 1"):
        deep.train(broken, X, epochs=1, generator=[generator(1), generator(2)], **kw)


def test_stack_and_unstack_round_trip():
    torch.manual_seed(0)
    models = [deep.VAE(64, (12,), 3, likelihood="gaussian-learned") for _ in range(3)]
    stacked = deep.stack(models)
    assert stacked.replicas == 3 and stacked.decoder[0].weight.shape == (3, 12, 3)
    for m, back in zip(models, deep.unstack(stacked)):
        assert back.replicas is None
        for p, q in zip(m.state_dict().values(), back.state_dict().values()):
            assert torch.equal(p, q)
    with pytest.raises(ValueError, match="one configuration"):
        deep.stack([models[0], deep.VAE(64, (12,), 4)])


def test_train_replicas_match_independent_train_runs():
    """Each replica is the run train() makes with that replica's generator (the sequential reference)."""
    x = torch.rand(60, 16, generator=torch.Generator().manual_seed(3))
    kw = dict(objective=deep.ELBO(), epochs=2, batch_size=20, progress=False, binarization="dynamic")
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
