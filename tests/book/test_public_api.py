"""The public API driven with bad input, as a careful user would break it: a table of calls with NaN, inf, negative,
zero, wrong shape, wrong dtype, empty, wrong type, numpy arrays and lists. Each must raise the right exception
(TypeError for a wrong type, ValueError for a right type out of range) with a message that names the argument; a
few unusual but meaningful inputs (numpy, float64 images, int tensors) must give the correct answer instead.

``test_every_public_function_rejects_a_bad_argument`` keeps the table complete: every callable of the part
namespaces and of ``helpers`` itself has at least one bad-input probe here (or in ``test_public_api_discrete.py``),
or is listed below as a record (a result the package builds and returns). What is not validated is private.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
from _shared import assert_clear_error, assert_usual_answer
from test_public_api_discrete import PROBED as DISCRETE_PROBED

import helpers
from helpers import common, deep, estimators, models, vi

NAN, INF = math.nan, math.inf
GP = models.GammaPoisson()
PRIOR = models.NormalGamma(0.0, 1.0, 1.0, 1.0)
X_NG = torch.tensor([1.2, 0.8, 1.5, 0.9], dtype=torch.float64)
HM = models.HierarchicalModel.simulate(2, 3, torch.Generator().manual_seed(0))
CG = models.ConjugateGaussian(torch.tensor([[0.5, 1.0], [0.2, 0.1]]))
LOC, SCALE = torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
#: a q well inside the support u, v > 0, so that the estimates compared below are finite
INSIDE_LOC, INSIDE_SCALE = torch.full((2,), 3.0, dtype=torch.float64), torch.full((2,), 0.3, dtype=torch.float64)
EPS = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
OMEGA = torch.tensor([0.0, 1.0, 2.0, 1.0], dtype=torch.float64)
torch.manual_seed(0)
VAE = deep.VAE(4, (3,), 2)
XV = torch.rand(3, 4, generator=torch.Generator().manual_seed(0))
G = torch.Generator().manual_seed(0)


def gen():
    return torch.Generator().manual_seed(0)


def _q(**kw):
    return vi.NormalGammaQ(**{"mu_N": 0.0, "lambda_N": 1.0, "a_N": 2.0, "b_N": 1.0, **kw})


#: (public name, what is wrong, the call, the exception type, a regex the message must contain: the argument's name)
BAD = [
    # ---------------------------------------------------------------------------------------------- common
    ("setup", "seed str", lambda: helpers.setup("0"), (TypeError, ValueError), "seed"),
    ("setup", "unknown scale", lambda: helpers.setup(0, scale="huge"), ValueError, "scale"),
    ("setup", "unknown device", lambda: helpers.setup(0, device="gpu"), ValueError, "device"),
    ("get_device", "unknown device", lambda: common.get_device("gpu"), ValueError, "device"),
    ("get_device", "device int", lambda: common.get_device(3), TypeError, "device"),
    ("get_scale", "unknown scale", lambda: common.get_scale("huge"), ValueError, "scale"),
    ("get_scale", "unknown scale (every part)", lambda: helpers.get_scale("huge"), ValueError, "scale"),
    ("get_scale", "parts not a mapping", lambda: common.get_scale("quick", [("deep", {})]), TypeError, "parts"),
    ("get_scale", "a part lacks a scale", lambda: common.get_scale("quick", {"p": {"quick": 1}}), ValueError, "parts"),
    ("get_family", "unknown family", lambda: common.get_family("gauss"), ValueError, "family"),
    ("maximize", "f not callable", lambda: common.maximize(3, torch.zeros(2)), TypeError, "f"),
    ("maximize", "x0 a list", lambda: common.maximize(lambda p: -(p**2).sum(), [0.0]), TypeError, "x0"),
    ("maximize", "x0 with NaN", lambda: common.maximize(lambda p: -p.sum(), torch.tensor([NAN])), ValueError, "x0"),
    ("maximize", "f not a scalar", lambda: common.maximize(lambda p: p, torch.zeros(2)), ValueError, "f"),
    (
        "maximize",
        "max_iter 0",
        lambda: common.maximize(lambda p: -p.sum(), torch.zeros(2), max_iter=0),
        ValueError,
        "max_iter",
    ),
    ("gauss_hermite", "num_nodes 0", lambda: common.gauss_hermite(0), ValueError, "num_nodes"),
    ("gauss_hermite", "dim 0", lambda: common.gauss_hermite(3, dim=0), ValueError, "dim"),
    ("gauss_hermite_moments", "terms not callable", lambda: common.gauss_hermite_moments(3, 5), TypeError, "terms"),
    (
        "gauss_hermite_moments",
        "short terms",
        lambda: common.gauss_hermite_moments(lambda e: e[:1], 5),
        ValueError,
        "terms",
    ),
    ("Timer", "clock not callable", lambda: common.Timer(1.0), TypeError, "clock"),
    ("Timer", "negative seconds", lambda: common.Timer().add("x", -1.0), ValueError, "seconds"),
    ("show_table", "a short row", lambda: common.show_table([["a"]], ["x", "y"]), ValueError, r"rows\[0\]"),
    ("show_table", "rows a str", lambda: common.show_table("ab", ["x"]), TypeError, "rows"),
    ("Table", "unknown alignment", lambda: common.Table([["a"]], ["x"], align=["centre"]), ValueError, "align"),
    ("Table", "no columns", lambda: common.Table([], []), ValueError, "columns"),
    (
        "bernoulli_log_prob",
        "x = 5",
        lambda: common.bernoulli_log_prob(torch.tensor([5.0]), torch.zeros(1)),
        ValueError,
        r"\bx\b",
    ),
    (
        "bernoulli_log_prob",
        "x NaN",
        lambda: common.bernoulli_log_prob(torch.tensor([NAN]), torch.zeros(1)),
        ValueError,
        r"\bx\b",
    ),
    ("normal_log_prob", "sigma < 0", lambda: common.normal_log_prob(torch.zeros(2), 0.0, -1.0), ValueError, "sigma"),
    (
        "normal_positive_moments",
        "scale < 0",
        lambda: common.normal_positive_moments(torch.ones(1), -torch.ones(1)),
        ValueError,
        "scale",
    ),
    (
        "normal_positive_moments",
        "loc NaN",
        lambda: common.normal_positive_moments(torch.tensor([NAN]), torch.ones(1)),
        ValueError,
        "loc",
    ),
    (
        "normal_positive_moments",
        "shapes (2,) (3,)",
        lambda: common.normal_positive_moments(torch.ones(2), torch.ones(3)),
        ValueError,
        "loc and scale",
    ),
    (
        "normal_positive_log_moment",
        "scale 0",
        lambda: common.normal_positive_log_moment(torch.ones(1), torch.zeros(1)),
        ValueError,
        "scale",
    ),
    (
        "normal_positive_log_moment",
        "shapes (2,) (3,)",
        lambda: common.normal_positive_log_moment(torch.ones(2), torch.ones(3)),
        ValueError,
        "loc and scale",
    ),
    ("checked_quad", "abs_tol not given", lambda: common.checked_quad(math.sin, 0.0, 1.0), TypeError, "abs_tol"),
    ("sample_gamma", "shape NaN", lambda: common.sample_gamma(NAN, 1.0, 3), ValueError, "shape"),
    ("sample_gamma", "rate < 0", lambda: common.sample_gamma(1.0, -1.0, 3), ValueError, "rate"),
    ("sample_gamma", "num_samples 0", lambda: common.sample_gamma(1.0, 1.0, 0), ValueError, "num_samples"),
    ("sample_gamma", "generator str", lambda: common.sample_gamma(1.0, 1.0, 3, "g"), TypeError, "generator"),
    ("mean_and_se", "one value", lambda: common.mean_and_se(torch.ones(1)), ValueError, "values"),
    ("variance_and_se", "three values", lambda: common.variance_and_se(torch.ones(3)), ValueError, "values"),
    ("verdict", "one difference", lambda: common.verdict([0.5]), ValueError, "differences"),
    ("verdict", "differences 2-D", lambda: common.verdict(torch.ones(2, 3)), ValueError, "differences"),
    ("verdict", "differences NaN", lambda: common.verdict([1.0, NAN]), ValueError, "differences"),
    ("verdict", "differences str", lambda: common.verdict("12"), TypeError, "differences"),
    ("verdict", "level 95", lambda: common.verdict([1.0, 2.0], level=95), ValueError, "level"),
    ("verdict", "higher int", lambda: common.verdict([1.0, 2.0], higher=1), TypeError, "higher"),
    ("exact_variance_se", "variance < 0", lambda: common.exact_variance_se(-1.0, 1.0, 10), ValueError, "variance"),
    ("exact_variance_se", "central4 < var^2", lambda: common.exact_variance_se(1.0, 0.5, 10), ValueError, "central4"),
    ("exact_variance_se", "num_values 1", lambda: common.exact_variance_se(1.0, 3.0, 1), ValueError, "num_values"),
    ("exact_variance_se", "central4 NaN", lambda: common.exact_variance_se(1.0, NAN, 10), ValueError, "central4"),
    ("mean_central_moments", "variance str", lambda: common.mean_central_moments("a", 1.0, 2), TypeError, "variance"),
    (
        "mean_central_moments",
        "num_samples 0",
        lambda: common.mean_central_moments(1.0, 3.0, 0),
        ValueError,
        "num_samples",
    ),
    # ---------------------------------------------------------------------------------------------- models
    ("GammaPoisson", "negative count", lambda: models.GammaPoisson(x=(1, -2)), ValueError, r"\bx\b"),
    ("GammaPoisson", "u_shape 0", lambda: models.GammaPoisson(u_shape=0.0), ValueError, "u_shape"),
    ("GammaPoisson", "v_rate NaN", lambda: models.GammaPoisson(v_rate=NAN), ValueError, "v_rate"),
    ("NormalGamma", "lambda0 < 0", lambda: models.NormalGamma(0.0, -1.0, 1.0, 1.0), ValueError, "lambda0"),
    ("NormalGamma", "b0 inf", lambda: models.NormalGamma(0.0, 1.0, 1.0, INF), ValueError, "b0"),
    ("NormalGamma", "mu0 NaN", lambda: models.NormalGamma(NAN, 1.0, 1.0, 1.0), ValueError, "mu0"),
    (
        "HierarchicalModel",
        "y, t shapes differ",
        lambda: models.HierarchicalModel(torch.ones(2, 3), torch.ones(2, 2)),
        ValueError,
        "y and t",
    ),
    (
        "HierarchicalModel",
        "a_v 0",
        lambda: models.HierarchicalModel(torch.ones(2, 3), torch.ones(2, 3), a_v=0.0),
        ValueError,
        "a_v",
    ),
    (
        "HierarchicalModel",
        "theta one entry short (exact_elbo)",
        lambda: HM.exact_elbo(HM.init()[:-1]),
        ValueError,
        "theta",
    ),
    (
        "ConjugateGaussian",
        "noise_sd 0",
        lambda: models.ConjugateGaussian(torch.ones(1, 2), noise_sd=0.0),
        ValueError,
        "noise_sd",
    ),
    ("ConjugateGaussian", "x NaN", lambda: models.ConjugateGaussian(torch.tensor([[NAN]])), ValueError, r"\bx\b"),
    # ---------------------------------------------------------------------------------------------- vi
    (
        "cavi_normal_gamma",
        "x too large (overflow)",
        lambda: vi.cavi_normal_gamma(torch.tensor([1e300, -1e300], dtype=torch.float64), PRIOR),
        ValueError,
        r"\bx\b",
    ),
    ("cavi_normal_gamma", "x empty", lambda: vi.cavi_normal_gamma([], PRIOR), ValueError, r"\bx\b"),
    ("cavi_normal_gamma", "x NaN", lambda: vi.cavi_normal_gamma([1.0, NAN], PRIOR), ValueError, r"\bx\b"),
    ("cavi_normal_gamma", "prior a tuple", lambda: vi.cavi_normal_gamma(X_NG, (0, 1, 1, 1)), TypeError, "prior"),
    ("cavi_normal_gamma", "num_iters 0", lambda: vi.cavi_normal_gamma(X_NG, PRIOR, 0), ValueError, "num_iters"),
    (
        "bbvi_normal_gamma",
        "step_size inf",
        lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 5, step_size=INF),
        ValueError,
        "step_size",
    ),
    (
        "bbvi_normal_gamma",
        "diverging step size",
        lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 50, step_size=50.0, generator=gen()),
        ValueError,
        "step_size",
    ),  # fmt: skip
    (
        "bbvi_normal_gamma",
        "rao_blackwellize 'no'",
        lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 5, rao_blackwellize="no"),
        TypeError,
        "rao_blackwellize",
    ),
    (
        "bbvi_normal_gamma",
        "control_variate 'no'",
        lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 5, control_variate="no"),
        TypeError,
        "control_variate",
    ),
    ("bbvi_normal_gamma", "num_samples 2", lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 5, 2), ValueError, "num_samples"),
    (
        "bbvi_normal_gamma",
        "coefficient unknown",
        lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 5, coefficient="loo"),
        ValueError,
        "coefficient",
    ),
    (
        "bbvi_normal_gamma",
        "init with a_N < 0",
        lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 5, init=[0.0, 1.0, -1.0, 1.0]),
        ValueError,
        "a_N",
    ),
    (
        "run_bbvi",
        "decay 2",
        lambda: vi.run_bbvi(torch.zeros(4), None, 3, step_size=1.0, decay=2.0),
        ValueError,
        "decay",
    ),
    (
        "grouped_gradient",
        "theta one entry short",
        lambda: vi.grouped_gradient(HM, HM.init()[:-1], 5),
        ValueError,
        "theta",
    ),
    (
        "grouped_gradient",
        "rao_blackwellize 'no'",
        lambda: vi.grouped_gradient(HM, HM.init(), 5, rao_blackwellize="no"),
        TypeError,
        "rao_blackwellize",
    ),
    ("normal_gamma_elbo", "b_N < 0", lambda: vi.normal_gamma_elbo(X_NG, PRIOR, 0.0, 1.0, 1.0, -1.0), ValueError, "b_N"),
    ("check_q_params", "three entries", lambda: vi.check_q_params([0.0, 1.0, 1.0]), ValueError, "params|omega"),
    ("check_q_params", "lambda_N NaN", lambda: vi.check_q_params([0.0, NAN, 1.0, 1.0]), ValueError, "lambda_N"),
    ("check_prior", "not a NormalGamma", lambda: vi.check_prior((0, 1, 1, 1)), TypeError, "prior"),
    ("NormalGammaQ", "a_N 0", lambda: _q(a_N=0.0), ValueError, "a_N"),
    ("NormalGammaQ", "mu_N NaN", lambda: _q(mu_N=NAN), ValueError, "mu_N"),
    ("sample_q", "num_samples 0", lambda: vi.sample_q(OMEGA, 0), ValueError, "num_samples"),
    (
        "default_init",
        "prior not a NormalGamma",
        lambda: vi.default_init(X_NG, None),
        TypeError,
        "prior",
    ),
    (
        "gaussian_kl",
        "cov_p not positive definite",
        lambda: vi.gaussian_kl(torch.zeros(2), torch.eye(2), torch.zeros(2), -torch.eye(2)),
        ValueError,
        "cov_p",
    ),
    (
        "gaussian_kl",
        "loc_q NaN",
        lambda: vi.gaussian_kl(torch.tensor([NAN, 0.0]), torch.eye(2), torch.zeros(2), torch.eye(2)),
        ValueError,
        "loc_q",
    ),
    (
        "mean_field_forward_kl",
        "cov not square",
        lambda: vi.mean_field_forward_kl(torch.zeros(2), torch.ones(2, 3)),
        ValueError,
        "cov",
    ),
    (
        "mean_field_reverse_kl",
        "cov not positive definite",
        lambda: vi.mean_field_reverse_kl(torch.zeros(2), -torch.eye(2)),
        ValueError,
        "cov",
    ),
    # ---------------------------------------------------------------------------------------------- estimators
    ("elbo_estimate", "loc NaN", lambda: estimators.elbo_estimate(GP, [NAN, 1.0], SCALE, 10), ValueError, "loc"),
    ("elbo_estimate", "scale < 0", lambda: estimators.elbo_estimate(GP, LOC, -SCALE, 10), ValueError, "scale"),
    (
        "elbo_estimate",
        "loc shape (3,)",
        lambda: estimators.elbo_estimate(GP, torch.ones(3), SCALE, 10),
        ValueError,
        "loc",
    ),
    (
        "elbo_estimate",
        "num_samples '3'",
        lambda: estimators.elbo_estimate(GP, LOC, SCALE, "3"),
        ValueError,
        "num_samples",
    ),
    (
        "elbo_estimate",
        "generator int",
        lambda: estimators.elbo_estimate(GP, LOC, SCALE, 10, generator=0),
        TypeError,
        "generator",
    ),
    (
        "elbo_estimate",
        "family unknown",
        lambda: estimators.elbo_estimate(GP, LOC, SCALE, 10, family="gauss"),
        ValueError,
        "family",
    ),
    (
        "score_function_gradient",
        "baseline unknown",
        lambda: estimators.score_function_gradient(GP, LOC, SCALE, 10, baseline="mean"),
        ValueError,
        "baseline",
    ),
    (
        "score_function_gradient",
        "scale inf",
        lambda: estimators.score_function_gradient(GP, LOC, [1.0, INF], 10),
        ValueError,
        "scale",
    ),
    (
        "reparameterization_gradient",
        "path_derivative 'no'",
        lambda: estimators.reparameterization_gradient(GP, LOC, SCALE, 10, path_derivative="no"),
        TypeError,
        "path_derivative",
    ),
    (
        "reparameterization_gradient",
        "num_samples 0",
        lambda: estimators.reparameterization_gradient(GP, LOC, SCALE, 0),
        ValueError,
        "num_samples",
    ),
    (
        "repeated_estimates",
        "baseline with the reparameterization estimator",
        lambda: estimators.repeated_estimates("reparameterization", GP, LOC, SCALE, 10, 2, baseline="leave-one-out"),
        ValueError,
        "baseline",
    ),
    (
        "repeated_estimates",
        "path_derivative with the ELBO",
        lambda: estimators.repeated_estimates("elbo", GP, LOC, SCALE, 10, 2, path_derivative=True),
        ValueError,
        "path_derivative",
    ),
    (
        "repeated_estimates",
        "estimator unknown",
        lambda: estimators.repeated_estimates("sf", GP, LOC, SCALE, 10, 2),
        ValueError,
        "estimator",
    ),
    (
        "repeated_estimates",
        "num_repeats 0",
        lambda: estimators.repeated_estimates("elbo", GP, LOC, SCALE, 10, 0),
        ValueError,
        "num_repeats",
    ),
    ("elbo_terms", "eps of shape (S, 1)", lambda: estimators.elbo_terms(GP, LOC, SCALE, EPS[:, :1]), ValueError, "eps"),
    (
        "score_function_terms",
        "eps of shape (S, 1)",
        lambda: estimators.score_function_terms(GP, LOC, SCALE, EPS[:, :1]),
        ValueError,
        "eps",
    ),
    (
        "reparameterization_terms",
        "eps of shape (S, 1)",
        lambda: estimators.reparameterization_terms(GP, LOC, SCALE, EPS[:, :1]),
        ValueError,
        "eps",
    ),
    (
        "reparameterization_terms",
        "eps a list",
        lambda: estimators.reparameterization_terms(GP, LOC, SCALE, [0.0, 1.0]),
        TypeError,
        "eps",
    ),
    ("check_baseline", "baseline NaN", lambda: estimators.check_baseline(NAN), ValueError, "baseline"),
    (
        "baseline_for",
        "separate without other_eps",
        lambda: estimators.baseline_for("separate", GP, LOC, SCALE, EPS),
        ValueError,
        "other_eps",
    ),
    (
        "separate_noise",
        "baseline unknown",
        lambda: estimators.separate_noise("mean", EPS, None),
        ValueError,
        "baseline",
    ),
    ("draw_noise", "num_samples 0", lambda: estimators.draw_noise(0, 2), ValueError, "num_samples"),
    ("draw_noise", "dim -1", lambda: estimators.draw_noise(3, -1), ValueError, "dim"),
    ("draw_noise", "generator str", lambda: estimators.draw_noise(3, 2, generator="g"), TypeError, "generator"),
    (
        "warn_outside_support",
        "more outside than draws",
        lambda: estimators.warn_outside_support(5, 3, "here", "z > 0"),
        ValueError,
        "num_outside",
    ),
    # ---------------------------------------------------------------------------------------------- deep
    ("VAE", "latent_dim 0", lambda: deep.VAE(4, (3,), 0), ValueError, "latent_dim"),
    ("VAE", "likelihood unknown", lambda: deep.VAE(4, likelihood="poisson"), ValueError, "likelihood"),
    ("VAE", "sigma < 0", lambda: deep.VAE(4, likelihood="gaussian", sigma=-1.0), ValueError, "sigma"),
    ("VAE", "fused_likelihood 'no'", lambda: deep.VAE(4, fused_likelihood="no"), TypeError, "fused_likelihood"),
    ("VAE", "hidden_dims entry 0", lambda: deep.VAE(4, (0,)), ValueError, "hidden_dims"),
    ("elbo", "x outside [0, 1]", lambda: deep.elbo(VAE, XV * 16), ValueError, r"\bx\b"),
    ("elbo", "x of width 3", lambda: deep.elbo(VAE, XV[:, :3]), ValueError, r"\bx\b"),
    ("elbo", "x empty", lambda: deep.elbo(VAE, XV[:0]), ValueError, r"\bx\b"),
    ("elbo", "x int", lambda: deep.elbo(VAE, (XV > 0.5).long()), ValueError, r"\bx\b"),
    ("elbo", "x a list", lambda: deep.elbo(VAE, XV.tolist()), TypeError, r"\bx\b"),
    ("elbo", "beta < 0", lambda: deep.elbo(VAE, XV, beta=-1.0), ValueError, "beta"),
    ("elbo", "kl unknown", lambda: deep.elbo(VAE, XV, kl="mc"), ValueError, r"\bkl\b"),
    (
        "elbo",
        "path_derivative with analytic KL",
        lambda: deep.elbo(VAE, XV, path_derivative=True),
        ValueError,
        "path_derivative",
    ),
    (
        "elbo",
        "path_derivative 'no'",
        lambda: deep.elbo(VAE, XV, kl="monte-carlo", path_derivative="no"),
        TypeError,
        "path_derivative",
    ),
    ("iwelbo", "num_samples 0", lambda: deep.iwelbo(VAE, XV, 0), ValueError, "num_samples"),
    ("iwelbo", "x NaN", lambda: deep.iwelbo(VAE, XV * NAN, 2), ValueError, r"\bx\b"),
    ("log_weights", "num_samples 1.5", lambda: deep.log_weights(VAE, XV, 1.5), ValueError, "num_samples"),
    ("log_evidence", "chunk_size 0", lambda: deep.log_evidence(VAE, XV, 4, chunk_size=0), ValueError, "chunk_size"),
    ("active_units", "threshold < 0", lambda: deep.active_units(VAE, XV, threshold=-1), ValueError, "threshold"),
    ("latent_activity", "one row", lambda: deep.latent_activity(VAE, XV[:1]), ValueError, r"\bx\b"),
    (
        "kl_per_dimension",
        "batch_size 0",
        lambda: deep.kl_per_dimension(VAE, XV, batch_size=0),
        ValueError,
        "batch_size",
    ),
    ("linear_beta", "beta_max < 0", lambda: deep.linear_beta(5, beta_max=-1.0), ValueError, "beta_max"),
    ("linear_beta", "warmup_epochs 0", lambda: deep.linear_beta(0), ValueError, "warmup_epochs"),
    ("cyclical_beta", "ratio 0", lambda: deep.cyclical_beta(4.0, ratio=0.0), ValueError, "ratio"),
    ("cyclical_beta", "beta_max NaN", lambda: deep.cyclical_beta(4.0, beta_max=NAN), ValueError, "beta_max"),
    ("binarize", "x > 1", lambda: deep.binarize(torch.full((2, 2), 3.0)), ValueError, r"\bx\b"),
    ("fixed_binarization", "x NaN", lambda: deep.fixed_binarization(torch.full((2, 2), NAN)), ValueError, r"\bx\b"),
    ("fixed_binarization", "method unknown", lambda: deep.fixed_binarization(XV, method="round"), ValueError, "method"),
    ("tile_images", "ncols 0", lambda: deep.tile_images(torch.rand(4, 16), 0), ValueError, "ncols"),
    ("load_images", "split unknown", lambda: deep.load_images("digits", "valid"), ValueError, "split"),
    ("load_images", "name unknown", lambda: deep.load_images("cifar"), ValueError, "name"),
    ("load_images", "limit 0", lambda: deep.load_images("digits", limit=0), ValueError, "limit"),
    (
        "read_idx",
        "missing file",
        lambda: deep.read_idx("/nonexistent/file.idx"),
        (FileNotFoundError, ValueError),
        "nonexistent",
    ),
    (
        "gaussian_iwelbo",
        "num_samples 0",
        lambda: deep.gaussian_iwelbo(CG, torch.zeros(2), torch.ones(2), 0, 3),
        ValueError,
        "num_samples",
    ),
    (
        "gaussian_iwelbo",
        "scale < 0",
        lambda: deep.gaussian_iwelbo(CG, torch.zeros(2), -torch.ones(2), 2, 3),
        ValueError,
        "scale",
    ),
    (
        "elbo_gradient_variance",
        "scale 0",
        lambda: deep.elbo_gradient_variance(CG, torch.zeros(2), torch.zeros(2)),
        ValueError,
        "scale",
    ),
    (
        "train",
        "x_train a list",
        lambda: deep.train(VAE, XV.tolist(), objective=deep.ELBO(), epochs=1, progress=False),
        TypeError,
        "x_train",
    ),
    (
        "train",
        "x_test empty",
        lambda: deep.train(VAE, XV, x_test=XV[:0], objective=deep.ELBO(), epochs=1, progress=False),
        ValueError,
        "x_test",
    ),  # fmt: skip
    (
        "train_replicas",
        "generators shorter than models",
        lambda: deep.train_replicas([VAE, VAE], XV, generators=[torch.Generator()], objective=deep.ELBO(), epochs=1),
        ValueError,
        "generators",
    ),
    (
        "train_replicas",
        "stack a str",
        lambda: deep.train_replicas(
            [VAE], XV, generators=[torch.Generator()], objective=deep.ELBO(), epochs=1, stack="yes"
        ),
        TypeError,
        "stack",
    ),  # fmt: skip
    (
        "train_replicas",
        "stack=True with an objective it cannot stack",
        lambda: deep.train_replicas(
            [VAE],
            XV,
            generators=[torch.Generator()],
            epochs=1,
            stack=True,
            objective=lambda m, x, generator: deep.elbo(m, x, generator=generator),
        ),
        TypeError,
        "objective",
    ),  # fmt: skip
    (
        "train_replicas",
        "generator= given",
        lambda: deep.train_replicas(
            [VAE], XV, generators=[torch.Generator()], generator=torch.Generator(), objective=deep.ELBO(), epochs=1
        ),
        TypeError,
        "generators",
    ),  # fmt: skip
    ("train", "epochs 0", lambda: deep.train(VAE, XV, objective=deep.ELBO(), epochs=0), ValueError, "epochs"),
    ("train", "objective a str", lambda: deep.train(VAE, XV, objective="elbo", epochs=1), TypeError, "objective"),
    (
        "train",
        "device 'gpu'",
        lambda: deep.train(VAE, XV, objective=deep.ELBO(), epochs=1, device="gpu"),
        ValueError,
        "device",
    ),
    (
        "train",
        "generator int",
        lambda: deep.train(VAE, XV, objective=deep.ELBO(), epochs=1, generator=1),
        TypeError,
        "generator",
    ),
    (
        "train",
        "checkpoint in a missing directory",
        lambda: deep.train(
            VAE, XV, objective=deep.ELBO(), epochs=1, checkpoint="/nonexistent/dir/run.pt", progress=False
        ),
        ValueError,
        "checkpoint",
    ),  # fmt: skip
]

BAD += [
    (
        "NormalGamma",
        "log_joint at tau NaN",
        lambda: PRIOR.log_joint(X_NG, torch.tensor(1.0), torch.tensor(NAN)),
        ValueError,
        "tau",
    ),  # fmt: skip
    ("elbo", "generator int", lambda: deep.elbo(VAE, XV, generator=3), TypeError, "generator"),
    ("iwelbo", "generator str", lambda: deep.iwelbo(VAE, XV, 2, generator="g"), TypeError, "generator"),
    ("log_weights", "generator int", lambda: deep.log_weights(VAE, XV, generator=1), TypeError, "generator"),
    ("log_evidence", "generator str", lambda: deep.log_evidence(VAE, XV, 3, generator="g"), TypeError, "generator"),
    ("binarize", "generator int", lambda: deep.binarize(XV, generator=3), TypeError, "generator"),
    ("VAE", "sample with generator int", lambda: VAE.sample(3, generator=1), TypeError, "generator"),
    ("sample_q", "generator int", lambda: vi.sample_q(OMEGA, 3, generator=2), TypeError, "generator"),
    ("NormalGammaQ", "sample with generator int", lambda: _q().sample(3, generator=2), TypeError, "generator"),
    (
        "gaussian_iwelbo",
        "generator int",
        lambda: deep.gaussian_iwelbo(CG, torch.zeros(2), torch.ones(2), 2, 3, generator=2),
        TypeError,
        "generator",
    ),  # fmt: skip
    (
        "HierarchicalModel",
        "simulate with generator int",
        lambda: models.HierarchicalModel.simulate(2, 3, generator=1),
        TypeError,
        "generator",
    ),  # fmt: skip
    ("HierarchicalModel", "sample with num_samples 0", lambda: HM.sample(HM.init(), 0), ValueError, "num_samples"),
    ("load_images", "download 'no'", lambda: deep.load_images("digits", download="no", limit=3), TypeError, "download"),
    ("data_root", "root an int", lambda: deep.data_root(3), TypeError, "root"),
    ("available_datasets", "root an int", lambda: deep.available_datasets(3), TypeError, "root"),
]


# ---------------------------------------------------------------------------------------------- vi: natural gradients
X_GAMMA = torch.tensor([0.5, 1.2, 2.0, 0.9], dtype=torch.float64)
TH = torch.tensor([2.0, 1.5], dtype=torch.float64)
ETA_G = torch.tensor([1.0, -1.5], dtype=torch.float64)
ETA_NG = torch.tensor([0.0, -0.5, 1.0, -1.0], dtype=torch.float64)  # omega = OMEGA
QLOC, QLOGS = torch.tensor([1.4, -0.1], dtype=torch.float64), torch.tensor([-1.5, -1.8], dtype=torch.float64)
QEPS = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
QINIT = torch.tensor([0.0, 0.0, math.log(0.1), math.log(0.1)], dtype=torch.float64)
QTHETA = torch.cat([QLOC, QLOGS])
QFIT = estimators.lognormal_q_fit
TRACE = torch.tensor([[0.0, 1.0], [2.0, 0.5]], dtype=torch.float64)


def _ct(**kw):
    args = {"n": 4, "sum_x": X_NG.sum(), "sum_x2": (X_NG**2).sum(), "prior": PRIOR, "omega": OMEGA, **kw}
    return vi.conjugate_targets(args["n"], args["sum_x"], args["sum_x2"], args["prior"], args["omega"])


NATGRAD_BAD = [
    ("gamma_natural_params", "alpha 0", lambda: vi.gamma_natural_params(0.0, 1.0), ValueError, "alpha"),
    ("gamma_natural_params", "beta NaN", lambda: vi.gamma_natural_params(1.0, NAN), ValueError, "beta"),
    ("gamma_natural_params", "alpha a str", lambda: vi.gamma_natural_params("2", 1.0), TypeError, "alpha"),
    ("gamma_natural_params", "beta None", lambda: vi.gamma_natural_params(2.0, None), TypeError, "beta"),
    ("gamma_natural_params", "shapes (2,) (3,)", lambda: vi.gamma_natural_params([1.0, 2.0], [1.0] * 3),
     ValueError, "alpha and beta"),
    ("gamma_log_partition", "eta_2 > 0", lambda: vi.gamma_log_partition(torch.tensor([1.0, 1.5])), ValueError, "eta"),
    ("gamma_log_partition", "eta_1 <= -1", lambda: vi.gamma_log_partition(torch.tensor([-1.0, -1.5])),
     ValueError, "eta"),
    ("gamma_log_partition", "eta NaN", lambda: vi.gamma_log_partition(torch.tensor([NAN, -1.5])), ValueError, "eta"),
    ("gamma_log_partition", "eta shape (3,)", lambda: vi.gamma_log_partition(torch.tensor([1.0, -1.5, 2.0])),
     ValueError, "eta"),
    ("gamma_log_partition", "eta a str", lambda: vi.gamma_log_partition("eta"), TypeError, "eta"),
    ("gamma_mean_sufficient", "beta < 0", lambda: vi.gamma_mean_sufficient(2.0, -1.0), ValueError, "beta"),
    ("gamma_mean_sufficient", "alpha inf", lambda: vi.gamma_mean_sufficient(INF, 1.0), ValueError, "alpha"),
    ("gamma_fisher", "theta shape (3,)", lambda: vi.gamma_fisher([1.0, 2.0, 3.0]), ValueError, "theta"),
    ("gamma_fisher", "scale s = 0", lambda: vi.gamma_fisher([1.0, 0.0], "scale"), ValueError, "theta"),
    ("gamma_fisher", "natural eta_2 > 0", lambda: vi.gamma_fisher([1.0, 1.0], "natural"), ValueError, "theta"),
    ("gamma_fisher", "theta a str", lambda: vi.gamma_fisher("1, 2"), TypeError, "theta"),
    ("gamma_fisher", "parameterization 3", lambda: vi.gamma_fisher(TH, 3), TypeError, "parameterization"),
    ("gamma_fisher", "theta NaN", lambda: vi.gamma_fisher([NAN, 1.0]), ValueError, "theta"),
    ("to_shape_rate", "theta shape (3,)", lambda: vi.to_shape_rate(torch.ones(3)), ValueError, "theta"),
    ("to_shape_rate", "theta NaN", lambda: vi.to_shape_rate(torch.tensor([NAN, 1.0])), ValueError, "theta"),
    ("to_shape_rate", "alpha < 0 (rate)", lambda: vi.to_shape_rate(torch.tensor([-1.0, 1.0])), ValueError, "theta"),
    ("to_shape_rate", "scale s = 0", lambda: vi.to_shape_rate(torch.tensor([1.0, 0.0]), "scale"), ValueError, "theta"),
    ("to_shape_rate", "parameterization unknown", lambda: vi.to_shape_rate(TH, "shape"), ValueError,
     "parameterization"),
    ("shape_rate_jacobian", "theta scalar", lambda: vi.shape_rate_jacobian(torch.tensor(1.0)), ValueError, "theta"),
    ("shape_rate_jacobian", "scale s = 0", lambda: vi.shape_rate_jacobian(torch.tensor([1.0, 0.0]), "scale"),
     ValueError, "theta"),
    ("shape_rate_jacobian", "theta a numpy str array", lambda: vi.shape_rate_jacobian(np.array(["1", "2"])),
     TypeError, "theta"),
    ("gamma_nll", "x < 0", lambda: vi.gamma_nll([1.0, -1.0], TH), ValueError, r"\bx\b"),
    ("gamma_nll", "x empty", lambda: vi.gamma_nll([], TH), ValueError, r"\bx\b"),
    ("gamma_nll", "x a str", lambda: vi.gamma_nll("x", TH), TypeError, r"\bx\b"),
    ("gamma_nll", "theta beta < 0", lambda: vi.gamma_nll(X_GAMMA, torch.tensor([2.0, -1.0])), ValueError, "theta"),
    ("gamma_nll", "theta shape (3,)", lambda: vi.gamma_nll(X_GAMMA, torch.ones(3)), ValueError, "theta"),
    ("gamma_nll", "x 2-D", lambda: vi.gamma_nll(X_GAMMA[None], TH), ValueError, r"\bx\b"),
    ("gamma_nll_grad", "theta NaN", lambda: vi.gamma_nll_grad(X_GAMMA, torch.tensor([NAN, 1.0])), ValueError, "theta"),
    ("gamma_nll_grad", "theta shape (3,)", lambda: vi.gamma_nll_grad(X_GAMMA, torch.ones(3)), ValueError, "theta"),
    ("gamma_nll_grad", "x NaN", lambda: vi.gamma_nll_grad([1.0, NAN], TH), ValueError, r"\bx\b"),
    ("gamma_nll_hessian", "theta alpha 0", lambda: vi.gamma_nll_hessian(X_GAMMA, torch.tensor([0.0, 1.0])),
     ValueError, "theta"),
    ("gamma_nll_hessian", "theta shape (3,)", lambda: vi.gamma_nll_hessian(X_GAMMA, torch.ones(3)), ValueError,
     "theta"),
    ("gamma_nll_hessian", "squared", lambda: vi.gamma_nll_hessian(X_GAMMA, TH, "squared"), ValueError,
     "parameterization"),
    ("fisher_in", "theta shape (3,)", lambda: vi.fisher_in(torch.ones(3), "squared"), ValueError, "theta"),
    ("fisher_in", "rate-cubed b < 0", lambda: vi.fisher_in(torch.tensor([1.0, -1.0]), "rate-cubed"), ValueError,
     "theta"),
    ("fit_gamma", "theta0 beta < 0", lambda: vi.fit_gamma(X_GAMMA, [1.0, -1.0], 0.5, 3), ValueError, "theta0"),
    ("fit_gamma", "theta0 shape (2, 2)", lambda: vi.fit_gamma(X_GAMMA, torch.ones(2, 2), 0.5, 3), ValueError, "theta0"),
    ("fit_gamma", "step_size empty", lambda: vi.fit_gamma(X_GAMMA, TH, [], 3), ValueError, "step_size"),
    ("fit_gamma", "step_size a str", lambda: vi.fit_gamma(X_GAMMA, TH, "0.5", 3), TypeError, "step_size"),
    ("fit_gamma", "step_size NaN", lambda: vi.fit_gamma(X_GAMMA, TH, NAN, 3), ValueError, "step_size"),
    ("fit_gamma", "num_iters 0", lambda: vi.fit_gamma(X_GAMMA, TH, 0.5, 0), ValueError, "num_iters"),
    ("fit_gamma", "max_halvings -1", lambda: vi.fit_gamma(X_GAMMA, TH, 0.5, 3, max_halvings=-1), ValueError,
     "max_halvings"),
    ("fit_gamma", "max_halvings 0 and a step that leaves", lambda: vi.fit_gamma(X_GAMMA, [0.5, 8.0], 1.0, 3,
     max_halvings=0), ValueError, "max_halvings"),
    ("fit_gamma", "x with a zero", lambda: vi.fit_gamma([0.0, 1.0], TH, 0.5, 3), ValueError, r"\bx\b"),
    ("fit_gamma", "x None", lambda: vi.fit_gamma(None, TH, 0.5, 3), TypeError, r"\bx\b"),
    ("fit_gamma", "parameterization unknown", lambda: vi.fit_gamma(X_GAMMA, TH, 0.5, 3, parameterization="log"),
     ValueError, "parameterization"),
    ("GammaStats", "from_x of NaN", lambda: vi.GammaStats.from_x([1.0, NAN]), ValueError, r"\bx\b"),
    ("GammaStats", "from_x of a str", lambda: vi.GammaStats.from_x("1 2"), TypeError, r"\bx\b"),
    ("normal_gamma_natural_params", "omega shape (3,)", lambda: vi.normal_gamma_natural_params([0.0, 1.0, 1.0]),
     ValueError, "omega"),
    ("normal_gamma_natural_params", "lambda_N < 0", lambda: vi.normal_gamma_natural_params([0.0, -1.0, 1.0, 1.0]),
     ValueError, "lambda_N"),
    ("normal_gamma_natural_params", "mu_N NaN", lambda: vi.normal_gamma_natural_params([NAN, 1.0, 1.0, 1.0]),
     ValueError, "mu_N"),
    ("normal_gamma_natural_params", "omega a str", lambda: vi.normal_gamma_natural_params("omega"), TypeError,
     "omega"),
    ("normal_gamma_from_natural", "eta_2 > 0", lambda: vi.normal_gamma_from_natural(
     torch.tensor([0.0, 0.5, 1.0, -1.0])), ValueError, "eta"),
    ("normal_gamma_from_natural", "eta shape (5,)", lambda: vi.normal_gamma_from_natural(torch.zeros(5)), ValueError,
     "eta"),
    ("normal_gamma_from_natural", "eta NaN", lambda: vi.normal_gamma_from_natural(ETA_NG * NAN), ValueError, "eta"),
    ("normal_gamma_log_partition", "eta_4 > 0", lambda: vi.normal_gamma_log_partition(-ETA_NG), ValueError, "eta"),
    ("normal_gamma_log_partition", "eta shape (2,)", lambda: vi.normal_gamma_log_partition(ETA_G), ValueError, "eta"),
    ("conjugate_targets", "omega b_N < 0", lambda: _ct(omega=torch.tensor([0.0, 1.0, 2.0, -1.0])), ValueError, "b_N"),
    ("conjugate_targets", "omega shape (3,)", lambda: _ct(omega=torch.ones(3)), ValueError, "omega"),
    ("conjugate_targets", "prior a tuple", lambda: _ct(prior=(0, 1, 1, 1)), TypeError, "prior"),
    ("conjugate_targets", "n 0", lambda: _ct(n=0), ValueError, r"\bn\b"),
    ("conjugate_targets", "sum_x NaN", lambda: _ct(sum_x=NAN), ValueError, "sum_x"),
    ("conjugate_targets", "sum_x2 < 0", lambda: _ct(sum_x2=-1.0), ValueError, "sum_x2"),
    ("conjugate_targets", "sum_x2 and sum_x swapped", lambda: _ct(sum_x=(X_NG**2).sum(), sum_x2=X_NG.sum()),
     ValueError, "sum_x2"),
    ("conjugate_targets", "sum_x a str", lambda: _ct(sum_x="4.4"), TypeError, "sum_x"),
    ("svi_normal_gamma", "forgetting a str", lambda: vi.svi_normal_gamma(X_NG, PRIOR, 3, 2, forgetting="0.7"),
     (TypeError, ValueError), "forgetting"),
    ("svi_normal_gamma", "delay inf", lambda: vi.svi_normal_gamma(X_NG, PRIOR, 3, 2, delay=INF), ValueError, "delay"),
    ("svi_normal_gamma", "delay -1", lambda: vi.svi_normal_gamma(X_NG, PRIOR, 3, 2, delay=-1.0), ValueError, "delay"),
    ("svi_normal_gamma", "batch_size 0", lambda: vi.svi_normal_gamma(X_NG, PRIOR, 3, 0), ValueError, "batch_size"),
    ("svi_normal_gamma", "generator int", lambda: vi.svi_normal_gamma(X_NG, PRIOR, 3, 2, generator=0), TypeError,
     "generator"),
    ("svi_normal_gamma", "init with b_N 0", lambda: vi.svi_normal_gamma(X_NG, PRIOR, 3, 2, init=[0.0, 1.0, 1.0, 0.0]),
     ValueError, "b_N"),
    ("svi_normal_gamma", "x NaN", lambda: vi.svi_normal_gamma([1.0, NAN], PRIOR, 3, 2), ValueError, r"\bx\b"),
    ("svi_normal_gamma", "prior None", lambda: vi.svi_normal_gamma(X_NG, None, 3, 2), TypeError, "prior"),
    ("bbvi_adam_normal_gamma", "lr 0", lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 3, 5, lr=0.0), ValueError, "lr"),
    ("bbvi_adam_normal_gamma", "betas (1, 0.999)", lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 3, 5,
     betas=(1.0, 0.999)), ValueError, "betas"),
    ("bbvi_adam_normal_gamma", "betas a float", lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 3, 5, betas=0.9),
     TypeError, "betas"),
    ("bbvi_adam_normal_gamma", "eps -1", lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 3, 5, eps=-1.0), ValueError,
     "eps"),
    ("bbvi_adam_normal_gamma", "generator str", lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 3, 5, generator="g"),
     TypeError, "generator"),
    ("bbvi_adam_normal_gamma", "num_samples 2", lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 3, 2), ValueError,
     "num_samples"),
    ("bbvi_adam_normal_gamma", "diverging lr", lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 60, 5, lr=30.0,
     generator=gen()), ValueError, r"\blr\b"),
    ("bbvi_adam_normal_gamma", "prior a list", lambda: vi.bbvi_adam_normal_gamma(X_NG, [0, 1, 1, 1], 3, 5), TypeError,
     "prior"),
    ("GammaPoisson.exact_elbo", "lognormal loc shape (3,)", lambda: GP.exact_elbo(torch.ones(3), QLOGS.exp(),
     family="lognormal"), ValueError, "loc"),
    ("GammaPoisson.exact_elbo", "lognormal scale NaN", lambda: GP.exact_elbo(QLOC, QLOGS * NAN, family="lognormal"),
     ValueError, "scale"),
    ("GammaPoisson.exact_elbo", "lognormal shapes (3, 2) (2, 2)", lambda: GP.exact_elbo(torch.ones(3, 2),
     torch.ones(2, 2), family="lognormal"), ValueError, "loc and scale"),
    ("GammaPoisson.exact_elbo", "lognormal scale a str", lambda: GP.exact_elbo(QLOC, "0.2", family="lognormal"),
     TypeError, "scale"),  # a wrong type is a TypeError (one as_tensor)
    ("log_scale_gradient", "model a str", lambda: estimators.log_scale_gradient("gp", QTHETA, QEPS), TypeError,
     "model"),
    ("log_scale_gradient", "eps shape (S, 1)", lambda: estimators.log_scale_gradient(GP, QTHETA, QEPS[:, :1]),
     ValueError, "eps"),
    ("log_scale_gradient", "eps shape (2,)", lambda: estimators.log_scale_gradient(GP, QTHETA, QEPS[0]), ValueError,
     "eps"),
    ("log_scale_gradient", "eps a list", lambda: estimators.log_scale_gradient(GP, QTHETA, QEPS.tolist()), TypeError,
     "eps"),
    ("log_scale_gradient", "eps NaN", lambda: estimators.log_scale_gradient(GP, QTHETA, QEPS * NAN), ValueError,
     "eps"),
    ("log_scale_gradient", "theta shape (3,)", lambda: estimators.log_scale_gradient(GP, torch.ones(3), QEPS),
     ValueError, "theta"),
    ("log_scale_gradient", "theta batch (3, 4), eps (4, 5, 2)", lambda: estimators.log_scale_gradient(GP,
     torch.ones(3, 4), torch.zeros(4, 5, 2)), ValueError, "eps"),
    ("lognormal_q_fit", "init shape (2,)", lambda: QFIT(GP, QINIT[:2], 3, 2, 0.1), ValueError, "init"),
    ("lognormal_q_fit", "init NaN", lambda: estimators.lognormal_q_fit(GP, QINIT * NAN, 3, 2, 0.1), ValueError, "init"),
    ("lognormal_q_fit", "init a str", lambda: estimators.lognormal_q_fit(GP, "init", 3, 2, 0.1), TypeError, "init"),
    ("lognormal_q_fit", "step_size 0", lambda: QFIT(GP, QINIT, 3, 2, 0.0), ValueError, "step_size"),
    ("lognormal_q_fit", "method unknown", lambda: estimators.lognormal_q_fit(GP, QINIT, 3, 2, 0.1, method="newton"),
     ValueError, "method"),
    ("lognormal_q_fit", "num_runs 0", lambda: estimators.lognormal_q_fit(GP, QINIT, 3, 2, 0.1, num_runs=0), ValueError,
     "num_runs"),
    ("lognormal_q_fit", "generator int", lambda: QFIT(GP, QINIT, 3, 2, 0.1, generator=1), TypeError,
     "generator"),
    ("lognormal_q_fit", "betas (0.9, 1.5)", lambda: estimators.lognormal_q_fit(GP, QINIT, 3, 2, 0.1, method="adam",
     betas=(0.9, 1.5)), ValueError, "betas"),
    ("first_hit", "values 0-d", lambda: common.first_hit(torch.tensor(1.0), 1.0), ValueError, "values"),
    ("first_hit", "values empty", lambda: common.first_hit(torch.zeros(0, 3), 1.0), ValueError, "values"),
    ("first_hit", "level NaN", lambda: common.first_hit(TRACE, NAN), ValueError, "level"),
    ("first_hit", "level a tensor of 2", lambda: common.first_hit(TRACE, torch.ones(2)), (TypeError, ValueError),
     "level"),
    ("first_hit", "stay 'yes'", lambda: common.first_hit(TRACE, 1.0, stay="yes"), TypeError, "stay"),
]  # fmt: skip
BAD += NATGRAD_BAD

#: natural gradients: lists, numpy arrays, int tensors and GammaStats give the answer of the float64 tensors
NATGRAD_GOOD = [
    ("gamma_log_partition", "a list", lambda: vi.gamma_log_partition([1.0, -1.5]),
     lambda: vi.gamma_log_partition(ETA_G)),
    ("gamma_natural_params", "numpy arrays", lambda: vi.gamma_natural_params(np.array([2.0, 3.0]), np.array(1.5)),
     lambda: vi.gamma_natural_params(torch.tensor([2.0, 3.0]), 1.5)),
    ("to_shape_rate", "a list", lambda: vi.to_shape_rate([2.0, 1.5], "scale"), lambda: vi.to_shape_rate(TH, "scale")),
    ("shape_rate_jacobian", "an int tensor", lambda: vi.shape_rate_jacobian(torch.tensor([2, 1]), "scale"),
     lambda: vi.shape_rate_jacobian(torch.tensor([2.0, 1.0], dtype=torch.float64), "scale")),
    ("fisher_in", "a list", lambda: vi.fisher_in([2.0, 1.5], "squared"), lambda: vi.fisher_in(TH, "squared")),
    ("gamma_nll", "GammaStats and a numpy theta", lambda: vi.gamma_nll(vi.GammaStats.from_x(X_GAMMA), TH.numpy()),
     lambda: vi.gamma_nll(X_GAMMA, TH)),
    ("gamma_nll_grad", "a list x", lambda: vi.gamma_nll_grad(X_GAMMA.tolist(), TH, "squared"),
     lambda: vi.gamma_nll_grad(X_GAMMA, TH, "squared")),
    ("gamma_nll_hessian", "a numpy x", lambda: vi.gamma_nll_hessian(X_GAMMA.numpy(), TH, "scale"),
     lambda: vi.gamma_nll_hessian(X_GAMMA, TH, "scale")),
    ("fit_gamma", "a numpy x and a list step_size", lambda: vi.fit_gamma(X_GAMMA.numpy(), [0.5, 8.0], [1.0], 5)
     .trajectory[:, 0], lambda: vi.fit_gamma(X_GAMMA, torch.tensor([0.5, 8.0]), 1.0, 5).trajectory),
    ("normal_gamma_from_natural", "a list", lambda: vi.normal_gamma_from_natural(ETA_NG.tolist()),
     lambda: vi.normal_gamma_from_natural(ETA_NG)),
    ("normal_gamma_natural_params", "a numpy omega", lambda: vi.normal_gamma_natural_params(OMEGA.numpy()),
     lambda: ETA_NG),
    ("normal_gamma_log_partition", "a list", lambda: vi.normal_gamma_log_partition(ETA_NG.tolist()),
     lambda: vi.normal_gamma_log_partition(ETA_NG)),
    ("conjugate_targets", "float sums", lambda: _ct(sum_x=float(X_NG.sum()), sum_x2=float((X_NG**2).sum())),
     lambda: _ct()),
    ("GammaPoisson.exact_elbo", "lognormal lists", lambda: GP.exact_elbo(QLOC.tolist(), QLOGS.exp().tolist(),
     family="lognormal"), lambda: GP.exact_elbo(QLOC, QLOGS.exp(), family="lognormal")),
    ("log_scale_gradient", "a list theta", lambda: estimators.log_scale_gradient(GP, QTHETA.tolist(), QEPS),
     lambda: estimators.log_scale_gradient(GP, QTHETA, QEPS)),
    ("lognormal_q_fit", "a list init", lambda: QFIT(GP, QINIT.tolist(), 3, 2, 0.1, generator=gen())
     .elbo, lambda: estimators.lognormal_q_fit(GP, QINIT, 3, 2, 0.1, generator=gen()).elbo),
    ("svi_normal_gamma", "a numpy x", lambda: vi.svi_normal_gamma(X_NG.numpy(), PRIOR, 3, 2, generator=gen()).elbo,
     lambda: vi.svi_normal_gamma(X_NG, PRIOR, 3, 2, generator=gen()).elbo),
    ("bbvi_adam_normal_gamma", "a list x", lambda: vi.bbvi_adam_normal_gamma(X_NG.tolist(), PRIOR, 3, 5,
     generator=gen()).elbo, lambda: vi.bbvi_adam_normal_gamma(X_NG, PRIOR, 3, 5, generator=gen()).elbo),
    ("first_hit", "a list", lambda: common.first_hit([0.0, 1.0, 2.0], 1.0), lambda: torch.tensor(1)),
    ("first_hit", "NaN (a diverged run) never reaches the level", lambda: common.first_hit(torch.tensor([[0.0, 0.0],
     [NAN, 2.0], [NAN, 3.0]]), 1.0, stay=True), lambda: torch.tensor([3, 1])),
    ("first_hit", "an int tensor", lambda: common.first_hit(torch.tensor([[0, 3], [2, 1]]), 1, stay=True),
     lambda: torch.tensor([1, 0])),
]  # fmt: skip


# ---------------------------------------------------------------------------------------------- deep.diffusion
DF = deep.diffusion
SCH = DF.linear_schedule(10)
X0 = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
E0 = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
T0 = torch.tensor([1, 5, 10])
GM = DF.GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], [0.3, 0.3])
OPT = DF.gaussian_optimal_eps(torch.zeros(2), torch.ones(2), SCH)
ZERO_EPS = lambda xt, t: torch.zeros_like(xt)  # noqa: E731

DIFFUSION_BAD = [
    ("diffusion.Schedule", "betas (the old API)", lambda: DF.Schedule(torch.tensor([0.1, 0.2])), TypeError,
     "LinearSchedule"),
    ("diffusion.LinearSchedule", "beta_1 0", lambda: DF.LinearSchedule(10, 0.0), ValueError, "beta_1"),
    ("diffusion.LinearSchedule", "beta_T a str", lambda: DF.LinearSchedule(10, 1e-4, "0.1"), ValueError, "beta_T"),
    ("diffusion.LogSNRSchedule", "gamma_min above gamma_max", lambda: DF.LogSNRSchedule(10, 5.0, -5.0), ValueError,
     "gamma_min"),
    ("diffusion.LogSNRSchedule", "num_steps 2", lambda: DF.LogSNRSchedule(2), ValueError, "num_steps"),
    ("diffusion.linear_betas", "num_steps 1", lambda: DF.linear_betas(1), ValueError, "num_steps"),
    ("diffusion.linear_betas", "beta_T 2", lambda: DF.linear_betas(10, 1e-4, 2.0), ValueError, "beta_T"),
    ("diffusion.linear_schedule", "beta_1 NaN", lambda: DF.linear_schedule(10, NAN), ValueError, "beta_1"),
    ("diffusion.log_snr_schedule", "gamma_min a str", lambda: DF.log_snr_schedule(10, "-13"), (TypeError, ValueError),
     "gamma_min"),
    ("diffusion.log_snr_schedule", "gamma_max inf", lambda: DF.log_snr_schedule(10, -13.3, INF), ValueError,
     "gamma_max"),
    ("diffusion.reverse_variance", "schedule a tensor", lambda: DF.reverse_variance(SCH.betas), TypeError, "schedule"),
    ("diffusion.reverse_variance", "variance unknown", lambda: DF.reverse_variance(SCH, "fixed"), ValueError,
     "variance"),
    ("diffusion.q_sample", "eps of shape (3, 1)", lambda: DF.q_sample(X0, T0, E0[:, :1], SCH), ValueError, "eps"),
    ("diffusion.q_sample", "t float", lambda: DF.q_sample(X0, T0.double(), E0, SCH), TypeError, r"\bt\b"),
    ("diffusion.q_sample", "t 11 > T", lambda: DF.q_sample(X0, T0 + 1, E0, SCH), ValueError, r"\bt\b"),
    ("diffusion.q_sample", "t of shape (2,)", lambda: DF.q_sample(X0, T0[:2], E0, SCH), ValueError, r"\bt\b"),
    ("diffusion.q_sample", "x0 a list", lambda: DF.q_sample(X0.tolist(), T0, E0, SCH), TypeError, "x0"),
    ("diffusion.q_sample", "schedule None", lambda: DF.q_sample(X0, T0, E0, None), TypeError, "schedule"),
    ("diffusion.posterior", "xt of shape (3, 1)", lambda: DF.posterior(X0, X0[:, :1], T0, SCH), ValueError, "xt"),
    ("diffusion.posterior", "t 0", lambda: DF.posterior(X0, X0, T0 - 1, SCH), ValueError, r"\bt\b"),
    ("diffusion.condition_gaussian", "observed 3", lambda: DF.condition_gaussian(torch.zeros(2), torch.eye(2), [3],
     torch.zeros(1)), ValueError, "observed"),
    ("diffusion.condition_gaussian", "observed an int", lambda: DF.condition_gaussian(torch.zeros(2), torch.eye(2), 1,
     torch.zeros(1)), TypeError, "observed"),
    ("diffusion.condition_gaussian", "value of shape (2,)", lambda: DF.condition_gaussian(torch.zeros(2),
     torch.eye(2), [0], torch.zeros(2)), ValueError, "value"),
    ("diffusion.model_mean", "eps_hat of shape (3, 1)", lambda: DF.model_mean(E0[:, :1], X0, T0, SCH), ValueError,
     "eps_hat"),
    ("diffusion.prior_term", "x0 a list", lambda: DF.prior_term(X0.tolist(), SCH), TypeError, "x0"),
    ("diffusion.prior_term", "x0 NaN", lambda: DF.prior_term(X0 * NAN, SCH), ValueError, "x0"),
    ("diffusion.bound_terms", "eps_model a str", lambda: DF.bound_terms("model", X0, T0, E0, SCH), TypeError,
     "eps_model"),
    ("diffusion.bound_terms", "eps_model of the wrong shape", lambda: DF.bound_terms(lambda xt, t: xt[:, :1], X0, T0,
     E0, SCH), ValueError, "eps_model"),
    ("diffusion.bound_terms", "x0 NaN", lambda: DF.bound_terms(ZERO_EPS, X0 * NAN, T0, E0, SCH), ValueError, "x0"),
    ("diffusion.bound_terms", "eps of shape (3, 1)", lambda: DF.bound_terms(ZERO_EPS, X0, T0, E0[:, :1], SCH),
     ValueError, "eps"),
    ("diffusion.epsilon_weights", "variance unknown", lambda: DF.epsilon_weights(SCH, "fixed"), ValueError,
     "variance"),
    ("diffusion.epsilon_weights", "schedule a str", lambda: DF.epsilon_weights("linear"), TypeError, "schedule"),
    ("diffusion.all_terms", "x0 1-D", lambda: DF.all_terms(ZERO_EPS, X0[0], SCH), ValueError, "x0"),
    ("diffusion.all_terms", "chunk 0", lambda: DF.all_terms(ZERO_EPS, X0, SCH, chunk=0), ValueError, "chunk"),
    ("diffusion.all_terms", "generator int", lambda: DF.all_terms(ZERO_EPS, X0, SCH, generator=1), TypeError,
     "generator"),
    ("diffusion.negative_elbo", "t_probs NaN", lambda: DF.negative_elbo(ZERO_EPS, X0, SCH,
     t_probs=torch.full((9,), NAN)), ValueError, "t_probs"),
    ("diffusion.negative_elbo", "t_probs of shape (10,)", lambda: DF.negative_elbo(ZERO_EPS, X0, SCH,
     t_probs=torch.full((10,), 0.1)), ValueError, "t_probs"),
    ("diffusion.negative_elbo", "x0 a list", lambda: DF.negative_elbo(ZERO_EPS, X0.tolist(), SCH), TypeError, "x0"),
    ("diffusion.importance_probs", "terms 1-D", lambda: DF.importance_probs(torch.ones(10)), ValueError, "terms"),
    ("diffusion.importance_probs", "terms all zero", lambda: DF.importance_probs(torch.zeros(3, 10)), ValueError,
     "terms"),
    ("diffusion.importance_probs", "terms of shape (3, 1)", lambda: DF.importance_probs(torch.ones(3, 1)),
     ValueError, "terms"),
    ("diffusion.simple_loss", "x0 a list", lambda: DF.simple_loss(ZERO_EPS, X0.tolist(), SCH), TypeError, "x0"),
    ("diffusion.simple_loss", "generator str", lambda: DF.simple_loss(ZERO_EPS, X0, SCH, generator="g"), TypeError,
     "generator"),
    ("diffusion.gaussian_posterior_x0", "std < 0", lambda: DF.gaussian_posterior_x0(X0, T0, torch.zeros(2),
     -torch.ones(2), SCH), ValueError, "std"),
    ("diffusion.gaussian_optimal_eps", "mean NaN", lambda: DF.gaussian_optimal_eps([NAN, 0.0], [1.0, 1.0], SCH),
     ValueError, "mean"),
    ("diffusion.gaussian_optimal_eps", "std 0", lambda: DF.gaussian_optimal_eps([0.0, 0.0], [1.0, 0.0], SCH),
     ValueError, "std"),
    ("diffusion.gaussian_bound", "mean NaN", lambda: DF.gaussian_bound([NAN], [1.0], SCH), ValueError, "mean"),
    ("diffusion.gaussian_bound", "mean (2,), std (3,)", lambda: DF.gaussian_bound([0.0, 0.0], [1.0] * 3, SCH),
     ValueError, "mean and std"),
    ("diffusion.gaussian_model_nll", "mean inf", lambda: DF.gaussian_model_nll([INF], [1.0], SCH), ValueError, "mean"),
    ("diffusion.gaussian_model_nll", "variance unknown", lambda: DF.gaussian_model_nll([0.0], [1.0], SCH, "fixed"),
     ValueError, "variance"),
    ("diffusion.gaussian_diffusion_loss_continuous", "log_snr_max NaN",
     lambda: DF.gaussian_diffusion_loss_continuous([1.0], NAN, -5.0), ValueError, "log_snr_max"),
    ("diffusion.gaussian_diffusion_loss_continuous", "max below min",
     lambda: DF.gaussian_diffusion_loss_continuous([1.0], -5.0, 5.0), ValueError, "log_snr_max"),
    ("diffusion.gaussian_diffusion_loss_continuous", "std 0",
     lambda: DF.gaussian_diffusion_loss_continuous([0.0], 5.0, -5.0), ValueError, "std"),
    ("diffusion.GaussianMixture", "weights sum 0.8", lambda: DF.GaussianMixture([0.4, 0.4], [[0.0], [1.0]], [1.0, 1.0]),
     ValueError, "weights"),
    ("diffusion.GaussianMixture", "stds 0", lambda: DF.GaussianMixture([0.5, 0.5], [[0.0], [1.0]], [1.0, 0.0]),
     ValueError, "stds"),
    ("diffusion.GaussianMixture", "sample with generator int", lambda: GM.sample(3, generator=1), TypeError,
     "generator"),
    ("diffusion.GaussianMixture", "log_prob of (3, 3) points in 2-D", lambda: GM.log_prob(torch.zeros(3, 3)),
     ValueError, r"\bx\b"),
    ("diffusion.NoiseMLP", "dim 0", lambda: DF.NoiseMLP(0, 10), ValueError, "dim"),
    ("diffusion.NoiseMLP", "generator int", lambda: DF.NoiseMLP(2, 10, generator=0), TypeError, "generator"),
    ("diffusion.NoiseMLP", "check_input of 3 columns", lambda: DF.NoiseMLP(2, 10).check_input(torch.zeros(4, 3),
     "x_train"), ValueError, "x_train"),
    ("diffusion.NoiseMLP", "check_input of integers", lambda: DF.NoiseMLP(2, 10).check_input(torch.zeros(4, 2,
     dtype=torch.long)), ValueError, r"\bx\b"),
    ("diffusion.SimpleLoss", "schedule a tensor", lambda: DF.SimpleLoss(SCH.betas), TypeError, "schedule"),
    ("diffusion.SimpleLoss", "a VAE", lambda: DF.SimpleLoss(SCH)(deep.VAE(2, (4,), 1), X0), TypeError, "model"),
    ("diffusion.SimpleLoss", "a network of another T", lambda: DF.SimpleLoss(SCH)(DF.NoiseMLP(2, 20), X0),
     ValueError, "num_steps"),
    ("diffusion.DiffusionELBO", "variance unknown", lambda: DF.DiffusionELBO(SCH, "learned"), ValueError, "variance"),
    ("diffusion.DiffusionELBO", "x NaN", lambda: DF.DiffusionELBO(SCH)(DF.NoiseMLP(2, 10), X0 * NAN), ValueError,
     r"\bx\b"),
    ("diffusion.sample", "num 0", lambda: DF.sample(ZERO_EPS, SCH, 0, 2), ValueError, "num"),
    ("diffusion.sample", "eps_model None", lambda: DF.sample(None, SCH, 3, 2), TypeError, "eps_model"),
    ("diffusion.sample", "dtype a str", lambda: DF.sample(ZERO_EPS, SCH, 3, 2, dtype="float32"), TypeError, "dtype"),
    ("diffusion.dequantize", "levels 1", lambda: DF.dequantize(torch.zeros(2, 2), 1), ValueError, "levels"),
    ("diffusion.dequantize", "x not on the grid", lambda: DF.dequantize(torch.full((2, 2), 0.3), 2), ValueError,
     r"\bx\b"),
    ("diffusion.dequantize", "x a list", lambda: DF.dequantize([[0.0, 1.0]], 2), TypeError, r"\bx\b"),
    ("diffusion.dequantize", "generator int", lambda: DF.dequantize(torch.zeros(2, 2), 2, generator=1), TypeError,
     "generator"),
]  # fmt: skip
BAD += DIFFUSION_BAD
DIFFUSION_GOOD = [
    ("diffusion.gaussian_posterior_x0", "mean and std lists", lambda: DF.gaussian_posterior_x0(X0, T0, [0.0, 0.0],
     [1.0, 1.0], SCH)[0], lambda: DF.gaussian_posterior_x0(X0, T0, torch.zeros(2), torch.ones(2), SCH)[0]),
    ("diffusion.gaussian_bound", "a list and a float64 tensor", lambda: DF.gaussian_bound([0.5, 1.0], torch.tensor([1.0,
     2.0], dtype=torch.float64), SCH)[1], lambda: DF.gaussian_bound(torch.tensor([0.5, 1.0]), torch.tensor([1.0, 2.0]),
     SCH)[1]),
    ("diffusion.GaussianMixture", "log_prob at a float alpha_bar", lambda: GM.log_prob(X0, 0.5),
     lambda: GM.log_prob(X0, torch.tensor(0.5))),
]  # fmt: skip

#: unusual but meaningful input: the call must return a correct answer (the check compares with the usual input)
GOOD = [
    (
        "verdict",
        "a numpy float32 array",
        lambda: common.verdict(np.array([0.5, 1.5, 1.0], dtype=np.float32)).t,
        lambda: common.verdict(torch.tensor([0.5, 1.5, 1.0], dtype=torch.float64)).t,
    ),
    (
        "mean_and_se",
        "a list",
        lambda: common.mean_and_se([1.0, 2.0, 3.0])[1],
        lambda: common.mean_and_se(torch.tensor([1.0, 2.0, 3.0]))[1],
    ),  # fmt: skip
    (
        "available_datasets",
        "a directory without data",
        lambda: float("digits" in deep.available_datasets("/nonexistent")),
        lambda: 1.0,
    ),
    (
        "normal_positive_moments",
        "int tensors",
        lambda: common.normal_positive_moments(torch.tensor([1]), torch.tensor([2]))["log"],
        lambda: common.normal_positive_moments(torch.tensor([1.0]), torch.tensor([2.0]))["log"],
    ),
    (
        "elbo_estimate",
        "float16 parameters",
        lambda: estimators.elbo_estimate(GP, INSIDE_LOC.half(), INSIDE_SCALE.half(), 100, generator=gen()).double(),
        lambda: estimators.elbo_estimate(GP, INSIDE_LOC.float(), INSIDE_SCALE.float(), 100, generator=gen()).double(),
    ),
    (
        "elbo",
        "float64 images",
        lambda: deep.elbo(VAE, XV.double(), generator=gen()),
        lambda: deep.elbo(VAE, XV, generator=gen()),
    ),
    (
        "iwelbo",
        "a numpy array",
        lambda: deep.iwelbo(VAE, XV.numpy(), 3, generator=gen()),
        lambda: deep.iwelbo(VAE, XV, 3, generator=gen()),
    ),
    (
        "elbo_estimate",
        "lists",
        lambda: estimators.elbo_estimate(GP, [3.0, 3.0], [0.3, 0.3], 50, generator=gen()),
        lambda: estimators.elbo_estimate(GP, INSIDE_LOC, INSIDE_SCALE, 50, generator=gen()),
    ),
    (
        "cavi_normal_gamma",
        "a numpy array",
        lambda: vi.cavi_normal_gamma(X_NG.numpy(), PRIOR).mu_N,
        lambda: vi.cavi_normal_gamma(X_NG, PRIOR).mu_N,
    ),
]
GOOD += NATGRAD_GOOD + DIFFUSION_GOOD
#: the deep engine's values and the replica stacking
ENGINE_BAD = [
    ("ELBO", "num_samples 0", lambda: deep.ELBO(0), ValueError, "num_samples"),
    ("ELBO", "kl unknown", lambda: deep.ELBO(kl="mc"), ValueError, r"\bkl\b"),
    ("ELBO", "beta < 0", lambda: deep.ELBO(beta=-1.0), ValueError, "beta"),
    ("ELBO", "path gradient with analytic KL", lambda: deep.ELBO(gradient="path"), ValueError, "gradient"),
    ("ELBO", "called on a non-VAE", lambda: deep.ELBO()(torch.nn.Linear(2, 2), XV), TypeError, "model"),
    ("IWELBO", "num_samples missing", lambda: deep.IWELBO(), TypeError, "num_samples"),
    ("IWELBO", "gradient unknown", lambda: deep.IWELBO(3, "reinforce"), ValueError, "gradient"),
    ("IWELBO", "x with NaN", lambda: deep.IWELBO(3)(VAE, XV * float("nan")), ValueError, r"\bx\b"),
    ("Adam", "lr 0", lambda: deep.Adam(0.0), ValueError, r"\blr\b"),
    ("Adam", "betas out of range", lambda: deep.Adam(betas=(0.9, 1.5)), ValueError, "betas"),
    ("Adam", "lr_schedule a number", lambda: deep.Adam(lr_schedule=0.5), TypeError, "lr_schedule"),
    ("LinearBeta", "warm-up 0", lambda: deep.LinearBeta(0.0), ValueError, "warmup_epochs"),
    ("CyclicalBeta", "ratio 0", lambda: deep.CyclicalBeta(4.0, ratio=0.0), ValueError, "ratio"),
    ("StagedLR", "factor -1", lambda: deep.StagedLR(factor=-1.0), ValueError, "factor"),
    ("LinearDecayLR", "total_epochs 0", lambda: deep.LinearDecayLR(0.0), ValueError, "total_epochs"),
    ("stack", "empty list", lambda: deep.stack([]), ValueError, "at least one model"),
    ("stack", "mixed configurations", lambda: deep.stack([deep.VAE(4, (), 1), deep.VAE(4, (), 2)]), ValueError,
     "configuration"),
    ("unstack", "a single model", lambda: deep.unstack(deep.VAE(4, (), 1)), ValueError, "single"),
    ("ModelSpec", "unknown kind", lambda: deep.ModelSpec.of("GAN", 4), ValueError, "kind"),
    ("Run", "seeds a list", lambda: deep.Run(deep.ModelSpec.of("VAE", 4), deep.ELBO(), 1, [0]), ValueError, "seeds"),
    ("Run", "epochs 0", lambda: deep.Run(deep.ModelSpec.of("VAE", 4), deep.ELBO(), 0, (0,)), ValueError, "epochs"),
    ("run_key", "not a run", lambda: deep.run_key("vae", XV, None), TypeError, "run"),
    ("quantile_interval", "q = 1", lambda: common.quantile_interval(torch.arange(50.0), 1.0), ValueError, r"\bq\b"),
    ("quantile_interval", "values 2-D", lambda: common.quantile_interval(torch.zeros(5, 5), 0.5), ValueError, "values"),
    ("test_metrics", "loglik_samples 0", lambda: deep.test_metrics(VAE, XV, XV, loglik_samples=0), ValueError,
     "loglik_samples"),
    ("test_metrics", "x_ll with NaN", lambda: deep.test_metrics(VAE, XV, XV * float("nan"), loglik_samples=2),
     ValueError, "x_ll"),
    ("log_evidence_se", "chunk 0", lambda: deep.log_evidence_se(VAE, XV, 3, chunk=0), ValueError, "chunk"),
    ("log_evidence_se", "x a list", lambda: deep.log_evidence_se(VAE, XV.tolist(), 3), TypeError, r"\bx\b"),
    ("train_runs", "a value that is not a Run", lambda: deep.train_runs({"a": 3}, XV), TypeError, "runs"),
]  # fmt: skip
BAD += ENGINE_BAD


def _warned(call, name):
    """call() under warnings caught: it must warn with a message naming ``name``; returns its result."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    assert any(name in str(w.message) for w in caught), [str(w.message) for w in caught]
    return result


