"""helpers.vi.gamma_fit: the NLL and its derivatives against autograd and scipy; the fits against Newton's method and
scipy; Song et al.'s four parameterizations."""

from __future__ import annotations

import pytest
import torch
from scipy import stats
from torch.autograd.functional import hessian, jacobian

from helpers import models, vi
from helpers.common.sampling import sample_gamma

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)


def test_nll_and_its_derivatives():
    x = sample_gamma(3.0, 2.0, 500, torch.Generator().manual_seed(1))
    theta = torch.tensor([2.2, 1.3], dtype=DT)
    ref = -stats.gamma.logpdf(x.numpy(), 2.2, scale=1 / 1.3).sum()
    assert abs(float(vi.gamma_nll(x, theta)) - ref) < 1e-8 * abs(ref)
    ref_scale = -stats.gamma.logpdf(x.numpy(), 2.2, scale=1.3).sum()  # (alpha, s) = (2.2, 1.3): a different Gamma
    assert abs(float(vi.gamma_nll(x, theta, "scale")) - ref_scale) < 1e-8 * abs(ref_scale)
    for p in vi.GAMMA_PARAMETERIZATIONS:
        th = theta.clone()
        torch.testing.assert_close(vi.gamma_nll_grad(x, th, p), jacobian(lambda t, p=p: vi.gamma_nll(x, t, p), th))
    for p in ("rate", "scale"):
        torch.testing.assert_close(
            vi.gamma_nll_hessian(x, theta, p), hessian(lambda t, p=p: vi.gamma_nll(x, t, p), theta)
        )
    # rate: the Hessian is N F for any data; scale: not (theta is not the MLE)
    torch.testing.assert_close(vi.gamma_nll_hessian(x, theta, "rate"), x.numel() * vi.gamma_fisher(theta, "rate"))
    assert not torch.allclose(vi.gamma_nll_hessian(x, theta, "scale"), x.numel() * vi.gamma_fisher(theta, "scale"))


def test_natural_gradient_direction_is_invariant_and_the_plain_gradient_is_not():
    x = sample_gamma(3.0, 2.0, 300, torch.Generator().manual_seed(2))
    alpha, beta = 1.7, 3.1
    rate, scale = torch.tensor([alpha, beta], dtype=DT), torch.tensor([alpha, 1 / beta], dtype=DT)
    k = torch.diag(torch.tensor([1.0, -1.0 / beta**2], dtype=DT))  # d(alpha, s) / d(alpha, beta)
    nat_rate = torch.linalg.solve(vi.gamma_fisher(rate, "rate"), vi.gamma_nll_grad(x, rate))
    nat_scale = torch.linalg.solve(vi.gamma_fisher(scale, "scale"), vi.gamma_nll_grad(x, scale, "scale"))
    torch.testing.assert_close(k @ nat_rate, nat_scale)
    assert not torch.allclose(k @ vi.gamma_nll_grad(x, rate), vi.gamma_nll_grad(x, scale, "scale"), rtol=1e-2)


def test_natural_step_of_one_is_newton_in_rate_and_reaches_the_mle():
    x = sample_gamma(3.0, 2.0, 1000, torch.Generator().manual_seed(3))
    start = torch.tensor([2.5, 1.8], dtype=DT)
    fit = vi.fit_gamma(x, start, 1.0, 1)
    newton = start - torch.linalg.solve(vi.gamma_nll_hessian(x, start), vi.gamma_nll_grad(x, start))
    torch.testing.assert_close(fit.trajectory[1], newton)
    fit = vi.fit_gamma(x, [0.5, 8.0], [0.5, 1.0], 200)
    a, _, sc = stats.gamma.fit(x.numpy(), floc=0)
    for k in range(2):
        torch.testing.assert_close(fit.trajectory[-1, k], torch.tensor([a, 1 / sc], dtype=DT), rtol=1e-5, atol=0)
    assert fit.halvings.sum() > 0 and (vi.to_shape_rate(fit.trajectory, "rate") > 0).all()
    gd = vi.fit_gamma(x, [0.5, 8.0], 1.0, 200, method="gradient")
    assert float(gd.nll[-1]) > float(fit.nll[-1, 1])  # 200 plain steps are not yet at the MLE
    assert (gd.nll.diff() <= 1e-12).all()


