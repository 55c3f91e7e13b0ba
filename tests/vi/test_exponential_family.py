"""helpers.vi.exponential_family: the Gamma exponential family and its Fisher matrices against autograd, quadrature and
Monte Carlo; the Normal–Gamma q's natural parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch.autograd.functional import hessian, jacobian

from helpers import models, vi
from helpers.common.sampling import sample_gamma
from helpers.common.stats import mean_and_se

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)


def _eta_of(theta, parameterization):
    a, b = theta[0], theta[1]
    beta = b if parameterization == "rate" else 1.0 / b
    return torch.stack([a - 1.0, -beta])


@pytest.mark.parametrize("alpha, beta", [(3.0, 2.0), (0.7, 5.0), (20.0, 20.0)])
def test_fisher_closed_forms_against_autograd(alpha, beta):
    eta = vi.gamma_natural_params(alpha, beta)
    torch.testing.assert_close(vi.gamma_fisher(eta, "natural"), hessian(vi.gamma_log_partition, eta))
    torch.testing.assert_close(
        vi.gamma_mean_sufficient(alpha, beta), torch.autograd.functional.jacobian(vi.gamma_log_partition, eta)
    )
    f_eta = vi.gamma_fisher(eta, "natural")
    for name, theta in (("rate", [alpha, beta]), ("scale", [alpha, 1.0 / beta])):
        th = torch.tensor(theta, dtype=DT)
        jac = jacobian(lambda t, name=name: _eta_of(t, name), th)  # d eta / d theta
        expected = jac.T @ f_eta @ jac
        torch.testing.assert_close(vi.gamma_fisher(th, name), expected)
        torch.testing.assert_close(vi.fisher_in(th, name), expected)
        if name == "scale":  # the published slip: J^-1 = J holds for the rate map only
            assert not torch.allclose(torch.linalg.inv(jac), jac)
            wrong = torch.linalg.inv(jac).T @ f_eta @ torch.linalg.inv(jac)
            assert not torch.allclose(wrong, expected, rtol=1e-3)
        else:
            torch.testing.assert_close(torch.linalg.inv(jac), jac)
    assert vi.gamma_fisher([alpha, beta], "rate")[0, 1] < 0 < vi.gamma_fisher([alpha, 1 / beta], "scale")[0, 1]


def test_mean_sufficient_statistics_by_quadrature():
    alpha, beta = 3.0, 2.0
    pdf = lambda x: stats.gamma.pdf(x, alpha, scale=1 / beta)  # noqa: E731
    e_log = integrate.quad(lambda x: math.log(x) * pdf(x), 0, np.inf, epsabs=1e-12)[0]
    e_x = integrate.quad(lambda x: x * pdf(x), 0, np.inf, epsabs=1e-12)[0]
    torch.testing.assert_close(vi.gamma_mean_sufficient(alpha, beta), torch.tensor([e_log, e_x], dtype=DT))


def test_fisher_is_the_covariance_of_the_score_by_monte_carlo():
    alpha, beta = 3.0, 2.0
    x = sample_gamma(alpha, beta, 200_000, torch.Generator().manual_seed(0))
    score = torch.stack([x.log(), x], -1) - vi.gamma_mean_sufficient(alpha, beta)  # grad_eta log p, (S, 2)
    outer = (score[:, :, None] * score[:, None, :]).reshape(-1, 4)
    mean, se = mean_and_se(outer)
    z = (mean - vi.gamma_fisher(vi.gamma_natural_params(alpha, beta), "natural").reshape(4)) / se
    assert z.abs().max() < 4.5, z


def test_validation_keeps_autograd_working():
    eta = vi.gamma_natural_params(3.0, 2.0).requires_grad_()
    vi.gamma_log_partition(eta).backward()
    torch.testing.assert_close(eta.grad, vi.gamma_mean_sufficient(3.0, 2.0))


def test_natural_parameters_outside_the_family_are_refused():
    with pytest.raises(ValueError, match="eta = .* not the natural parameter"):
        vi.normal_gamma_from_natural(torch.tensor([0.0, 0.5, 1.0, -1.0], dtype=DT))  # was lambda_N = -1
    with pytest.raises(ValueError, match="parameterization"):
        vi.gamma_fisher([1.0, 1.0], "shape-scale")
    with pytest.raises(TypeError, match="parameterization"):
        vi.gamma_fisher([1.0, 1.0], 2)
