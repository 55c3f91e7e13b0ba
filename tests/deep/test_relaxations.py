"""Tests of helpers.deep.relaxations: exact Gumbel-max draws, the temperature limits, numerics."""

from __future__ import annotations

import math

import pytest
import torch
from _shared import generator
from scipy import stats

from helpers.deep.relaxations import categorical_reparametrize, gumbel_max_sample, relaxed_bernoulli

DT = torch.float64


def test_gumbel_max_draws_are_categorical_by_a_chi_square_test():
    a = torch.tensor([0.3, -1.2, 2.0, 0.0, -3.0], dtype=DT) + 7.0  # unnormalized: the shift must not matter
    counts = gumbel_max_sample(a, 200_000, generator=generator(0)).sum(0)
    expected = torch.softmax(a, 0) * 200_000
    p_value = stats.chisquare(counts.numpy(), expected.numpy()).pvalue
    assert p_value > 1e-4


def test_temperature_limits_one_hot_and_uniform():
    a = torch.tensor([[0.5, -0.3, 1.1]], dtype=DT)
    cold = categorical_reparametrize(a, 1000, 1e-3, generator=generator(1))
    hard = gumbel_max_sample(a, 1000, generator=generator(1))  # the same noise
    assert (cold.argmax(-1) == hard.argmax(-1)).all()
    assert (cold.max(-1).values > 0.99).float().mean() > 0.99  # one-hot but for near-ties
    hot = categorical_reparametrize(a, 1000, 1e4, generator=generator(2))
    torch.testing.assert_close(hot, torch.full_like(hot, 1 / 3), atol=2e-3, rtol=0)
    torch.testing.assert_close(cold.sum(-1), torch.ones(1000, 1, dtype=DT))


def test_log_output_is_finite_where_the_probability_underflows():
    a = torch.tensor([0.0, -2000.0], dtype=DT)
    log_y = categorical_reparametrize(a, 10, 0.1, log=True, generator=generator(3))
    assert torch.isfinite(log_y).all() and (log_y[:, 1] < -1000).all()
    torch.testing.assert_close(log_y.exp(), categorical_reparametrize(a, 10, 0.1, generator=generator(3)))


def test_relaxed_bernoulli_hard_draws_are_bernoulli_and_straight_through_has_binary_values():
    logits = torch.tensor([-1.0, 0.0, 2.5], dtype=DT)
    relaxed, hard = relaxed_bernoulli(logits, 50_000, 0.5, generator=generator(4))
    p = torch.sigmoid(logits)
    se = torch.sqrt(p * (1 - p) / 50_000)
    assert ((hard.mean(0) - p).abs() / se).max() < 4.5
    assert ((relaxed > 0) & (relaxed < 1)).all()
    leaf = logits.clone().requires_grad_(True)
    st, hard_st = relaxed_bernoulli(leaf, 100, 0.5, straight_through=True, generator=generator(5))
    torch.testing.assert_close(st.detach(), hard_st)
    (grad,) = torch.autograd.grad(st.sum(), leaf)
    assert (grad > 0).all()  # the relaxed sample increases with the logit


def test_bad_arguments_raise():
    a = torch.zeros(3)
    with pytest.raises(ValueError, match="temperature"):
        categorical_reparametrize(a, 1, 0.0)
    with pytest.raises(ValueError, match="num_samples"):
        gumbel_max_sample(a, 0)
    with pytest.raises(TypeError, match="generator"):
        relaxed_bernoulli(a, 1, 1.0, generator=1)
    assert math.isfinite(float(categorical_reparametrize(a, 1, 1.0).sum()))


def test_categorical_reparametrize_says_logits_or_probabilities():
    """Logits as ``a`` (the assignment's positional form) or ``logits=``, probabilities as ``probs=``: the same
    draws for the same distribution (log probs are logits); a row that looks like probabilities passed as ``a``
    warns, the explicit keywords do not; bad combinations and bad probabilities are refused naming the argument."""
    import warnings

    probs = torch.tensor([[0.2, 0.5, 0.3], [0.7, 0.0, 0.3]], dtype=DT)
    logits = torch.log(probs) + 4.0  # unnormalized: a constant shift gives the same draws
    by_probs = categorical_reparametrize(probs=probs, num_samples=50, temperature=0.5, generator=generator(6))
    by_logits = categorical_reparametrize(logits=logits, num_samples=50, temperature=0.5, generator=generator(6))
    positional = categorical_reparametrize(logits, 50, 0.5, generator=generator(6))
    torch.testing.assert_close(by_probs, by_logits)
    torch.testing.assert_close(positional, by_logits)
    assert (by_probs[:, 1, 1] == 0).all()  # a probability 0 is never drawn
    with pytest.warns(UserWarning, match="probs=a"):
        categorical_reparametrize(probs, 5, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        categorical_reparametrize(logits=probs, num_samples=5, temperature=0.5)  # said to be logits: no warning
        categorical_reparametrize(logits, 5, 0.5)
    with pytest.raises(ValueError, match="probs must be non-negative with each row"):
        categorical_reparametrize(probs=torch.tensor([0.5, 0.6], dtype=DT), num_samples=5, temperature=0.5)
    with pytest.raises(ValueError, match="probs"):
        categorical_reparametrize(probs=torch.tensor([1.5, -0.5], dtype=DT), num_samples=5, temperature=0.5)
    with pytest.raises(TypeError, match="exactly one of a"):
        categorical_reparametrize(logits, 5, 0.5, probs=probs)
    with pytest.raises(TypeError, match="num_samples"):
        categorical_reparametrize(probs=probs, temperature=0.5)
    leaf = probs.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(
        categorical_reparametrize(probs=leaf, num_samples=3, temperature=1.0)[:, 0, 0].sum(), leaf
    )
    assert torch.isfinite(grad[0]).all()  # differentiable in the probabilities