def test_every_parameterization_has_the_same_continuous_path():
    x = sample_gamma(20.0, 20.0, 2000, torch.Generator().manual_seed(4))
    ends = {}
    for p in vi.GAMMA_PARAMETERIZATIONS:
        fine = vi.fit_gamma(x, [1.0, 1.0], 0.5 / 400, 4000, parameterization=p)
        ends[p] = vi.to_shape_rate(fine.trajectory[-1], p)
    for p in vi.GAMMA_PARAMETERIZATIONS:
        torch.testing.assert_close(ends[p], ends["rate"], rtol=2e-2, atol=0)
    coarse = [
        vi.to_shape_rate(vi.fit_gamma(x, [1.0, 1.0], 0.5, 10, parameterization=p).trajectory[-1], p)
        for p in ("rate", "scale")
    ]
    assert (coarse[0] - coarse[1]).abs().max() > 0.3


@pytest.mark.parametrize("parameterization", vi.GAMMA_PARAMETERIZATIONS)
def test_the_fast_step_direction_equals_fisher_solve(parameterization):
    from helpers.vi.gamma_fit import _direction

    x = sample_gamma(3.0, 2.0, 200, torch.Generator().manual_seed(10))
    st = vi.GammaStats.from_x(x)
    theta = torch.tensor([[1.3, 0.9], [2.0, 1.7]], dtype=DT)
    grad = vi.gamma_nll_grad(x, theta, parameterization) / x.numel()
    torch.testing.assert_close(_direction(st, theta, parameterization, "gradient"), grad)
    natural = torch.linalg.solve(vi.fisher_in(theta, parameterization), grad[..., None])[..., 0]
    torch.testing.assert_close(_direction(st, theta, parameterization, "natural"), natural)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="parameterization"):
        vi.gamma_fisher([1.0, 1.0], "shape-scale")
    with pytest.raises(ValueError, match="alpha"):
        vi.gamma_fisher([-1.0, 1.0], "rate")
    with pytest.raises(ValueError, match="step_size"):
        vi.fit_gamma([1.0, 2.0], [1.0, 1.0], -0.1, 3)
    with pytest.raises(ValueError, match="x"):
        vi.fit_gamma([1.0, -2.0], [1.0, 1.0], 0.1, 3)
    with pytest.raises(ValueError, match="forgetting"):
        vi.svi_normal_gamma([1.0, 2.0], PRIOR, 3, 1, forgetting=0.4)
    with pytest.raises(ValueError, match="method"):
        vi.fit_gamma([1.0, 2.0], [1.0, 1.0], 0.1, 3, method="newton")


def test_bad_input_is_refused_where_it_used_to_give_nan_or_garbage():
    with pytest.raises(ValueError, match="theta = .*'scale' coordinates"):
        vi.to_shape_rate(torch.tensor([1.0, 0.0], dtype=DT), "scale")  # was (1, inf)
    with pytest.raises(ValueError, match="theta must have shape"):
        vi.gamma_nll([1.0, 2.0], torch.ones(3, dtype=DT))  # was read in part
    with pytest.raises(ValueError, match="max_halvings"):  # was a trajectory leaving alpha, beta > 0
        vi.fit_gamma([1.0, 2.0], [0.5, 8.0], 1.0, 3, max_halvings=0)


def test_a_step_too_large_to_be_stable_raises_unless_kept():
    """Was: finite garbage (mean NLL up to 3,829 against 1.15 at the optimum) with no error or warning."""
    x = sample_gamma(3.0, 2.0, 1000, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"step_size=10 .*rose from .*smaller step_size"):
        vi.fit_gamma(x, [0.5, 8.0], [1.0, 10.0], 200, method="gradient")
    kept = vi.fit_gamma(x, [0.5, 8.0], [1.0, 10.0], 200, method="gradient", on_ascent="keep")
    assert float(kept.nll[:, 1].max()) > 10 * float(kept.nll[0, 1])  # the unstable run, kept on request
    assert (kept.nll[:, 0] <= kept.nll[0, 0]).all()  # the stable one never climbs above its start
    with pytest.raises(ValueError, match="on_ascent"):
        vi.fit_gamma(x, [0.5, 8.0], 1.0, 3, on_ascent="warn")
