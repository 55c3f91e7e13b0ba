"""helpers.deep.diffusion.schedules: schedules are values (fields are the identity), their tensors are the formulas."""

import math

import pytest
import torch

from helpers.deep import diffusion
from helpers.deep.checkpoints import describe

dt = torch.float64


def test_a_schedule_is_a_value_described_by_its_fields():
    a, b = diffusion.linear_schedule(1000), diffusion.LinearSchedule(1000, 1e-4, 0.02)
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != diffusion.LinearSchedule(1000, 1e-4, 0.03) and a != diffusion.LogSNRSchedule(1000)
    assert describe(diffusion.SimpleLoss(a), "objective") == {
        "objective": "SimpleLoss", "objective.schedule": "LinearSchedule", "objective.schedule.num_steps": 1000,
        "objective.schedule.beta_1": 1e-4, "objective.schedule.beta_T": 0.02,
    }  # fmt: skip
    assert repr(diffusion.log_snr_schedule(10)) == "LogSNRSchedule(num_steps=10, gamma_min=-13.3, gamma_max=5.0)"
    with pytest.raises(AttributeError):  # frozen
        a.num_steps = 10
    assert isinstance(diffusion.LinearSchedule(10.0).num_steps, int)  # fields are stored as plain numbers


def test_the_derived_tensors_are_the_formulas():
    s = diffusion.linear_schedule(50, 1e-3, 0.2)
    betas = torch.linspace(1e-3, 0.2, 50, dtype=dt)
    torch.testing.assert_close(s.betas, betas, rtol=0, atol=0)
    torch.testing.assert_close(diffusion.linear_betas(50, 1e-3, 0.2), betas, rtol=0, atol=0)
    abar = torch.tensor([math.prod(1 - float(b) for b in betas[: t + 1]) for t in range(50)], dtype=dt)
    torch.testing.assert_close(s.alpha_bar, abar)
    prev = torch.cat([torch.ones(1, dtype=dt), abar[:-1]])
    torch.testing.assert_close(s.alpha_bar_prev, prev)
    torch.testing.assert_close(s.posterior_variance, betas * (1 - prev) / (1 - abar))
    torch.testing.assert_close(s.coef_x0 * 1.0, prev.sqrt() * betas / (1 - abar))
    torch.testing.assert_close(s.coef_xt, (1 - betas).sqrt() * (1 - prev) / (1 - abar))
    torch.testing.assert_close(s.log_snr, torch.log(abar / (1 - abar)))
    assert float(s.posterior_variance[0]) == 0.0  # beta~_1 = 0: x_0 is known


def test_log_snr_schedule_has_the_gamma_endpoints_at_every_T():
    for T in (3, 10, 1000):
        s = diffusion.log_snr_schedule(T, -13.3, 5.0)
        torch.testing.assert_close(-s.log_snr[[0, -1]], torch.tensor([-13.3, 5.0], dtype=dt))
        gamma = -s.log_snr
        assert bool((gamma[1:] > gamma[:-1]).all()) and bool(((s.betas > 0) & (s.betas < 1)).all())
        torch.testing.assert_close(gamma[1:] - gamma[:-1], torch.full((T - 1,), 18.3 / (T - 1), dtype=dt))


def test_reverse_variances():
    s = diffusion.linear_schedule(20, 1e-3, 0.2)
    post = s.posterior_variance
    torch.testing.assert_close(diffusion.reverse_variance(s, "beta"), s.betas)
    torch.testing.assert_close(diffusion.reverse_variance(s, "posterior"), torch.cat([s.betas[:1], post[1:]]))
    torch.testing.assert_close(diffusion.reverse_variance(s, "posterior-clipped"), torch.cat([post[1:2], post[1:]]))


def test_bad_fields_are_named():
    for call, error, name in (
        (lambda: diffusion.LinearSchedule(1), ValueError, "num_steps"),
        (lambda: diffusion.LinearSchedule(10, 0.0), ValueError, "beta_1"),
        (lambda: diffusion.LinearSchedule(10, 1e-4, 1.0), ValueError, "beta_T"),
        (lambda: diffusion.LinearSchedule(10, "0.1"), ValueError, "beta_1"),
        (lambda: diffusion.LogSNRSchedule(2), ValueError, "num_steps"),
        (lambda: diffusion.LogSNRSchedule(10, 5.0, -13.3), ValueError, "gamma_min must be below gamma_max"),
        (lambda: diffusion.LogSNRSchedule(10, -40.0, 5.0), ValueError, "noise level of 0 or 1"),
        (lambda: diffusion.reverse_variance("linear"), TypeError, "schedule"),
        (lambda: diffusion.reverse_variance(diffusion.linear_schedule(10), "learned"), ValueError, "variance"),
    ):
        with pytest.raises(error, match=name):
            call()
