"""helpers.deep.discrete_objectives: DiscreteELBO (every estimator) and DiscreteIWELBO as values trained by deep.train.

* the gradient of the objective at given noise is the estimator's hand formula at the same noise (pushed through
  the encoder), plus the closed-form KL's;
* a stacked model (R = 3) trained by deep.train equals the three single runs up to float32 rounding, for every
  estimator (measured: the Histories agree to ~5e-8 relative, the weights to ~5e-7 absolute but for one weight of
  the enumerated model, ~6e-5: Adam turns a rounding-level difference of a near-zero gradient into a fraction of a
  step; the tolerances below have a margin over that and are far below the seed-to-seed spread, checked too);
* a run interrupted mid-epoch and resumed from its checkpoint is bitwise the uninterrupted run;
* a resume with another objective field is refused, naming it.
"""

from __future__ import annotations

import math

import pytest
import torch
from _shared import generator

from helpers import deep
from helpers.deep.discrete_estimators import ESTIMATORS

DT = torch.float64
X, _ = deep.load_images("digits", "train", limit=120)
X_TEST, _ = deep.load_images("digits", "test", limit=40)
SEEDS = (31, 32, 33)
OBJECTIVES = {
    "exact": deep.DiscreteELBO("exact"),
    "reinforce": deep.DiscreteELBO("reinforce", 2),
    "leave-one-out": deep.DiscreteELBO("leave-one-out", 2),
    "nvil": deep.DiscreteELBO("nvil", 2),
    "gumbel": deep.DiscreteELBO("gumbel", 2, 0.5),
    "st-gumbel": deep.DiscreteELBO("st-gumbel", 2, 0.5),
    "arm": deep.DiscreteELBO("arm"),
    "disarm": deep.DiscreteELBO("disarm", 2),
}


def _model(seed: int, dtype=torch.float32) -> deep.BernoulliVAE:
    torch.manual_seed(seed)
    return deep.BernoulliVAE(64, 6, (10,), baseline_hidden=4).to(dtype)


def _settings(objective) -> dict:
    return {"objective": objective, "epochs": 2, "batch_size": 20, "lr": 3e-3, "binarization": "dynamic",
            "x_test": X_TEST, "test_objective": deep.DiscreteIWELBO(4), "progress": False}  # fmt: skip


def _generators():
    return [generator(100 + s) for s in SEEDS]


# ------------------------------------------------------------------------------------------ values and gradients
def test_objectives_are_values_and_the_fields_are_checked():
    assert deep.DiscreteELBO("arm") == deep.DiscreteELBO("arm", 1, 1.0) != deep.DiscreteELBO("disarm")
    want = "DiscreteELBO(estimator='gumbel', num_samples=2, temperature=0.5)"
    assert repr(deep.DiscreteELBO("gumbel", 2, 0.5)) == want
    assert deep.DiscreteIWELBO(5) == deep.DiscreteIWELBO(5.0) and hash(deep.DiscreteIWELBO(5))
    assert set(OBJECTIVES) == set(ESTIMATORS)
    with pytest.raises(ValueError, match="temperature"):
        deep.DiscreteELBO("nvil", 2, 0.5)  # a field that would change nothing is refused, so equal runs are equal
    with pytest.raises(TypeError, match="BernoulliVAE"):
        deep.train(deep.VAE(64, (5,), 2), X, objective=deep.DiscreteELBO("arm"), epochs=1, progress=False)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_the_gradient_at_given_noise_is_the_hand_formula_pushed_through_the_encoder(name):
    objective = OBJECTIVES[name]
    model = _model(1, DT)
    x = deep.fixed_binarization(X[:8].double(), seed=0)
    noise = objective.draw(model, x, generator(2))
    encoder = list(model.encoder.parameters())
    value = objective.value(model, x, noise)
    got = torch.autograd.grad(value.sum(), encoder)
    alpha = model.encode(x)
    with torch.no_grad():
        a, f, p = alpha.detach(), (lambda z: model.log_likelihood(x, z)), torch.sigmoid(alpha.detach())
        S = objective.num_samples
        if name == "exact":
            states = deep.binary_states(6, dtype=DT)[:, None, :]  # (64, 1, n)
            q = torch.distributions.Bernoulli(logits=a).log_prob(states).sum(-1).exp()
            hand = ((q * f(states))[..., None] * (states - p)).sum(0)
        elif name in ("reinforce", "leave-one-out", "nvil"):
            z = (noise < p).to(DT)
            fz = f(z)
            b = {"reinforce": 0.0, "leave-one-out": (fz.sum(0) - fz) / (S - 1)}.get(name)
            if name == "nvil":
                per_image = fz.mean(0)
                b = model.baseline_value(x) + (per_image.sum() - per_image) / (len(x) - 1)
            hand = ((fz - b)[..., None] * (z - p)).mean(0)
        elif name in ("arm", "disarm"):
            hand = getattr(deep, f"{name}_gradient")(f, a, S, generator=generator(2))  # replays the same u
        else:
            logistic = torch.log(noise) - torch.log1p(-noise)
            relaxed = torch.sigmoid((a + logistic) / objective.temperature)
            at = relaxed if name == "gumbel" else (a + logistic > 0).to(DT)
            with torch.enable_grad():
                leaf = at.clone().requires_grad_(True)
                (df,) = torch.autograd.grad(f(leaf).sum(), leaf)
            hand = (df * relaxed * (1 - relaxed) / objective.temperature).mean(0)
    leaf = alpha.detach().clone().requires_grad_(True)
    (kl_grad,) = torch.autograd.grad(model.kl(leaf).sum(), leaf)
    want = torch.autograd.grad(alpha, encoder, grad_outputs=hand - kl_grad)
    for g_obj, g_hand in zip(got, want):
        torch.testing.assert_close(g_obj, g_hand)


