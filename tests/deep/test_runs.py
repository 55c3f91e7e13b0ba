"""deep.Run / deep.train_runs: runs are values; one runner trains a run's seeds stacked; the store keys a run by its
value, its data and the code it depends on, loads an unchanged run instead of training it, and resumes a longer one
bit for bit."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from helpers import deep
from helpers.deep import runs as runs_module

X, _ = deep.load_images("digits", "train", limit=90)
X_TEST, _ = deep.load_images("digits", "test", limit=30)
SPEC = deep.ModelSpec.of("VAE", 64, hidden_dims=[12], latent_dim=3)
RUN = deep.Run(SPEC, deep.ELBO(), epochs=2, seeds=(0, 1, 2), batch_size=30, binarization="dynamic")


def test_a_run_is_a_value():
    assert RUN == deep.Run(deep.ModelSpec.of("VAE", 64, latent_dim=3, hidden_dims=(12,)), deep.ELBO(), 2, (0, 1, 2),
                           batch_size=30, binarization="dynamic")  # fmt: skip
    assert replace(RUN, objective=deep.IWELBO(2)) != RUN
    assert "IWELBO(num_samples=2" in repr(replace(RUN, objective=deep.IWELBO(2)))


def test_seed_s_starts_every_method_from_the_same_weights_and_seeds_differ():
    a = RUN.initial_models()
    b = replace(RUN, objective=deep.IWELBO(5)).initial_models()
    for m, n in zip(a, b):
        for p, q in zip(m.parameters(), n.parameters()):
            assert torch.equal(p, q)
    assert not torch.equal(a[0].decoder[0].weight, a[1].decoder[0].weight)
    state = torch.random.get_rng_state()
    RUN.initial_models()
    assert torch.equal(state, torch.random.get_rng_state())  # the chapter's global RNG is left alone


def test_train_runs_equals_train_replicas_and_the_store_reloads_and_resumes(tmp_path, capsys):
    got = deep.train_runs({"elbo": RUN}, X, x_test=X_TEST)["elbo"]
    models = RUN.initial_models()
    ref = deep.train_replicas(models, X, generators=RUN.generators(), objective=RUN.objective, epochs=2,
                              batch_size=30, binarization="dynamic", x_test=X_TEST, progress=False)  # fmt: skip
    assert [h.train for h in got.histories] == [h.train for h in ref]
    assert got.per_seed(lambda m: m.decoder[0].weight.sum()).shape == (3,)
    assert got.last_gain().shape == (3,)
    # stored, then loaded (no training), then resumed to 4 passes: the same as 4 passes at once
    first = deep.train_runs({"elbo": RUN}, X, x_test=X_TEST, store=tmp_path)["elbo"]
    again = deep.train_runs({"elbo": RUN}, X, x_test=X_TEST, store=tmp_path)["elbo"]
    assert not first.loaded and again.loaded and "nothing to do" in capsys.readouterr().out
    assert [h.test for h in again.histories] == [h.test for h in first.histories]
    for m, n in zip(again.models, first.models):
        for p, q in zip(m.parameters(), n.parameters()):
            assert torch.equal(p, q)
    longer = replace(RUN, epochs=4)
    resumed = deep.train_runs({"elbo": longer}, X, x_test=X_TEST, store=tmp_path / "other")["elbo"]
    whole = deep.train_runs({"elbo": longer}, X, x_test=X_TEST)["elbo"]
    assert [h.train for h in resumed.histories] == [h.train for h in whole.histories]


def test_the_key_changes_with_the_run_the_data_and_the_code(monkeypatch):
    key = deep.run_key(RUN, X, X_TEST)
    assert key == deep.run_key(replace(RUN), X.clone(), X_TEST.clone())
    assert key != deep.run_key(replace(RUN, objective=deep.ELBO(beta=0.5)), X, X_TEST)
    assert key != deep.run_key(replace(RUN, seeds=(0, 1, 3)), X, X_TEST)
    assert key != deep.run_key(RUN, X[:80], X_TEST)
    assert key != deep.run_key(RUN, X, None)
    monkeypatch.setattr(runs_module, "code_fingerprint", lambda: "other code")
    assert key != deep.run_key(RUN, X, X_TEST)


def test_bad_runs_are_named():
    with pytest.raises(ValueError, match="seeds must be distinct"):
        deep.Run(SPEC, deep.ELBO(), 1, (0, 0))
    with pytest.raises(ValueError, match="seeds must be a non-empty tuple"):
        deep.Run(SPEC, deep.ELBO(), 1, [0, 1])
    with pytest.raises(TypeError, match="objective"):
        deep.Run(SPEC, deep.elbo, 1, (0,))
    with pytest.raises(ValueError, match="kind must be one of"):
        deep.ModelSpec.of("GAN", 64)
