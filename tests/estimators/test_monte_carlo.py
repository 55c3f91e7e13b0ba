"""Estimators: replayed draws, autograd, unbiasedness against the quadrature reference, the same-draw bias,
support handling and input validation. Statistical tests are seeded; tolerances are Z_TOL standard errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from _shared import Z_TOL, generator

from helpers import common, estimators

DT = torch.float64
# sigma_v = 0.15 puts P(v <= 0) = 1.3e-11 on the negative half-line: no draw of these tests falls outside
SAFE_LOC, SAFE_SCALE = torch.tensor([5.0, 1.0], dtype=DT), torch.tensor([0.5, 0.15], dtype=DT)
LN_LOC, LN_SCALE = torch.tensor([1.6, -0.02], dtype=DT), torch.tensor([0.1, 0.2], dtype=DT)


def _reference(model, family):
    loc, scale = (SAFE_LOC, SAFE_SCALE) if family == "normal" else (LN_LOC, LN_SCALE)
    return loc, scale, model.exact_elbo(loc, scale, family), torch.cat(model.exact_elbo_gradient(loc, scale, family))


# ------------------------------------------------------------------------------------------ replayed draws
def test_public_estimators_replay_the_generator_draws(model, params):
    loc, scale = params
    eps = torch.randn((500, 2), generator=generator(7), dtype=DT)
    z = loc + scale * eps
    weights = model.log_joint(z) - torch.distributions.Normal(loc, scale).log_prob(z).sum(-1)
    elbo = estimators.elbo_estimate(model, loc, scale, num_samples=500, generator=generator(7))
    torch.testing.assert_close(elbo, weights.mean())
    score_loc = (z - loc) / scale**2
    score_scale = -1 / scale + (z - loc) ** 2 / scale**3
    grad_loc, grad_scale = estimators.score_function_gradient(
        model, loc, scale, num_samples=500, baseline=None, generator=generator(7)
    )
    torch.testing.assert_close(grad_loc, (score_loc * weights[:, None]).mean(0))
    torch.testing.assert_close(grad_scale, (score_scale * weights[:, None]).mean(0))
    grad_loc, grad_scale = estimators.reparameterization_gradient(
        model, loc, scale, num_samples=500, generator=generator(7)
    )
    dlogp = model.grad_log_joint(z)
    torch.testing.assert_close(grad_loc, dlogp.mean(0))
    torch.testing.assert_close(grad_scale, (dlogp * eps + 1 / scale).mean(0))


def test_contract_shapes_and_dtypes(model, params):
    loc, scale = params
    g = generator(0)
    assert estimators.elbo_estimate(model, loc, scale, num_samples=100, generator=g).shape == ()
    for estimate in (
        estimators.score_function_gradient(model, loc, scale, num_samples=100, baseline=None, generator=g),
        estimators.reparameterization_gradient(model, loc, scale, num_samples=100, generator=g),
    ):
        grad_loc, grad_scale = estimate
        assert grad_loc.shape == (2,) and grad_scale.shape == (2,) and grad_loc.dtype == DT
    grad_ref = model.exact_elbo_gradient(loc, scale)
    assert grad_ref[0].shape == (2,) and model.exact_elbo(loc, scale).dtype == DT
    rep = estimators.repeated_estimates("score_function", model, loc, scale, 10, 7, generator=g)
    assert rep.values.shape == (7, 4) and rep.num_outside.shape == (7,)
    assert estimators.repeated_estimates("elbo", model, loc, scale, 10, 7, generator=g).values.shape == (7,)


def test_float32_parameters_stay_float32(model):
    loc, scale = torch.tensor([5.0, 1.0]), torch.tensor([0.5, 0.15])
    assert estimators.elbo_estimate(model, loc, scale, 50, generator=generator(0)).dtype == torch.float32


# ------------------------------------------------------------------------------------------ unbiasedness
CASES = [
    ("elbo", {}),
    ("score_function", {}),
    ("score_function", {"baseline": "leave-one-out"}),
    ("score_function", {"baseline": "separate"}),
    ("score_function", {"baseline": -26.0}),
    ("reparameterization", {}),
    ("reparameterization", {"path_derivative": True}),
]


@pytest.mark.parametrize("family", ["normal", "lognormal"])
@pytest.mark.parametrize("estimator, kwargs", CASES, ids=lambda c: str(c))
def test_estimators_are_unbiased_for_the_quadrature_reference(model, family, estimator, kwargs):
    loc, scale, elbo_ref, grad_ref = _reference(model, family)
    with warnings.catch_warnings():
        warnings.simplefilter("error", estimators.SupportWarning)
        rep = estimators.repeated_estimates(
            estimator, model, loc, scale, 20, 5_000, family=family, generator=generator(11), **kwargs
        )
    mean, se = common.mean_and_se(rep.values)
    reference = elbo_ref if estimator == "elbo" else grad_ref
    z = common.z_scores(mean, se, reference)
    assert (z.abs() < Z_TOL).all(), f"z = {z}"


def test_same_draw_baseline_shrinks_the_gradient_by_one_minus_one_over_m(model):
    loc, scale, _, grad_ref = _reference(model, "normal")
    m = 5
    rep = estimators.repeated_estimates(
        "score_function", model, loc, scale, m, 40_000, baseline="same-draws", generator=generator(12)
    )
    mean, se = common.mean_and_se(rep.values)
    assert (common.z_scores(mean, se, (1 - 1 / m) * grad_ref).abs() < Z_TOL).all()
    assert common.z_scores(mean, se, grad_ref).abs().max() > 3 * Z_TOL  # the bias is detectable: power check


def test_variance_falls_as_one_over_m(model):
    # on the log-normal q: under a Gaussian q of positive latents the reparameterization terms grow like 1/v near
    # v = 0, where q has positive density, so they have no finite variance to compare with
    scale = torch.sqrt(torch.log1p((SAFE_SCALE / SAFE_LOC) ** 2))
    loc = torch.log(SAFE_LOC) - scale**2 / 2
    # per-draw variance from the simplified form (z dlogp/dz + 1) * (1, eps) + (0, 1/s), not from the tested code
    eps = torch.randn((400_000, 2), generator=generator(14), dtype=DT)
    z = torch.exp(loc + scale * eps)
    path = z * model.grad_log_joint(z) + 1
    per_draw = torch.cat([path, path * eps + 1 / scale], -1).var(0)
    for m in (1, 10, 100):
        rep = estimators.repeated_estimates(
            "reparameterization", model, loc, scale, m, 4_000, family="lognormal", generator=generator(15 + m)
        )
        var, var_se = common.variance_and_se(rep.values)
        assert (common.z_scores(var, var_se, per_draw / m).abs() < Z_TOL).all(), m


def test_chunks_replay_the_generator_and_are_reproducible(model, params):
    loc, scale = params
    rep = estimators.repeated_estimates(
        "reparameterization", model, loc, scale, 100, 8, generator=generator(16), chunk_draws=350
    )
    again = estimators.repeated_estimates(
        "reparameterization", model, loc, scale, 100, 8, generator=generator(16), chunk_draws=350
    )
    torch.testing.assert_close(rep.values, again.values)
    g = generator(16)  # chunk_draws=350 with S=100 means 3 repetitions per chunk: (3, 100, 2), (3, 100, 2), (2, 100, 2)
    eps = torch.cat([torch.randn((r, 100, 2), generator=g, dtype=DT) for r in (3, 3, 2)])
    expected = torch.cat(estimators.reparameterization_terms(model, loc, scale, eps), -1).mean(-2)
    torch.testing.assert_close(rep.values, expected)


# ------------------------------------------------------------------------------------------ support
def test_draws_outside_the_support_are_counted_not_dropped(model):
    loc, scale = torch.tensor([5.0, 0.3], dtype=DT), torch.tensor([0.5, 0.2], dtype=DT)
    eps = torch.randn((1000, 2), generator=generator(17), dtype=DT)
    expected_count = int(model.outside_support(loc + scale * eps).sum())
    assert expected_count > 0
    with pytest.warns(estimators.SupportWarning, match=rf"{expected_count} of 1000 draws"):
        elbo = estimators.elbo_estimate(model, loc, scale, 1000, generator=generator(17))
    assert elbo.item() == -math.inf
    with pytest.warns(estimators.SupportWarning):
        grads = estimators.reparameterization_gradient(model, loc, scale, 1000, generator=generator(17))
    assert not torch.isfinite(torch.cat(grads)).all()
    with pytest.warns(estimators.SupportWarning):
        grads = estimators.score_function_gradient(
            model, loc, scale, 1000, baseline="leave-one-out", generator=generator(17)
        )
    assert not torch.isfinite(torch.cat(grads)).all()
    with pytest.warns(estimators.SupportWarning):
        rep = estimators.repeated_estimates("elbo", model, loc, scale, 10, 100, generator=generator(18))
    assert (torch.isinf(rep.values) == (rep.num_outside > 0)).all()


def test_lognormal_family_never_leaves_the_support(model):
    with warnings.catch_warnings():
        warnings.simplefilter("error", estimators.SupportWarning)
        value = estimators.elbo_estimate(
            model, [0.0, -1.3], [0.5, 0.6], 10_000, family="lognormal", generator=generator(19)
        )
    assert math.isfinite(value.item())


# ------------------------------------------------------------------------------------------ validation
BAD = [
    (dict(scale=[0.5, -0.2]), "scale"),
    (dict(scale=[0.5, 0.0]), "scale"),
    (dict(scale=[0.5, float("nan")]), "scale"),
    (dict(scale=[0.5, float("inf")]), "scale"),
    (dict(loc=[5.0, float("nan")]), "loc"),
    (dict(loc=[5.0, 1.0, 2.0]), "loc"),
    (dict(scale=[[0.5, 0.2]]), "scale"),
    (dict(scale="wide"), "scale"),
    (dict(num_samples=0), "num_samples"),
    (dict(num_samples=-5), "num_samples"),
    (dict(num_samples=2.5), "num_samples"),
    (dict(generator=42), "generator"),
]
WRONG_TYPE = {"generator"}  # a value of the wrong type is a TypeError, an out-of-range value a ValueError


@pytest.mark.parametrize(
    "function", [estimators.elbo_estimate, estimators.score_function_gradient, estimators.reparameterization_gradient]
)
@pytest.mark.parametrize("override, name", BAD, ids=lambda v: str(v))
def test_bad_input_raises_a_clear_error_naming_the_argument(model, function, override, name):
    arguments = dict(loc=[5.0, 1.0], scale=[0.5, 0.2], num_samples=10, generator=generator(0)) | override
    wrong_type = name in WRONG_TYPE or isinstance(override[name], str)  # a str where numbers go is a wrong type
    with pytest.raises(TypeError if wrong_type else ValueError, match=name):
        function(model, **arguments)


def test_bad_estimator_options(model, params):
    loc, scale = params
    with pytest.raises(ValueError, match="baseline"):
        estimators.score_function_gradient(model, loc, scale, 10, baseline="mean")
    with pytest.raises(ValueError, match="num_samples >= 2"):
        estimators.score_function_gradient(model, loc, scale, 1, baseline="leave-one-out")
    with pytest.raises(ValueError, match="estimator"):
        estimators.repeated_estimates("pathwise", model, loc, scale, 10, 10)
    with pytest.raises(ValueError, match="num_repeats"):
        estimators.repeated_estimates("elbo", model, loc, scale, 10, 0)
    with pytest.raises(ValueError, match="family"):
        estimators.elbo_estimate(model, loc, scale, 10, family="gamma")


# ------------------------------------------------------------------------------------------ more contract details
def test_public_score_function_with_every_baseline(model):
    loc, scale, _, _ = _reference(model, "normal")
    for control_variate in ("same-draws", "separate", "leave-one-out", -26.0):
        grad_loc, grad_scale = estimators.score_function_gradient(
            model, loc, scale, 20_000, baseline=control_variate, generator=generator(30)
        )
        assert torch.isfinite(torch.cat([grad_loc, grad_scale])).all()
    # a separate-draw baseline works with a single draw; leave-one-out cannot
    one = estimators.score_function_gradient(model, loc, scale, 1, baseline="separate", generator=generator(31))
    assert one[0].shape == (2,)


def test_estimates_carry_no_autograd_graph(model):
    loc = torch.tensor([5.0, 1.0], dtype=DT, requires_grad=True)
    scale = torch.tensor([0.5, 0.15], dtype=DT, requires_grad=True)
    assert not estimators.elbo_estimate(model, loc, scale, 10, generator=generator(32)).requires_grad
    assert not any(t.requires_grad for t in estimators.reparameterization_gradient(model, loc, scale, 10))


def test_the_support_warning_points_at_the_callers_line(model):
    with pytest.warns(estimators.SupportWarning) as record:
        estimators.elbo_estimate(model, [5.0, 0.3], [0.5, 0.2], 100, generator=generator(33))
    assert record[0].filename == __file__
    assert "u > 0 and v > 0" in str(record[0].message)


def test_error_messages_say_how_to_fix_it(model):
    with pytest.raises(ValueError, match="standard deviation.*log_scale"):
        estimators.elbo_estimate(model, [5.0, 1.0], [0.5, -0.2], 10)
    with pytest.raises(ValueError, match="same device"):
        estimators.elbo_estimate(model, torch.tensor([5.0, 1.0]), torch.tensor([0.5, 0.2], device="meta"), 10)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(num_samples=True), "num_samples"),
        (dict(loc=[5.0 + 1j, 1.0]), "loc"),
        (dict(loc=torch.tensor([5.0 + 1j, 1.0])), "loc"),
        (dict(baseline=float("nan")), "baseline"),
        (dict(baseline=True), "baseline"),
    ],
    ids=str,
)
def test_more_bad_input(model, kwargs, word):
    arguments = dict(loc=[5.0, 1.0], scale=[0.5, 0.2], num_samples=10) | kwargs
    with pytest.raises(ValueError, match=word):
        estimators.score_function_gradient(model, **arguments)


def test_numpy_numbers_are_accepted_as_constant_baselines(model):
    out = estimators.score_function_gradient(model, SAFE_LOC, SAFE_SCALE, 10, baseline=np.float32(-26.0))
    assert torch.isfinite(torch.cat(out)).all()


def test_repeated_estimates_validates_the_baseline_even_for_the_elbo(model):
    with pytest.raises(ValueError, match="baseline"):
        estimators.repeated_estimates("elbo", model, SAFE_LOC, SAFE_SCALE, 10, 10, baseline="bogus")


def test_draws_outside_the_support_in_a_separate_baseline_batch_are_counted(model):
    loc, scale = torch.tensor([5.0, 0.6], dtype=DT), torch.tensor([0.5, 0.2], dtype=DT)  # P(v <= 0) = 0.13%
    with pytest.warns(estimators.SupportWarning):
        rep = estimators.repeated_estimates(
            "score_function", model, loc, scale, 20, 400, baseline="separate", generator=generator(40)
        )
    finite = torch.isfinite(rep.values).all(-1)
    assert (finite == rep.in_support).all() and (~finite).any()