def test_a_replicated_model_evaluates_each_replica_on_its_own_noise():
    models = [_model(s, DT) for s in SEEDS]
    stacked = deep.stack(models)
    x = torch.stack([deep.fixed_binarization(X[8 * r : 8 * r + 8].double(), seed=r) for r in range(3)])
    for objective in [*OBJECTIVES.values(), deep.DiscreteIWELBO(5)]:
        noise = [objective.draw(m, x[r], generator(r)) for r, m in enumerate(models)]
        stacked_noise = noise[0] if noise[0] == () else torch.stack(noise)
        with torch.no_grad():
            together = objective.value(stacked, x, stacked_noise)
            for r, m in enumerate(models):
                torch.testing.assert_close(together[r], objective.value(m, x[r], noise[r]))


def test_the_iwelbo_is_a_test_objective_and_bounds_the_exact_elbo_from_above_on_average():
    model = _model(3, DT)
    x = deep.fixed_binarization(X[:10].double(), seed=0)
    with pytest.raises(RuntimeError, match="test_objective"):
        deep.DiscreteIWELBO(3)(model, x)
    with torch.no_grad():
        elbo = deep.DiscreteELBO("exact")(model, x)
        draws = torch.stack([deep.DiscreteIWELBO(20)(model, x, generator=generator(i)) for i in range(200)])
    mean, se = draws.mean(0), draws.std(0) / math.sqrt(len(draws))
    assert ((mean - elbo) / se).min() > 0  # L_20 >= L_1 = the ELBO (Burda et al., Theorem 1), strictly here


# ------------------------------------------------------------------------------------------ training
@pytest.mark.parametrize("name", ESTIMATORS)
def test_stacked_training_equals_the_single_runs(name):
    settings = _settings(OBJECTIVES[name])
    singles = [_model(s) for s in SEEDS]
    histories = [deep.train(m, X, generator=g, **settings) for m, g in zip(singles, _generators())]
    replicas = [_model(s) for s in SEEDS]
    stacked_histories = deep.train_replicas(replicas, X, generators=_generators(), **settings)
    for h, hs in zip(histories, stacked_histories):
        assert h.epoch == hs.epoch == [1, 2]
        assert h.train == pytest.approx(hs.train, rel=1e-5)
        assert h.test == pytest.approx(hs.test, rel=1e-5)
    for m, ms in zip(singles, replicas):
        for (param_name, p), q in zip(m.named_parameters(), ms.parameters()):
            torch.testing.assert_close(p, q, rtol=0, atol=2e-4, msg=param_name)
    spread = max(h.train[-1] for h in histories) - min(h.train[-1] for h in histories)
    assert spread > 100 * 1e-5 * abs(histories[0].train[-1])  # the replicas are independent runs, not copies


class _Interrupt:
    """Make ``model.log_likelihood`` raise KeyboardInterrupt at its ``calls``-th call (a kill during an epoch)."""

    def __init__(self, model, calls: int) -> None:
        self.original, self.left = model.log_likelihood, calls
        model.log_likelihood = self

    def __call__(self, x, z):
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt
        return self.original(x, z)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("stacked", [False, True])
def test_a_run_interrupted_mid_epoch_resumes_bitwise(tmp_path, name, stacked):
    def build():
        models = [_model(s) for s in SEEDS]
        return (deep.stack(models), _generators()) if stacked else (models[0], _generators()[0])

    settings = {**_settings(OBJECTIVES[name]), "epochs": 3}
    reference, g = build()
    want = deep.train(reference, X, generator=g, **settings)
    path = tmp_path / "run.pt"
    model, g = build()
    per_step = 2 if name == "gumbel" else 1  # decoder calls per step (gumbel: relaxed and hard draws)
    _Interrupt(model, calls=6 * per_step + 1 + 3 * per_step)  # epoch 1: 6 steps and a test pass; then step 3
    with pytest.raises(KeyboardInterrupt):
        deep.train(model, X, generator=g, checkpoint=path, **settings)
    assert path.exists()  # the interrupt came after epoch 1 was saved: what follows is a resume
    fresh, other = build()  # the weights and the generators' states come from the checkpoint
    got = deep.train(fresh, X, generator=other, checkpoint=path, **settings)
    for h, h_ref in zip(got if stacked else [got], want if stacked else [want]):  # all but the timings
        assert (h.epoch, h.train, h.test) == (h_ref.epoch, h_ref.train, h_ref.test)
    for p, q in zip(reference.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(p, q)


def test_a_resume_with_another_estimator_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "run.pt"
    deep.train(_model(1), X, generator=generator(1), checkpoint=path, **{**_settings(OBJECTIVES["arm"]), "epochs": 1})
    with pytest.raises(ValueError, match="objective.estimator"):
        deep.train(_model(1), X, generator=generator(1), checkpoint=path, **_settings(OBJECTIVES["disarm"]))
