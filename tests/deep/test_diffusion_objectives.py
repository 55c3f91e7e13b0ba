"""helpers.deep.diffusion.objectives: the bound and the simple loss as objective values that deep.train trains with.

Their values equal the chapter-facing functions at the same noise (and the bound's terms written by hand), a
replicated network gives each replica's values, R = 3 stacked runs equal three single runs, a resumed run is the
uninterrupted one bit for bit, a diverging run and a changed schedule are refused, float64 data train as float32."""

from __future__ import annotations

import math
import re

import pytest
import torch
from _shared import generator

from helpers import deep
from helpers.deep import diffusion

SCHEDULE = diffusion.linear_schedule(50, 1e-3, 0.2)
MIX = diffusion.GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]], [0.3, 0.2])
X = MIX.sample(256, generator=generator(0))  # float64, as the chapter's data
X_TEST = MIX.sample(64, generator=generator(1))
OBJECTIVES = [diffusion.SimpleLoss(SCHEDULE), diffusion.DiffusionELBO(SCHEDULE, "posterior")]


def net(seed: int = 0, num_steps: int = 50) -> diffusion.NoiseMLP:
    return diffusion.NoiseMLP(2, num_steps, hidden=16, depth=2, embed_dim=8, generator=generator(100 + seed))


def train(model, objective=OBJECTIVES[0], epochs=3, seed=5, **kwargs):
    kwargs.setdefault("optimizer", deep.Adam(3e-3, lr_schedule=deep.LinearDecayLR(epochs)))
    gen = [generator(seed + r) for r in range(model.replicas)] if model.replicas else generator(seed)
    return deep.train(model, kwargs.pop("x", X), objective=objective, epochs=epochs, batch_size=64, device="cpu",
                      generator=gen, progress=False, **kwargs)  # fmt: skip


def assert_same_parameters(a, b, **tolerance) -> None:
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(p, q, msg=f"parameter {name} differs", **tolerance)


def test_the_values_equal_the_chapter_functions_at_the_same_noise():
    model, x = net(), X[:10].float()
    simple, bound = OBJECTIVES
    torch.testing.assert_close(
        simple(model, x, generator=generator(3)), -diffusion.simple_loss(model, x, SCHEDULE, generator=generator(3)),
        rtol=0, atol=0,
    )  # fmt: skip
    elbo_fn = diffusion.negative_elbo(model, x, SCHEDULE, "posterior", generator=generator(3))
    torch.testing.assert_close(bound(model, x, generator=generator(3)), -elbo_fn, rtol=0, atol=0)
    # the bound from its terms, written out: L_T + L_0(eps') + (T - 1) L_{t-1}(eps) at the drawn t
    t, eps_first, eps_t = bound.draw(model, x, generator(4))
    assert t.min() >= 2 and t.max() <= 50 and eps_first.shape == eps_t.shape == x.shape
    ones = torch.ones_like(t)
    by_hand = (diffusion.prior_term(x, SCHEDULE) + diffusion.bound_terms(model, x, ones, eps_first, SCHEDULE,
               "posterior") + 49 * diffusion.bound_terms(model, x, t, eps_t, SCHEDULE, "posterior"))  # fmt: skip
    torch.testing.assert_close(bound.value(model, x, (t, eps_first, eps_t)), -by_hand)
    noise = simple.draw(model, x, generator(5))
    assert torch.equal(simple.value(model, x, noise), simple.value(model, x, noise))  # pure: the noise is an input


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: type(o).__name__)
def test_a_replicated_network_gives_each_replicas_values(objective):
    models = [net(r) for r in range(3)]
    stacked = deep.stack(models)
    xs = X[:8].float().expand(3, 8, 2)
    draws = [objective.draw(m, xs[r], generator(r)) for r, m in enumerate(models)]
    noise = tuple(torch.stack(parts) for parts in zip(*draws))
    values = objective.value(stacked, xs, noise)
    assert values.shape == (3, 8)
    for r, (m, d) in enumerate(zip(models, draws)):
        torch.testing.assert_close(values[r], objective.value(m, xs[r], d))


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: type(o).__name__)
def test_three_stacked_runs_equal_three_single_runs(objective):
    singles, stacked = [net(r) for r in range(3)], [net(r) for r in range(3)]
    kwargs = dict(objective=objective, epochs=2, batch_size=64, optimizer=deep.Adam(3e-3), x_test=X_TEST,
                  device="cpu", progress=False)  # fmt: skip
    gens = [generator(10 + r) for r in range(3)]
    sequential = deep.train_replicas(singles, X, generators=gens, stack=False, **kwargs)
    gens = [generator(10 + r) for r in range(3)]
    together = deep.train_replicas(stacked, X, generators=gens, **kwargs)
    for a, b, h, k in zip(singles, stacked, sequential, together):
        assert_same_parameters(a, b)  # float32 rounding: one batched product per layer instead of R
        torch.testing.assert_close(torch.tensor(h.train), torch.tensor(k.train))
        torch.testing.assert_close(torch.tensor(h.test), torch.tensor(k.test))


