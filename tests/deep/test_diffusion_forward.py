"""helpers.deep.diffusion.forward: the forward process against a simulation of the chain and Gaussian conditioning."""

import math

import pytest
import torch
from _shared import Z_TOL

from helpers.deep import diffusion

dt = torch.float64


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
    assert abs(float(x.mean()) - mean_ref) < Z_TOL * math.sqrt(var_ref / n)
    assert abs(float(x.var()) - var_ref) < Z_TOL * var_ref * math.sqrt(2 / n)
    eps = torch.randn((n, 1), generator=g, dtype=dt)
    xt = diffusion.q_sample(torch.full((n, 1), 1.5, dtype=dt), torch.full((n,), 100), eps, s)
    torch.testing.assert_close(xt, math.sqrt(float(s.alpha_bar[-1])) * 1.5 + math.sqrt(var_ref) * eps)


def test_model_mean_with_the_true_noise_is_the_posterior_mean():
    """mu_theta(x_t, eps) = mu~_t(x_0, x_t) when eps_theta returns the eps that made x_t (Ho et al.'s eq. 10-11)."""
    g = torch.Generator().manual_seed(1)
    s = diffusion.linear_schedule(30, 1e-3, 0.2)
    x0, eps = torch.randn((30, 3), generator=g, dtype=dt), torch.randn((30, 3), generator=g, dtype=dt)
    t = torch.arange(1, 31)
    xt = diffusion.q_sample(x0, t, eps, s)
    torch.testing.assert_close(diffusion.model_mean(eps, xt, t, s), diffusion.posterior(x0, xt, t, s)[0])


def test_inputs_that_would_broadcast_into_wrong_answers_are_refused():
    s = diffusion.linear_schedule(10)
    x0, t = torch.zeros(3, 2, dtype=dt), torch.tensor([1, 5, 10])
    with pytest.raises(ValueError, match="eps must have the shape of x0"):
        diffusion.q_sample(x0, t, torch.zeros(3, 1, dtype=dt), s)
    with pytest.raises(TypeError, match="integer tensor"):
        diffusion.q_sample(torch.zeros(2, 1), torch.tensor([1.0, 2.0]), torch.zeros(2, 1), s)
    with pytest.raises(ValueError, match="1..T"):
        diffusion.q_sample(torch.zeros(1, 1), torch.tensor([11]), torch.zeros(1, 1), s)
    with pytest.raises(ValueError, match=r"t must have shape \(3,\), one step per row"):
        diffusion.posterior(x0, x0, t[:2], s)
    with pytest.raises(ValueError, match="eps_hat"):
        diffusion.model_mean(x0[:, :1], x0, t, s)