def _ones_grad(theta, generator):
    return -theta, torch.zeros(5, dtype=theta.dtype)


#: issue 28 item 7: inputs that gave a silent wrong answer or a bare Python error before
REPORTED_BAD = [
    ("fit_gamma", "a step too large to be stable (was finite garbage)", lambda: vi.fit_gamma(X_GAMMA, [0.5, 8.0], 10.0,
     50, method="gradient"), ValueError, "step_size"),
    ("fit_gamma", "on_ascent unknown", lambda: vi.fit_gamma(X_GAMMA, TH, 0.5, 3, on_ascent="warn"), ValueError,
     "on_ascent"),
    ("run_bbvi", "gradient returns one tensor (was run with garbage)", lambda: vi.run_bbvi(torch.zeros(4),
     lambda th, g: -th, 3, step_size=0.1, decay=0.6), TypeError, "gradient"),
    ("run_bbvi", "gradient returns g of the wrong shape", lambda: vi.run_bbvi(torch.zeros(4),
     lambda th, g: (torch.zeros(3), torch.zeros(5)), 3, step_size=0.1, decay=0.6), ValueError, "gradient"),
    ("run_bbvi", "gradient not callable (was 'str' object is not callable)", lambda: vi.run_bbvi(torch.zeros(4),
     "grad", 3, step_size=0.1, decay=0.6), TypeError, "gradient"),
    ("run_bbvi", "theta0 a str", lambda: vi.run_bbvi("0", _ones_grad, 3, step_size=0.1, decay=0.6), TypeError,
     "theta0"),
    ("z_scores", "negative se (was a flipped sign)", lambda: common.z_scores(torch.ones(1), -torch.ones(1),
     torch.zeros(1)), ValueError, r"\bse\b"),
    ("z_scores", "se NaN", lambda: common.z_scores(torch.ones(1), torch.tensor([NAN]), torch.zeros(1)), ValueError,
     r"\bse\b"),
    ("interval_table", "fewer names than quantities (was a dropped row)", lambda: common.interval_table(
     {"a": (torch.ones(3), torch.ones(3))}, torch.zeros(3), ["p", "q"]), ValueError, "names"),
    ("sample_q", "lambda_N 0 (was draws of +-inf)", lambda: vi.sample_q([0.0, 0.0, 1.0, 1.0], 5), ValueError,
     "lambda_N"),
    ("GammaPoisson", "log_joint of z (5, 3) (was a size mismatch)", lambda: GP.log_joint(torch.ones(5, 3)),
     ValueError, r"\bz\b"),
    ("GammaPoisson", "grad_log_joint of a list", lambda: GP.grad_log_joint([1.0, 2.0]), TypeError, r"\bz\b"),
    ("score_function_gradient", "the old keyword control_variate=", lambda: estimators.score_function_gradient(GP,
     INSIDE_LOC, INSIDE_SCALE, 10, control_variate="leave-one-out"), TypeError, "baseline="),
    ("repeated_estimates", "the old keyword control_variate=", lambda: estimators.repeated_estimates(
     "score_function", GP, INSIDE_LOC, INSIDE_SCALE, 10, 2, control_variate="leave-one-out"), TypeError, "baseline="),
    ("leave_one_out_baseline", "one draw (named the old keyword)", lambda: estimators.leave_one_out_baseline(
     torch.ones(3, 1)), ValueError, "baseline='separate'"),
    ("leave_one_out_baseline", "weights a list", lambda: estimators.leave_one_out_baseline([1.0, 2.0]), TypeError,
     "weights"),
    ("leave_one_out_baseline", "weights with a NaN", lambda: estimators.leave_one_out_baseline(
     torch.tensor([1.0, math.nan])), ValueError, "weights"),
    ("leave_one_out_baseline", "axis out of range", lambda: estimators.leave_one_out_baseline(torch.ones(2, 3), 2),
     ValueError, "axis"),
    ("same_draws_baseline", "weights with an inf", lambda: estimators.same_draws_baseline(
     torch.tensor([1.0, math.inf])), ValueError, "weights"),
    ("total_variance_terms", "draws a list", lambda: common.total_variance_terms([[1.0, 2.0], [3.0, 4.0]]),
     TypeError, "draws"),
    ("total_variance_terms", "draws with a NaN", lambda: common.total_variance_terms(torch.tensor(
     [[1.0, math.nan], [3.0, 4.0]])), ValueError, "draws"),
    ("total_variance_and_se", "one repetition", lambda: common.total_variance_and_se(torch.ones(1, 3)), ValueError,
     "draws"),
    ("total_variance_from_pairs", "second with an inf", lambda: common.total_variance_from_pairs(torch.ones(3, 2),
     torch.tensor([[1.0, math.inf]] * 3)), ValueError, "second"),
    ("ratio_and_se", "b = 0", lambda: common.ratio_and_se(1.0, 0.1, 0.0, 0.1), ValueError, r"\bb\b"),
    ("ratio_and_se", "a negative se_a", lambda: common.ratio_and_se(1.0, -0.1, 2.0, 0.1), ValueError, "se_a"),
    ("ratio_and_se", "a NaN a", lambda: common.ratio_and_se(math.nan, 0.1, 2.0, 0.1), ValueError, r"\ba\b"),
    ("paired_ratio_and_se", "a a list", lambda: common.paired_ratio_and_se([1.0, 2.0], torch.ones(2)), TypeError,
     r"\ba\b"),
    ("paired_ratio_and_se", "b with a NaN", lambda: common.paired_ratio_and_se(torch.ones(3), torch.tensor(
     [1.0, math.nan, 2.0])), ValueError, r"\bb\b"),
    ("gaussian_log_weights", "model a str", lambda: deep.gaussian_log_weights("cg", torch.zeros(2), torch.ones(2),
     torch.zeros(3, 2)), TypeError, "model"),
    ("gaussian_log_weights", "eps a list", lambda: deep.gaussian_log_weights(CG, torch.zeros(2), torch.ones(2),
     [[0.0, 0.0]]), TypeError, "eps"),
    ("gaussian_log_weights", "scale 0", lambda: deep.gaussian_log_weights(CG, torch.zeros(2), torch.zeros(2),
     torch.zeros(3, 2)), ValueError, "scale"),
    ("elbo_gradient_terms", "eps (S, 3) for D = 2", lambda: deep.elbo_gradient_terms(CG, torch.zeros(2),
     torch.ones(2), torch.zeros(3, 3)), ValueError, "eps"),
    ("elbo_gradient_terms", "path_derivative a str", lambda: deep.elbo_gradient_terms(CG, torch.zeros(2),
     torch.ones(2), torch.zeros(3, 2), path_derivative="yes"), TypeError, "path_derivative"),
    ("standard_normal_log_prob", "z a list", lambda: common.standard_normal_log_prob([0.0, 1.0]), TypeError,
     r"\bz\b"),
    ("standard_normal_log_prob", "z an int tensor", lambda: common.standard_normal_log_prob(torch.tensor([0, 1])),
     ValueError, r"\bz\b"),
    ("normal_log_prob_from_noise", "log_sigma_sum (S, 1) against eps (S, D)", lambda: (
     common.normal_log_prob_from_noise(torch.zeros(3, 2), torch.zeros(3, 1))), ValueError, "log_sigma_sum"),
    ("normal_log_prob_from_noise", "log_sigma_sum a float", lambda: common.normal_log_prob_from_noise(
     torch.zeros(3, 2), 0.0), TypeError, "log_sigma_sum"),
    ("normal_log_prob_log_var", "mean (2, 5) against x (3, 5)", lambda: common.normal_log_prob_log_var(
     torch.zeros(3, 5), torch.zeros(2, 5), 0.0), ValueError, "mean"),
    ("normal_log_prob_log_var", "log_var NaN", lambda: common.normal_log_prob_log_var(torch.zeros(3, 5),
     torch.zeros(3, 5), math.nan), ValueError, "log_var"),
    ("gamma_log_prob", "rate 0", lambda: common.gamma_log_prob(torch.ones(3), 2.0, 0.0), ValueError, "rate"),
    ("gamma_log_prob", "shape negative", lambda: common.gamma_log_prob(torch.ones(3), -1.0, 1.0), ValueError,
     "shape"),
    ("gamma_log_prob", "x a list", lambda: common.gamma_log_prob([1.0], 2.0, 1.0), TypeError, r"\bx\b"),
    ("separate_draws_baseline", "a 0-d tensor", lambda: estimators.separate_draws_baseline(torch.tensor(1.0)),
     ValueError, "independent_weights"),
    # found by tests/book/test_bad_input_battery.py (silent or unclear before)
    ("diffusion.GaussianMixture", "log_prob with alpha_bar 1.5 (was NaN)", lambda: GM.log_prob(torch.zeros(2, 2),
     1.5), ValueError, "alpha_bar"),
    ("diffusion.GaussianMixture", "posterior_mean with alpha_bar < 0", lambda: GM.posterior_mean(torch.zeros(2, 2),
     torch.tensor([-0.1, 0.5])), ValueError, "alpha_bar"),
    ("baseline_for", "the old keyword control_variate=", lambda: estimators.baseline_for(GP, INSIDE_LOC,
     INSIDE_SCALE, EPS, control_variate="same-draws"), TypeError, "baseline="),
    ("separate_noise", "the old keyword control_variate=", lambda: estimators.separate_noise(EPS, None,
     control_variate="separate"), TypeError, "baseline="),
    ("score_function_terms", "the old keyword control_variate=", lambda: estimators.score_function_terms(GP,
     INSIDE_LOC, INSIDE_SCALE, EPS, control_variate=0.0), TypeError, "baseline="),
    ("control_variate_coefficients", "the old keyword control_variate=", lambda: vi.control_variate_coefficients(
     SCORES, SCORES, control_variate="same-draws"), TypeError, "coefficient="),
    ("grouped_gradient", "the old keyword control_variate=", lambda: vi.grouped_gradient(HM, HM.init(), 5,
     control_variate="leave-one-out"), TypeError, "coefficient="),
    ("normal_gamma_gradient", "the old keyword control_variate=", lambda: vi.normal_gamma_gradient(DATA_NG, PRIOR,
     torch.zeros(4), 10, control_variate="leave-one-out"), TypeError, "coefficient="),
    ("elbo_terms", "loc (1,) against eps (S, 2) (was broadcast over the latents)", lambda: estimators.elbo_terms(GP,
     torch.ones(1), INSIDE_SCALE, EPS), ValueError, "loc"),
    ("elbo_terms", "scale < 0 (was NaN)", lambda: estimators.elbo_terms(GP, INSIDE_LOC, -INSIDE_SCALE, EPS),
     ValueError, "scale"),
    ("reparameterization_terms", "eps NaN", lambda: estimators.reparameterization_terms(GP, INSIDE_LOC,
     INSIDE_SCALE, EPS * NAN), ValueError, "eps"),
    ("score_function_terms", "model a str (was an AttributeError)", lambda: estimators.score_function_terms("gp",
     INSIDE_LOC, INSIDE_SCALE, EPS), TypeError, "model"),
    ("elbo_estimate", "model None (was an AttributeError)", lambda: estimators.elbo_estimate(None, INSIDE_LOC,
     INSIDE_SCALE, 10), TypeError, "model"),
    ("checked_quad", "abs_tol NaN (was accepted)", lambda: common.checked_quad(math.exp, 0.0, 1.0, abs_tol=NAN),
     ValueError, "abs_tol"),
    ("checked_quad", "b NaN (was accepted)", lambda: common.checked_quad(math.exp, 0.0, NAN, abs_tol=1e-8),
     ValueError, r"\bb\b"),
    ("run_bbvi", "generator a seed (was ignored)", lambda: vi.run_bbvi(torch.zeros(2), _ones_grad, 3,
     step_size=0.1, decay=0.6, generator=0), TypeError, "generator"),
    ("run_bbvi", "theta0 NaN", lambda: vi.run_bbvi(torch.tensor([NAN, 0.0]), _ones_grad, 3, step_size=0.1,
     decay=0.6), ValueError, "theta0"),
    ("grouped_gradient", "theta NaN (was a NaN gradient)", lambda: vi.grouped_gradient(HM, HM.init() * NAN, 5),
     ValueError, "theta"),
    ("interval_table", "reference with a NaN (was accepted)", lambda: common.interval_table({"a": (torch.ones(2),
     torch.ones(2))}, torch.tensor([NAN, 1.0]), ["p", "q"]), ValueError, "reference"),
    ("interval_table", "names a str (was read letter by letter)", lambda: common.interval_table({"a": (
     torch.ones(2), torch.ones(2))}, torch.zeros(2), "pq"), TypeError, "names"),
    ("z_scores", "se (P, 1) against (P,) (was a (P, P) table)", lambda: common.z_scores(torch.ones(3),
     torch.ones(3, 1), torch.zeros(3)), ValueError, "estimate, se and reference"),
    ("z_scores", "se inf (was a z-score of 0)", lambda: common.z_scores(torch.ones(1), torch.tensor([INF]),
     torch.zeros(1)), ValueError, r"\bse\b"),
    ("log_q", "mu (S, 1) against tau (S,) (was an (S, S) result)", lambda: vi.log_q(MU_NG[:, None], TAU_NG,
     OMEGA_NG), ValueError, "mu and tau"),
    ("normal_positive_moments", "loc (2, 1) against scale (2,) (was a (2, 2) result)", lambda: (
     common.normal_positive_moments(torch.ones(2, 1), torch.ones(2))), ValueError, "loc and scale"),
    ("HierarchicalModel", "a_v a str (was read as a number)", lambda: models.HierarchicalModel(torch.ones(2, 3),
     torch.ones(2, 3), a_v="2"), ValueError, "a_v"),
    ("HierarchicalModel", "exact_elbo of a NaN theta (was NaN)", lambda: HM.exact_elbo(HM.init() * NAN),
     ValueError, "theta"),
    ("ConjugateGaussian", "x a bool tensor (was read as 0 and 1)", lambda: models.ConjugateGaussian(torch.ones(1, 2)
     > 0), ValueError, r"\bx\b"),
    ("NormalGammaQ", "mu_N a str (was 'params must be a tensor')", lambda: vi.NormalGammaQ("0", 1.0, 1.0, 1.0),
     TypeError, "mu_N"),
    ("bbvi_normal_gamma", "init a str names init", lambda: vi.bbvi_normal_gamma(X_NG, PRIOR, 3, init="prior"),
     TypeError, "init"),
    ("leave_one_out_baseline", "one draw names weights", lambda: estimators.leave_one_out_baseline(torch.ones(3,
     1)), ValueError, "weights"),
    ("normal_log_prob", "z a list (was a raw TypeError)", lambda: common.normal_log_prob([0.0], 0.0, 1.0),
     TypeError, r"\bz\b"),
    ("normal_log_prob", "sigma a str (was a raw TypeError)", lambda: common.normal_log_prob(torch.zeros(2), 0.0,
     "1"), TypeError, "sigma"),
    ("bernoulli_log_prob", "logits a list", lambda: common.bernoulli_log_prob(torch.zeros(2), [0.0, 0.0]),
     TypeError, "logits"),
    ("separate_noise", "eps a list", lambda: estimators.separate_noise("separate", [[0.0]], None), TypeError, "eps"),
]  # fmt: skip
BAD += REPORTED_BAD


