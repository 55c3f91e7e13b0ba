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


# ------------------------------------------------------------------------------------------ Gauss–Hermite moments
def test_gauss_hermite_integrates_normal_moments_exactly():
    nodes, weights = common.gauss_hermite(5)  # exact to degree 9
    assert nodes.shape == (5, 1) and weights.shape == (5,) and nodes.dtype == torch.float64
    for k, exact in enumerate([1, 0, 1, 0, 3, 0, 15, 0, 105, 0]):  # E[eps^k] = (k - 1)!! for even k
        assert abs(float((weights * nodes[:, 0] ** k).sum()) - exact) < 1e-11 * max(1, exact), k
    nodes2, weights2 = common.gauss_hermite(4, dim=2)
    assert nodes2.shape == (16, 2)
    nodes4 = common.gauss_hermite(4)[0][:, 0]
    assert (nodes2[:4, 0] == nodes4[0]).all() and torch.equal(nodes2[:4, 1], nodes4)  # the first coordinate slowest
    # E[eps_1^2 eps_2^4] = 1 * 3, E[eps_1 eps_2] = 0, the weights sum to 1
    assert abs(float((weights2 * nodes2[:, 0] ** 2 * nodes2[:, 1] ** 4).sum()) - 3.0) < 1e-12
    assert abs(float((weights2 * nodes2[:, 0] * nodes2[:, 1]).sum())) < 1e-14
    assert abs(float(weights2.sum()) - 1.0) < 1e-14


def test_gauss_hermite_moments_of_per_draw_terms_are_exact():
    # f(eps) = (a + b eps, eps^2): mean (a, 1), variance (b^2, 2), fourth central moment (3 b^4, 60)
    a, b = 0.3, 1.7
    moments = common.gauss_hermite_moments(lambda e: torch.cat([a + b * e, e**2], -1), 10)
    torch.testing.assert_close(moments.mean, torch.tensor([a, 1.0], dtype=torch.float64), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(moments.variance, torch.tensor([b**2, 2.0], dtype=torch.float64), rtol=1e-12, atol=0)
    torch.testing.assert_close(
        moments.central4, torch.tensor([3 * b**4, 60.0], dtype=torch.float64), rtol=1e-12, atol=0
    )
    # in two dimensions: f = eps_1 eps_2 has mean 0, variance 1 and fourth moment E[eps_1^4] E[eps_2^4] = 9
    mean, variance, central4 = common.gauss_hermite_moments(lambda e: e[:, :1] * e[:, 1:], 6, dim=2)
    assert abs(float(mean)) < 1e-14 and abs(float(variance) - 1) < 1e-12 and abs(float(central4) - 9) < 1e-11


def test_gauss_hermite_moments_agree_with_monte_carlo_of_a_smooth_term():
    # the log-normal's moments: E[exp(s eps)] = exp(s^2 / 2), Var = exp(s^2) (exp(s^2) - 1)
    s = 0.4
    moments = common.gauss_hermite_moments(lambda e: torch.exp(s * e), 40)
    torch.testing.assert_close(
        moments.mean, torch.tensor([math.exp(s**2 / 2)], dtype=torch.float64), rtol=1e-13, atol=0
    )
    exact_var = math.exp(s**2) * (math.exp(s**2) - 1)
    torch.testing.assert_close(moments.variance, torch.tensor([exact_var], dtype=torch.float64), rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: common.gauss_hermite(0), ValueError, "num_nodes"),
        (lambda: common.gauss_hermite(3, dim=1.5), ValueError, "dim"),
        (lambda: common.gauss_hermite(3, dtype="float64"), TypeError, "dtype"),
        (lambda: common.gauss_hermite_moments("f", 3), TypeError, "terms"),
        (lambda: common.gauss_hermite_moments(lambda e: e.sum(), 3), ValueError, "one row per node"),
        (lambda: common.gauss_hermite_moments(lambda e: e[:2], 3), ValueError, "one row per node"),
    ],
)
def test_gauss_hermite_bad_arguments_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
