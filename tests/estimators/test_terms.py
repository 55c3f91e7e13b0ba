"""Per-draw terms (helpers.estimators.terms): against autograd on replayed draws, the path derivative as the total
derivative minus the score, and the leave-one-out baseline as a rescaled same-draws one."""

from __future__ import annotations

import pytest
import torch
from _shared import generator

from helpers import common, estimators

DT = torch.float64
# sigma_v = 0.15 puts P(v <= 0) = 1.3e-11 on the negative half-line: no draw of these tests falls outside
SAFE_LOC, SAFE_SCALE = torch.tensor([5.0, 1.0], dtype=DT), torch.tensor([0.5, 0.15], dtype=DT)
LN_LOC, LN_SCALE = torch.tensor([1.6, -0.02], dtype=DT), torch.tensor([0.1, 0.2], dtype=DT)


# ------------------------------------------------------------------------------------------ against autograd
@pytest.mark.parametrize("family", ["normal", "lognormal"])
def test_reparameterization_terms_are_the_per_draw_autograd_gradients(model, family):
    loc, scale = (SAFE_LOC, SAFE_SCALE) if family == "normal" else (LN_LOC, LN_SCALE)
    q = common.get_family(family)
    eps = torch.randn((64, 2), generator=generator(3), dtype=DT)
    weights = torch.rand(64, generator=generator(4), dtype=DT)  # random weights single out every draw
    loc_v, scale_v = loc.clone().requires_grad_(True), scale.clone().requires_grad_(True)
    z = q.transform(eps, loc_v, scale_v)
    f = model.log_joint(z) - q.log_prob(z, loc_v, scale_v)
    auto_loc, auto_scale = torch.autograd.grad((weights * f).sum(), (loc_v, scale_v))
    terms_loc, terms_scale = estimators.reparameterization_terms(model, loc, scale, eps, family)
    torch.testing.assert_close((weights[:, None] * terms_loc).sum(0), auto_loc)
    torch.testing.assert_close((weights[:, None] * terms_scale).sum(0), auto_scale)


@pytest.mark.parametrize("family", ["normal", "lognormal"])
def test_score_function_terms_are_score_times_weight(model, family):
    loc, scale = (SAFE_LOC, SAFE_SCALE) if family == "normal" else (LN_LOC, LN_SCALE)
    q = common.get_family(family)
    eps = torch.randn((64, 2), generator=generator(5), dtype=DT)
    z = q.transform(eps, loc, scale)
    w = (model.log_joint(z) - q.log_prob(z, loc, scale)).detach()
    c = torch.rand(64, generator=generator(6), dtype=DT)
    loc_v, scale_v = loc.clone().requires_grad_(True), scale.clone().requires_grad_(True)
    auto = torch.autograd.grad((c * w * q.log_prob(z, loc_v, scale_v)).sum(), (loc_v, scale_v))
    terms_loc, terms_scale = estimators.score_function_terms(model, loc, scale, eps, family)
    torch.testing.assert_close((c[:, None] * terms_loc).sum(0), auto[0])
    torch.testing.assert_close((c[:, None] * terms_scale).sum(0), auto[1])


def test_path_derivative_drops_exactly_the_score(model):
    eps = torch.randn((32, 2), generator=generator(8), dtype=DT)
    total = estimators.reparameterization_terms(model, SAFE_LOC, SAFE_SCALE, eps)
    path = estimators.reparameterization_terms(model, SAFE_LOC, SAFE_SCALE, eps, path_derivative=True)
    score = common.Normal.score(SAFE_LOC + SAFE_SCALE * eps, SAFE_LOC, SAFE_SCALE)
    for t, p, s in zip(total, path, score):
        torch.testing.assert_close(p - s, t)


def test_leave_one_out_equals_rescaled_same_draw_estimator(model):
    eps = torch.randn((50, 2), generator=generator(13), dtype=DT)
    w = estimators.elbo_terms(model, SAFE_LOC, SAFE_SCALE, eps)
    loo = estimators.score_function_terms(
        model, SAFE_LOC, SAFE_SCALE, eps, baseline=estimators.leave_one_out_baseline(w)
    )
    same = estimators.score_function_terms(model, SAFE_LOC, SAFE_SCALE, eps, baseline=estimators.same_draws_baseline(w))
    for a, b in zip(loo, same):
        torch.testing.assert_close(a.mean(0), 50 / 49 * b.mean(0))
