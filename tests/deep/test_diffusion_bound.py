"""helpers.deep.diffusion.bound: the terms against closed forms and a hand-written epsilon form, the estimators'
unbiasedness in standard errors, and the draws they make."""

import math

import pytest
import torch
from _shared import Z_TOL

from helpers.deep import diffusion

dt = torch.float64


def test_monte_carlo_terms_agree_with_closed_form():
    g = torch.Generator().manual_seed(1)
    s = diffusion.linear_schedule(100, 1e-3, 0.1)
    mean, std = torch.tensor([0.5, -1.0], dtype=dt), torch.tensor([1.0, 0.3], dtype=dt)
    x0 = mean + std * torch.randn((400, 2), generator=g, dtype=dt)
    terms = diffusion.all_terms(diffusion.gaussian_optimal_eps(mean, std, s), x0, s, "posterior", generator=g)
    prior, exact = diffusion.gaussian_bound(mean, std, s, "posterior")
    z = (terms.mean(0) - exact) / (terms.std(0) / math.sqrt(400))
    assert z.abs().max() < Z_TOL
    total = diffusion.prior_term(x0, s) + terms.sum(1)
    assert abs(float(total.mean() - prior - exact.sum())) < Z_TOL * float(total.std()) / math.sqrt(400)


def test_epsilon_weights_reproduce_the_terms():
    g = torch.Generator().manual_seed(2)
    s = diffusion.linear_schedule(30, 1e-3, 0.2)
    x0, eps = torch.randn((30, 3), generator=g, dtype=dt), torch.randn((30, 3), generator=g, dtype=dt)
    t = torch.arange(1, 31)
    net = lambda x, t: 0.3 * x + 0.01 * t.unsqueeze(-1)  # noqa: E731 - any predictor will do
    for v in diffusion.VARIANCES:
        lam, const = diffusion.epsilon_weights(s, v)
        xt = diffusion.q_sample(x0, t, eps, s)
        ref = lam * ((eps - net(xt, t)) ** 2).sum(-1) + 3 * const
        torch.testing.assert_close(diffusion.bound_terms(net, x0, t, eps, s, v), ref)


def test_importance_sampled_t_is_unbiased_and_lower_variance():
    g = torch.Generator().manual_seed(3)
    s = diffusion.linear_schedule(100, 1e-3, 0.1)
    mean, std = torch.zeros(2, dtype=dt), torch.full((2,), 0.5, dtype=dt)
    model = diffusion.gaussian_optimal_eps(mean, std, s)
    prior, terms = diffusion.gaussian_bound(mean, std, s, "beta")
    exact = float(prior + terms.sum())
    x0 = mean + std * torch.randn((8_000, 2), generator=g, dtype=dt)
    probs = diffusion.importance_probs(diffusion.all_terms(model, x0[:200], s, generator=g))
    uni = diffusion.negative_elbo(model, x0, s, generator=g)
    imp = diffusion.negative_elbo(model, x0, s, t_probs=probs, generator=g)
    for est in (uni, imp):
        assert abs(float(est.mean()) - exact) < Z_TOL * float(est.std()) / math.sqrt(len(est))
    assert float(imp.std()) < 0.5 * float(uni.std())


def test_the_estimators_replay_their_draws():
    """negative_elbo draws t ~ U{2..T} then eps (2B, D) (L_0 on the first B rows); simple_loss t ~ U{1..T} then eps
    (B, D): written here by hand from the same generator state."""
    s = diffusion.linear_schedule(40, 1e-3, 0.2)
    x0 = torch.randn((6, 2), generator=torch.Generator().manual_seed(4), dtype=dt)
    net = lambda x, t: 0.2 * x - 0.01 * t.unsqueeze(-1)  # noqa: E731
    g = torch.Generator().manual_seed(5)
    t = torch.randint(2, 41, (6,), generator=g)
    eps = torch.randn((12, 2), generator=g, dtype=dt)
    ones = torch.ones(6, dtype=torch.long)
    by_hand = (diffusion.prior_term(x0, s) + diffusion.bound_terms(net, x0, ones, eps[:6], s)
               + 39 * diffusion.bound_terms(net, x0, t, eps[6:], s))  # fmt: skip
    estimate = diffusion.negative_elbo(net, x0, s, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(estimate, by_hand)
    g = torch.Generator().manual_seed(6)
    t, eps = torch.randint(1, 41, (6,), generator=g), torch.randn((6, 2), generator=g, dtype=dt)
    by_hand = ((eps - net(diffusion.q_sample(x0, t, eps, s), t)) ** 2).sum(-1)
    torch.testing.assert_close(diffusion.simple_loss(net, x0, s, generator=torch.Generator().manual_seed(6)), by_hand)


def test_bad_arguments_are_named():
    s = diffusion.linear_schedule(10)
    x0, t = torch.zeros(3, 2, dtype=dt), torch.tensor([1, 5, 10])
    with pytest.raises(ValueError, match="t_probs"):
        diffusion.negative_elbo(lambda x, t: x, torch.zeros(2, 1), s, t_probs=torch.ones(10) / 10)
    with pytest.raises(ValueError, match="eps_model"):  # a predictor of shape (B, 1) for (B, D) data
        diffusion.bound_terms(lambda xt, tt: xt[:, :1], x0, t, torch.zeros_like(x0), s)
    with pytest.raises(TypeError, match="schedule must be a Schedule"):
        diffusion.epsilon_weights(s.betas)
    with pytest.raises(ValueError, match="x0"):
        diffusion.simple_loss(lambda x, t: x, x0 * math.nan, s)
