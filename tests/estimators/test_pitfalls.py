"""The two mistakes of a published solution to the chapter's exercise, and the test that catches each.

The test is the one the chapter uses: the mean of R independent estimates must lie within Z_TOL standard
errors of the quadrature gradient. It passes the helpers' estimators and rejects both buggy ones. The
reparameterization half runs on the log-normal q: under a Gaussian q of positive latents the correct
reparameterization estimator has no finite mean or variance, so "it passes a test in SEs" would mean nothing."""

from __future__ import annotations

import torch
from _shared import Z_TOL, generator

from helpers import common, estimators, models

DT = torch.float64
LOC, SCALE = torch.tensor([5.0, 1.0], dtype=DT), torch.tensor([0.5, 0.15], dtype=DT)
LN_SCALE = torch.sqrt(torch.log1p((SCALE / LOC) ** 2))  # the log-normal q with the same mean and sd
LN_LOC = torch.log(LOC) - LN_SCALE**2 / 2


def _passes(estimates: torch.Tensor, reference: torch.Tensor) -> bool:
    mean, se = common.mean_and_se(estimates)
    return bool((common.z_scores(mean, se, reference).abs() < Z_TOL).all())


def _score_function_prior_left_out(model, eps):
    z = LOC + SCALE * eps
    weight = model.log_likelihood(z) - common.Normal.log_prob(z, LOC, SCALE)
    centred = (weight - estimators.leave_one_out_baseline(weight))[..., None]
    score_loc, score_scale = common.Normal.score(z, LOC, SCALE)
    return torch.cat([score_loc * centred, score_scale * centred], -1).mean(-2)


def _reparameterization_independent_draws(model, eps, eps_other):
    # log-normal q, z = exp(m + s eps): the s-term (z dlogp/dz + 1) eps + 1/s with an independent eps_other
    z = torch.exp(LN_LOC + LN_SCALE * eps)
    path = z * model.grad_log_joint(z) + 1
    return torch.cat([path, path * eps_other + 1 / LN_SCALE], -1).mean(-2)


def test_the_reference_test_passes_the_helpers_and_catches_both_mistakes(model):
    reference = torch.cat(model.exact_elbo_gradient(LOC, SCALE))
    eps = torch.randn((1000, 1000, 2), generator=generator(21), dtype=DT)
    eps_other = torch.randn((1000, 1000, 2), generator=generator(22), dtype=DT)
    correct_sf = estimators.repeated_estimates(
        "score_function", model, LOC, SCALE, 1000, 1000, baseline="leave-one-out", generator=generator(23)
    )
    correct_rp = estimators.repeated_estimates(
        "reparameterization", model, LN_LOC, LN_SCALE, 1000, 1000, family="lognormal", generator=generator(24)
    )
    reference_ln = torch.cat(model.exact_elbo_gradient(LN_LOC, LN_SCALE, family="lognormal"))
    assert _passes(correct_sf.values, reference)
    assert _passes(correct_rp.values, reference_ln)
    assert not _passes(_score_function_prior_left_out(model, eps), reference)
    assert not _passes(_reparameterization_independent_draws(model, eps, eps_other), reference_ln)


def test_each_mistake_estimates_what_the_chapter_says(model):
    """(a) is unbiased for grad ELBO - grad E_q[log prior]; (b) for s-gradients equal to 1/s (log-normal q)."""
    eps = torch.randn((500, 1000, 2), generator=generator(25), dtype=DT)
    eps_other = torch.randn((500, 1000, 2), generator=generator(26), dtype=DT)
    # the same model with a flat prior (shape 1, rate -> 0) has ELBO E_q[log p(x|z)] + H[q] + const
    flat = models.GammaPoisson(u_shape=1.0, u_rate=1e-300, v_shape=1.0, v_rate=1e-300)
    target_a = torch.cat(flat.exact_elbo_gradient(LOC, SCALE))
    assert _passes(_score_function_prior_left_out(model, eps), target_a)
    reference_ln = torch.cat(model.exact_elbo_gradient(LN_LOC, LN_SCALE, family="lognormal"))
    target_b = torch.cat([reference_ln[:2], 1 / LN_SCALE])
    assert _passes(_reparameterization_independent_draws(model, eps, eps_other), target_b)
