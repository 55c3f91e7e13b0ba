"""Natural-gradient VI for the Normal–Gamma model (chapter *Natural gradients*).

For the Normal–Gamma model and q(mu) q(tau) of :mod:`helpers.vi.cavi`, each factor is conditionally conjugate: in
q's natural parameters (:mod:`helpers.vi.exponential_family`) the natural gradient of the ELBO in a factor's eta is
eta_hat - eta, eta_hat the expected natural parameter of the complete conditional (:func:`conjugate_targets`), so a
step of size 1 is the CAVI update (Hoffman, Blei, Wang and Paisley 2013, eq. 22-23). :func:`svi_normal_gamma` is
their stochastic VI with minibatches and a Robbins-Monro step rho_t = (t + delay)^(-forgetting);
:func:`bbvi_adam_normal_gamma` is the course's BBVI gradient ascended with Adam, for comparison.

Shapes: leading batch dimensions (...) broadcast; T iterations. Everything is float64. References: Hoffman et al.
(2013), *Stochastic variational inference*; Kingma and Ba (2015), *Adam*.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import (
    as_tensor,
    check_betas,
    check_count,
    check_finite,
    check_generator,
    check_positive_number,
    check_real,
)
from helpers.models.normal_gamma import NormalGamma, check_data
from helpers.vi.cavi import check_prior, normal_gamma_elbo
from helpers.vi.exponential_family import _omega, from_natural, normal_gamma_natural_params
from helpers.vi.meanfield import _from_unconstrained, _to_unconstrained, check_q_params
from helpers.vi.normal_gamma_bbvi import NormalGammaData, _normal_gamma_gradient, default_init


def conjugate_targets(
    n: float, sum_x: Tensor | float, sum_x2: Tensor | float, prior: NormalGamma, omega: Tensor
) -> Tensor:
    """eta_hat (..., 4): the natural parameters of each factor's complete conditional, averaged under the other factor.

        q(mu):  eta_hat_mu  = E_q[tau] (lambda_0 mu_0 + sum_x,  -(lambda_0 + n) / 2)
        q(tau): eta_hat_tau = (a_0 - 1 + (n + 1)/2,
                               -(b_0 + 1/2 [sum_x2 - 2 mu_N sum_x + n E_q[mu^2] + lambda_0 E_q[(mu - mu_0)^2]]))

    with E_q[mu^2] = mu_N^2 + 1/lambda_N. ``n, sum_x, sum_x2`` are N, sum x_n and sum x_n^2, or their unbiased
    minibatch estimates (N/B times the minibatch sums, with n = N). The natural gradient of the ELBO in each factor's
    eta is eta_hat - eta (chapter *Natural gradients*, proposition on NGVI); eta_hat is CAVI's update.
    No data have sum_x2 < sum_x^2 / n (Cauchy-Schwarz, which the minibatch estimates meet too): such sums raise
    ValueError (sum_x and sum_x2 swapped?).
    """
    check_prior(prior)
    check_positive_number(n, "n", hint="n is the number of data points N")
    omega = _omega(omega)
    sum_x = check_finite(as_tensor(sum_x, "sum_x", dtype=torch.float64), "sum_x")
    sum_x2 = check_finite(as_tensor(sum_x2, "sum_x2", dtype=torch.float64), "sum_x2")
    try:
        torch.broadcast_shapes(sum_x.shape, sum_x2.shape, omega.shape[:-1])
    except RuntimeError:
        raise ValueError(
            f"sum_x, sum_x2 and omega[..., 0] must have shapes that broadcast (got {tuple(sum_x.shape)}, "
            f"{tuple(sum_x2.shape)} and {tuple(omega.shape[:-1])})."
        ) from None
    if (sum_x2 < 0).any() or (sum_x2 * n < sum_x**2 * (1.0 - 1e-9)).any():
        raise ValueError(
            f"sum_x2 = {sum_x2.tolist()} is below sum_x^2 / n = {(sum_x**2 / n).tolist()}: no data have these sums "
            "(sum_x2 is the sum of the squares x_n^2, sum_x the sum of the x_n; were they swapped?)."
        )
    return _conjugate_targets(n, sum_x, sum_x2, prior, omega)


def _conjugate_targets(n: float, sum_x: Tensor, sum_x2: Tensor, prior: NormalGamma, omega: Tensor) -> Tensor:
    mu_n, lam, a, b = omega.unbind(-1)
    e_tau = a / b
    e_mu2 = mu_n**2 + 1.0 / lam
    eta_mu = torch.stack(
        [e_tau * (prior.lambda0 * prior.mu0 + sum_x), -0.5 * e_tau * (prior.lambda0 + n) * torch.ones_like(e_tau)], -1
    )
    e_sq = sum_x2 - 2.0 * mu_n * sum_x + n * e_mu2 + prior.lambda0 * (e_mu2 - 2.0 * prior.mu0 * mu_n + prior.mu0**2)
    shape = torch.full_like(e_tau, prior.a0 - 1.0 + 0.5 * (n + 1))
    eta_tau = torch.stack([shape, -(prior.b0 + 0.5 * e_sq)], -1)
    return torch.cat([eta_mu, eta_tau], dim=-1)


@dataclass(frozen=True)
class VITrace:
    """What :func:`svi_normal_gamma` and :func:`bbvi_adam_normal_gamma` return.

    Attributes:
        params: (T + 1, 4) omega = (mu_N, lambda_N, a_N, b_N) before the first step and after every step.
        elbo: (T + 1,) the exact ELBO (:func:`helpers.vi.normal_gamma_elbo`) along the run.
    """

    params: Tensor
    elbo: Tensor


def svi_normal_gamma(
    x: object,
    prior: NormalGamma,
    num_iters: int,
    batch_size: int,
    *,
    delay: float = 1.0,
    forgetting: float = 0.7,
    init: object | None = None,
    generator: torch.Generator | None = None,
) -> VITrace:
    """Stochastic natural-gradient VI (Hoffman et al. 2013, Algorithm 1) for the Normal–Gamma model.

    At step t: draw a minibatch of B indices uniformly with replacement, form the unbiased estimates N/B sum_b x_b and
    N/B sum_b x_b^2, the targets eta_hat of :func:`conjugate_targets` for both factors at the current q, and
    eta <- (1 - rho_t) eta + rho_t eta_hat, rho_t = (t + delay)^(-forgetting); 1/2 < forgetting <= 1 meets
    Robbins and Monro's conditions. Both factors are updated together (a natural-gradient step in the joint eta, whose
    Fisher is block-diagonal under the mean-field q). With B = N and rho = 1 this is a Jacobi-order CAVI sweep.

    Args:
        x: data (N,); prior: the :class:`~helpers.NormalGamma` prior.
        num_iters: T; batch_size: B >= 1.
        delay, forgetting: the step-size schedule (tau_0 >= 0 and kappa in (0.5, 1]).
        init: starting omega; default :func:`helpers.vi.default_init`.
    """
    data = check_data(x)
    prior = check_prior(prior)
    t_max = check_count(num_iters, "num_iters")
    bsz = check_count(batch_size, "batch_size")
    check_generator(generator)
    if not (0.5 < check_real(forgetting, "forgetting", hint="e.g. forgetting=0.7") <= 1.0):
        raise ValueError(f"forgetting must be in (0.5, 1] for Robbins-Monro (got {forgetting!r}).")
    if not check_real(delay, "delay", hint="e.g. delay=1.0") >= 0:
        raise ValueError(f"delay must be >= 0 (got {delay!r}).")
    omega = default_init(data, prior) if init is None else check_q_params(init, name="init")
    n = data.numel()
    idx = torch.randint(0, n, (t_max, bsz), generator=generator)  # (T, B) all minibatches at once
    batch = data[idx]
    sum_x, sum_x2 = batch.sum(-1) * (n / bsz), (batch**2).sum(-1) * (n / bsz)  # (T,)
    rho = (torch.arange(1, t_max + 1, dtype=torch.float64) + delay) ** (-forgetting)  # (T,)
    eta = normal_gamma_natural_params(omega)
    etas = torch.empty((t_max + 1, 4), dtype=torch.float64)
    etas[0] = eta
    for t in range(t_max):
        target = _conjugate_targets(n, sum_x[t], sum_x2[t], prior, from_natural(eta))
        eta = (1.0 - rho[t]) * eta + rho[t] * target
        etas[t + 1] = eta
    params = from_natural(etas)
    return VITrace(params=params, elbo=normal_gamma_elbo(data, prior, *params.unbind(-1)))


def bbvi_adam_normal_gamma(
    x: object,
    prior: NormalGamma,
    num_iters: int,
    num_samples: int,
    *,
    lr: float = 0.05,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    init: object | None = None,
    generator: torch.Generator | None = None,
) -> VITrace:
    """Black-box VI with Adam (Kingma and Ba 2015, ``torch.optim.Adam``) on theta = (mu_N, log lambda_N, log a_N,
    log b_N), ascending the ELBO.

    The gradient is :func:`helpers.vi.normal_gamma_gradient` (score function, leave-one-out regression coefficient,
    Rao-Blackwellized); Adam keeps m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2 and steps
    theta <- theta + lr m_hat / (sqrt(v_hat) + eps). The ELBO trace is exact (not the estimate). A run whose q
    overflows (too large an lr) raises ValueError naming lr.
    """
    check_prior(prior)
    data = NormalGammaData.from_x(x)
    t_max = check_count(num_iters, "num_iters")
    s = check_count(num_samples, "num_samples", minimum=3)
    lr = check_positive_number(lr, "lr", example="lr=0.05")
    betas = check_betas(betas)
    check_positive_number(eps, "eps", example="eps=1e-8")
    check_generator(generator)
    omega = default_init(x, prior) if init is None else check_q_params(init, name="init")
    theta = _to_unconstrained(omega).clone()
    adam = torch.optim.Adam([theta], lr=lr, betas=betas, eps=eps, maximize=True)
    thetas = torch.empty((t_max + 1, 4), dtype=torch.float64)
    thetas[0] = theta
    for t in range(1, t_max + 1):
        if not torch.isfinite(_from_unconstrained(theta)).all():
            raise ValueError(
                f"bbvi_adam_normal_gamma diverged at iteration {t}: q's parameters overflowed (theta = "
                f"{theta.tolist()}); pass a smaller lr (got lr={lr:g}), e.g. lr={lr / 10:g}."
            )
        theta.grad, _ = _normal_gamma_gradient(
            data, prior, theta, s, coefficient="leave-one-out", rao_blackwellize=True, generator=generator
        )
        adam.step()
        thetas[t] = theta
    params = _from_unconstrained(thetas)
    return VITrace(params=params, elbo=normal_gamma_elbo(check_data(x), prior, *params.unbind(-1)))
