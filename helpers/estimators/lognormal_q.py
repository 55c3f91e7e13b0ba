"""Natural-gradient steps for a log-normal q on the Gamma–Poisson model (chapter *Natural gradients*).

q = prod_d LogNormal(m_d, s_d^2): log z_d ~ N(m_d, s_d^2) per latent z = (u, v), so every moment of the
reparameterization gradient exists and the ELBO has a closed form (``GammaPoisson.exact_elbo(..., "lognormal")``).
The optimizers work on theta = (m_u, m_v, log s_u, log s_v). The Fisher information of N(m, s^2) in (m, s) is
diag(1/s^2, 2/s^2), in (m, log s) it is diag(1/s^2, 2), so the natural gradient is (s^2 g_m, g_log_s / 2).

The gradient g is the course's reparameterization estimator (:func:`helpers.estimators.reparameterization_terms`,
family ``"lognormal"``) in (m, s), mapped to (m, log s) by the chain rule d/d log s = s d/ds.

Shapes: R independent runs, S draws per step, T iterations. Everything is float64. References: Amari (1998);
Kingma and Ba (2015), *Adam*.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.validation import (
    as_tensor,
    check_betas,
    check_choice,
    check_count,
    check_finite,
    check_generator,
    check_instance,
    check_last_dim,
    check_positive_number,
    check_shape,
)
from helpers.estimators.terms import _reparameterization_terms
from helpers.models.gamma_poisson import GammaPoisson

#: what the four entries of theta are, for the error messages
_THETA = "(m_u, m_v, log s_u, log s_v)"

Q_METHODS = ("gradient", "natural", "adam")


def log_scale_gradient(model: GammaPoisson, theta: Tensor, eps: Tensor) -> Tensor:
    """Reparameterization estimate of grad_theta ELBO, theta = (m_u, m_v, log s_u, log s_v) (..., 4), shape (..., 4).

    eps (..., S, 2) ~ N(0, I) (its batch dimensions broadcast with theta's), z = exp(m + s eps); the mean over S of
    :func:`reparameterization_terms` (family ``"lognormal"``) for (m, s), the scale part times s (d/d log s = s d/ds).
    Per draw and latent: g z + 1 for m and s eps (g z + 1) + 1 for log s, g = grad_z log p(x, z); the tests check
    the mean against autograd of the closed-form ELBO.
    """
    check_instance(model, "model", GammaPoisson, how="build it with helpers.models.GammaPoisson()")
    theta = check_finite(as_tensor(theta, "theta", dtype=torch.float64), "theta")
    check_last_dim(theta, "theta", 4, what=_THETA)
    check_instance(eps, "eps", Tensor)
    if not eps.is_floating_point():
        raise TypeError(f"eps must be a floating tensor of standard normal draws (got dtype {eps.dtype}).")
    try:
        torch.broadcast_shapes(eps.shape[:-2], theta.shape[:-1])
        fits = eps.ndim >= 2 and eps.shape[-1] == 2
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"eps must have shape (..., S, 2) whose batch dimensions (...) broadcast with those of theta "
            f"{tuple(theta.shape[:-1])} (got {tuple(eps.shape)}); draw it with torch.randn((*theta.shape[:-1], S, 2))."
        )
    return _log_scale_gradient(model, theta, check_finite(eps.to(torch.float64), "eps"))


def _log_scale_gradient(model: GammaPoisson, theta: Tensor, eps: Tensor) -> Tensor:
    loc, scale = theta[..., None, :2], torch.exp(theta[..., None, 2:])  # (..., 1, 2)
    d_loc, d_scale = _reparameterization_terms(model, loc, scale, eps, "lognormal")  # (..., S, 2) each
    return torch.cat([d_loc.mean(-2), scale[..., 0, :] * d_scale.mean(-2)], dim=-1)


@dataclass(frozen=True)
class QFit:
    """What :func:`lognormal_q_fit` returns: params (T + 1, R, 4) = (m_u, m_v, log s_u, log s_v) and the exact ELBO
    (T + 1, R) along each of the R runs."""

    params: Tensor
    elbo: Tensor


def lognormal_q_fit(
    model: GammaPoisson,
    init: object,
    num_iters: int,
    num_samples: int,
    step_size: float,
    *,
    method: str = "natural",
    num_runs: int = 1,
    betas: tuple[float, float] = (0.9, 0.999),
    generator: torch.Generator | None = None,
) -> QFit:
    """Stochastic gradient ascent on the ELBO of a log-normal q in theta = (m_u, m_v, log s_u, log s_v), R runs at once.

        gradient: theta <- theta + eps g;
        natural:  theta <- theta + eps F^-1 g, F = diag(1/s^2, 1/s^2, 2, 2) (the Normal's Fisher diag(1/s^2, 2/s^2)
                  in (m, s), times the Jacobian ds/dlog s = s on both sides);
        adam:     ``torch.optim.Adam`` with learning rate eps, ascending;
    g from :func:`log_scale_gradient` with S draws per run and step, eps (R, S, 2) drawn from ``generator`` at every
    step. A run that diverges (too large a step for its noise) is kept, not refused: its params and ELBO become inf
    or NaN from then on, which :func:`helpers.common.first_hit` counts as never reaching a level, so a chapter
    comparing step sizes sees it as a failure.
    """
    check_instance(model, "model", GammaPoisson, how="build it with helpers.models.GammaPoisson()")
    check_choice(method, "method", Q_METHODS)
    t_max = check_count(num_iters, "num_iters")
    s = check_count(num_samples, "num_samples")
    r = check_count(num_runs, "num_runs")
    lr = check_positive_number(step_size, "step_size", example="step_size=0.1")
    betas = check_betas(betas)
    check_generator(generator)
    init_t = check_finite(as_tensor(init, "init", dtype=torch.float64), "init")
    theta = check_shape(init_t, "init", (4,), what=_THETA).expand(r, 4).clone()
    traj = torch.empty((t_max + 1, r, 4), dtype=torch.float64)
    traj[0] = theta
    adam = torch.optim.Adam([theta], lr=lr, betas=betas, eps=1e-8, maximize=True) if method == "adam" else None
    for t in range(1, t_max + 1):
        eps = torch.randn((r, s, 2), dtype=torch.float64, generator=generator)
        g = _log_scale_gradient(model, theta, eps)
        if adam is not None:
            theta.grad = g
            adam.step()
        elif method == "gradient":
            theta += lr * g
        else:
            var = torch.exp(2.0 * theta[:, 2:])
            theta += lr * torch.cat([var * g[:, :2], 0.5 * g[:, 2:]], dim=-1)
        traj[t] = theta
    return QFit(params=traj, elbo=_elbo_trace(model, traj))


def _elbo_trace(model: GammaPoisson, traj: Tensor) -> Tensor:
    """The exact ELBO (T + 1, R) along trajectories (T + 1, R, 4); NaN where a diverged run has left the reals."""
    scale = torch.exp(traj[..., 2:])
    ok = torch.isfinite(traj).all(-1) & (torch.isfinite(scale) & (scale > 0)).all(-1)
    elbo = torch.full(traj.shape[:-1], torch.nan, dtype=torch.float64)
    elbo[ok] = model.exact_elbo(traj[ok][:, :2], scale[ok], family="lognormal")
    return elbo
