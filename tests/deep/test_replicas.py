"""deep.train_replicas: the stacked implementation (helpers/deep/replicas.py) against the sequential reference (R
calls of deep.train). Each replica draws with its own generator in train's order, so the two agree up to float
rounding; the tolerances below are float32 rounding grown over a few dozen Adam steps, far below the seed-to-seed
spread (checked too)."""

from __future__ import annotations

from functools import partial

import pytest
import torch

from helpers import deep
from helpers.deep import replicas

X, _ = deep.load_images("digits", "train", limit=90)
X_TEST, _ = deep.load_images("digits", "test", limit=30)
SEEDS = (21, 22, 23)


def make_models(seeds=SEEDS, **config) -> list[deep.VAE]:
    models = []
    for s in seeds:
        torch.manual_seed(s)
        models.append(deep.VAE(64, (12,), 3, **config))
    return models


def both(config: dict, stack_kwargs: dict, seeds=SEEDS):
    """(stacked models, histories), (sequential models, histories) from the same initial weights and seeds."""
    out = []
    for stack in (True, False):
        models = make_models(seeds, **config)
        generators = [torch.Generator().manual_seed(100 + s) for s in seeds]
        kw = {"epochs": 2, "batch_size": 20, "lr": 3e-3, "progress": False, "x_test": X_TEST, **stack_kwargs}
        histories = deep.train_replicas(models, X, generators=generators, stack=stack, **kw)
        out.append((models, histories))
    return out


def assert_agree(stacked, sequential) -> None:
    for (m, h), (m_ref, h_ref) in zip(zip(*stacked), zip(*sequential)):
        assert type(m) is deep.VAE
        assert h.epoch == h_ref.epoch == [1, 2]
        assert h.train == pytest.approx(h_ref.train, rel=1e-4, abs=1e-3)
        assert h.test == pytest.approx(h_ref.test, rel=1e-4, abs=1e-3, nan_ok=True)
        for (name, p), q in zip(m.named_parameters(), m_ref.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-3, atol=1e-4, msg=name)
    trains = [h.train[-1] for h in stacked[1]]
    assert len(set(trains)) == len(trains)  # independent replicas, not copies