OMEGA_NG = torch.tensor([0.5, 2.0, 3.0, 1.5], dtype=torch.float64)  # omega = (mu_N, lambda_N, a_N, b_N)
MU_NG, TAU_NG = torch.tensor([0.1, 0.4, -0.2]), torch.tensor([1.0, 2.0, 0.5])  # three draws (S,)
DATA_NG = vi.NormalGammaData.from_x(X_NG)
SCORES = torch.randn(6, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)  # (S, D)

#: issue 28 item 1: the functions that were documented as unvalidated building blocks now check their arguments
BLOCKS_BAD = [
    ("log_q", "tau <= 0 (was NaN)", lambda: vi.log_q(MU_NG, -TAU_NG, OMEGA_NG), ValueError, r"\btau\b"),
    ("log_q", "params of 3 entries", lambda: vi.log_q(MU_NG, TAU_NG, OMEGA_NG[:3]), ValueError, "params"),
    ("log_q", "lambda_N 0", lambda: vi.log_q(MU_NG, TAU_NG, torch.tensor([0.0, 0.0, 1.0, 1.0])), ValueError,
     "lambda_N"),
    ("log_q_parts", "mu a str", lambda: vi.log_q_parts("0", TAU_NG, OMEGA_NG), TypeError, r"\bmu\b"),
    ("log_q_parts", "mu (2,) against tau (3,)", lambda: vi.log_q_parts(MU_NG[:2], TAU_NG, OMEGA_NG), ValueError,
     "mu and tau"),
    ("q_score", "b_N < 0", lambda: vi.q_score(MU_NG, TAU_NG, torch.tensor([0.0, 1.0, 1.0, -1.0])), ValueError,
     "b_N"),
    ("q_score", "sigma_N 0 in the sd parameterization", lambda: vi.q_score(MU_NG, TAU_NG, torch.tensor(
     [0.0, 0.0, 1.0, 1.0]), "sd"), ValueError, "sigma_N"),
    ("q_score", "parameterization unknown", lambda: vi.q_score(MU_NG, TAU_NG, OMEGA_NG, "variance"), ValueError,
     "parameterization"),
    ("unconstrained_q_score", "mu NaN", lambda: vi.unconstrained_q_score(torch.tensor([NAN]), TAU_NG[:1],
     OMEGA_NG), ValueError, r"\bmu\b"),
    ("to_unconstrained", "a_N < 0 (was NaN)", lambda: vi.to_unconstrained(torch.tensor([0.0, 1.0, -1.0, 1.0])),
     ValueError, "a_N"),
    ("to_unconstrained", "params a str", lambda: vi.to_unconstrained("omega"), TypeError, "params"),
    ("from_unconstrained", "theta of 3 entries", lambda: vi.from_unconstrained(torch.zeros(3)), ValueError, "theta"),
    ("from_unconstrained", "theta NaN", lambda: vi.from_unconstrained(torch.tensor([0.0, NAN, 0.0, 0.0])),
     ValueError, "theta"),
    ("log_joint_factors", "data a tensor", lambda: vi.log_joint_factors(X_NG, PRIOR, MU_NG, TAU_NG), TypeError,
     "data"),
    ("log_joint_factors", "tau 0", lambda: vi.log_joint_factors(DATA_NG, PRIOR, MU_NG, torch.zeros(3)), ValueError,
     r"\btau\b"),
    ("log_joint_factors", "prior a tuple", lambda: vi.log_joint_factors(DATA_NG, (0, 1, 1, 1), MU_NG, TAU_NG),
     TypeError, "prior"),
    ("normal_gamma_gradient", "theta of 3 entries", lambda: vi.normal_gamma_gradient(DATA_NG, PRIOR, torch.zeros(3),
     10), ValueError, "theta"),
    ("normal_gamma_gradient", "num_samples 2 with the leave-one-out coefficient", lambda: vi.normal_gamma_gradient(
     DATA_NG, PRIOR, torch.zeros(4), 2), ValueError, "num_samples"),
    ("normal_gamma_gradient", "coefficient unknown", lambda: vi.normal_gamma_gradient(DATA_NG, PRIOR, torch.zeros(4),
     10, coefficient="loo"), ValueError, "coefficient"),
    ("normal_gamma_gradient", "generator a seed", lambda: vi.normal_gamma_gradient(DATA_NG, PRIOR, torch.zeros(4),
     10, generator=0), TypeError, "generator"),
    ("bbvi_terms", "weights (5,) for S = 6 draws", lambda: vi.bbvi_terms(SCORES, torch.zeros(5)), ValueError,
     "weights"),
    ("bbvi_terms", "scores a list", lambda: vi.bbvi_terms(SCORES.tolist(), torch.zeros(6)), TypeError, "scores"),
    ("bbvi_terms", "coefficient unknown", lambda: vi.bbvi_terms(SCORES, torch.zeros(6), "loo"), ValueError,
     "coefficient"),
    ("bbvi_terms", "weights NaN", lambda: vi.bbvi_terms(SCORES, torch.full((6,), NAN)), ValueError, "weights"),
    ("control_variate_coefficients", "scores of another shape", lambda: vi.control_variate_coefficients(SCORES,
     SCORES[:, :3]), ValueError, "scores"),
    ("control_variate_coefficients", "two draws for leave-one-out", lambda: vi.control_variate_coefficients(
     SCORES[:2], SCORES[:2]), ValueError, "num_samples"),
    ("control_variate_coefficients", "terms 1-D", lambda: vi.control_variate_coefficients(SCORES[:, 0],
     SCORES[:, 0]), ValueError, "terms"),
    ("rao_blackwellized_weights", "blanket (3, 2) for G = 2, F = 3", lambda: vi.rao_blackwellized_weights(
     torch.zeros(4, 3), torch.zeros(4, 2), vi.NORMAL_GAMMA_BLANKET.T), ValueError, "blanket"),
    ("rao_blackwellized_weights", "blanket not bool", lambda: vi.rao_blackwellized_weights(torch.zeros(4, 3),
     torch.zeros(4, 2), vi.NORMAL_GAMMA_BLANKET.double()), ValueError, "blanket"),
    ("rao_blackwellized_weights", "log_q_groups with another number of draws", lambda: vi.rao_blackwellized_weights(
     torch.zeros(4, 3), torch.zeros(5, 2), vi.NORMAL_GAMMA_BLANKET), ValueError, "log_q_groups"),
    ("step_sizes", "grad_sq_sum < 0", lambda: vi.step_sizes(-torch.ones(2), 1, 0.1, 0.6), ValueError, "grad_sq_sum"),
    ("step_sizes", "t 0", lambda: vi.step_sizes(torch.ones(2), 0, 0.1, 0.6), ValueError, r"\bt\b"),
    ("step_sizes", "step_size 0", lambda: vi.step_sizes(torch.ones(2), 1, 0.0, 0.6), ValueError, "step_size"),
    ("standard_normal_kl", "sigma 0", lambda: deep.standard_normal_kl(torch.zeros(2, 3), torch.zeros(2, 3)),
     ValueError, "sigma"),
    ("standard_normal_kl", "mu a list", lambda: deep.standard_normal_kl([0.0], torch.ones(1)), TypeError, r"\bmu\b"),
    ("standard_normal_kl", "shapes (2, 3) and (2, 2)", lambda: deep.standard_normal_kl(torch.zeros(2, 3),
     torch.ones(2, 2)), ValueError, "mu and sigma"),
]  # fmt: skip
BAD += BLOCKS_BAD
GOOD += [
    ("mean_and_se", "values with a NaN warn (RuntimeWarning naming values) and give NaN", lambda: torch.isnan(
     _warned(lambda: common.mean_and_se(torch.tensor([1.0, NAN, 2.0]))[0], "values")).double(), lambda: 1.0),
    ("gamma_log_prob", "x = +inf is -inf (was NaN)", lambda: common.gamma_log_prob(torch.tensor([INF]), 2.0, 1.0),
     lambda: torch.tensor([-INF])),
    ("run_bbvi", "a list theta0", lambda: vi.run_bbvi([0.0, 0.0], _ones_grad, 3, step_size=0.1, decay=0.6).theta,
     lambda: vi.run_bbvi(torch.zeros(2), _ones_grad, 3, step_size=0.1, decay=0.6).theta),
    ("mean_and_se", "an int tensor (was a RuntimeError)", lambda: common.mean_and_se(torch.tensor([1, 2, 4]))[1],
     lambda: common.mean_and_se(torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64))[1]),
    ("LogNormal", "log_prob outside the support is -inf (was NaN)", lambda: common.LogNormal.log_prob(
     torch.tensor([[-1.0, 1.0], [1.0, 0.0]]), torch.zeros(2), torch.ones(2)), lambda: torch.full((2,), -math.inf)),
]  # fmt: skip

