"""Variational families against torch.distributions and autograd."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import LogNormal, Normal

from helpers import common

DT = torch.float64
REFERENCE = {"normal": Normal, "lognormal": LogNormal}


@pytest.fixture(params=["normal", "lognormal"])
def family(request):
    return common.get_family(request.param)


def _setup(family):
    loc = torch.tensor([0.7, -0.3], dtype=DT)
    scale = torch.tensor([0.4, 1.3], dtype=DT)
    eps = torch.randn(3, 6, 2, generator=torch.Generator().manual_seed(0), dtype=DT)  # (R, S, D)
    return loc, scale, eps, family.transform(eps, loc, scale)


def test_transform_draws_have_the_distributions_mean_and_variance(family):
    loc, scale = torch.tensor([0.7, -0.3], dtype=DT), torch.tensor([0.4, 0.5], dtype=DT)
    eps = torch.randn(200_000, 2, generator=torch.Generator().manual_seed(1), dtype=DT)
    z = family.transform(eps, loc, scale)
    reference = REFERENCE[family.name](loc, scale)
    mean, mean_se = common.mean_and_se(z)
    var, var_se = common.variance_and_se(z)
    assert (common.z_scores(mean, mean_se, reference.mean).abs() < 4.5).all()
    assert (common.z_scores(var, var_se, reference.variance).abs() < 4.5).all()


def test_log_prob_matches_torch_distributions(family):
    loc, scale, eps, z = _setup(family)
    expected = REFERENCE[family.name](loc, scale).log_prob(z).sum(-1)
    torch.testing.assert_close(family.log_prob(z, loc, scale), expected)
    torch.testing.assert_close(family.log_prob_from_noise(eps, z, loc, scale), expected)


def test_score_matches_autograd(family):
    loc, scale, eps, z = _setup(family)
    loc_v, scale_v = loc.clone().requires_grad_(True), scale.clone().requires_grad_(True)
    score_loc, score_scale = family.score(z, loc, scale)
    fast_loc, fast_scale = family.score_from_noise(eps, z, loc, scale)
    for idx in [(0, 0), (1, 3), (2, 5)]:
        auto = torch.autograd.grad(REFERENCE[family.name](loc_v, scale_v).log_prob(z[idx]).sum(), (loc_v, scale_v))
        torch.testing.assert_close(score_loc[idx], auto[0])
        torch.testing.assert_close(score_scale[idx], auto[1])
        torch.testing.assert_close(fast_loc[idx], auto[0])
        torch.testing.assert_close(fast_scale[idx], auto[1])


def test_grad_z_log_prob_and_jacobian_match_autograd(family):
    loc, scale, eps, z = _setup(family)
    z_v = z.clone().requires_grad_(True)
    (auto_z,) = torch.autograd.grad(REFERENCE[family.name](loc, scale).log_prob(z_v).sum(), z_v)
    torch.testing.assert_close(family.grad_z_log_prob(z, loc, scale), auto_z)
    loc_v, scale_v = loc.clone().requires_grad_(True), scale.clone().requires_grad_(True)
    dz_dloc, dz_dscale = family.jacobian(eps, loc, scale)
    # the family is mean-field, so d z_d / d loc_d is the only non-zero entry: sum over d checks it
    auto_loc, auto_scale = torch.autograd.grad(family.transform(eps, loc_v, scale_v).sum(), (loc_v, scale_v))
    dz_dloc = torch.as_tensor(dz_dloc, dtype=DT).expand_as(eps)  # a constant may come back as a number
    torch.testing.assert_close(dz_dloc.sum((0, 1)), auto_loc)
    torch.testing.assert_close(dz_dscale.sum((0, 1)), auto_scale)


def test_get_family_accepts_names_classes_and_instances_and_rejects_the_rest():
    assert isinstance(common.get_family("Normal"), common.Normal)
    assert isinstance(common.get_family(common.LogNormal), common.LogNormal)
    family = common.LogNormal()
    assert common.get_family(family) is family
    for bad in ("student-t", 3, object()):
        with pytest.raises(ValueError, match="family"):
            common.get_family(bad)


def test_lognormal_log_prob_refuses_draws_of_another_dimension():
    loc, scale = torch.zeros(2), torch.ones(2)
    for z in (torch.ones(1, 0), torch.ones(1, 3), torch.ones(1, 2, 1)):  # empty, too long, an axis that broadcasts
        with pytest.raises(ValueError, match=r"z must have shape \(\.\.\., D\) with D = 2"):
            common.LogNormal.log_prob(z, loc, scale)
