"""The truncated-normal moments against mpmath (50 digits) and finite differences."""

from __future__ import annotations

import math

import mpmath
import pytest
import torch

from helpers import common

DT = torch.float64


def _mp_log_moment(mu: float, sigma: float) -> float:
    mpmath.mp.dps = 50
    mu_m, s_m = mpmath.mpf(mu), mpmath.mpf(sigma)
    density = lambda z: mpmath.exp(-((z - mu_m) ** 2) / (2 * s_m**2)) / (s_m * mpmath.sqrt(2 * mpmath.pi))  # noqa: E731
    hi = mu_m + 40 * s_m
    points = [0, max(mpmath.mpf(0), mu_m - 8 * s_m), max(mpmath.mpf(0), mu_m), hi]
    points = sorted(set(points))
    return float(mpmath.quad(lambda z: mpmath.log(z) * density(z), points))


@pytest.mark.parametrize("mu, sigma", [(5.0, 0.5), (1.0, 0.2), (0.3, 0.2), (-0.5, 1.0), (0.0, 2.0), (2.0, 3.0)])
def test_positive_log_moment_matches_mpmath(mu, sigma):
    value = common.normal_positive_log_moment(torch.tensor([mu], dtype=DT), torch.tensor([sigma], dtype=DT))
    assert float(value[0]) == pytest.approx(_mp_log_moment(mu, sigma), abs=1e-11, rel=1e-10)


@pytest.mark.parametrize("mu, sigma", [(5.0, 0.5), (1.0, 0.2), (0.3, 0.4), (-0.5, 1.0)])
def test_positive_log_moment_gradient_matches_finite_differences(mu, sigma):
    loc = torch.tensor([mu], dtype=DT, requires_grad=True)
    scale = torch.tensor([sigma], dtype=DT, requires_grad=True)
    d_loc, d_scale = torch.autograd.grad(common.normal_positive_log_moment(loc, scale).sum(), (loc, scale))
    h = 1e-5
    fd_loc = (_mp_log_moment(mu + h, sigma) - _mp_log_moment(mu - h, sigma)) / (2 * h)
    fd_scale = (_mp_log_moment(mu, sigma + h) - _mp_log_moment(mu, sigma - h)) / (2 * h)
    assert float(d_loc) == pytest.approx(fd_loc, abs=1e-7)
    assert float(d_scale) == pytest.approx(fd_scale, abs=1e-7)


@pytest.mark.parametrize("mu, sigma", [(1.0, 0.2), (0.3, 0.4), (-1.0, 0.7)])
def test_closed_form_truncated_moments_match_mpmath(mu, sigma):
    moments = common.normal_positive_moments(torch.tensor([mu], dtype=DT), torch.tensor([sigma], dtype=DT))
    mpmath.mp.dps = 40
    density = lambda z: mpmath.npdf(z, mu, sigma)  # noqa: E731
    upper = mu + 40 * sigma
    assert float(moments["mass"][0]) == pytest.approx(float(mpmath.quad(density, [0, upper])), rel=1e-12)
    assert float(moments["mean"][0]) == pytest.approx(
        float(mpmath.quad(lambda z: z * density(z), [0, upper])), rel=1e-12
    )
    sq_dev = float(mpmath.quad(lambda z: (z - mu) ** 2 * density(z), [0, upper]))
    assert float(moments["sq_dev"][0]) == pytest.approx(sq_dev, rel=1e-12)


def test_far_below_zero_the_moments_vanish():
    moments = common.normal_positive_moments(torch.tensor([-50.0], dtype=DT), torch.tensor([1.0], dtype=DT))
    assert all(math.isclose(float(v[0]), 0.0, abs_tol=1e-300) for v in moments.values())