#: results and records the package builds and returns; a user reads them, never builds them from raw input
RECORDS = {"BBVIFit", "BBVITrace", "CAVIFit", "NormalGammaData", "RepeatedEstimates", "History", "Setup", "Scale",
           "LatentModel", "DatasetNotAvailableError", "SupportWarning", "Normal", "LogNormal", "GaussHermiteMoments",
           "GammaFit", "GammaStats", "QFit", "VITrace", "Verdict", "Objective", "Result"}  # fmt: skip


def _ids(table):
    return [f"{name}: {what}" for name, what, *_ in table]


@pytest.mark.parametrize("name, what, call, error, argument", BAD, ids=_ids(BAD))
def test_bad_input_raises_a_clear_error_naming_the_argument(name, what, call, error, argument):
    assert_clear_error(call, error, argument)


@pytest.mark.parametrize("name, what, call, usual", GOOD, ids=_ids(GOOD))
def test_unusual_but_meaningful_input_gives_the_usual_answer(name, what, call, usual):
    assert_usual_answer(call, usual, rtol=1e-3 if "float16" in what else 1e-6, atol=1e-3)


def _public_callables() -> set[str]:
    names = {
        n for n in helpers.__all__ if callable(getattr(helpers, n)) and not isinstance(getattr(helpers, n), type(np))
    }
    for part in (common, models, vi, estimators, deep):
        names |= {n for n in part.__all__ if callable(getattr(part, n))}
    return names


def test_every_public_function_rejects_a_bad_argument():
    rejects = {name for name, *_ in BAD} | DISCRETE_PROBED
    aliases = {"log_likelihood"}  # helpers.log_likelihood is deep.log_evidence, probed under that name
    missing = _public_callables() - rejects - RECORDS - aliases
    assert not missing, f"public functions without a bad-input probe that they reject: {sorted(missing)}"


def _diffusion_public_names() -> set[str]:
    """The public functions and classes of the package helpers.deep.diffusion (exported only as the package)."""
    module = deep.diffusion
    return {
        f"diffusion.{n}"
        for n in module.__all__
        if inspect.isfunction(getattr(module, n)) or inspect.isclass(getattr(module, n))
    }


def test_every_public_diffusion_name_rejects_a_bad_argument():
    probed = {name for name, *_ in BAD}
    assert len(_diffusion_public_names()) > 20  # the filter finds the module's own names
    missing = _diffusion_public_names() - probed
    assert not missing, f"deep.diffusion names without a bad-input probe: {sorted(missing)}"
