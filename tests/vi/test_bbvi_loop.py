"""helpers.vi.bbvi_loop: the AdaGrad-like step sizes against their formula, the loop on a concave quadratic with known
optimum, replayed draws, and the errors of a diverging run and of a gradient function that returns the wrong thing."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import vi

TARGET = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)


def _quadratic(theta: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy gradient of the ELBO -|theta - TARGET|^2 / 2 and 8 'log-weights' whose mean is that ELBO."""
    noise = torch.randn((8, theta.numel()), generator=generator, dtype=theta.dtype)
    g = (TARGET - theta) + 0.1 * noise.mean(0)
    w = -0.5 * ((theta - TARGET) ** 2).sum() + 0.1 * noise[:, 0]
    return g, w


def test_step_sizes_are_adagrad_at_decay_one_half():
    g = torch.tensor([4.0, 0.25], dtype=torch.float64)
    rho = vi.step_sizes(g, t=7, step_size=0.3, decay=0.5, eps=1e-12)
    torch.testing.assert_close(rho, 0.3 / torch.sqrt(g))
    rho = vi.step_sizes(g, t=7, step_size=0.3, decay=0.8, eps=1e-12)
    torch.testing.assert_close(rho, 0.3 * 7**-0.8 / torch.sqrt(g / 7))


def test_run_bbvi_reaches_the_optimum_of_a_concave_quadratic_and_replays_its_draws():
    theta0 = torch.zeros(3, dtype=torch.float64)
    trace = vi.run_bbvi(theta0, _quadratic, 400, step_size=1.0, decay=0.6, generator=torch.Generator().manual_seed(0))
    assert trace.theta.shape == (401, 3) and trace.elbo.shape == trace.elbo_se.shape == (400,)
    torch.testing.assert_close(trace.theta[0], theta0)
    assert (trace.theta[-1] - TARGET).abs().max() < 0.05
    assert trace.elbo[-1] > trace.elbo[0]
    again = vi.run_bbvi(theta0, _quadratic, 400, step_size=1.0, decay=0.6, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(again.theta, trace.theta, rtol=0, atol=0)


def test_a_diverging_run_names_the_step_and_the_fix():
    with pytest.raises(ValueError, match=r"BBVI diverged at step \d+ of 50: .*step_size"):
        vi.run_bbvi(torch.zeros(3, dtype=torch.float64), _quadratic, 50, step_size=1e6, decay=0.5)


def test_a_wrong_gradient_function_is_refused_naming_it():
    theta0 = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"gradient must return a pair \(g, w\)"):
        vi.run_bbvi(theta0, lambda theta, g: theta, 5, step_size=1.0, decay=0.6)
    with pytest.raises(ValueError, match=r"gradient must return a pair \(g, w\)"):
        vi.run_bbvi(theta0, lambda theta, g: (theta[:2], torch.zeros(4)), 5, step_size=1.0, decay=0.6)
    with pytest.raises(TypeError, match="gradient must be callable"):
        vi.run_bbvi(theta0, "f", 5, step_size=1.0, decay=0.6)
    with pytest.raises(ValueError, match="decay must be in"):
        vi.run_bbvi(theta0, _quadratic, 5, step_size=1.0, decay=0.4)
    assert math.isfinite(float(vi.run_bbvi(theta0, _quadratic, 2, step_size=1.0, decay=0.6).elbo[-1]))
