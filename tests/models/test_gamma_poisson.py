"""GammaPoisson against independent implementations: torch.distributions, scipy, 2-D quadrature, autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch.distributions import Gamma, Poisson

from helpers import common, models

DT = torch.float64


def _log_joint_torch_distributions(model, z):
    u, v = z[..., 0], z[..., 1]
    log_lik = Poisson((u * v)[..., None]).log_prob(model.x).sum(-1)
    prior_u = Gamma(torch.tensor(model.u_shape, dtype=DT), torch.tensor(model.u_rate, dtype=DT))
    prior_v = Gamma(torch.tensor(model.v_shape, dtype=DT), torch.tensor(model.v_rate, dtype=DT))
    return log_lik + prior_u.log_prob(u) + prior_v.log_prob(v)


def test_defaults_are_the_exercise():
    model = models.GammaPoisson()
    assert model.x.tolist() == [3, 4, 3, 9, 10, 3, 2, 3, 3, 2]
    assert (model.u_shape, model.u_rate, model.v_shape, model.v_rate) == (5.0, 1.0, 4.0, 4.0)
    assert model.sum_x == 42 and model.num_data == 10


def test_log_joint_matches_torch_distributions_and_its_parts(model):
    z = torch.rand(500, 2, generator=torch.Generator().manual_seed(0), dtype=DT) * torch.tensor([15.0, 4.0]) + 1e-4
    expected = _log_joint_torch_distributions(model, z)
    torch.testing.assert_close(model.log_joint(z), expected, rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(model.log_likelihood(z) + model.log_prior(z), expected, rtol=1e-12, atol=1e-10)


def test_log_joint_matches_scipy_with_scale_equal_to_one_over_rate(model):
    u, v = 3.7, 1.3
    expected = (
        stats.poisson(u * v).logpmf(model.x.numpy()).sum()
        + stats.gamma(5.0, scale=1.0 / 1.0).logpdf(u)
        + stats.gamma(4.0, scale=1.0 / 4.0).logpdf(v)
    )
    assert float(model.log_joint(torch.tensor([u, v], dtype=DT))) == pytest.approx(expected, rel=1e-13)


def test_outside_the_support_log_joint_is_minus_inf_and_gradient_nan(model):
    z = torch.tensor([[-1.0, 1.0], [1.0, -0.5], [0.0, 1.0], [2.0, 1.0]], dtype=DT)
    assert model.log_joint(z)[:3].eq(-math.inf).all() and torch.isfinite(model.log_joint(z)[3])
    assert model.log_likelihood(z)[:3].eq(-math.inf).all()
    assert torch.isnan(model.grad_log_joint(z)[:3]).all() and torch.isfinite(model.grad_log_joint(z)[3]).all()
    assert model.outside_support(z).tolist() == [True, True, True, False]


def test_gradients_match_autograd(model):
    z = (torch.rand(50, 2, generator=torch.Generator().manual_seed(1), dtype=DT) * 5 + 0.05).requires_grad_(True)
    (auto,) = torch.autograd.grad(model.log_joint(z).sum(), z)
    torch.testing.assert_close(model.grad_log_joint(z.detach()), auto)
    (auto_lik,) = torch.autograd.grad(model.log_likelihood(z).sum(), z)
    torch.testing.assert_close(model.grad_log_likelihood(z.detach()), auto_lik)


def test_log_evidence_matches_two_dimensional_quadrature(model):
    shift = 25.0
    value, _ = integrate.dblquad(
        lambda v, u: math.exp(float(model.log_joint(torch.tensor([u, v], dtype=DT))) + shift),
        0,
        30,
        0,
        6,
        epsabs=1e-12,
        epsrel=1e-10,
    )
    assert model.log_evidence() == pytest.approx(math.log(value) - shift, abs=1e-7)


def _elbo_dblquad(model, loc, scale, family="normal"):
    """Independent 2-D quadrature of q (log p - log q) over the positive quadrant."""
    q = common.get_family(family)
    lo_t, sc_t = torch.as_tensor(loc, dtype=DT), torch.as_tensor(scale, dtype=DT)

    def integrand(v, u):
        z = torch.tensor([u, v], dtype=DT)
        log_q = float(q.log_prob(z, lo_t, sc_t))
        return math.exp(log_q) * (float(model.log_joint(z)) - log_q)

    if family == "normal":
        hi = [loc[d] + 12 * scale[d] for d in range(2)]
        lo = [max(0.0, loc[d] - 12 * scale[d]) for d in range(2)]
    else:
        hi = [math.exp(loc[d] + 12 * scale[d]) for d in range(2)]
        lo = [math.exp(loc[d] - 12 * scale[d]) for d in range(2)]
    value, _ = integrate.dblquad(integrand, lo[0], hi[0], lo[1], hi[1], epsabs=1e-10, epsrel=1e-10)
    return value


@pytest.mark.parametrize(
    "loc, scale",
    [([5.0, 1.0], [0.5, 0.2]), ([3.0, 1.5], [1.0, 0.4]), ([4.0, 0.3], [0.5, 0.2])],
    ids=["chapter", "wide", "much-mass-below-zero"],
)
def test_exact_elbo_normal_is_the_elbo_restricted_to_the_support(model, loc, scale):
    assert float(model.exact_elbo(loc, scale)) == pytest.approx(_elbo_dblquad(model, loc, scale), abs=2e-7)


def test_exact_elbo_lognormal_closed_form_matches_quadrature(model, lognormal_params):
    loc, scale = (t.tolist() for t in lognormal_params)
    expected = _elbo_dblquad(model, loc, scale, family="lognormal")
    assert float(model.exact_elbo(loc, scale, family="lognormal")) == pytest.approx(expected, abs=2e-7)


@pytest.mark.parametrize("family", ["normal", "lognormal"])
def test_exact_elbo_gradient_matches_finite_differences(model, family):
    loc = torch.tensor([5.0, 1.0] if family == "normal" else [1.6, -0.02], dtype=DT)
    scale = torch.tensor([0.5, 0.2] if family == "normal" else [0.1, 0.2], dtype=DT)
    grad_loc, grad_scale = model.exact_elbo_gradient(loc, scale, family=family)
    # central differences: truncation error ~ h^2 |f'''| ~ 1e-9 and round-off ~ 1e-16 |f| / h ~ 3e-10; the
    # quadrature inside exact_elbo is accurate to ~1e-12, i.e. ~1e-7 after dividing by h: 1e-6 bounds all three
    h = 1e-5
    for which, grad in (("loc", grad_loc), ("scale", grad_scale)):
        for d in range(2):
            step = torch.zeros(2, dtype=DT)
            step[d] = h
            plus = model.exact_elbo(
                loc + step if which == "loc" else loc, scale + step if which == "scale" else scale, family
            )
            minus = model.exact_elbo(
                loc - step if which == "loc" else loc, scale - step if which == "scale" else scale, family
            )
            assert float(grad[d]) == pytest.approx(float(plus - minus) / (2 * h), abs=1e-6), (which, d)


def test_exact_elbo_is_below_the_log_evidence(model, params):
    assert float(model.exact_elbo(*params)) < model.log_evidence()
    assert float(model.exact_elbo([1.5, 0.0], [0.15, 0.15], family="lognormal")) < model.log_evidence()


def test_prob_outside_support_matches_scipy(model):
    expected = 1 - stats.norm.cdf(5.0 / 0.5) * stats.norm.cdf(1.0 / 0.2)
    assert model.prob_outside_support([5.0, 1.0], [0.5, 0.2]) == pytest.approx(expected, rel=1e-9)
    assert model.prob_outside_support([1.0, 1.0], [0.5, 0.2], family="lognormal") == 0.0


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(x=[1, -2]), "x"),
        (dict(x=[1.5, 2]), "x"),
        (dict(x=[[1, 2]]), "x"),
        (dict(x=[1, float("nan")]), "x"),
        (dict(u_rate=-1.0), "u_rate"),
        (dict(v_shape=0.0), "v_shape"),
        (dict(u_shape=None), "u_shape"),
        (dict(v_rate=True), "v_rate"),
    ],
)
def test_bad_model_arguments_raise_naming_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        models.GammaPoisson(**kwargs)


def test_other_data_changes_the_sufficient_statistics():
    model = models.GammaPoisson(x=np.array([0, 1, 2]))
    assert model.sum_x == 3 and model.num_data == 3
    assert model.log_factorials == pytest.approx(math.log(2.0))


def test_an_inaccurate_quadrature_raises_instead_of_returning_a_wrong_reference():
    from helpers.common.quadrature import checked_quad

    assert checked_quad(math.exp, 0.0, 1.0, abs_tol=1e-12) == pytest.approx(math.e - 1, rel=1e-14)
    with pytest.raises(RuntimeError, match="quadrature"):
        checked_quad(lambda t: 1.0 / t, 0.0, 1.0, abs_tol=1e-8)  # divergent integral