def test_a_resumed_run_is_bitwise_the_uninterrupted_run(tmp_path):
    path, opt = tmp_path / "noise.pt", deep.Adam(3e-3, lr_schedule=deep.LinearDecayLR(4))
    whole, whole_history = net(), None
    whole_history = train(whole, epochs=4, optimizer=opt, x_test=X_TEST)
    train(net(), epochs=2, optimizer=opt, x_test=X_TEST, checkpoint=path)
    resumed = net(seed=7)  # other initial weights and another seed: both come from the checkpoint
    history = train(resumed, epochs=4, seed=123, optimizer=opt, x_test=X_TEST, checkpoint=path)
    assert_same_parameters(resumed, whole, rtol=0, atol=0)
    assert history.train == whole_history.train and history.test == whole_history.test
    with pytest.raises(ValueError, match=r"objective\.schedule\.beta_T: saved 0\.2, now 0\.3"):
        train(net(), diffusion.SimpleLoss(diffusion.linear_schedule(50, 1e-3, 0.3)), epochs=5, optimizer=opt,
              x_test=X_TEST, checkpoint=path)  # fmt: skip
    with pytest.raises(ValueError, match=r"objective: saved 'SimpleLoss', now 'DiffusionELBO'"):
        train(net(), OBJECTIVES[1], epochs=5, optimizer=opt, x_test=X_TEST, checkpoint=path)


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: type(o).__name__)
def test_a_diverging_run_is_refused_naming_the_step(objective):
    """At lr = 1e3 the loss rises from about 2 to 1e20 and more while staying finite: deep.train must say so."""
    message = r"the loss is (\S+) at epoch 1, step \d+ of 4: training diverged \(the epoch's first loss: (\S+)\)"
    with pytest.raises(ValueError, match=message + r"\. Lower the learning rate") as error:
        train(net(), objective, epochs=1, optimizer=deep.Adam(1e3))
    loss, first = (float(v) for v in re.search(message, str(error.value)).groups())
    assert math.isfinite(loss) and loss > 1e6 * (abs(first) + 1)  # finite: the rise, not an overflow, is refused


def test_float64_data_train_as_their_float32_values():
    assert X.dtype == torch.float64
    a, b = net(), net()
    history_a, history_b = train(a, x_test=X_TEST), train(b, x=X.float(), x_test=X_TEST.float())
    assert_same_parameters(a, b, rtol=0, atol=0)
    assert history_a.train == history_b.train and history_a.test == history_b.test
    assert history_a.train[-1] > history_a.train[0]  # the simple loss falls


def test_wrong_models_and_fields_are_named():
    with pytest.raises(TypeError, match=r"model must be a NoiseMLP.*diffusion.NoiseMLP\(dim"):
        OBJECTIVES[0](deep.VAE(2, (4,), 1), X[:4].float())
    with pytest.raises(ValueError, match=r"num_steps \(40\) must equal the schedule's T \(50\)"):
        train(net(num_steps=40), OBJECTIVES[1])
    with pytest.raises(TypeError, match="schedule"):
        diffusion.SimpleLoss(SCHEDULE.betas)
    with pytest.raises(ValueError, match="variance"):
        diffusion.DiffusionELBO(SCHEDULE, "learned")
    with pytest.raises(ValueError, match=r"x must have shape \(B, 2\)"):
        OBJECTIVES[0](net(), torch.zeros(3, 5))
