"""The discrete-latents part of the public API (``helpers.deep.discrete``, ``bernoulli_vae``, ``discrete_objectives``
and ``relaxations``) driven
with bad input, as a careful user would break it; the same table format as ``test_public_api.py``, whose
``test_every_public_name_is_probed`` also counts the names probed here.

Each BAD call must raise the right exception (TypeError for a wrong type, ValueError for a right type out of range)
with a message naming the argument; each GOOD call (unusual but meaningful input: numpy arrays, integer tensors,
float64 images, a -inf log-probability) must give the usual answer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _shared import assert_clear_error, assert_usual_answer

from helpers import deep

NAN, INF = math.nan, math.inf
torch.manual_seed(0)
DVAE = deep.BernoulliVAE(4, 3, (5,), baseline_hidden=2)  # P = 4 pixels, n = 3 bits, B = 3 images below
GVAE = deep.VAE(4, (3,), 2)  # a Gaussian-latent VAE: the wrong model for discrete_elbo
XB = (torch.rand(3, 4, generator=torch.Generator().manual_seed(0)) > 0.5).float()  # (B, P) binary images
LOGITS = torch.randn(3, 3, generator=torch.Generator().manual_seed(1))  # (B, n)
A = torch.tensor([1.2, -0.4, 0.3])  # (K,) log-probabilities


def gen():
    return torch.Generator().manual_seed(0)


def f(z):  # z (S, B, n) -> (S, B)
    return (z * torch.arange(1.0, 4.0)).sum(-1) ** 2


def _no_grad(objective, model, x):
    with torch.no_grad():
        return objective(model, x, generator=gen())


def unsummed(z):  # a typical slip: f forgets the sum over the bits, (S, B, n) -> (S, B, n)
    return z * 2.0


def f_wrong_batch(z):  # one value per draw only, (S, B, n) -> (S,): it would broadcast wrongly against (S, B)
    return z.sum((-2, -1))


def with_nan(value, index=0):
    t = LOGITS.clone()
    t.view(-1)[index] = value
    return t


#: (public name, what is wrong, the call, the exception type, a regex the message must contain: the argument's name)
BAD = [
    # ------------------------------------------------------------------------------------------ binary_states
    ("binary_states", "n 0", lambda: deep.binary_states(0), ValueError, r"\bn\b"),
    ("binary_states", "n 1.5", lambda: deep.binary_states(1.5), ValueError, r"\bn\b"),
    ("binary_states", "n a str", lambda: deep.binary_states("3"), (TypeError, ValueError), r"\bn\b"),
    ("binary_states", "n 17 (2^17 states)", lambda: deep.binary_states(17), ValueError, r"\bn\b"),
    ("binary_states", "dtype a str", lambda: deep.binary_states(3, dtype="float32"), TypeError, "dtype"),
    ("binary_states", "device unknown", lambda: deep.binary_states(3, device="gpu"), ValueError, "device"),
    # ------------------------------------------------------------------------------------------ bernoulli_kl
    ("bernoulli_kl", "logits_q a list", lambda: deep.bernoulli_kl([0.1, 0.2]), TypeError, "logits_q"),
    ("bernoulli_kl", "logits_q NaN", lambda: deep.bernoulli_kl(with_nan(NAN)), ValueError, "logits_q"),
    ("bernoulli_kl", "logits_q inf", lambda: deep.bernoulli_kl(with_nan(INF)), ValueError, "logits_q"),
    ("bernoulli_kl", "logits_q 0-dim", lambda: deep.bernoulli_kl(torch.tensor(0.3)), ValueError, "logits_q"),
    ("bernoulli_kl", "logits_q empty", lambda: deep.bernoulli_kl(torch.zeros(3, 0)), ValueError, "logits_q"),
    ("bernoulli_kl", "logits_q bool", lambda: deep.bernoulli_kl(LOGITS > 0), ValueError, "logits_q"),
    ("bernoulli_kl", "logits_p NaN", lambda: deep.bernoulli_kl(LOGITS, NAN), ValueError, "logits_p"),
    ("bernoulli_kl", "logits_p -inf", lambda: deep.bernoulli_kl(LOGITS, -INF), ValueError, "logits_p"),
    ("bernoulli_kl", "logits_p a str", lambda: deep.bernoulli_kl(LOGITS, "uniform"), TypeError, "logits_p"),
    ("bernoulli_kl", "logits_p True", lambda: deep.bernoulli_kl(LOGITS, True), TypeError, "logits_p"),
    (
        "bernoulli_kl",
        "logits_p inf entry",
        lambda: deep.bernoulli_kl(LOGITS, torch.tensor([0.0, INF, 0.0])),
        ValueError,
        "logits_p",
    ),
    (
        "bernoulli_kl",
        "shapes (3, 3) and (2,)",
        lambda: deep.bernoulli_kl(LOGITS, torch.zeros(2)),
        ValueError,
        "logits_q and logits_p",
    ),
    # ------------------------------------------------------------------------------------------ exact_*
    ("exact_expectation", "f a str", lambda: deep.exact_expectation("f", LOGITS), TypeError, r"\bf\b"),
    ("exact_expectation", "f not summed", lambda: deep.exact_expectation(unsummed, LOGITS), ValueError, r"\bf\b"),
    (
        "exact_expectation",
        "f one value per draw",
        lambda: deep.exact_expectation(f_wrong_batch, LOGITS),
        ValueError,
        r"\bf\b",
    ),
    (
        "exact_expectation",
        "f returns a float",
        lambda: deep.exact_expectation(lambda z: 1.0, LOGITS),
        TypeError,
        r"\bf\b",
    ),
    ("exact_expectation", "logits NaN", lambda: deep.exact_expectation(f, with_nan(NAN)), ValueError, "logits"),
    ("exact_expectation", "logits inf", lambda: deep.exact_expectation(f, with_nan(-INF)), ValueError, "logits"),
    ("exact_expectation", "logits a list", lambda: deep.exact_expectation(f, [0.1, 0.2]), TypeError, "logits"),
    ("exact_expectation", "logits 0-dim", lambda: deep.exact_expectation(f, torch.tensor(0.1)), ValueError, "logits"),
    (
        "exact_expectation",
        "logits of 17 bits",
        lambda: deep.exact_expectation(lambda z: z.sum(-1), torch.zeros(17)),
        ValueError,
        "logits",
    ),
    ("exact_gradient", "f None", lambda: deep.exact_gradient(None, LOGITS), TypeError, r"\bf\b"),
    ("exact_gradient", "f not summed", lambda: deep.exact_gradient(unsummed, LOGITS), ValueError, r"\bf\b"),
    ("exact_gradient", "logits NaN", lambda: deep.exact_gradient(f, with_nan(NAN)), ValueError, "logits"),
    ("exact_gradient", "logits empty", lambda: deep.exact_gradient(f, torch.zeros(3, 0)), ValueError, "logits"),
    (
        "exact_gradient",
        "logits of 20 bits",
        lambda: deep.exact_gradient(lambda z: z.sum(-1), torch.zeros(20)),
        ValueError,
        "logits",
    ),
    # ------------------------------------------------------------------------------------------ sample_bernoulli
    ("sample_bernoulli", "num_samples 0", lambda: deep.sample_bernoulli(LOGITS, 0), ValueError, "num_samples"),
    ("sample_bernoulli", "num_samples 2.5", lambda: deep.sample_bernoulli(LOGITS, 2.5), ValueError, "num_samples"),
    ("sample_bernoulli", "logits NaN", lambda: deep.sample_bernoulli(with_nan(NAN), 2), ValueError, "logits"),
    ("sample_bernoulli", "logits a list", lambda: deep.sample_bernoulli([0.0, 1.0], 2), TypeError, "logits"),
    ("sample_bernoulli", "logits bool", lambda: deep.sample_bernoulli(LOGITS > 0, 2), ValueError, "logits"),
    (
        "sample_bernoulli",
        "generator a str",
        lambda: deep.sample_bernoulli(LOGITS, 2, generator="g"),
        TypeError,
        "generator",
    ),
    # ------------------------------------------------------------------------------------------ score function
    (
        "bernoulli_score_function_gradient",
        "num_samples 0",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 0),
        ValueError,
        "num_samples",
    ),
    (
        "bernoulli_score_function_gradient",
        "f a str",
        lambda: deep.bernoulli_score_function_gradient("f", LOGITS, 2),
        TypeError,
        r"\bf\b",
    ),
    (
        "bernoulli_score_function_gradient",
        "f not summed",
        lambda: deep.bernoulli_score_function_gradient(unsummed, LOGITS, 2),
        ValueError,
        r"\bf\b",
    ),
    (
        "bernoulli_score_function_gradient",
        "logits NaN",
        lambda: deep.bernoulli_score_function_gradient(f, with_nan(NAN), 2),
        ValueError,
        "logits",
    ),
    (
        "bernoulli_score_function_gradient",
        "baseline unknown str",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 2, baseline="loo"),
        ValueError,
        "baseline",
    ),
    (
        "bernoulli_score_function_gradient",
        "baseline NaN",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 2, baseline=NAN),
        ValueError,
        "baseline",
    ),
    (
        "bernoulli_score_function_gradient",
        "baseline inf tensor",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 2, baseline=torch.full((3,), INF)),
        ValueError,
        "baseline",
    ),
    (
        "bernoulli_score_function_gradient",
        "baseline (3, 1) for batch (3,)",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 2, baseline=torch.zeros(3, 1)),
        ValueError,
        "baseline",
    ),
    (
        "bernoulli_score_function_gradient",
        "baseline a dict",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 2, baseline={"b": 0.0}),
        TypeError,
        "baseline",
    ),
    (
        "bernoulli_score_function_gradient",
        "baseline True",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 2, baseline=True),
        TypeError,
        "baseline",
    ),
    (
        "bernoulli_score_function_gradient",
        "leave-one-out with one draw",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 1, baseline="leave-one-out"),
        ValueError,
        "num_samples",
    ),
    (
        "bernoulli_score_function_gradient",
        "generator an int",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 2, generator=3),
        TypeError,
        "generator",
    ),
    # ------------------------------------------------------------------------------------------ ARM, DisARM
    ("arm_gradient", "num_samples 0", lambda: deep.arm_gradient(f, LOGITS, 0), ValueError, "num_samples"),
    ("arm_gradient", "f an int", lambda: deep.arm_gradient(3, LOGITS, 2), TypeError, r"\bf\b"),
    ("arm_gradient", "f not summed", lambda: deep.arm_gradient(unsummed, LOGITS, 2), ValueError, r"\bf\b"),
    (
        "arm_gradient",
        "f one value per draw",
        lambda: deep.arm_gradient(f_wrong_batch, LOGITS, 2),
        ValueError,
        r"\bf\b",
    ),
    ("arm_gradient", "logits inf", lambda: deep.arm_gradient(f, with_nan(INF), 2), ValueError, "logits"),
    ("arm_gradient", "logits NaN", lambda: deep.arm_gradient(f, with_nan(NAN), 2), ValueError, "logits"),
    ("arm_gradient", "logits numpy bool", lambda: deep.arm_gradient(f, np.ones((3, 3), bool), 2), ValueError, "logits"),
    ("arm_gradient", "generator a str", lambda: deep.arm_gradient(f, LOGITS, 2, generator="g"), TypeError, "generator"),
    ("disarm_gradient", "num_samples -1", lambda: deep.disarm_gradient(f, LOGITS, -1), ValueError, "num_samples"),
    ("disarm_gradient", "f a str", lambda: deep.disarm_gradient("f", LOGITS, 2), TypeError, r"\bf\b"),
    ("disarm_gradient", "f not summed", lambda: deep.disarm_gradient(unsummed, LOGITS, 2), ValueError, r"\bf\b"),
    ("disarm_gradient", "logits NaN", lambda: deep.disarm_gradient(f, with_nan(NAN), 2), ValueError, "logits"),
    ("disarm_gradient", "logits a list", lambda: deep.disarm_gradient(f, [[0.0, 1.0]], 2), TypeError, "logits"),
    (
        "disarm_gradient",
        "generator an int",
        lambda: deep.disarm_gradient(f, LOGITS, 1, generator=1),
        TypeError,
        "generator",
    ),
    # ------------------------------------------------------------------------------------------ expectation_surrogate
    (
        "expectation_surrogate",
        "estimator unknown",
        lambda: deep.expectation_surrogate(f, LOGITS, "rebar"),
        ValueError,
        "estimator",
    ),
    (
        "expectation_surrogate",
        "f a str",
        lambda: deep.expectation_surrogate("f", LOGITS, "disarm"),
        TypeError,
        r"\bf\b",
    ),
    (
        "expectation_surrogate",
        "f not summed",
        lambda: deep.expectation_surrogate(unsummed, LOGITS, "reinforce", 2),
        ValueError,
        r"\bf\b",
    ),
    (
        "expectation_surrogate",
        "f one value per draw (gumbel)",
        lambda: deep.expectation_surrogate(f_wrong_batch, LOGITS, "gumbel", 2),
        ValueError,
        r"\bf\b",
    ),
    (
        "expectation_surrogate",
        "num_samples 0",
        lambda: deep.expectation_surrogate(f, LOGITS, "reinforce", 0),
        ValueError,
        "num_samples",
    ),
    (
        "expectation_surrogate",
        "leave-one-out with one draw",
        lambda: deep.expectation_surrogate(f, LOGITS, "leave-one-out", 1),
        ValueError,
        "num_samples",
    ),
    (
        "expectation_surrogate",
        "logits NaN",
        lambda: deep.expectation_surrogate(f, with_nan(NAN), "disarm"),
        ValueError,
        "logits",
    ),
    (
        "expectation_surrogate",
        "logits inf (exact)",
        lambda: deep.expectation_surrogate(f, with_nan(INF), "exact"),
        ValueError,
        "logits",
    ),
    (
        "expectation_surrogate",
        "logits a list",
        lambda: deep.expectation_surrogate(f, [[0.0, 1.0, 2.0]], "reinforce"),
        TypeError,
        "logits",
    ),
    (
        "expectation_surrogate",
        "exact with 17 bits",
        lambda: deep.expectation_surrogate(lambda z: z.sum(-1), torch.zeros(17), "exact"),
        ValueError,
        "logits",
    ),
    (
        "expectation_surrogate",
        "temperature 0",
        lambda: deep.expectation_surrogate(f, LOGITS, "gumbel", temperature=0.0),
        ValueError,
        "temperature",
    ),
    (
        "expectation_surrogate",
        "temperature NaN (arm)",
        lambda: deep.expectation_surrogate(f, LOGITS, "arm", temperature=NAN),
        ValueError,
        "temperature",
    ),
    (
        "expectation_surrogate",
        "baseline with reinforce (ignored)",
        lambda: deep.expectation_surrogate(f, LOGITS, "reinforce", 2, baseline=torch.zeros(3)),
        ValueError,
        "baseline",
    ),
    (
        "expectation_surrogate",
        "nvil without baseline",
        lambda: deep.expectation_surrogate(f, LOGITS, "nvil", 2),
        ValueError,
        "baseline",
    ),
    (
        "expectation_surrogate",
        "nvil baseline (3, 1)",
        lambda: deep.expectation_surrogate(f, LOGITS, "nvil", 2, baseline=torch.zeros(3, 1)),
        ValueError,
        "baseline",
    ),
    (
        "expectation_surrogate",
        "nvil baseline a list",
        lambda: deep.expectation_surrogate(f, LOGITS, "nvil", 2, baseline=[0.0, 0.0, 0.0]),
        TypeError,
        "baseline",
    ),
    (
        "expectation_surrogate",
        "nvil baseline NaN",
        lambda: deep.expectation_surrogate(f, LOGITS, "nvil", 2, baseline=torch.full((3,), NAN)),
        ValueError,
        "baseline",
    ),
    (
        "expectation_surrogate",
        "center 'yes'",
        lambda: deep.expectation_surrogate(f, LOGITS, "nvil", 2, baseline=torch.zeros(3), center="yes"),
        TypeError,
        "center",
    ),
    (
        "expectation_surrogate",
        "center with one data point",
        lambda: deep.expectation_surrogate(f, LOGITS[:1], "nvil", 2, baseline=torch.zeros(1), center=True),
        ValueError,
        "center",
    ),
    (
        "expectation_surrogate",
        "center with no batch axis",
        lambda: deep.expectation_surrogate(f, LOGITS[0], "nvil", 2, baseline=torch.zeros(()), center=True),
        ValueError,
        "center",
    ),
    (
        "expectation_surrogate",
        "generator a str (exact)",
        lambda: deep.expectation_surrogate(f, LOGITS, "exact", generator="g"),
        TypeError,
        "generator",
    ),
    # ------------------------------------------------------------------------------------------ BernoulliVAE
    ("BernoulliVAE", "input_dim 0", lambda: deep.BernoulliVAE(0, 3), ValueError, "input_dim"),
    ("BernoulliVAE", "latent_dim -1", lambda: deep.BernoulliVAE(4, -1), ValueError, "latent_dim"),
    ("BernoulliVAE", "latent_dim 2.5", lambda: deep.BernoulliVAE(4, 2.5), ValueError, "latent_dim"),
    ("BernoulliVAE", "hidden_dims an int", lambda: deep.BernoulliVAE(4, 3, 200), TypeError, "hidden_dims"),
    ("BernoulliVAE", "hidden_dims a str", lambda: deep.BernoulliVAE(4, 3, "200"), TypeError, "hidden_dims"),
    ("BernoulliVAE", "hidden_dims entry 0", lambda: deep.BernoulliVAE(4, 3, (0,)), ValueError, "hidden_dims"),
    (
        "BernoulliVAE",
        "activation unknown",
        lambda: deep.BernoulliVAE(4, 3, activation="sigmoid"),
        ValueError,
        "activation",
    ),
    (
        "BernoulliVAE",
        "learned_prior 'no'",
        lambda: deep.BernoulliVAE(4, 3, learned_prior="no"),
        TypeError,
        "learned_prior",
    ),
    (
        "BernoulliVAE",
        "baseline_hidden -1",
        lambda: deep.BernoulliVAE(4, 3, baseline_hidden=-1),
        ValueError,
        "baseline_hidden",
    ),
    (
        "BernoulliVAE",
        "baseline_hidden 1.5",
        lambda: deep.BernoulliVAE(4, 3, baseline_hidden=1.5),
        ValueError,
        "baseline_hidden",
    ),
    # ------------------------------------------------------------------------------------------ discrete_elbo, iwelbo
    ("discrete_elbo", "model a Gaussian VAE", lambda: deep.discrete_elbo(GVAE, XB), TypeError, "model"),
    ("discrete_elbo", "model a str", lambda: deep.discrete_elbo("vae", XB), TypeError, "model"),
    ("discrete_elbo", "x of width 3", lambda: deep.discrete_elbo(DVAE, XB[:, :3]), ValueError, r"\bx\b"),
    ("discrete_elbo", "x one image (P,)", lambda: deep.discrete_elbo(DVAE, XB[0]), ValueError, r"\bx\b"),
    ("discrete_elbo", "x outside [0, 1]", lambda: deep.discrete_elbo(DVAE, XB * 255), ValueError, r"\bx\b"),
    ("discrete_elbo", "x NaN", lambda: deep.discrete_elbo(DVAE, XB * NAN), ValueError, r"\bx\b"),
    ("discrete_elbo", "x empty", lambda: deep.discrete_elbo(DVAE, XB[:0]), ValueError, r"\bx\b"),
    ("discrete_elbo", "x int", lambda: deep.discrete_elbo(DVAE, XB.long()), ValueError, r"\bx\b"),
    ("discrete_elbo", "x a list", lambda: deep.discrete_elbo(DVAE, XB.tolist()), TypeError, r"\bx\b"),
    (
        "discrete_elbo",
        "estimator unknown",
        lambda: deep.discrete_elbo(DVAE, XB, estimator="rebar"),
        ValueError,
        "estimator",
    ),
    (
        "discrete_elbo",
        "nvil without a baseline network",
        lambda: deep.discrete_elbo(deep.BernoulliVAE(4, 3), XB, 2, estimator="nvil"),
        ValueError,
        "estimator",
    ),
    ("discrete_elbo", "num_samples 0", lambda: deep.discrete_elbo(DVAE, XB, 0), ValueError, "num_samples"),
    (
        "discrete_elbo",
        "temperature < 0",
        lambda: deep.discrete_elbo(DVAE, XB, estimator="gumbel", temperature=-1.0),
        ValueError,
        "temperature",
    ),
    ("discrete_elbo", "generator an int", lambda: deep.discrete_elbo(DVAE, XB, generator=3), TypeError, "generator"),
    ("discrete_iwelbo", "num_samples 0", lambda: deep.discrete_iwelbo(DVAE, XB, 0), ValueError, "num_samples"),
    ("discrete_iwelbo", "x NaN", lambda: deep.discrete_iwelbo(DVAE, XB * NAN, 2), ValueError, r"\bx\b"),
    ("discrete_iwelbo", "x of width 5", lambda: deep.discrete_iwelbo(DVAE, torch.zeros(3, 5), 2), ValueError, r"\bx\b"),
    ("discrete_iwelbo", "model a Gaussian VAE", lambda: deep.discrete_iwelbo(GVAE, XB, 2), TypeError, "model"),
    (
        "discrete_iwelbo",
        "generator a str",
        lambda: deep.discrete_iwelbo(DVAE, XB, 2, generator="g"),
        TypeError,
        "generator",
    ),
    # ------------------------------------------------------------------------------------------ the objective values
    ("DiscreteELBO", "estimator unknown", lambda: deep.DiscreteELBO("rebar"), ValueError, "estimator"),
    ("DiscreteELBO", "estimator missing", lambda: deep.DiscreteELBO(), TypeError, "estimator"),
    ("DiscreteELBO", "num_samples 0", lambda: deep.DiscreteELBO("arm", 0), ValueError, "num_samples"),
    ("DiscreteELBO", "num_samples 1.5", lambda: deep.DiscreteELBO("arm", 1.5), ValueError, "num_samples"),
    ("DiscreteELBO", "temperature 0", lambda: deep.DiscreteELBO("gumbel", 2, 0.0), ValueError, "temperature"),
    ("DiscreteELBO", "temperature NaN", lambda: deep.DiscreteELBO("gumbel", 2, NAN), ValueError, "temperature"),
    (
        "DiscreteELBO",
        "a temperature for an estimator without one",
        lambda: deep.DiscreteELBO("disarm", 1, 0.5),
        ValueError,
        "temperature",
    ),
    ("DiscreteELBO", "exact with draws", lambda: deep.DiscreteELBO("exact", 2), ValueError, "num_samples"),
    ("DiscreteELBO", "leave-one-out, S = 1", lambda: deep.DiscreteELBO("leave-one-out"), ValueError, "num_samples"),
    ("DiscreteELBO", "model a Gaussian VAE", lambda: deep.DiscreteELBO("arm")(GVAE, XB), TypeError, "model"),
    (
        "DiscreteELBO",
        "nvil without a baseline network",
        lambda: deep.DiscreteELBO("nvil", 2)(deep.BernoulliVAE(4, 3), XB),
        ValueError,
        "baseline_hidden",
    ),
    (
        "DiscreteELBO",
        "exact with 17 bits",
        lambda: deep.DiscreteELBO("exact")(deep.BernoulliVAE(4, 17), XB),
        ValueError,
        "latent_dim",
    ),
    ("DiscreteELBO", "x of width 3", lambda: deep.DiscreteELBO("arm")(DVAE, XB[:, :3]), ValueError, r"\bx\b"),
    (
        "DiscreteELBO",
        "generator a str",
        lambda: deep.DiscreteELBO("arm")(DVAE, XB, generator="g"),
        TypeError,
        "generator",
    ),
    ("DiscreteIWELBO", "num_samples 0", lambda: deep.DiscreteIWELBO(0), ValueError, "num_samples"),
    ("DiscreteIWELBO", "num_samples missing", lambda: deep.DiscreteIWELBO(), TypeError, "num_samples"),
    ("DiscreteIWELBO", "model a Gaussian VAE", lambda: deep.DiscreteIWELBO(3)(GVAE, XB), TypeError, "model"),
    (
        "DiscreteIWELBO",
        "evaluated with gradients enabled",
        lambda: deep.DiscreteIWELBO(3)(DVAE, XB),
        RuntimeError,
        "test_objective",
    ),
    # ------------------------------------------------------------------------------------------ relaxations
    ("gumbel_max_sample", "num_samples 0", lambda: deep.gumbel_max_sample(A, 0), ValueError, "num_samples"),
    ("gumbel_max_sample", "a NaN", lambda: deep.gumbel_max_sample(torch.tensor([0.0, NAN]), 3), ValueError, r"\ba\b"),
    ("gumbel_max_sample", "a +inf", lambda: deep.gumbel_max_sample(torch.tensor([0.0, INF]), 3), ValueError, r"\ba\b"),
    (
        "gumbel_max_sample",
        "a all -inf",
        lambda: deep.gumbel_max_sample(torch.full((2,), -INF), 3),
        ValueError,
        r"\ba\b",
    ),
    ("gumbel_max_sample", "a empty", lambda: deep.gumbel_max_sample(torch.zeros(0), 3), ValueError, r"\ba\b"),
    ("gumbel_max_sample", "a 0-dim", lambda: deep.gumbel_max_sample(torch.tensor(1.0), 3), ValueError, r"\ba\b"),
    ("gumbel_max_sample", "a a list", lambda: deep.gumbel_max_sample([0.0, 1.0], 3), TypeError, r"\ba\b"),
    (
        "gumbel_max_sample",
        "generator an int",
        lambda: deep.gumbel_max_sample(A, 3, generator=0),
        TypeError,
        "generator",
    ),
    (
        "categorical_reparametrize",
        "temperature 0",
        lambda: deep.categorical_reparametrize(A, 3, 0.0),
        ValueError,
        "temperature",
    ),
    (
        "categorical_reparametrize",
        "temperature inf",
        lambda: deep.categorical_reparametrize(A, 3, INF),
        ValueError,
        "temperature",
    ),
    (
        "categorical_reparametrize",
        "num_samples -1",
        lambda: deep.categorical_reparametrize(A, -1, 0.5),
        ValueError,
        "num_samples",
    ),
    (
        "categorical_reparametrize",
        "a NaN",
        lambda: deep.categorical_reparametrize(torch.tensor([0.0, NAN]), 3, 0.5),
        ValueError,
        r"\ba\b",
    ),
    (
        "categorical_reparametrize",
        "a a tuple",
        lambda: deep.categorical_reparametrize((0.0, 1.0), 3, 0.5),
        TypeError,
        r"\ba\b",
    ),
    (
        "categorical_reparametrize",
        "log 'yes'",
        lambda: deep.categorical_reparametrize(A, 3, 0.5, log="yes"),
        TypeError,
        r"\blog\b",
    ),
    (
        "categorical_reparametrize",
        "generator a str",
        lambda: deep.categorical_reparametrize(A, 3, 0.5, generator="g"),
        TypeError,
        "generator",
    ),
    ("relaxed_bernoulli", "logits NaN", lambda: deep.relaxed_bernoulli(with_nan(NAN), 2, 0.5), ValueError, "logits"),
    ("relaxed_bernoulli", "logits a list", lambda: deep.relaxed_bernoulli([0.0], 2, 0.5), TypeError, "logits"),
    ("relaxed_bernoulli", "logits empty", lambda: deep.relaxed_bernoulli(torch.zeros(0), 2, 0.5), ValueError, "logits"),
    (
        "relaxed_bernoulli",
        "temperature < 0",
        lambda: deep.relaxed_bernoulli(LOGITS, 2, -0.5),
        ValueError,
        "temperature",
    ),
    ("relaxed_bernoulli", "num_samples 0", lambda: deep.relaxed_bernoulli(LOGITS, 0, 0.5), ValueError, "num_samples"),
    (
        "relaxed_bernoulli",
        "straight_through 'no'",
        lambda: deep.relaxed_bernoulli(LOGITS, 2, 0.5, straight_through="no"),
        TypeError,
        "straight_through",
    ),
    (
        "relaxed_bernoulli",
        "generator an int",
        lambda: deep.relaxed_bernoulli(LOGITS, 2, 0.5, generator=1),
        TypeError,
        "generator",
    ),
]

#: unusual but meaningful input: the call must return the answer of the usual input
GOOD = [
    (
        "bernoulli_kl",
        "a numpy array",
        lambda: deep.bernoulli_kl(LOGITS.numpy(), np.zeros(3, np.float32)),
        lambda: deep.bernoulli_kl(LOGITS, torch.zeros(3)),
    ),
    (
        "bernoulli_kl",
        "an int tensor",
        lambda: deep.bernoulli_kl(torch.tensor([[-2, 0, 3]]), 1),
        lambda: deep.bernoulli_kl(torch.tensor([[-2.0, 0.0, 3.0]]), 1.0),
    ),
    (
        "exact_expectation",
        "an int tensor",
        lambda: deep.exact_expectation(f, torch.tensor([[-2, 0, 3]])),
        lambda: deep.exact_expectation(f, torch.tensor([[-2.0, 0.0, 3.0]])),
    ),
    (
        "exact_gradient",
        "a numpy array",
        lambda: deep.exact_gradient(f, LOGITS.numpy()),
        lambda: deep.exact_gradient(f, LOGITS),
    ),
    (
        "sample_bernoulli",
        "a numpy array",
        lambda: deep.sample_bernoulli(LOGITS.numpy(), 4, generator=gen()),
        lambda: deep.sample_bernoulli(LOGITS, 4, generator=gen()),
    ),
    (
        "bernoulli_score_function_gradient",
        "a 0-dim tensor baseline",
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 4, baseline=torch.tensor(2.0), generator=gen()),
        lambda: deep.bernoulli_score_function_gradient(f, LOGITS, 4, baseline=2.0, generator=gen()),
    ),
    (
        "arm_gradient",
        "num_samples 3.0",
        lambda: deep.arm_gradient(f, LOGITS, 3.0, generator=gen()),
        lambda: deep.arm_gradient(f, LOGITS, 3, generator=gen()),
    ),
    (
        "disarm_gradient",
        "num_samples 3.0",
        lambda: deep.disarm_gradient(f, LOGITS, 3.0, generator=gen()),
        lambda: deep.disarm_gradient(f, LOGITS, 3, generator=gen()),
    ),
    (
        "expectation_surrogate",
        "a numpy array (exact)",
        lambda: deep.expectation_surrogate(f, LOGITS.numpy(), "exact"),
        lambda: deep.expectation_surrogate(f, LOGITS, "exact"),
    ),
    (
        "discrete_elbo",
        "float64 images",
        lambda: deep.discrete_elbo(DVAE, XB.double(), generator=gen()),
        lambda: deep.discrete_elbo(DVAE, XB, generator=gen()),
    ),
    (
        "discrete_iwelbo",
        "a numpy array",
        lambda: deep.discrete_iwelbo(DVAE, XB.numpy(), 3, generator=gen()),
        lambda: deep.discrete_iwelbo(DVAE, XB, 3, generator=gen()),
    ),
    (
        "DiscreteELBO",
        "float64 images",
        lambda: deep.DiscreteELBO("disarm")(DVAE, XB.double(), generator=gen()),
        lambda: deep.DiscreteELBO("disarm")(DVAE, XB, generator=gen()),
    ),
    (
        "DiscreteIWELBO",
        "a numpy array (under no_grad)",
        lambda: _no_grad(deep.DiscreteIWELBO(3), DVAE, XB.numpy()),
        lambda: _no_grad(deep.DiscreteIWELBO(3), DVAE, XB),
    ),
    (
        "gumbel_max_sample",
        "a -inf log-probability (never drawn)",
        lambda: deep.gumbel_max_sample(torch.tensor([0.0, -INF, 1.0]), 200, generator=gen())[:, 1].sum(),
        lambda: 0.0,
    ),
    (
        "categorical_reparametrize",
        "a numpy array",
        lambda: deep.categorical_reparametrize(A.numpy(), 3, 0.5, generator=gen()),
        lambda: deep.categorical_reparametrize(A, 3, 0.5, generator=gen()),
    ),
    (
        "relaxed_bernoulli",
        "a numpy array",
        lambda: deep.relaxed_bernoulli(LOGITS.numpy(), 3, 0.5, generator=gen())[0],
        lambda: deep.relaxed_bernoulli(LOGITS, 3, 0.5, generator=gen())[0],
    ),
]

#: every name with a bad-input probe here; test_public_api.py's test_every_public_function_rejects_a_bad_argument
#: counts these too
PROBED = {name for name, *_ in BAD}
DISCRETE_MODULES = (
    "helpers.deep.discrete",
    "helpers.deep.bernoulli_vae",
    "helpers.deep.discrete_objectives",
    "helpers.deep.relaxations",
)


def _ids(table):
    return [f"{name}: {what}" for name, what, *_ in table]


@pytest.mark.parametrize("name, what, call, error, argument", BAD, ids=_ids(BAD))
def test_bad_input_raises_a_clear_error_naming_the_argument(name, what, call, error, argument):
    assert_clear_error(call, error, argument)


@pytest.mark.parametrize("name, what, call, usual", GOOD, ids=_ids(GOOD))
def test_unusual_but_meaningful_input_gives_the_usual_answer(name, what, call, usual):
    assert_usual_answer(call, usual, rtol=1e-6, atol=1e-6)


def test_every_discrete_public_name_is_probed_here():
    names = {n for n in deep.__all__ if getattr(getattr(deep, n), "__module__", "") in DISCRETE_MODULES}
    assert {"BernoulliVAE", "DiscreteELBO", "DiscreteIWELBO", "discrete_elbo", "relaxed_bernoulli"} <= names
    missing = names - PROBED
    assert not missing, f"discrete public names without a bad-input probe: {sorted(missing)}"
    assert not {name for name, *_ in BAD + GOOD} - names, "a probe names a function outside the discrete part"
