"""common.maximize: the deterministic L-BFGS maximization the chapters compare their optimizers with."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import common


def test_maximize_finds_the_exact_maximizer_of_a_concave_quadratic():
    # f(x) = -(x - m)^T A (x - m) / 2 + 3 with A positive definite: the maximizer is m, the maximum 3
    A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    m = torch.tensor([0.7, -1.3], dtype=torch.float64)
    x0 = torch.zeros(2, dtype=torch.float64)

    def f(x):
        return -0.5 * (x - m) @ A @ (x - m) + 3.0

    x = common.maximize(f, x0)
    # it stops when f changes by < tolerance_change = 1e-14: f within that of its maximum, x within ~sqrt of it
    assert 3.0 - 1e-13 < float(f(x)) <= 3.0
    torch.testing.assert_close(x, m, rtol=0, atol=1e-7)
    assert x.dtype == torch.float64 and not x.requires_grad and (x0 == 0).all()  # x0 is not changed


def test_maximize_a_gaussian_log_likelihood_gives_the_sample_mean_and_sd():
    # the maximum-likelihood estimate of N(mu, sigma^2) over (mu, log sigma): the sample mean and the 1/n SD
    y = torch.tensor([1.2, -0.3, 2.5, 0.8, 1.1], dtype=torch.float64)

    def log_lik(p):
        return common.normal_log_prob(y, p[0], p[1].exp()).sum()

    x = common.maximize(log_lik, torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(x[0], y.mean(), rtol=0, atol=1e-7)
    torch.testing.assert_close(x[1].exp(), y.std(correction=0), rtol=0, atol=1e-7)
    exact = torch.stack([y.mean(), y.std(correction=0).log()])
    assert 0 <= float(log_lik(exact) - log_lik(x)) < 1e-12  # the maximum itself, to the stopping tolerance


def test_maximize_is_deterministic_bit_for_bit_and_matches_a_hand_written_lbfgs():
    def f(p):  # the Rosenbrock function, negated: a curved valley, maximum 0 at (1, 1)
        return -((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2)

    x0 = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    first, second = common.maximize(f, x0), common.maximize(f, x0)
    assert torch.equal(first, second)
    torch.testing.assert_close(first, torch.ones(2, dtype=torch.float64), rtol=0, atol=1e-8)
    p = x0.clone().requires_grad_(True)  # the loop the chapters used to write, with the same settings
    opt = torch.optim.LBFGS(
        [p], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        loss = -f(p)
        loss.backward()
        return loss

    opt.step(closure)
    assert torch.equal(first, p.detach())


def test_max_iter_limits_the_iterations():
    f = lambda p: -((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2)  # noqa: E731
    x0 = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    assert float(f(common.maximize(f, x0, max_iter=2))) < float(f(common.maximize(f, x0)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"f": 3}, TypeError, "f must be callable"),
        ({"x0": [0.0, 1.0]}, TypeError, "x0"),
        ({"x0": torch.tensor([0.0, math.nan])}, ValueError, "x0"),
        ({"f": lambda p: p * 2}, ValueError, r"f\(x0\) must be a finite scalar"),
        ({"f": lambda p: torch.log(-p.sum() - 1)}, ValueError, r"f\(x0\) must be a finite scalar"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"tolerance_grad": -1.0}, ValueError, "tolerance_grad"),
        ({"tolerance_change": 0.0}, ValueError, "tolerance_change"),
    ],
)
def test_bad_arguments_name_the_argument_and_the_fix(kwargs, error, match):
    args = {"f": lambda p: -(p**2).sum(), "x0": torch.ones(2, dtype=torch.float64), **kwargs}
    with pytest.raises(error, match=match):
        common.maximize(args.pop("f"), args.pop("x0"), **args)
