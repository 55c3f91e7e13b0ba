"""deep.train: a resumed run equals an uninterrupted one bit for bit, an interrupt loses at most one epoch,
the objective sees beta, errors are clear."""

from __future__ import annotations

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
    assert_same_run(run(4, checkpoint=path), run(4))


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


def test_bad_arguments_are_named():
    model = small_model()
    kwargs = {"objective": deep.elbo, "epochs": 1, "device": "cpu", "progress": False}
    for bad, match in (
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"binarization": "sometimes"}, "binarization"),
        ({"objective": None}, "objective must be callable"),
    ):
        with pytest.raises(ValueError, match=match):
            deep.train(model, X, **{**kwargs, **bad})
    with pytest.raises(ValueError, match=r"x_train must be in \[0, 1\]"):
        deep.train(model, X * 16, **kwargs)
    with pytest.raises(ValueError, match=r"x_train must have shape \(B, 64\)"):
        deep.train(model, X[:, :10], **kwargs)
    with pytest.raises(ValueError, match="one value per data point"):
        deep.train(model, X, **{**kwargs, "objective": lambda m, x, generator: deep.elbo(m, x).mean()})
