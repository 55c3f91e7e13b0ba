"""helpers.deep.bernoulli_vae: the Bernoulli-latent VAE against independent formulas (torch.distributions, the
closed-form KL by enumeration and autograd), and its replicated form (deep.stack) against its R single models."""

from __future__ import annotations

import itertools

import pytest
import torch
from _shared import generator

from helpers import deep
from helpers.deep.bernoulli_vae import bernoulli_kl

DT = torch.float64
P, N, B = 7, 4, 5


def _model(seed: int = 0, **kw) -> deep.BernoulliVAE:
    torch.manual_seed(seed)
    return deep.BernoulliVAE(P, N, (6,), baseline_hidden=3, **kw).double()


def _x(seed: int = 1, rows: int = B) -> torch.Tensor:
    return torch.bernoulli(torch.full((rows, P), 0.4, dtype=DT), generator=generator(seed))


def test_the_densities_equal_torch_distributions():
    model, x = _model(), _x()
    with torch.no_grad():
        model.prior_logits.copy_(torch.linspace(-1.0, 1.5, N, dtype=DT))
    z = torch.bernoulli(torch.full((3, B, N), 0.5, dtype=DT), generator=generator(2))
    with torch.no_grad():
        eta = model.decoder(z)
        want = torch.distributions.Bernoulli(logits=eta).log_prob(x.expand(3, B, P)).sum(-1)
        torch.testing.assert_close(model.log_likelihood(x, z), want)
        prior = torch.distributions.Bernoulli(logits=model.prior_logits).log_prob(z).sum(-1)
        torch.testing.assert_close(model.log_prior(z), prior)
        logits = model.encode(x)
        q = torch.distributions.Bernoulli(logits=logits)
        p = torch.distributions.Bernoulli(logits=model.prior_logits.expand(B, N))
        torch.testing.assert_close(model.kl(logits), torch.distributions.kl_divergence(q, p).sum(-1))
    assert model.baseline_value(x).shape == (B,)


def test_bernoulli_kl_matches_enumeration_and_its_gradient_is_the_score_free_one():
    a = torch.randn((3, N), generator=generator(3), dtype=DT)
    b = torch.linspace(-1.0, 2.0, N, dtype=DT)
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=N)), dtype=DT)[:, None, :]  # (2^N, 1, N)
    q = torch.distributions.Bernoulli(logits=a)
    log_q, log_p = q.log_prob(states).sum(-1), torch.distributions.Bernoulli(logits=b).log_prob(states).sum(-1)
    by_enumeration = (log_q.exp() * (log_q - log_p)).sum(0)
    torch.testing.assert_close(bernoulli_kl(a, b).sum(-1), by_enumeration)
    leaf = a.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(bernoulli_kl(leaf, b).sum(), leaf)
    s = torch.sigmoid(a)
    torch.testing.assert_close(grad, s * (1 - s) * (a - b))  # d KL / d a = sigma'(a) (a - b)
    assert torch.isfinite(bernoulli_kl(torch.tensor([80.0, -80.0]), torch.tensor([-80.0, 80.0]))).all()


def test_config_fixes_the_shapes_and_the_fixed_prior_is_not_learned():
    model = deep.BernoulliVAE(P, N, (6, 5), activation="tanh", learned_prior=False)
    assert model.replicas is None
    assert model.config == {"input_dim": P, "latent_dim": N, "hidden_dims": (6, 5), "activation": "tanh",
                            "learned_prior": False, "baseline_hidden": 0}  # fmt: skip
    assert not model.prior_logits.requires_grad and model.baseline is None
    assert [m.out_features for m in model.encoder if isinstance(m, torch.nn.Linear)] == [6, 5, N]
    assert [m.out_features for m in model.decoder if isinstance(m, torch.nn.Linear)] == [5, 6, P]
    with pytest.raises(ValueError, match="baseline_hidden"):
        model.baseline_value(torch.zeros(2, P))


def test_check_input_converts_and_refuses_clearly():
    model = _model()
    x = model.check_input(_x().float().numpy())
    assert x.dtype == DT and x.shape == (B, P)
    for bad, error, word in (
        (torch.zeros(2, P + 1, dtype=DT), ValueError, "shape"),
        (torch.full((2, P), 2.0, dtype=DT), ValueError, "[0, 1]"),
        (torch.zeros(2, P, dtype=torch.long), ValueError, "floating"),
        ([[0.0] * P], TypeError, "x_train"),
    ):
        with pytest.raises(error, match="x_train") as caught:
            model.check_input(bad, "x_train")
        assert word in str(caught.value)


def test_a_stacked_model_computes_what_its_replicas_compute():
    models = [_model(seed) for seed in (4, 5, 6)]
    with torch.no_grad():
        for r, m in enumerate(models):
            m.prior_logits.copy_(torch.full((N,), 0.3 * r - 0.2, dtype=DT))
    stacked = deep.stack(models)
    assert stacked.replicas == 3 and stacked.prior_logits.shape == (3, N)
    x = torch.stack([_x(10 + r) for r in range(3)])  # (R, B, P)
    z = torch.bernoulli(torch.full((3, 2, B, N), 0.5, dtype=DT), generator=generator(7))  # (R, S, B, N)
    with torch.no_grad():
        logits = stacked.encode(x)
        for r, m in enumerate(models):
            torch.testing.assert_close(logits[r], m.encode(x[r]))
            torch.testing.assert_close(stacked.log_likelihood(x, z)[r], m.log_likelihood(x[r], z[r]))
            torch.testing.assert_close(stacked.log_prior(z)[r], m.log_prior(z[r]))
            torch.testing.assert_close(stacked.kl(logits)[r], m.kl(logits[r]))
            torch.testing.assert_close(stacked.baseline_value(x)[r], m.baseline_value(x[r]))
    for m, back in zip(models, deep.unstack(stacked)):
        assert back.replicas is None and back.config == m.config
        for p, q in zip(m.parameters(), back.parameters()):
            torch.testing.assert_close(p, q, rtol=0, atol=0)
