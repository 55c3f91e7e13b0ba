"""helpers.estimators.lognormal_q: the log-normal q's gradient in (m, log s) against autograd of the closed-form ELBO,
the fits reaching the optimum, diverged runs kept."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd.functional import jacobian

from helpers import common, estimators, models
from helpers.common.stats import mean_and_se

DT = torch.float64


def test_lognormal_elbo_and_reparameterization_gradient():
    model = models.GammaPoisson()
    loc, log_scale = torch.tensor([1.4, -0.1], dtype=DT), torch.tensor([-1.5, -1.8], dtype=DT)
    theta = torch.cat([loc, log_scale])

    def elbo(t):
        return model.exact_elbo(t[..., :2], t[..., 2:].exp(), family="lognormal")

    batched = torch.stack([theta, theta + 0.1])  # the closed form is batched: (2, 4) -> (2,)
    torch.testing.assert_close(elbo(batched), torch.stack([elbo(theta), elbo(theta + 0.1)]))
    exact = jacobian(elbo, theta)
    eps = torch.randn((400, 500, 2), dtype=DT, generator=torch.Generator().manual_seed(9))  # 400 estimates of S = 500
    estimates = estimators.log_scale_gradient(model, theta, eps)  # (400, 4)
    mean, se = mean_and_se(estimates)
    assert ((mean - exact) / se).abs().max() < 4.5


def test_lognormal_q_fit_reaches_the_optimum_and_first_hit():
    model = models.GammaPoisson()
    init = torch.tensor([0.0, 0.0, math.log(0.1), math.log(0.1)], dtype=DT)
    fits = {
        m: estimators.lognormal_q_fit(
            model, init, 300, 10, s, method=m, num_runs=3, generator=torch.Generator().manual_seed(1)
        )
        for m, s in (("gradient", 0.005), ("natural", 0.3), ("adam", 0.05))
    }
    for fit in fits.values():
        assert fit.params.shape == (301, 3, 4) and fit.elbo.shape == (301, 3)
        assert float(fit.elbo[-50:].mean()) > -26.2  # the optimum is about -25.566


def test_a_diverged_log_normal_run_is_kept_and_never_reaches_a_level():
    model = models.GammaPoisson()
    init = torch.tensor([0.0, 0.0, math.log(0.1), math.log(0.1)], dtype=DT)
    fit = estimators.lognormal_q_fit(
        model, init, 30, 2, 5.0, method="gradient", generator=torch.Generator().manual_seed(0)
    )
    assert not torch.isfinite(fit.elbo[-1]).all()
    assert (common.first_hit(fit.elbo, -26.0) == 31).all()


def test_the_estimate_is_the_course_reparameterization_estimator_in_log_scale():
    """log_scale_gradient is reparameterization_terms (family "lognormal") in (m, s), the scale part times s."""
    model = models.GammaPoisson()
    theta = torch.tensor([[1.4, -0.1, -1.5, -1.8], [0.2, 0.3, -0.5, -0.7]], dtype=DT)
    eps = torch.randn((2, 7, 2), dtype=DT, generator=torch.Generator().manual_seed(3))
    d_loc, d_scale = estimators.reparameterization_terms(
        model, theta[:, None, :2], theta[:, None, 2:].exp(), eps, "lognormal"
    )
    expected = torch.cat([d_loc.mean(-2), theta[:, 2:].exp() * d_scale.mean(-2)], -1)
    torch.testing.assert_close(estimators.log_scale_gradient(model, theta, eps), expected)
    z = torch.exp(theta[:, None, :2] + theta[:, None, 2:].exp() * eps)
    gz = model.grad_log_joint(z) * z  # per draw: g z + 1 for m, s eps (g z + 1) + 1 for log s
    by_hand = torch.cat([(gz + 1).mean(-2), (theta[:, None, 2:].exp() * eps * (gz + 1) + 1).mean(-2)], -1)
    torch.testing.assert_close(estimators.log_scale_gradient(model, theta, eps), by_hand)


def test_adam_is_torch_adam_ascending():
    model = models.GammaPoisson()
    init = torch.tensor([0.0, 0.0, math.log(0.1), math.log(0.1)], dtype=DT)
    fit = estimators.lognormal_q_fit(model, init, 3, 4, 0.05, method="adam", generator=torch.Generator().manual_seed(2))
    gen = torch.Generator().manual_seed(2)
    theta = init[None].clone().requires_grad_(True)
    adam = torch.optim.Adam([theta], lr=0.05)
    for t in range(3):
        g = estimators.log_scale_gradient(model, theta.detach(), torch.randn((1, 4, 2), dtype=DT, generator=gen))
        theta.grad = -g  # descending on -ELBO
        adam.step()
        torch.testing.assert_close(fit.params[t + 1], theta.detach())


def test_bad_input_raises():
    with pytest.raises(TypeError, match="model"):
        estimators.lognormal_q_fit("model", torch.zeros(4), 3, 2, 0.1)
    with pytest.raises(ValueError, match="init"):
        estimators.lognormal_q_fit(models.GammaPoisson(), torch.zeros(3), 3, 2, 0.1)
    with pytest.raises(ValueError, match="betas"):
        estimators.lognormal_q_fit(models.GammaPoisson(), torch.zeros(4), 3, 2, 0.1, method="adam", betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        estimators.log_scale_gradient(models.GammaPoisson(), torch.zeros(3, 4), torch.zeros(2, 5, 2))
