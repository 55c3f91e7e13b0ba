"""helpers.deep.diffusion.mixture: the optimal denoiser is Tweedie's formula with autograd's score; the sampler has
the mixture's mean."""

import math

import pytest
import torch
from _shared import Z_TOL

from helpers.deep import diffusion

dt = torch.float64


def test_mixture_denoiser_is_tweedie_by_autograd():
    mix = diffusion.GaussianMixture([0.3, 0.7], [[-1.0, 0.0], [1.0, 1.0]], [0.3, 0.5])
    x = torch.tensor([[0.2, 0.4], [-1.5, 2.0]], dtype=dt, requires_grad=True)
    ab = torch.tensor([0.6, 0.6], dtype=dt)
    (score,) = torch.autograd.grad(mix.log_prob(x, ab).sum(), x)
    tweedie = (x + (1 - ab[:, None]) * score) / ab[:, None].sqrt()  # E[x_0 | x_t] = (x_t + (1 - abar) grad) / sqrt
    torch.testing.assert_close(mix.posterior_mean(x.detach(), ab), tweedie.detach())
    g = torch.Generator().manual_seed(4)
    draws = mix.sample(20_000, generator=g)
    assert draws.dtype == dt  # lists give float64 data: the noise network converts them (NoiseMLP.check_input)
    assert abs(float(draws[:, 0].mean()) - 0.4) < Z_TOL * float(draws[:, 0].std()) / math.sqrt(20_000)


def test_optimal_eps_turns_the_denoiser_into_a_noise_prediction():
    s = diffusion.linear_schedule(20, 1e-3, 0.2)
    mix = diffusion.GaussianMixture([0.5, 0.5], [[-1.0], [1.0]], [0.2, 0.2])
    xt, t = torch.tensor([[0.3], [-2.0]], dtype=dt), torch.tensor([3, 17])
    ab = s.alpha_bar[t - 1]
    expected = (xt - ab.sqrt()[:, None] * mix.posterior_mean(xt, ab)) / (1 - ab).sqrt()[:, None]
    torch.testing.assert_close(mix.optimal_eps(s)(xt, t), expected)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="weights"):
        diffusion.GaussianMixture([0.5, 0.6], [[0.0], [1.0]], [1.0, 1.0])
    with pytest.raises(ValueError, match="means must be"):
        diffusion.GaussianMixture([0.5, 0.5], [0.0, 1.0], [1.0, 1.0])
    with pytest.raises(TypeError, match="schedule"):
        diffusion.GaussianMixture([1.0], [[0.0]], [1.0]).optimal_eps(None)
