"""Gaussian KL and the mean-field optima under KL(q || p) and KL(p || q), against torch.distributions, Monte Carlo
and direct numerical optimization."""

from __future__ import annotations

import pytest
import torch
from _shared import Z_TOL, generator
from torch.distributions import MultivariateNormal, kl_divergence

from helpers import common, vi

DT = torch.float64


def _random_gaussian(d: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = generator(seed)
    a = torch.randn(d, d, dtype=DT, generator=g)
    return torch.randn(d, dtype=DT, generator=g), a @ a.T + 0.3 * torch.eye(d, dtype=DT)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_gaussian_kl_matches_torch_distributions(d):
    mq, sq = _random_gaussian(d, 1)
    mp, sp = _random_gaussian(d, 2)
    expected = kl_divergence(MultivariateNormal(mq, sq), MultivariateNormal(mp, sp))
    torch.testing.assert_close(vi.gaussian_kl(mq, sq, mp, sp), expected, rtol=1e-10, atol=1e-12)


def test_gaussian_kl_batches_and_is_zero_for_equal_arguments():
    mq, sq = _random_gaussian(3, 1)
    mp, sp = _random_gaussian(3, 2)
    batch = vi.gaussian_kl(torch.stack([mq, mp]), torch.stack([sq, sp]), mp, sp)
    assert batch.shape == (2,)
    torch.testing.assert_close(batch[0], vi.gaussian_kl(mq, sq, mp, sp))
    assert abs(float(batch[1])) < 1e-12


def test_gaussian_kl_matches_monte_carlo():
    mq, sq = _random_gaussian(2, 3)
    mp, sp = _random_gaussian(2, 4)
    q, p = MultivariateNormal(mq, sq), MultivariateNormal(mp, sp)
    z = mq + torch.randn(100_000, 2, dtype=DT, generator=generator(5)) @ torch.linalg.cholesky(sq).T
    mean, se = common.mean_and_se(q.log_prob(z) - p.log_prob(z))
    assert abs(float(mean) - float(vi.gaussian_kl(mq, sq, mp, sp))) < Z_TOL * float(se)


def _diag_kl(m, s, loc, log_var, reverse: bool):
    q_cov = torch.diag(torch.exp(log_var))
    return vi.gaussian_kl(loc, q_cov, m, s) if reverse else vi.gaussian_kl(m, s, loc, q_cov)


@pytest.mark.parametrize("reverse", [True, False])
def test_mean_field_optima_match_numerical_optimization(reverse):
    m, s = _random_gaussian(3, 6)
    loc = torch.zeros(3, dtype=DT, requires_grad=True)
    log_var = torch.zeros(3, dtype=DT, requires_grad=True)
    opt = torch.optim.LBFGS(
        [loc, log_var],
        lr=1.0,
        max_iter=500,
        tolerance_grad=1e-12,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = _diag_kl(m, s, loc, log_var, reverse)
        loss.backward()
        return loss

    opt.step(closure)
    optimum = vi.mean_field_reverse_kl(m, s) if reverse else vi.mean_field_forward_kl(m, s)
    torch.testing.assert_close(loc.detach(), optimum[0], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(log_var.detach().exp(), optimum[1], rtol=1e-6, atol=1e-7)


def test_reverse_kl_under_and_forward_kl_exactly_matches_marginal_variances():
    rho, sd = 0.9, torch.tensor([1.0, 2.0], dtype=DT)
    s = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=DT) * torch.outer(sd, sd)
    m = torch.tensor([0.5, -1.0], dtype=DT)
    _, var_rev = vi.mean_field_reverse_kl(m, s)
    _, var_fwd = vi.mean_field_forward_kl(m, s)
    torch.testing.assert_close(var_rev, sd**2 * (1 - rho**2))  # the 2-D closed form
    torch.testing.assert_close(var_fwd, sd**2)
    # both minimal KLs equal -1/2 log(1 - rho^2) in two dimensions
    expected = -0.5 * torch.log(torch.tensor(1 - rho**2, dtype=DT))
    torch.testing.assert_close(vi.gaussian_kl(m, torch.diag(var_rev), m, s), expected)
    torch.testing.assert_close(vi.gaussian_kl(m, s, m, torch.diag(var_fwd)), expected)


@pytest.mark.parametrize(
    ("cov", "match"),
    [
        ([[1.0, 0.5], [0.0, 1.0]], "cov must be symmetric"),
        ([[1.0, 2.0], [2.0, 1.0]], "cov must be positive definite"),
        ([[1.0]], r"cov must have shape \(\.\.\., 2, 2\)"),
        ([[1.0, float("nan")], [float("nan"), 1.0]], "cov must be finite"),
    ],
)
def test_bad_covariances_raise_naming_the_argument(cov, match):
    with pytest.raises(ValueError, match=match):
        vi.mean_field_reverse_kl([0.0, 0.0], cov)
