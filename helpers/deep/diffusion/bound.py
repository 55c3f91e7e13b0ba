"""The variational bound of a diffusion model (Ho et al. 2020, eq. 5) and its estimators, in one implementation that
serves the exact checks, the training objectives (:mod:`helpers.deep.diffusion.objectives`) and the evaluation.

In nats per datapoint (a negative ELBO: lower is better),

    L = KL(q(x_T | x_0) || p(x_T)) + sum_{t=2}^T E_{q(x_t | x_0)} KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t))
        - E_{q(x_1 | x_0)} log p_theta(x_0 | x_1)  >=  -log p_theta(x_0),

that is L_T + sum_{t>1} L_{t-1} + L_0. A tensor of the T terms holds L_0 at index 0 and L_{t-1} at index t - 1.

The draws are an argument: :func:`_step_terms` maps (network, x_0, t, eps) to one draw of the term at step t, and
:func:`draw_steps` draws (t, eps) for a batch from a generator, the one place the estimators' random numbers are
drawn. A noise predictor is any callable ``eps_model(x_t (..., B, D), t (..., B) int64 in 1..T) -> (..., B, D)``.
Shapes: B batch, D dimension, T steps; the building blocks take leading axes (the replica axis R).

References: Ho, Jain & Abbeel (2020); Nichol & Dhariwal (2021), Improved denoising diffusion probabilistic models
(importance-sampled t).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI
from helpers.common.validation import (
    as_tensor,
    check_batch,
    check_callable,
    check_choice,
    check_count,
    check_generator,
    check_instance,
    check_same_shape,
    check_steps,
)
from helpers.deep.diffusion.forward import diffuse, posterior_moments, reverse_mean
from helpers.deep.diffusion.schedules import SCHEDULE_HOW, VARIANCES, Schedule, at, reverse_variance

EpsModel = Callable[[Tensor, Tensor], Tensor]
_HOW = "pass a noise predictor eps_model(x_t (B, D), t (B,)) -> (B, D)"


def _prior(x0: Tensor, schedule: Schedule) -> Tensor:
    """L_T per datapoint: (..., B, D) -> (..., B)."""
    ab = schedule.alpha_bar[-1].to(device=x0.device, dtype=x0.dtype)
    return 0.5 * (ab * x0**2 - ab - torch.log1p(-ab)).sum(-1)


def _step_terms(eps_model: EpsModel, x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule, variance: str) -> Tensor:
    """One draw of the term at step t per datapoint: (..., B, D), (..., B), (..., B, D) -> (..., B) (see
    :func:`bound_terms`)."""
    xt = diffuse(x0, t, eps, schedule)
    eps_hat = eps_model(xt, t)
    if eps_hat.shape != xt.shape:
        raise ValueError(f"eps_model(x_t, t) must return a tensor of the shape of x_t, {tuple(xt.shape)} "
                         f"(got {tuple(eps_hat.shape)}).")  # fmt: skip
    mu = reverse_mean(eps_hat, xt, t, schedule)
    sigma2 = at(reverse_variance(schedule, variance), t, x0)  # (..., B, 1)
    dim = x0.shape[-1]
    post_mean, post_var = posterior_moments(x0, xt, t, schedule)
    ratio = torch.where(t.unsqueeze(-1) > 1, post_var / sigma2, torch.ones_like(sigma2)).squeeze(-1)  # beta~_1 = 0
    sigma2 = sigma2.squeeze(-1)
    kl = 0.5 * dim * (ratio - 1 - torch.log(ratio)) + ((post_mean - mu) ** 2).sum(-1) / (2 * sigma2)
    nll = 0.5 * dim * (LOG_2PI + torch.log(sigma2)) + ((x0 - mu) ** 2).sum(-1) / (2 * sigma2)
    return torch.where(t > 1, kl, nll)


def draw_steps(x0: Tensor, low: int, high: int, generator: torch.Generator | None, copies: int = 1):
    """t ~ U{low..high} (B,) as int64, then eps ~ N(0, I) of shape (copies * B, D), for one batch x0 (B, D),
    on x0's device and in its dtype (the draws of :func:`simple_loss` and :func:`negative_elbo`). Checks types and
    shapes only (it runs at every training step)."""
    check_batch(x0, "x0")
    check_count(high, "high", minimum=check_count(low, "low"))
    check_count(copies, "copies")
    check_generator(generator)
    t = torch.randint(low, high + 1, x0.shape[:1], generator=generator, device=x0.device)
    eps = torch.randn((copies * x0.shape[0], x0.shape[1]), generator=generator, device=x0.device, dtype=x0.dtype)
    return t, eps


def elbo_estimate(eps_model: EpsModel, x0: Tensor, t: Tensor, eps_first: Tensor, eps_t: Tensor, weight: Tensor | float,
                  schedule: Schedule, variance: str) -> Tensor:  # fmt: skip
    """L_T + L_0(x_0; eps_first) + weight * L_{t-1}(x_0; eps_t), one network call for both terms: (..., B).
    x0, eps_first, eps_t (..., B, D), t (..., B), weight a number or a tensor (..., B). Checks types and shapes only
    (it runs at every training step: the range of t is the caller's to check)."""
    check_callable(eps_model, "eps_model", how=_HOW)
    check_same_shape(eps_first, "eps_first", check_batch(x0, "x0", stacked=True), "x0")
    check_same_shape(eps_t, "eps_t", x0, "x0")
    check_steps(t, shape=x0.shape[:-1])
    check_instance(weight, "weight", (Tensor, float, int), how="e.g. T - 1.0, the uniform estimator's weight")
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    check_choice(variance, "variance", VARIANCES)
    size = x0.shape[-2]
    both = _step_terms(eps_model, torch.cat([x0, x0], -2), torch.cat([torch.ones_like(t), t], -1),
                      torch.cat([eps_first, eps_t], -2), schedule, variance)  # fmt: skip
    return _prior(x0, schedule) + both[..., :size] + weight * both[..., size:]


def simple_values(eps_model: EpsModel, x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """||eps - eps_theta(x_t, t)||^2 per datapoint: x0, eps (..., B, D), t (..., B) -> (..., B). Checks types and
    shapes only (it runs at every training step: the range of t is the caller's to check)."""
    check_callable(eps_model, "eps_model", how=_HOW)
    return ((eps - eps_model(diffuse(x0, t, eps, schedule), t)) ** 2).sum(-1)


def prior_term(x0: Tensor, schedule: Schedule) -> Tensor:
    """L_T = KL(q(x_T | x_0) || N(0, I)) = 1/2 sum_d [abar_T x_0d^2 + (1 - abar_T) - 1 - log(1 - abar_T)]:
    (B, D) -> (B,)."""
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    return _prior(check_batch(x0, "x0", finite=True), schedule)


def bound_terms(
    eps_model: EpsModel, x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule, variance: str = "beta"
) -> Tensor:
    """One draw of the bound's term at step t for each datapoint: x0, eps (B, D), t (B,) in 1..T -> (B,).

    With x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps: for t >= 2, KL(N(mu~_t, beta~_t I) || N(mu_theta, sigma_t^2 I))
    (an unbiased draw of L_{t-1}); for t = 1, -log N(x_0; mu_theta(x_1, 1), sigma_1^2 I) (a draw of L_0).
    """
    check_callable(eps_model, "eps_model", how=_HOW)
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    t = check_steps(t, num_steps=schedule.num_steps)
    reverse_variance(schedule, variance)  # checks variance
    check_batch(x0, "x0", finite=True)
    if x0.shape != getattr(eps, "shape", None) or t.shape != x0.shape[:1]:
        raise ValueError(
            f"x0 and eps must be (B, D) and t (B,) (got {tuple(x0.shape)}, {tuple(getattr(eps, 'shape', ()))}, "
            f"{tuple(t.shape)})."
        )
    return _step_terms(eps_model, x0, t, eps, schedule, variance)


def epsilon_weights(schedule: Schedule, variance: str = "beta") -> tuple[Tensor, Tensor]:
    """lambda_t and c_t (T,) with L_{t-1} = lambda_t E||eps - eps_hat||^2 + D c_t (L_0 at t = 1):
    lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)), c_t = (r - 1 - log r) / 2 with r = beta~_t / sigma_t^2
    for t >= 2 and c_1 = log(2 pi sigma_1^2) / 2 (Ho et al. 2020, eq. 12)."""
    sigma2 = reverse_variance(schedule, variance)
    lam = schedule.betas**2 / (2 * sigma2 * schedule.alphas * (1 - schedule.alpha_bar))
    r = schedule.posterior_variance[1:] / sigma2[1:]
    const = torch.cat([0.5 * (LOG_2PI + torch.log(sigma2[:1])), 0.5 * (r - 1 - torch.log(r))])
    return lam, const


def all_terms(eps_model: EpsModel, x0: Tensor, schedule: Schedule, variance: str = "beta", *,
              generator: torch.Generator | None = None, chunk: int = 200_000) -> Tensor:  # fmt: skip
    """Every term for every datapoint, one eps draw each: x0 (B, D) -> (B, T) (column t - 1: L_0 or L_{t-1}).
    The B * T evaluations are batched (``chunk`` rows of the network at a time), no loop over t."""
    check_generator(generator)
    check_callable(eps_model, "eps_model", how=_HOW)
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    reverse_variance(schedule, variance)
    check_batch(x0, "x0", finite=True)
    chunk = check_count(chunk, "chunk")
    size, T = x0.shape[0], schedule.num_steps
    t = torch.arange(1, T + 1, device=x0.device).repeat(size)  # (B * T,), datapoint-major
    x_rep = x0.repeat_interleave(T, 0)
    eps = torch.randn(x_rep.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    parts = [_step_terms(eps_model, x_rep[i : i + chunk], t[i : i + chunk], eps[i : i + chunk], schedule, variance)
             for i in range(0, len(t), chunk)]  # fmt: skip
    return torch.cat(parts).reshape(size, T)


def negative_elbo(eps_model: EpsModel, x0: Tensor, schedule: Schedule, variance: str = "beta", *,
                  t_probs: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:  # fmt: skip
    """An unbiased estimate of the bound L(x_0) (nats) per datapoint from one sampled step: (B, D) -> (B,).

    L_T in closed form + one draw of L_0 + L_{t-1}(x_0; eps) / p(t) with t ~ p over 2..T: ``t_probs`` (T - 1,) for
    t = 2..T (None: uniform, the estimator (T - 1) L_{t-1}, which is ``-DiffusionELBO(schedule, variance)``). L_0 is
    kept out of the sampled sum because it is large and of the other sign: sampled with probability 1/T it would
    dominate the variance. Importance-sampling t with p(t) proportional to sqrt(E[L_{t-1}^2]) lowers the variance
    further (Nichol & Dhariwal 2021). Draws: t (B,), then eps (2B, D) (the first B rows for L_0).
    """
    check_generator(generator)
    check_callable(eps_model, "eps_model", how=_HOW)
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    reverse_variance(schedule, variance)
    check_batch(x0, "x0", finite=True)
    T, size = schedule.num_steps, x0.shape[0]
    if t_probs is None:
        t, eps = draw_steps(x0, 2, T, generator, copies=2)
        weight = T - 1.0
    else:
        probs = as_tensor(t_probs, "t_probs")
        if probs.shape != (T - 1,) or not bool(torch.isfinite(probs).all()) or bool((probs < 0).any()) \
                or abs(float(probs.sum()) - 1) > 1e-6:  # fmt: skip
            raise ValueError(f"t_probs must be (T - 1,) = ({T - 1},) for t = 2..T, finite, non-negative, summing to 1.")
        probs = probs.to(x0.device)
        t = torch.multinomial(probs.double(), size, replacement=True, generator=generator) + 2
        eps = torch.randn((2 * size, x0.shape[1]), generator=generator, device=x0.device, dtype=x0.dtype)
        weight = 1 / probs.to(x0.dtype)[t - 2]
    return elbo_estimate(eps_model, x0, t, eps[:size], eps[size:], weight, schedule, variance)


def importance_probs(terms: Tensor) -> Tensor:
    """p(t) for t = 2..T proportional to sqrt(E[L_{t-1}^2]) from draws of all the terms, (B, T) -> (T - 1,)
    (Nichol & Dhariwal 2021, eq. 17; column 0, L_0, is not sampled: see :func:`negative_elbo`)."""
    check_instance(terms, "terms", Tensor, how="pass the (B, T) output of diffusion.all_terms")
    if terms.dim() != 2 or terms.shape[0] == 0 or terms.shape[1] < 3:
        raise ValueError(
            f"terms must be (B, T) with B >= 1 and T >= 3, from diffusion.all_terms (got {tuple(terms.shape)})."
        )
    if not bool(torch.isfinite(terms).all()):
        raise ValueError("terms must be finite; it contains NaN or inf.")
    rms = terms[:, 1:].pow(2).mean(0).sqrt()
    if not float(rms.sum()) > 0:
        raise ValueError("terms must not all be zero for t >= 2: p(t) proportional to sqrt(E[L_{t-1}^2]) is undefined.")
    return rms / rms.sum()


def simple_loss(eps_model: EpsModel, x0: Tensor, schedule: Schedule, *,
                generator: torch.Generator | None = None) -> Tensor:  # fmt: skip
    """Ho et al.'s L_simple per datapoint, ||eps - eps_theta(x_t, t)||^2 at t ~ U{1..T}: (B, D) -> (B,); the same
    draws and values as ``-SimpleLoss(schedule)``. Draws: t (B,), then eps (B, D)."""
    check_generator(generator)
    check_callable(eps_model, "eps_model", how=_HOW)
    check_instance(schedule, "schedule", Schedule, how=SCHEDULE_HOW)
    check_batch(x0, "x0", finite=True)
    t, eps = draw_steps(x0, 1, schedule.num_steps, generator)
    return simple_values(eps_model, x0, t, eps, schedule)
