"""helpers.deep.diffusion: the diffusion bound against closed forms, simulation, Gaussian conditioning and autograd."""

import math

import pytest
import torch

from helpers.deep import diffusion

dt = torch.float64
H_UNIT = 0.5 * math.log(2 * math.pi * math.e)  # entropy of N(0, 1)


def test_published_facts_unit_gaussian():
    # 1-D unit-variance data, T = 1000, beta 1e-4..0.02: sigma^2 = beta tight; sigma^2 = beta~ leaves 0.4649 nats
    s = diffusion.linear_schedule()
    prior, terms = diffusion.gaussian_bound([0.0], [1.0], s, "beta")
    assert abs(float(prior) - 2.0e-5) < 2e-7
    assert abs(float(terms[1:].sum()) - 4.605150) < 1e-6
    assert abs(float(terms[0]) - (-3.186232)) < 1e-6
    assert abs(float(prior + terms.sum()) - H_UNIT) < 1e-5
    prior, terms = diffusion.gaussian_bound([0.0], [1.0], s, "posterior")
    assert abs(float(prior + terms.sum()) - H_UNIT - 0.4649) < 1e-4


def test_bound_is_above_exact_model_nll_and_entropy():
    s = diffusion.linear_schedule(200, 1e-3, 0.05)
    mean, std = torch.tensor([0.3, -1.0, 2.0], dtype=dt), torch.tensor([0.5, 1.0, 2.0], dtype=dt)
    entropy = float((0.5 * torch.log(2 * math.pi * math.e * std**2)).sum())
    for v in diffusion.VARIANCES:
        prior, terms = diffusion.gaussian_bound(mean, std, s, v)
        nll = float(diffusion.gaussian_model_nll(mean, std, s, v))
        assert float(prior + terms.sum()) >= nll - 1e-9 >= entropy - 1e-8


def test_posterior_matches_gaussian_conditioning():
    s = diffusion.linear_schedule(50, 1e-3, 0.1)
    x0 = torch.tensor([[0.7]], dtype=dt)
    for step in (2, 10, 50):
        ab_prev, beta = float(s.alpha_bar_prev[step - 1]), float(s.betas[step - 1])
        v = 1 - ab_prev  # joint of (x_{t-1}, x_t) given x_0
        mean = torch.tensor([math.sqrt(ab_prev), math.sqrt(ab_prev * (1 - beta))], dtype=dt) * 0.7
        cov = torch.tensor([[v, math.sqrt(1 - beta) * v], [math.sqrt(1 - beta) * v, (1 - beta) * v + beta]], dtype=dt)
        xt = torch.tensor([[-0.4]], dtype=dt)
        m_ref, c_ref = diffusion.condition_gaussian(mean, cov, [1], xt[0])
        m, var = diffusion.posterior(x0, xt, torch.tensor([step]), s)
        torch.testing.assert_close(m[0], m_ref)
        torch.testing.assert_close(var[0], c_ref[0])


def test_q_sample_matches_chain_simulation():
    g = torch.Generator().manual_seed(0)
    s = diffusion.linear_schedule(100, 1e-3, 0.05)
    n = 20_000
    x = torch.full((n, 1), 1.5, dtype=dt)
    for step in range(100):
        x = (1 - s.betas[step]).sqrt() * x + s.betas[step].sqrt() * torch.randn((n, 1), generator=g, dtype=dt)
    mean_ref, var_ref = math.sqrt(float(s.alpha_bar[-1])) * 1.5, 1 - float(s.alpha_bar[-1])
    assert abs(float(x.mean()) - mean_ref) < 4.5 * math.sqrt(var_ref / n)
    assert abs(float(x.var()) - var_ref) < 4.5 * var_ref * math.sqrt(2 / n)


def test_monte_carlo_terms_agree_with_closed_form():
    g = torch.Generator().manual_seed(1)
    s = diffusion.linear_schedule(100, 1e-3, 0.1)
    mean, std = torch.tensor([0.5, -1.0], dtype=dt), torch.tensor([1.0, 0.3], dtype=dt)
    x0 = mean + std * torch.randn((400, 2), generator=g, dtype=dt)
    terms = diffusion.all_terms(diffusion.gaussian_optimal_eps(mean, std, s), x0, s, "posterior", generator=g)
    prior, exact = diffusion.gaussian_bound(mean, std, s, "posterior")
    z = (terms.mean(0) - exact) / (terms.std(0) / math.sqrt(400))
    assert z.abs().max() < 4.5
    total = diffusion.prior_term(x0, s) + terms.sum(1)
    assert abs(float(total.mean() - prior - exact.sum())) < 4.5 * float(total.std()) / math.sqrt(400)


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
        assert abs(float(est.mean()) - exact) < 4.5 * float(est.std()) / math.sqrt(len(est))
    assert float(imp.std()) < 0.5 * float(uni.std())


