"""A battery of bad inputs for every public function of ``helpers`` outside ``helpers.deep`` and ``helpers.check``.

Each function is called once with a valid call (the table ``VALID``), then once per argument and per bad input of
the argument's kind (wrong type, wrong dtype, wrong shape, NaN, inf, negative or zero where positive, out of range,
empty), and each result is classified:

* **clear**: a TypeError or ValueError (or a warning) whose message names the argument;
* **unclear**: an error that does not name it, or a raw Python or torch error (IndexError, RuntimeError, ...);
* **silent**: no error, and a NaN or inf in the result, or a result other than the valid call's (a bad input that
  must be refused but was accepted counts here too);
* **accepted**: an unusual but meaningful input (another float dtype, an empty sample where that is meaningful)
  that gives the valid call's answer, or a finite answer: not a fault.

``test_no_bad_input_is_silent`` requires no silent result; ``test_few_bad_inputs_are_unclear`` bounds the unclear
ones. ``python tests/book/test_bad_input_battery.py`` prints the counts and every fault (the closing note of issue
28 has the counts before and after).
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from helpers import common, estimators, models, vi  # noqa: E402

F64 = torch.float64
GP = models.GammaPoisson()
PRIOR = models.NormalGamma(0.0, 1.0, 1.0, 1.0)
X_NG = torch.tensor([1.2, 0.8, 1.5, 0.9], dtype=F64)
HM = models.HierarchicalModel.simulate(2, 3, torch.Generator().manual_seed(0))
LOC, SCALE = torch.full((2,), 1.5, dtype=F64), torch.full((2,), 0.3, dtype=F64)
EPS = torch.randn(6, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
OMEGA = torch.tensor([0.5, 2.0, 3.0, 1.5], dtype=F64)
MU, TAU = torch.tensor([0.1, 0.4, -0.2], dtype=F64), torch.tensor([1.0, 2.0, 0.5], dtype=F64)
DATA_NG = vi.NormalGammaData.from_x(X_NG)
X_GAMMA = torch.tensor([0.5, 1.2, 2.0, 0.9], dtype=F64)
TH = torch.tensor([2.0, 1.5], dtype=F64)
SCORES = torch.randn(6, 4, dtype=F64, generator=torch.Generator().manual_seed(3))
DRAWS = torch.randn(4, 5, dtype=F64, generator=torch.Generator().manual_seed(4))  # (repetitions, draws)
QTHETA = torch.tensor([1.4, -0.1, -1.5, -1.8], dtype=F64)
QINIT = torch.tensor([0.0, 0.0, math.log(0.1), math.log(0.1)], dtype=F64)


def gen():
    return torch.Generator().manual_seed(0)


def _ones_grad(theta, generator):
    return -theta, torch.zeros(5, dtype=theta.dtype)


# kinds of argument -> their bad inputs: (label, make the bad value from the valid one, "error" or "maybe")
# "error": the input is wrong and must be refused; "maybe": it may be accepted if the answer is the valid one's
# (another float dtype, an extra axis) or finite (an empty sample).
def _nan(t):
    t = t.clone()
    t.view(-1)[0] = math.nan
    return t


def _inf(t):
    t = t.clone()
    t.view(-1)[0] = math.inf
    return t


def _other_float(t):
    return t.float() if t.dtype == F64 else t.double()


BAD_TENSOR = [
    ("a str", lambda v: "abc", "error"),
    ("None", lambda v: None, "error"),
    ("a bool tensor", lambda v: v > 0, "error"),
    ("another float dtype", _other_float, "maybe"),
    ("an extra axis", lambda v: v[..., None], "maybe"),
    ("NaN", _nan, "error"),
    ("inf", _inf, "error"),
    ("empty", lambda v: v[..., :0], "maybe"),
]
BAD_TENSOR_BOOL_OK = [b for b in BAD_TENSOR if b[0] not in ("a bool tensor", "inf")]  # documented: read as 0/1
BAD_TENSOR_INF_OK = [b for b in BAD_TENSOR if b[0] != "inf"]  # an infinite value is a value (a -inf log-weight)
BAD_TENSOR_NONFINITE_OK = [b for b in BAD_TENSOR if b[0] not in ("NaN", "inf")]  # documented meanings
BAD_SHAPE_ONLY = BAD_TENSOR[:3]  # a tensor used for its shape only (fresh draws of its shape)
BAD_NONNEGATIVE_TENSOR = [*BAD_TENSOR, ("negative", lambda v: -v, "error")]
BAD_POSITIVE_TENSOR = [*BAD_TENSOR, ("negative", lambda v: -v, "error"), ("zero", torch.zeros_like, "error")]
BAD_UNIT_TENSOR = [*BAD_TENSOR, ("above 1", lambda v: v + 1.5, "error"), ("negative", lambda v: v - 1.5, "error")]
BAD_FIXED_TENSOR = [*BAD_TENSOR[:-3], ("NaN", _nan, "error"), ("inf", _inf, "error"),
                    ("one entry short", lambda v: v[..., :-1], "error"), ("an extra axis", lambda v: v[..., None],
                                                                           "maybe")]  # fmt: skip
BAD_REAL = [("a str", lambda v: "1.0", "error"), ("None", lambda v: None, "error"),
            ("NaN", lambda v: math.nan, "error"), ("inf", lambda v: math.inf, "error")]  # fmt: skip
BAD_NONNEGATIVE = [*BAD_REAL, ("negative", lambda v: -abs(v) - 1.0, "error")]
BAD_END = BAD_REAL[:3]  # an end of an integral: +-inf is allowed
BAD_POSITIVE = [*BAD_REAL, ("negative", lambda v: -abs(v) - 1.0, "error"), ("zero", lambda v: 0.0, "error")]
BAD_PROB = [*BAD_REAL, ("95 (a percentage)", lambda v: 95, "error"), ("negative", lambda v: -0.1, "error")]
BAD_COUNT = [("a str", lambda v: "3", "error"), ("None", lambda v: None, "error"), ("zero", lambda v: 0, "error"),
             ("negative", lambda v: -1, "error"), ("a fraction", lambda v: 2.5, "error")]  # fmt: skip
BAD_COUNT0 = [c for c in BAD_COUNT if c[0] != "zero"]
BAD_AXIS = [("a str", lambda v: "1", "error"), ("out of range", lambda v: 5, "error"), ("a fraction", lambda v: 0.5,
            "error")]  # fmt: skip
BAD_BASELINE = [("unknown", lambda v: "nonsense", "error"), ("NaN", lambda v: math.nan, "error"),
                ("a bool", lambda v: True, "error")]  # fmt: skip
BAD_FLAG = [("a str", lambda v: "yes", "error"), ("an int", lambda v: 1, "error"), ("None", lambda v: None, "error")]
BAD_CHOICE = [("unknown", lambda v: "nonsense", "error"), ("an int", lambda v: 3, "error")]
BAD_CALLABLE = [("a str", lambda v: "f", "error"), ("None", lambda v: None, "error")]
BAD_GENERATOR = [("an int seed", lambda v: 0, "error"), ("a str", lambda v: "g", "error")]
BAD_OBJECT = [
    ("a str", lambda v: "model", "error"),
    ("None", lambda v: None, "error"),
    ("an int", lambda v: 3, "error"),
]
BAD_SEQUENCE = [("a str", lambda v: "ab", "error"), ("None", lambda v: None, "error"), ("empty", lambda v: [], "maybe")]

KINDS = {
    "t": BAD_TENSOR, "tb": BAD_TENSOR_BOOL_OK, "tinf": BAD_TENSOR_INF_OK, "tnan": BAD_TENSOR_NONFINITE_OK,
    "tshape": BAD_SHAPE_ONLY, "t0+": BAD_NONNEGATIVE_TENSOR,
    "end": BAD_END, "r0+": BAD_NONNEGATIVE, "n0": BAD_COUNT0, "axis": BAD_AXIS, "baseline": BAD_BASELINE,
    "t+": BAD_POSITIVE_TENSOR, "t01": BAD_UNIT_TENSOR, "tfix": BAD_FIXED_TENSOR, "r": BAD_REAL,
    "r+": BAD_POSITIVE, "p": BAD_PROB, "n": BAD_COUNT, "flag": BAD_FLAG, "choice": BAD_CHOICE,
    "call": BAD_CALLABLE, "gen": BAD_GENERATOR, "obj": BAD_OBJECT, "seq": BAD_SEQUENCE,
}  # fmt: skip

#: (name, function, valid keyword arguments, {argument: kind}); the function is called as function(**kwargs)
VALID = [
    # ------------------------------------------------------------------------------------------------ common
    ("bernoulli_log_prob", common.bernoulli_log_prob, dict(x=torch.tensor([0.0, 1.0]), logits=torch.zeros(2)),
     {"x": "t01", "logits": "t"}),
    ("checked_quad", common.checked_quad, dict(f=math.exp, a=0.0, b=1.0, abs_tol=1e-8),
     {"f": "call", "a": "end", "b": "end", "abs_tol": "r+"}),
    ("maximize", common.maximize, dict(f=lambda x: -((x - 1.0) ** 2).sum(), x0=torch.tensor([0.5, -2.0], dtype=F64)),
     {"f": "call", "x0": "t", "max_iter": "n", "tolerance_grad": "r+", "tolerance_change": "r+"}),
    ("gauss_hermite", common.gauss_hermite, dict(num_nodes=5, dim=2), {"num_nodes": "n", "dim": "n"}),
    ("gauss_hermite_moments", common.gauss_hermite_moments, dict(terms=lambda e: e**2, num_nodes=5),
     {"terms": "call", "num_nodes": "n", "dim": "n"}),
    ("Timer", common.Timer, dict(clock=time.perf_counter), {"clock": "call"}),
    ("exact_variance_se", common.exact_variance_se, dict(variance=1.0, central4=3.0, num_values=10),
     {"variance": "r0+", "central4": "r+", "num_values": "n"}),
    ("first_hit", common.first_hit, dict(values=torch.tensor([[0.0, 0.5, 1.0]]), level=0.4),
     {"values": "tnan", "level": "r"}),  # a diverged run's NaN never reaches the level, +inf always does
    ("gamma_log_prob", common.gamma_log_prob, dict(x=torch.tensor([0.5, 2.0]), shape=2.0, rate=1.5),
     {"x": "t+", "shape": "r+", "rate": "r+"}),
    ("get_device", common.get_device, dict(prefer="cpu"), {"prefer": "choice"}),
    ("get_family", common.get_family, dict(family="normal"), {"family": "choice"}),
    ("get_scale", common.get_scale, dict(name="quick"), {"name": "choice"}),
    ("interval_table", common.interval_table, dict(rows={"a": (torch.ones(2), torch.full((2,), 0.1))},
     reference=torch.ones(2), names=["p", "q"]), {"reference": "t", "names": "seq"}),
    ("mean_and_se", common.mean_and_se, dict(values=torch.tensor([1.0, 2.0, 4.0])), {"values": "tb"}),
    ("mean_central_moments", common.mean_central_moments, dict(variance=1.0, central4=3.0, num_samples=10),
     {"variance": "r0+", "central4": "r+", "num_samples": "n"}),
    ("normal_log_prob", common.normal_log_prob, dict(z=torch.zeros(2), mu=0.5, sigma=2.0),
     {"z": "t", "mu": "r", "sigma": "r+"}),
    ("normal_log_prob_from_noise", common.normal_log_prob_from_noise, dict(eps=torch.zeros(3, 2),
     log_sigma_sum=torch.zeros(3)), {"eps": "t", "log_sigma_sum": "t"}),
    ("normal_log_prob_log_var", common.normal_log_prob_log_var, dict(x=torch.zeros(3, 2), mean=torch.ones(3, 2),
     log_var=0.5), {"x": "t", "mean": "t", "log_var": "r"}),
    ("normal_positive_log_moment", common.normal_positive_log_moment, dict(loc=LOC, scale=SCALE),
     {"loc": "t", "scale": "t+"}),
    ("normal_positive_moments", common.normal_positive_moments, dict(loc=LOC, scale=SCALE),
     {"loc": "t", "scale": "t+"}),
    ("paired_ratio_and_se", common.paired_ratio_and_se, dict(a=torch.tensor([1.0, 2.0, 1.5]),
     b=torch.tensor([2.0, 3.0, 2.5])), {"a": "t", "b": "t"}),
    ("quantile_interval", common.quantile_interval, dict(values=torch.arange(50.0), q=0.5),
     {"values": "t", "q": "p", "level": "p"}),
    ("ratio_and_se", common.ratio_and_se, dict(a=1.0, se_a=0.1, b=2.0, se_b=0.1),
     {"a": "r", "se_a": "r0+", "b": "r", "se_b": "r0+"}),
    ("sample_gamma", common.sample_gamma, dict(shape=2.0, rate=1.0, num_samples=3, generator=gen()),
     {"shape": "r+", "rate": "r+", "num_samples": "n", "generator": "gen"}),
    ("show_table", common.show_table, dict(rows=[["a", 1.0]], columns=["x", "y"]), {"rows": "seq", "columns": "seq"}),
    ("Table", common.Table, dict(rows=[["a", 1.0]], columns=["x", "y"]), {"rows": "seq", "columns": "seq"}),
    ("standard_normal_log_prob", common.standard_normal_log_prob, dict(z=torch.zeros(2)), {"z": "t"}),
    ("total_variance_and_se", common.total_variance_and_se, dict(draws=DRAWS), {"draws": "t"}),
    ("total_variance_from_pairs", common.total_variance_from_pairs, dict(first=DRAWS, second=DRAWS + 1),
     {"first": "t", "second": "t"}),
    ("total_variance_terms", common.total_variance_terms, dict(draws=DRAWS), {"draws": "t"}),
    ("variance_and_se", common.variance_and_se, dict(values=torch.arange(6.0)), {"values": "tinf"}),
    ("verdict", common.verdict, dict(differences=[0.5, 0.7, 0.2]), {"differences": "t", "level": "p"}),
    ("z_scores", common.z_scores, dict(estimate=torch.ones(2), se=torch.full((2,), 0.1), reference=torch.zeros(2)),
     {"estimate": "tinf", "se": "t0+", "reference": "tinf"}),
    ("LogNormal.log_prob", common.LogNormal.log_prob, dict(z=torch.tensor([[1.0, 2.0]]), loc=torch.zeros(2),
     scale=torch.ones(2)), {"z": "t"}),
    # ------------------------------------------------------------------------------------------------ models
    ("ConjugateGaussian", models.ConjugateGaussian, dict(x=torch.tensor([[0.5, 1.0]]), noise_sd=1.0),
     {"x": "t", "prior_mean": "r", "prior_sd": "r+", "noise_sd": "r+"}),
    ("GammaPoisson", models.GammaPoisson, dict(x=(3, 4, 2)), {"x": "seq", "u_shape": "r+", "u_rate": "r+",
     "v_shape": "r+", "v_rate": "r+"}),
    ("GammaPoisson.log_joint", GP.log_joint, dict(z=torch.tensor([[1.0, 2.0]], dtype=F64)), {"z": "tfix"}),
    ("GammaPoisson.grad_log_joint", GP.grad_log_joint, dict(z=torch.tensor([[1.0, 2.0]], dtype=F64)),
     {"z": "tfix"}),
    ("GammaPoisson.exact_elbo", GP.exact_elbo, dict(loc=LOC, scale=SCALE), {"loc": "tfix", "scale": "t+",
     "family": "choice"}),
    ("GammaPoisson.exact_elbo_gradient", GP.exact_elbo_gradient, dict(loc=LOC, scale=SCALE),
     {"loc": "tfix", "scale": "t+", "family": "choice"}),
    ("HierarchicalModel", models.HierarchicalModel, dict(y=torch.ones(2, 3), t=torch.ones(2, 3)),
     {"y": "t", "t": "t", "a_v": "r+", "b_v": "r+"}),
    ("HierarchicalModel.exact_elbo", HM.exact_elbo, dict(theta=HM.init()), {"theta": "tfix"}),
    ("NormalGamma", models.NormalGamma, dict(mu0=0.0, lambda0=1.0, a0=1.0, b0=1.0),
     {"mu0": "r", "lambda0": "r+", "a0": "r+", "b0": "r+"}),
    # ------------------------------------------------------------------------------------------------ estimators
    ("baseline_for", estimators.baseline_for, dict(baseline="leave-one-out", model=GP, loc=LOC, scale=SCALE, eps=EPS),
     {"baseline": "baseline", "model": "obj", "loc": "tfix", "scale": "t+", "eps": "tfix"}),
    ("check_baseline", estimators.check_baseline, dict(baseline="leave-one-out"), {"baseline": "baseline"}),
    ("draw_noise", estimators.draw_noise, dict(num_samples=4, dim=2, generator=gen()),
     {"num_samples": "n", "dim": "n", "num_repeats": "n", "generator": "gen"}),
    ("elbo_estimate", estimators.elbo_estimate, dict(model=GP, loc=LOC, scale=SCALE, num_samples=10,
     generator=gen()), {"model": "obj", "loc": "tfix", "scale": "t+", "num_samples": "n", "family": "choice",
     "generator": "gen"}),
    ("elbo_terms", estimators.elbo_terms, dict(model=GP, loc=LOC, scale=SCALE, eps=EPS),
     {"model": "obj", "loc": "tfix", "scale": "t+", "eps": "tfix", "family": "choice"}),
    ("leave_one_out_baseline", estimators.leave_one_out_baseline, dict(weights=torch.tensor([1.0, 2.0, 4.0])),
     {"weights": "t", "axis": "axis"}),
    ("log_scale_gradient", estimators.log_scale_gradient, dict(model=GP, theta=QTHETA, eps=EPS[:5]),
     {"model": "obj", "theta": "tfix", "eps": "tfix"}),
    ("lognormal_q_fit", estimators.lognormal_q_fit, dict(model=GP, init=QINIT, num_iters=3, num_samples=4,
     step_size=0.05, generator=gen()), {"model": "obj", "init": "tfix", "num_iters": "n", "num_samples": "n",
     "step_size": "r+", "method": "choice", "generator": "gen"}),
    ("reparameterization_gradient", estimators.reparameterization_gradient, dict(model=GP, loc=LOC, scale=SCALE,
     num_samples=10, generator=gen()), {"model": "obj", "loc": "tfix", "scale": "t+", "num_samples": "n",
     "family": "choice", "path_derivative": "flag", "generator": "gen"}),
    ("reparameterization_terms", estimators.reparameterization_terms, dict(model=GP, loc=LOC, scale=SCALE, eps=EPS),
     {"model": "obj", "loc": "tfix", "scale": "t+", "eps": "tfix", "family": "choice", "path_derivative": "flag"}),
    ("repeated_estimates", estimators.repeated_estimates, dict(estimator="elbo", model=GP, loc=LOC, scale=SCALE,
     num_samples=5, num_repeats=2, generator=gen()), {"estimator": "choice", "model": "obj", "loc": "tfix",
     "scale": "t+", "num_samples": "n", "num_repeats": "n", "generator": "gen"}),
    ("same_draws_baseline", estimators.same_draws_baseline, dict(weights=torch.tensor([1.0, 2.0, 4.0])),
     {"weights": "t"}),
    ("score_function_gradient", estimators.score_function_gradient, dict(model=GP, loc=LOC, scale=SCALE,
     num_samples=10, generator=gen()), {"model": "obj", "loc": "tfix", "scale": "t+", "num_samples": "n",
     "baseline": "baseline", "family": "choice", "generator": "gen"}),
    ("score_function_terms", estimators.score_function_terms, dict(model=GP, loc=LOC, scale=SCALE, eps=EPS),
     {"model": "obj", "loc": "tfix", "scale": "t+", "eps": "tfix", "family": "choice"}),
    ("separate_draws_baseline", estimators.separate_draws_baseline, dict(independent_weights=torch.tensor(
     [1.0, 2.0, 4.0])), {"independent_weights": "t"}),
    ("separate_noise", estimators.separate_noise, dict(baseline="separate", eps=EPS, generator=gen()),
     {"baseline": "baseline", "eps": "tshape", "generator": "gen"}),
    ("warn_outside_support", estimators.warn_outside_support, dict(num_outside=0, num_draws=3, where="here",
     support="z > 0"), {"num_draws": "n0", "num_outside": "n0"}),
    # ------------------------------------------------------------------------------------------------ vi
    ("bbvi_adam_normal_gamma", vi.bbvi_adam_normal_gamma, dict(x=X_NG, prior=PRIOR, num_iters=3, num_samples=5,
     generator=gen()), {"x": "t", "prior": "obj", "num_iters": "n", "num_samples": "n", "lr": "r+", "eps": "r+",
     "generator": "gen"}),
    ("bbvi_normal_gamma", vi.bbvi_normal_gamma, dict(x=X_NG, prior=PRIOR, num_iters=3, num_samples=5,
     generator=gen()), {"x": "t", "prior": "obj", "num_iters": "n", "num_samples": "n", "control_variate": "flag",
     "coefficient": "choice", "rao_blackwellize": "flag", "step_size": "r+", "decay": "r", "init": "tfix",
     "generator": "gen"}),
    ("bbvi_terms", vi.bbvi_terms, dict(scores=SCORES, weights=SCORES[:, 0]), {"scores": "t", "weights": "tfix",
     "coefficient": "choice"}),
    ("cavi_normal_gamma", vi.cavi_normal_gamma, dict(x=X_NG, prior=PRIOR, num_iters=3),
     {"x": "t", "prior": "obj", "num_iters": "n"}),
    ("check_prior", vi.check_prior, dict(prior=PRIOR), {"prior": "obj"}),
    ("check_q_params", vi.check_q_params, dict(params=OMEGA), {"params": "tfix", "parameterization": "choice"}),
    ("conjugate_targets", vi.conjugate_targets, dict(n=4, sum_x=X_NG.sum(), sum_x2=(X_NG**2).sum(), prior=PRIOR,
     omega=OMEGA), {"n": "n", "sum_x": "r", "sum_x2": "r+", "prior": "obj", "omega": "tfix"}),
    ("control_variate_coefficients", vi.control_variate_coefficients, dict(terms=SCORES, scores=SCORES * 2),
     {"terms": "tfix", "scores": "tfix", "coefficient": "choice"}),
    ("default_init", vi.default_init, dict(x=X_NG, prior=PRIOR), {"prior": "obj"}),
    ("fisher_in", vi.fisher_in, dict(theta=TH), {"theta": "tfix", "parameterization": "choice"}),
    ("fit_gamma", vi.fit_gamma, dict(x=X_GAMMA, theta0=TH, step_size=0.5, num_iters=3),
     {"x": "t+", "theta0": "tfix", "step_size": "r+", "num_iters": "n", "parameterization": "choice",
      "method": "choice"}),
    ("from_unconstrained", vi.from_unconstrained, dict(theta=OMEGA.log()), {"theta": "tfix"}),
    ("gamma_fisher", vi.gamma_fisher, dict(theta=TH), {"theta": "tfix", "parameterization": "choice"}),
    ("gamma_log_partition", vi.gamma_log_partition, dict(eta=torch.tensor([1.0, -1.5], dtype=F64)),
     {"eta": "tfix"}),
    ("gamma_mean_sufficient", vi.gamma_mean_sufficient, dict(alpha=2.0, beta=1.5), {"alpha": "r+", "beta": "r+"}),
    ("gamma_natural_params", vi.gamma_natural_params, dict(alpha=2.0, beta=1.5), {"alpha": "r+", "beta": "r+"}),
    ("gamma_nll", vi.gamma_nll, dict(x=X_GAMMA, theta=TH), {"x": "t+", "theta": "tfix", "parameterization": "choice"}),
    ("gamma_nll_grad", vi.gamma_nll_grad, dict(x=X_GAMMA, theta=TH), {"x": "t+", "theta": "tfix"}),
    ("gamma_nll_hessian", vi.gamma_nll_hessian, dict(x=X_GAMMA, theta=TH), {"x": "t+", "theta": "tfix"}),
    ("gaussian_kl", vi.gaussian_kl, dict(loc_q=torch.zeros(2), cov_q=torch.eye(2), loc_p=torch.ones(2),
     cov_p=2 * torch.eye(2)), {"loc_q": "tfix", "cov_q": "tfix", "loc_p": "tfix", "cov_p": "tfix"}),
    ("grouped_gradient", vi.grouped_gradient, dict(model=HM, theta=HM.init(), num_samples=5, generator=gen()),
     {"model": "obj", "theta": "tfix", "num_samples": "n", "coefficient": "choice", "rao_blackwellize": "flag",
      "generator": "gen"}),
    ("log_joint_factors", vi.log_joint_factors, dict(data=DATA_NG, prior=PRIOR, mu=MU, tau=TAU),
     {"data": "obj", "prior": "obj", "mu": "t", "tau": "t+"}),
    ("log_q", vi.log_q, dict(mu=MU, tau=TAU, params=OMEGA), {"mu": "t", "tau": "t+", "params": "tfix"}),
    ("log_q_parts", vi.log_q_parts, dict(mu=MU, tau=TAU, params=OMEGA), {"mu": "t", "tau": "t+", "params": "tfix"}),
    ("mean_field_forward_kl", vi.mean_field_forward_kl, dict(loc=torch.zeros(2), cov=torch.tensor(
     [[1.0, 0.5], [0.5, 1.0]])), {"loc": "tfix", "cov": "tfix"}),
    ("mean_field_reverse_kl", vi.mean_field_reverse_kl, dict(loc=torch.zeros(2), cov=torch.tensor(
     [[1.0, 0.5], [0.5, 1.0]])), {"loc": "tfix", "cov": "tfix"}),
    ("normal_gamma_elbo", vi.normal_gamma_elbo, dict(x=X_NG, prior=PRIOR, mu_N=0.5, lambda_N=2.0, a_N=3.0, b_N=1.5),
     {"x": "t", "prior": "obj", "mu_N": "r", "lambda_N": "r+", "a_N": "r+", "b_N": "r+"}),
    ("normal_gamma_from_natural", vi.normal_gamma_from_natural, dict(eta=vi.normal_gamma_natural_params(OMEGA)),
     {"eta": "tfix"}),
    ("normal_gamma_gradient", vi.normal_gamma_gradient, dict(data=DATA_NG, prior=PRIOR, theta=OMEGA.log(),
     num_samples=10, generator=gen()), {"data": "obj", "prior": "obj", "theta": "tfix", "num_samples": "n",
     "coefficient": "choice", "rao_blackwellize": "flag", "generator": "gen"}),
    ("normal_gamma_log_partition", vi.normal_gamma_log_partition, dict(eta=vi.normal_gamma_natural_params(OMEGA)),
     {"eta": "tfix"}),
    ("normal_gamma_natural_params", vi.normal_gamma_natural_params, dict(omega=OMEGA), {"omega": "tfix"}),
    ("NormalGammaQ", vi.NormalGammaQ, dict(mu_N=0.5, lambda_N=2.0, a_N=3.0, b_N=1.5),
     {"mu_N": "r", "lambda_N": "r+", "a_N": "r+", "b_N": "r+"}),
    ("q_score", vi.q_score, dict(mu=MU, tau=TAU, params=OMEGA), {"mu": "t", "tau": "t+", "params": "tfix",
     "parameterization": "choice"}),
    ("rao_blackwellized_weights", vi.rao_blackwellized_weights, dict(log_p_factors=SCORES[:, :3],
     log_q_groups=SCORES[:, 3:] - SCORES[:, :2], blanket=vi.NORMAL_GAMMA_BLANKET), {"log_p_factors": "tfix",
     "log_q_groups": "tfix", "blanket": "obj"}),
    ("run_bbvi", vi.run_bbvi, dict(theta0=torch.zeros(2), gradient=_ones_grad, num_iters=3, step_size=0.1,
     decay=0.6), {"theta0": "t", "gradient": "call", "num_iters": "n", "step_size": "r+", "decay": "r",
     "generator": "gen"}),
    ("sample_q", vi.sample_q, dict(params=OMEGA, num_samples=4, generator=gen()), {"params": "tfix",
     "num_samples": "n", "generator": "gen"}),
    ("shape_rate_jacobian", vi.shape_rate_jacobian, dict(theta=TH), {"theta": "tfix", "parameterization": "choice"}),
    ("step_sizes", vi.step_sizes, dict(grad_sq_sum=torch.ones(2), t=2, step_size=0.1, decay=0.6),
     {"grad_sq_sum": "t", "t": "n", "step_size": "r+", "decay": "r", "eps": "r+"}),
    ("svi_normal_gamma", vi.svi_normal_gamma, dict(x=X_NG, prior=PRIOR, num_iters=3, batch_size=2,
     generator=gen()), {"x": "t", "prior": "obj", "num_iters": "n", "batch_size": "n", "delay": "r0+",
     "forgetting": "r", "generator": "gen"}),
    ("to_shape_rate", vi.to_shape_rate, dict(theta=TH), {"theta": "tfix", "parameterization": "choice"}),
    ("to_unconstrained", vi.to_unconstrained, dict(params=OMEGA), {"params": "tfix"}),
    ("unconstrained_q_score", vi.unconstrained_q_score, dict(mu=MU, tau=TAU, params=OMEGA),
     {"mu": "t", "tau": "t+", "params": "tfix"}),
]  # fmt: skip

#: functions on the estimators' and the VAE's hot paths: they check types, dtypes and shapes only (no pass over the
#: values, no device sync), so a NaN or inf passed in comes out in the result ("propagated", not "silent")
HOT_PATHS = {
    "standard_normal_log_prob",
    "normal_log_prob",
    "normal_log_prob_from_noise",
    "normal_log_prob_log_var",
    "bernoulli_log_prob",
    "GammaPoisson.log_joint",
    "GammaPoisson.grad_log_joint",
    "LogNormal.log_prob",
}
#: log-densities: -inf (density zero) is their answer outside the support or at infinity
LOG_DENSITIES = {"gamma_log_prob", "normal_log_prob", "standard_normal_log_prob", "bernoulli_log_prob",
                 "normal_log_prob_from_noise", "normal_log_prob_log_var", "LogNormal.log_prob", "log_q", "log_q_parts",
                 "GammaPoisson.log_joint"}  # fmt: skip

#: argument kinds whose valid value is a default: the bad value is built from this stand-in
DEFAULTS = {"r": 0.5, "r+": 0.5, "p": 0.9, "n": 2, "flag": True, "choice": "x", "call": None, "gen": None,
            "obj": None, "seq": ["a"]}  # fmt: skip


def _finite(value) -> bool:
    """No NaN or +inf anywhere in a result (tensors, numbers, tuples, dataclasses); -inf is a log-density's answer
    outside the support."""
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.numel() == 0:
            return True
        v = value.detach().double()
        return not bool((torch.isnan(v) | (v == math.inf)).any())
    if isinstance(value, float):
        return not (math.isnan(value) or value == math.inf)
    if isinstance(value, (tuple, list)):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if hasattr(value, "__dataclass_fields__"):
        return all(_finite(getattr(value, f)) for f in value.__dataclass_fields__)
    return True


def _same(a, b) -> bool:
    """The valid call's answer (numbers compared to 1e-3 relative: another float dtype is an allowed input)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        if a.shape != b.shape:  # an extra trailing axis of one entry carried through is the same answer
            if a.numel() != b.numel() or [n for n in a.shape if n != 1] != [n for n in b.shape if n != 1]:
                return False
            a, b = a.reshape(-1), b.reshape(-1)
        return bool(torch.allclose(a.detach().double(), b.detach().double(), rtol=1e-3, atol=1e-5, equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-5)
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if hasattr(a, "__dict__") and type(a) is type(b) and not callable(a):
        return vars(a).keys() == vars(b).keys() and all(_same(vars(a)[k], vars(b)[k]) for k in vars(a))
    return a == b if not callable(a) else True


def _call(function, kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.manual_seed(0)
        kwargs = {k: gen() if isinstance(v, torch.Generator) else v for k, v in kwargs.items()}
        result = function(**kwargs)
    return result, [str(w.message) for w in caught]


def _has_negative_infinity(value) -> bool:
    if isinstance(value, torch.Tensor):
        return bool((value == -math.inf).any())
    if isinstance(value, (tuple, list)):
        return any(_has_negative_infinity(v) for v in value)
    return value == -math.inf if isinstance(value, float) else False


def _numel(value) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel()
    return sum(_numel(v) for v in value) if isinstance(value, (tuple, list)) else 1


def _classify(name, function, kwargs, argument, label, expect, valid_result) -> tuple[str, str]:
    """(class, what happened) of one bad call."""
    try:
        result, warned = _call(function, kwargs)
    except (TypeError, ValueError) as error:  # the documented kinds of error: clear if the message names the argument
        named = re.search(rf"(?<![A-Za-z_]){re.escape(argument)}(?![A-Za-z_])", str(error))
        return ("clear" if named else "unclear"), f"{type(error).__name__}: {str(error)[:160]}"
    except Exception as error:  # noqa: BLE001 - a raw Python or torch error
        return "unclear", f"{type(error).__name__}: {str(error)[:160]}"
    if any(re.search(rf"(?<![A-Za-z_]){re.escape(argument)}(?![A-Za-z_])", w) for w in warned):
        return "clear", f"a warning: {warned[0][:160]}"
    if name in HOT_PATHS and label in ("NaN", "inf"):
        return "propagated", "no error on a hot path: the NaN or inf is in the result"
    if not _finite(result):
        return "silent", "no error, and NaN or inf in the result"
    if name in LOG_DENSITIES and _has_negative_infinity(result):
        return "accepted", "-inf: density zero"
    largest = max([_numel(v) for v in kwargs.values() if isinstance(v, torch.Tensor)], default=0)
    if label == "an extra axis" and _numel(result) <= max(_numel(valid_result), largest):
        return "accepted", "the extra axis carried through (a batch axis), no broadcast into a larger result"
    if expect == "empty":
        return "accepted", "a finite answer for an empty input"
    if expect == "maybe":
        if _same(result, valid_result):
            return "accepted", "the valid call's answer"
        return "silent", "no error, and another answer than the valid call's"
    return "silent", "no error for an input that must be refused"


@functools.cache
def battery() -> list[tuple[str, str, str, str, str]]:
    """Every bad call: (function, argument, bad input, class, what happened)."""
    out = []
    for name, function, valid, kinds in VALID:
        valid_result, _ = _call(function, valid)
        defaults = {k: p.default for k, p in inspect.signature(function).parameters.items()}
        for argument, kind in kinds.items():
            for label, make, expect in KINDS[kind]:
                if label == "None" and argument not in valid and defaults.get(argument, 0) is None:
                    continue  # None is this argument's default
                base = valid.get(argument, DEFAULTS.get(kind))
                try:
                    bad = make(base)
                except Exception:  # noqa: BLE001 - the bad input does not apply to this value (e.g. a str)
                    continue
                kwargs = {**valid, argument: bad}
                cls, what = _classify(name, function, kwargs, argument, label, "empty" if label == "empty" else expect,
                                      valid_result)  # fmt: skip
                out.append((name, argument, label, cls, what))
    return out


def test_the_battery_covers_every_public_function_outside_deep_and_check():
    names = {name.split(".")[0] for name, *_ in VALID}
    records = {"BBVIFit", "BBVITrace", "CAVIFit", "GammaFit", "GammaStats", "NormalGammaData", "QFit", "VITrace",
               "RepeatedEstimates", "LatentModel", "SupportWarning", "Setup", "Scale", "Verdict", "Normal",
               "LogNormal", "register_scales", "setup", "GaussHermiteMoments"}  # fmt: skip
    public = {n for part in (common, models, vi, estimators) for n in part.__all__ if callable(getattr(part, n))}
    assert not public - names - records, sorted(public - names - records)
    assert len(battery()) > 1500


def test_no_bad_input_is_silent():
    silent = [r for r in battery() if r[3] == "silent"]
    assert not silent, "\n".join(" | ".join(r) for r in silent)


def test_few_bad_inputs_are_unclear():
    unclear = [r for r in battery() if r[3] == "unclear"]
    assert len(unclear) <= MAX_UNCLEAR, "\n".join(" | ".join(r) for r in unclear)


#: the unclear errors allowed (see the list printed by running this file): none are left
MAX_UNCLEAR = 0


@pytest.mark.parametrize("name", sorted({name for name, *_ in VALID}))
def test_the_valid_call_works(name):
    entry = next(e for e in VALID if e[0] == name)
    _call(entry[1], entry[2])


if __name__ == "__main__":
    counts = Counter(r[3] for r in battery())
    for r in battery():
        if r[3] in ("silent", "unclear"):
            print(" | ".join(r))
    print(f"{len(battery())} calls on {len(VALID)} functions: " + ", ".join(f"{k} {counts[k]}" for k in
          ("clear", "unclear", "silent", "propagated", "accepted")))  # fmt: skip
