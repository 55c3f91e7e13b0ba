"""helpers.deep.diffusion.gaussian: closed forms for Gaussian data against published numbers, the model's exact
likelihood, the data's entropy and the continuous-time limit."""

import math

import pytest
import torch
from _shared import Z_TOL

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


def test_optimal_eps_is_the_conditional_mean_of_the_noise():
    """E[eps | x_t] by regression on simulated pairs (x_t, eps) equals the closed form at a few x_t."""
    g = torch.Generator().manual_seed(7)
    s = diffusion.linear_schedule(20, 1e-3, 0.2)
    mean, std, n, step = torch.tensor([0.5]), torch.tensor([0.8]), 200_000, 8
    x0 = mean + std * torch.randn((n, 1), generator=g, dtype=dt)
    eps = torch.randn((n, 1), generator=g, dtype=dt)
    xt = diffusion.q_sample(x0, torch.full((n,), step), eps, s)
    design = torch.cat([torch.ones_like(xt), xt], -1)  # E[eps | x_t] is affine in x_t for Gaussian data
    coef = torch.linalg.lstsq(design, eps).solution
    residual_var = float(((eps - design @ coef) ** 2).sum()) / (n - 2)
    cov = residual_var * torch.linalg.inv(design.T @ design)  # the OLS covariance of the coefficients
    grid = torch.tensor([[1.0, -1.0], [1.0, 0.0], [1.0, 2.0]], dtype=dt)
    fitted, se = (grid @ coef).squeeze(-1), torch.einsum("gi,ij,gj->g", grid, cov, grid).sqrt()
    exact = diffusion.gaussian_optimal_eps(mean, std, s)(grid[:, 1:], torch.full((3,), step)).squeeze(-1)
    assert bool(((fitted - exact).abs() < Z_TOL * se).all()), (fitted, exact, se)


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


def test_bad_arguments_are_named():
    s = diffusion.linear_schedule(10)
    with pytest.raises(ValueError, match="log_snr_max must be above"):
        diffusion.gaussian_diffusion_loss_continuous([1.0], -5.0, 5.0)
    with pytest.raises(ValueError, match="std"):
        diffusion.gaussian_bound([0.0], [0.0], s)
    with pytest.raises(ValueError, match="mean and std must have shapes that broadcast"):
        diffusion.gaussian_bound([0.0, 0.0], [1.0] * 3, s)