def test_continuous_limit_is_approached_from_above():
    std = torch.tensor([0.5, 2.0], dtype=dt)
    previous, gaps = math.inf, []
    for T in (10, 100, 1000):
        s = diffusion.log_snr_schedule(T)
        _, terms = diffusion.gaussian_bound(torch.zeros(2), std, s, "posterior")
        limit = float(diffusion.gaussian_diffusion_loss_continuous(std, float(s.log_snr[0]), float(s.log_snr[-1])))
        diff = float(terms[1:].sum()) - limit
        assert 0 < diff < previous
        previous = diff
        gaps.append(diff)
    assert 0.09 < gaps[2] / gaps[1] < 0.11  # first order in 1 / T: (e^{d gamma} - 1) / d gamma = 1 + d gamma / 2 + ...


def test_mixture_denoiser_is_tweedie_by_autograd():
    mix = diffusion.GaussianMixture([0.3, 0.7], [[-1.0, 0.0], [1.0, 1.0]], [0.3, 0.5])
    x = torch.tensor([[0.2, 0.4], [-1.5, 2.0]], dtype=dt, requires_grad=True)
    ab = torch.tensor([0.6, 0.6], dtype=dt)
    (score,) = torch.autograd.grad(mix.log_prob(x, ab).sum(), x)
    tweedie = (x + (1 - ab[:, None]) * score) / ab[
        :, None
    ].sqrt()  # E[x_0 | x_t] = (x_t + (1 - abar) grad log q) / sqrt(abar)
    torch.testing.assert_close(mix.posterior_mean(x.detach(), ab), tweedie.detach())
    g = torch.Generator().manual_seed(4)
    draws = mix.sample(20_000, generator=g)
    assert abs(float(draws[:, 0].mean()) - 0.4) < 4.5 * float(draws[:, 0].std()) / math.sqrt(20_000)


def test_network_training_sampling_shapes_and_progress():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(5)
    s = diffusion.linear_schedule(50, 1e-3, 0.2)
    net = diffusion.NoiseMLP(2, 50, hidden=32, depth=2)
    x = torch.randn((512, 2), generator=g) * 0.3 + 1.0
    losses = diffusion.train_noise_model(net, x, s, steps=150, batch_size=128, generator=g)
    assert sum(losses[-20:]) / 20 < 0.8 * sum(losses[:20]) / 20
    losses = diffusion.train_noise_model(net, x, s, steps=5, loss="elbo", generator=g)
    assert all(math.isfinite(v) for v in losses)
    out = diffusion.sample(net, s, 7, 2, generator=g)
    assert out.shape == (7, 2) and torch.isfinite(out).all()
    first, second = (diffusion.NoiseMLP(2, 50, generator=torch.Generator().manual_seed(7)) for _ in range(2))
    for p1, p2 in zip(first.parameters(), second.parameters()):
        torch.testing.assert_close(p1, p2)  # the generator decides the initialization


def test_dequantize_bounds_and_errors():
    g = torch.Generator().manual_seed(6)
    x = torch.tensor([[0.0, 0.5, 1.0]])
    y = diffusion.dequantize(x, 17, generator=g)
    assert ((y >= torch.tensor([0, 8, 16]) / 17) & (y <= torch.tensor([1, 9, 17]) / 17)).all()
    with pytest.raises(ValueError, match="k / 16"):
        diffusion.dequantize(torch.tensor([[0.03]]), 17)


def test_bad_arguments_raise():
    s = diffusion.linear_schedule(10)
    with pytest.raises(ValueError, match="betas"):
        diffusion.Schedule(torch.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match="variance"):
        diffusion.reverse_variance(s, "learned")
    with pytest.raises(TypeError, match="integer tensor"):
        diffusion.q_sample(torch.zeros(2, 1), torch.tensor([1.0, 2.0]), torch.zeros(2, 1), s)
    with pytest.raises(ValueError, match="1..T"):
        diffusion.q_sample(torch.zeros(1, 1), torch.tensor([11]), torch.zeros(1, 1), s)
    with pytest.raises(ValueError, match="t_probs"):
        diffusion.negative_elbo(lambda x, t: x, torch.zeros(2, 1), s, t_probs=torch.ones(10) / 10)
    with pytest.raises(ValueError, match="weights"):
        diffusion.GaussianMixture([0.5, 0.6], [[0.0], [1.0]], [1.0, 1.0])
    with pytest.raises(ValueError, match="alpha_bar"):
        diffusion.Schedule.from_alpha_bar(torch.tensor([0.5, 0.7]))


def test_inputs_that_used_to_broadcast_into_wrong_answers_are_refused():
    s = diffusion.linear_schedule(10)
    x0, t = torch.zeros(3, 2, dtype=torch.float64), torch.tensor([1, 5, 10])
    with pytest.raises(ValueError, match="eps must have the shape of x0"):
        diffusion.q_sample(x0, t, torch.zeros(3, 1, dtype=torch.float64), s)
    with pytest.raises(ValueError, match="eps_model"):  # a predictor of shape (B, 1) for (B, D) data
        diffusion.bound_terms(lambda xt, tt: xt[:, :1], x0, t, torch.zeros_like(x0), s)
    with pytest.raises(ValueError, match="log_snr_max must be above"):
        diffusion.gaussian_diffusion_loss_continuous([1.0], -5.0, 5.0)
    with pytest.raises(TypeError, match="schedule must be a Schedule"):
        diffusion.epsilon_weights(s.betas)
