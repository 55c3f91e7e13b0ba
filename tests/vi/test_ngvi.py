"""helpers.vi.ngvi: natural-gradient VI against CAVI (the natural gradient is target minus eta; unit steps are CAVI);
stochastic VI and BBVI with Adam reach the CAVI solution."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import hessian, jacobian

from helpers import models, vi

DT = torch.float64
PRIOR = models.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)


def _q_of_eta(eta):
    return vi.normal_gamma_from_natural(eta)


def test_natural_gradient_of_the_elbo_is_target_minus_eta_and_step_one_is_cavi():
    x = 2.0 + 0.5 * torch.randn(50, dtype=DT, generator=torch.Generator().manual_seed(5))
    omega = torch.tensor([1.5, 20.0, 4.0, 3.0], dtype=DT)
    eta = vi.normal_gamma_natural_params(omega)
    grad = jacobian(lambda e: vi.normal_gamma_elbo(x, PRIOR, *_q_of_eta(e).unbind(-1)), eta)
    fisher = hessian(vi.normal_gamma_log_partition, eta)
    assert fisher[:2, 2:].abs().max() == 0  # mean-field: block diagonal
    natural = torch.linalg.solve(fisher, grad)
    target = vi.conjugate_targets(x.numel(), x.sum(), (x**2).sum(), PRIOR, omega)
    torch.testing.assert_close(natural, target - eta)
    # a sweep of unit steps, q(mu) then q(tau), is CAVI's first sweep from E[tau] = a/b
    fit = vi.cavi_normal_gamma(x, PRIOR, 2, init=4.0 / 3.0)
    after_mu = torch.cat([target[:2], eta[2:]])
    t2 = vi.conjugate_targets(x.numel(), x.sum(), (x**2).sum(), PRIOR, vi.normal_gamma_from_natural(after_mu))
    torch.testing.assert_close(vi.normal_gamma_from_natural(torch.cat([target[:2], t2[2:]])), fit.trace[0])


def test_svi_converges_to_the_cavi_solution():
    x = 2.0 + 0.5 * torch.randn(1000, dtype=DT, generator=torch.Generator().manual_seed(6))
    cavi = vi.cavi_normal_gamma(x, PRIOR, 20)
    run = vi.svi_normal_gamma(x, PRIOR, 1500, 100, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(run.params[-1], cavi.trace[-1], rtol=2e-2, atol=0)
    assert float(cavi.elbo[-1] - run.elbo[-1]) < 0.1
    adam = vi.bbvi_adam_normal_gamma(x, PRIOR, 600, 50, lr=0.1, generator=torch.Generator().manual_seed(8))
    assert float(cavi.elbo[-1] - adam.elbo[-1]) < 2.0 and float(adam.elbo[-1]) > float(adam.elbo[0]) + 100


def test_minibatch_sums_always_meet_the_cauchy_schwarz_check():
    x = 2.0 + 0.5 * torch.randn(50, dtype=DT, generator=torch.Generator().manual_seed(11))
    idx = torch.randint(0, 50, (200, 1), generator=torch.Generator().manual_seed(12))  # B = 1: equality
    omega = torch.tensor([1.5, 20.0, 4.0, 3.0], dtype=DT)
    for row in idx:
        xb = x[row]
        vi.conjugate_targets(50, xb.sum() * 50, (xb**2).sum() * 50, PRIOR, omega)  # does not raise
    with pytest.raises(ValueError, match="swapped"):
        vi.conjugate_targets(50, (x**2).sum(), x.sum(), PRIOR, omega)