CASES = {
    "bernoulli shared elbo dynamic": ({}, {"objective": deep.elbo, "binarization": "dynamic"}),
    "bernoulli unfused, monte-carlo KL, K=2, fixed": (
        {"fused_likelihood": False},
        {"objective": partial(deep.elbo, kl="monte-carlo", num_samples=2), "binarization": "fixed"},
    ),
    "separate relu sigmoid, iwelbo K=4": (
        {"encoder": "separate", "activation": "relu", "scale_activation": "sigmoid"},
        {
            "objective": partial(deep.iwelbo, num_samples=4),
            "binarization": "dynamic",
            "test_objective": partial(deep.iwelbo, num_samples=2),
        },
    ),  # fmt: skip
    "gaussian, beta schedule": (
        {"likelihood": "gaussian", "sigma": 0.3},
        {"objective": deep.elbo, "beta_schedule": deep.linear_beta(1.5)},
    ),
    "gaussian-learned, min_log_var, softplus, Adam eps": (
        {"likelihood": "gaussian-learned", "min_log_var": -3.0, "scale_activation": "softplus"},
        {"objective": partial(deep.elbo, beta=0.5), "optimizer": lambda p: torch.optim.Adam(p, lr=2e-3, eps=1e-4)},
    ),
    "path derivative (STL) iwelbo": ({}, {"objective": partial(deep.iwelbo, num_samples=3, path_derivative=True)}),
    "path derivative (STL) elbo, no test set": (
        {},
        {"objective": partial(deep.elbo, kl="monte-carlo", path_derivative=True), "x_test": None},
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_stacked_replicas_equal_the_sequential_reference(name):
    config, kwargs = CASES[name]
    assert replicas.stacking_refusal(make_models(**config), kwargs["objective"], kwargs.get("beta_schedule"),
                                     kwargs.get("optimizer")) is None  # fmt: skip
    stacked, sequential = both(config, kwargs)
    assert_agree(stacked, sequential)


def test_one_stacked_step_has_each_replicas_own_gradient():
    """From identical draws, the stacked objective's gradient for replica r is the gradient of deep.elbo on model r
    alone (float tolerance): the replicas do not leak into each other."""
    models = make_models(encoder="separate")
    stacked = replicas.StackedVAE(models)
    x = torch.bernoulli(X[:10].expand(3, 10, 64), generator=torch.Generator().manual_seed(0)).contiguous()
    spec = replicas.objective_spec(partial(deep.iwelbo, num_samples=5))
    eps = torch.randn(3, 5, 10, 3, generator=torch.Generator().manual_seed(1))
    values = stacked.objective(spec, x, eps)
    (-values.mean(1)).sum().backward()
    for r, model in enumerate(models):  # model r alone, written with plain VAE methods, from replica r's eps
        log_w = _log_weights_with_eps(model, x[r], eps[r])
        value = torch.logsumexp(log_w, 0) - torch.log(torch.tensor(5.0))
        torch.testing.assert_close(values[r], value.detach(), rtol=1e-5, atol=1e-4)
        grads = torch.autograd.grad(-value.mean(), list(model.parameters()))
        net_params = [p for net in stacked.nets for p in net.parameters()]
        own = [p.grad[r].reshape(q.shape) for p, q in zip(net_params, grads)]
        for a, b in zip(own, grads):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def _log_weights_with_eps(model, x, eps):
    mu, sigma = model.encode(x)
    z = mu + sigma * eps
    log_q = deep.objectives.normal_log_prob_from_noise(eps, torch.log(sigma).sum(-1))
    return model.log_likelihood(x, z) + deep.objectives.standard_normal_log_prob(z) - log_q


def test_what_cannot_be_stacked_falls_back_to_the_sequential_reference():
    def own_objective(model, x, generator):  # a chapter's closure: not recognizable, so trained one by one
        return deep.elbo(model, x, generator=generator)

    kw = {"objective": own_objective, "epochs": 1, "batch_size": 30, "progress": False}
    models = make_models()
    assert "objective" in replicas.stacking_refusal(models, own_objective)
    auto = deep.train_replicas(models, X, generators=[torch.Generator().manual_seed(s) for s in SEEDS], **kw)
    reference = [deep.train(m, X, generator=torch.Generator().manual_seed(s), **kw)
                 for m, s in zip(make_models(), SEEDS)]  # fmt: skip
    assert [h.train for h in auto] == [h.train for h in reference]  # the same code path: bit for bit
    with pytest.raises(ValueError, match="cannot stack these replicas: the objective is not deep.elbo"):
        deep.train_replicas(make_models(), X, generators=[torch.Generator() for _ in SEEDS], stack=True, **kw)
    assert "optimizer LBFGS" in replicas.stacking_refusal(models, deep.elbo, None, torch.optim.LBFGS)
    assert "not all deep.VAE" in replicas.stacking_refusal([*models[:2], deep.BernoulliVAE(64, 4)], deep.elbo)
    assert "different configurations" in replicas.stacking_refusal([models[0], deep.VAE(64, (12,), 4)], deep.elbo)
    assert "no beta" in replicas.stacking_refusal(models, partial(deep.iwelbo, num_samples=2), deep.linear_beta(1))
    assert replicas.objective_spec(partial(deep.elbo, kl="mc")) is None  # invalid: the sequential path raises


def test_a_diverging_replica_is_named_with_its_step():
    models = make_models()
    with torch.no_grad():
        models[1].encoder[0].weight.fill_(float("nan"))
    with pytest.raises(ValueError, match=r"replica 1 is nan at epoch 1, step 1 of 5.*Lower the learning rate"):
        deep.train_replicas(models, X, generators=[torch.Generator().manual_seed(s) for s in SEEDS],
                            objective=deep.elbo, epochs=1, batch_size=20, progress=False)  # fmt: skip


def test_bad_arguments_are_named():
    kw = {"objective": deep.elbo, "epochs": 1, "progress": False}
    gens = [torch.Generator() for _ in SEEDS]
    with pytest.raises(TypeError, match="stack must be True or False"):
        deep.train_replicas(make_models(), X, generators=gens, stack="yes", **kw)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['bach_size'\]"):
        deep.train_replicas(make_models(), X, generators=gens, bach_size=3, **kw)
    with pytest.raises(ValueError, match="distinct"):
        m = make_models()[0]
        deep.train_replicas([m, m], X, generators=gens[:2], **kw)
    with pytest.raises(ValueError, match="batch_size"):
        deep.train_replicas(make_models(), X, generators=gens, batch_size=0, **kw)
    with pytest.raises(TypeError, match="checkpoint"):
        deep.train_replicas(make_models(), X, generators=gens, checkpoint="x.pt", **kw)
