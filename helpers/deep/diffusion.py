"""The variational bound of a denoising diffusion model (Ho et al. 2020, eq. 5), in one implementation that serves
the exact checks, the training and the evaluation of the chapter *The ELBO of a diffusion model*.

Forward process (a Markov chain, not a mean-field family): q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
t = 1..T, so q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) with abar_t = prod_{s<=t} (1 - beta_s). Reverse model:
p(x_T) = N(0, I), p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I) with the epsilon-parameterization
mu_theta = (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(alpha_t). The bound (in nats, per datapoint)

    L = KL(q(x_T | x_0) || p(x_T)) + sum_{t=2}^T E_{q(x_t | x_0)} KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t))
        - E_{q(x_1 | x_0)} log p_theta(x_0 | x_1)  >=  -log p_theta(x_0)

is L_T + sum_{t>1} L_{t-1} + L_0. Time steps are 1-indexed as in the paper: ``t`` in 1..T, and arrays of length T
hold step t at index t - 1 (``terms[..., 0]`` is L_0, ``terms[..., t - 1]`` is L_{t-1} for t >= 2).

Shapes: B batch (datapoints), D data dimension, T time steps, S draws. A noise predictor is any callable
``eps_model(x_t (B, D), t (B,) int64 in 1..T) -> (B, D)``.

References: Ho, Jain & Abbeel (2020), Denoising diffusion probabilistic models; Kingma, Salimans, Poole & Ho (2021),
Variational diffusion models; Nichol & Dhariwal (2021), Improved denoising diffusion probabilistic models
(importance-sampled t).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from helpers.common.validation import (
    as_real_tensor,
    as_tensor,
    check_callable,
    check_choice,
    check_count,
    check_finite,
    check_generator,
    check_instance,
    check_positive,
    check_positive_number,
    check_real,
)

EpsModel = Callable[[Tensor, Tensor], Tensor]
VARIANCES = ("beta", "posterior", "posterior-clipped")
LOG_2PI = math.log(2 * math.pi)


# ----------------------------------------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class Schedule:
    """A noise schedule beta_1..beta_T and the quantities derived from it (all float tensors of shape (T,)).

    ``alpha_bar[t-1]`` = abar_t = prod_{s<=t} (1 - beta_s); ``alpha_bar_prev[t-1]`` = abar_{t-1} (abar_0 = 1);
    ``posterior_variance[t-1]`` = beta~_t = beta_t (1 - abar_{t-1}) / (1 - abar_t) (zero at t = 1);
    ``coef_x0``, ``coef_xt``: the posterior mean mu~_t = coef_x0 x_0 + coef_xt x_t (Ho et al. 2020, eq. 7).
    """

    betas: Tensor

    def __post_init__(self) -> None:
        betas = check_finite(as_real_tensor(self.betas, "betas"), "betas")
        if betas.dim() != 1 or len(betas) < 2:
            raise ValueError(f"betas must be a 1-D tensor of T >= 2 noise levels (got shape {tuple(betas.shape)}).")
        if not ((betas > 0) & (betas < 1)).all():
            raise ValueError("betas must lie in (0, 1); e.g. diffusion.linear_betas(1000) goes from 1e-4 to 0.02.")
        object.__setattr__(self, "betas", betas)

    @classmethod
    def from_alpha_bar(cls, alpha_bar: Tensor) -> Schedule:
        """The schedule with the given abar_1 > ... > abar_T in (0, 1): beta_t = 1 - abar_t / abar_{t-1}."""
        alpha_bar = check_finite(as_real_tensor(alpha_bar, "alpha_bar"), "alpha_bar")
        prev = torch.cat([torch.ones_like(alpha_bar[:1]), alpha_bar[:-1]])
        if not ((alpha_bar > 0) & (alpha_bar < prev)).all():
            raise ValueError("alpha_bar must be strictly decreasing in (0, 1) (it is the signal kept after t steps).")
        return cls(1 - alpha_bar / prev)

    @property
    def num_steps(self) -> int:
        return len(self.betas)

    @property
    def alphas(self) -> Tensor:
        return 1 - self.betas

    @property
    def alpha_bar(self) -> Tensor:
        return torch.cumprod(self.alphas, 0)

    @property
    def alpha_bar_prev(self) -> Tensor:
        return torch.cat([torch.ones_like(self.betas[:1]), self.alpha_bar[:-1]])

    @property
    def posterior_variance(self) -> Tensor:
        return self.betas * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)

    @property
    def coef_x0(self) -> Tensor:
        return self.alpha_bar_prev.sqrt() * self.betas / (1 - self.alpha_bar)

    @property
    def coef_xt(self) -> Tensor:
        return self.alphas.sqrt() * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)

    @property
    def log_snr(self) -> Tensor:
        """log SNR_t = log(abar_t / (1 - abar_t)) (Kingma et al. 2021: SNR = alpha^2 / sigma^2, gamma = -log SNR)."""
        return torch.log(self.alpha_bar) - torch.log1p(-self.alpha_bar)


def linear_betas(num_steps: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02, dtype=torch.float64) -> Tensor:
    """beta_t linear from ``beta_1`` to ``beta_T`` over t = 1..T (Ho et al. 2020: T = 1000, 1e-4 to 0.02): (T,)."""
    num_steps = check_count(num_steps, "num_steps", minimum=2)
    lo, hi = check_positive_number(beta_1, "beta_1"), check_positive_number(beta_T, "beta_T")
    if not (lo < 1 and hi < 1):
        raise ValueError(f"beta_1 and beta_T must be below 1 (got {beta_1}, {beta_T}).")
    return torch.linspace(lo, hi, num_steps, dtype=dtype)


def linear_schedule(num_steps: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> Schedule:
    """The :class:`Schedule` of :func:`linear_betas` (float64)."""
    return Schedule(linear_betas(num_steps, beta_1, beta_T))


def log_snr_schedule(num_steps: int, gamma_min: float = -13.3, gamma_max: float = 5.0) -> Schedule:
    """T steps on a linear gamma(tau) = -log SNR(tau) = gamma_min + (gamma_max - gamma_min) tau, tau in [0, 1]:
    abar_t = sigmoid(-gamma(tau_t)) at tau_t = (t - 1) / (T - 1), so abar_1 and abar_T do not depend on T and a
    larger T only refines the grid in between (Kingma et al. 2021, section 3: their default gamma range)."""
    num_steps = check_count(num_steps, "num_steps", minimum=3)
    check_real(gamma_min, "gamma_min", hint="e.g. gamma_min=-13.3")
    check_real(gamma_max, "gamma_max", hint="e.g. gamma_max=5.0")
    if not gamma_min < gamma_max:
        raise ValueError(f"gamma_min must be below gamma_max (got {gamma_min}, {gamma_max}).")
    tau = torch.linspace(0, 1, num_steps, dtype=torch.float64)
    return Schedule.from_alpha_bar(torch.sigmoid(-(gamma_min + (gamma_max - gamma_min) * tau)))


def reverse_variance(schedule: Schedule, variance: str = "beta") -> Tensor:
    """The reverse variances sigma_t^2, (T,): ``"beta"``: sigma_t^2 = beta_t; ``"posterior"``: beta~_t for t >= 2
    and beta_1 at t = 1 (beta~_1 = 0 would make L_0 infinite); ``"posterior-clipped"``: beta~_t, with beta~_2 at
    t = 1 (what Ho et al.'s released code uses, ``posterior_log_variance_clipped``)."""
    _check_schedule(schedule)
    check_choice(variance, "variance", VARIANCES)
    if variance == "beta":
        return schedule.betas
    post = schedule.posterior_variance
    first = schedule.betas[:1] if variance == "posterior" else post[1:2]
    return torch.cat([first, post[1:]])


def _check_schedule(schedule: object) -> Schedule:
    return check_instance(  # type: ignore[return-value]
        schedule, "schedule", Schedule, how="build it with diffusion.linear_schedule(1000) or diffusion.Schedule(betas)"
    )


def _check_batch(x: object, name: str, *, finite: bool = False) -> Tensor:
    """x as given: a floating tensor (B, D); TypeError for another type, ValueError for another shape (or NaN/inf)."""
    tensor: Tensor = check_instance(x, name, Tensor, how="convert it with torch.as_tensor(...)")  # type: ignore[assignment]
    if tensor.dim() != 2 or not tensor.is_floating_point():
        raise ValueError(
            f"{name} must be a floating tensor (B, D), one row per datapoint (got {tensor.dtype} of shape "
            f"{tuple(tensor.shape)}); a single point is x[None]."
        )
    return check_finite(tensor, name) if finite else tensor


def _check_like(value: object, name: str, x0: Tensor, x0_name: str) -> Tensor:
    tensor: Tensor = check_instance(value, name, Tensor, how="convert it with torch.as_tensor(...)")  # type: ignore[assignment]
    if tensor.shape != x0.shape:
        raise ValueError(
            f"{name} must have the shape of {x0_name}, {tuple(x0.shape)} (got {tuple(tensor.shape)}): it would "
            "broadcast into a wrong answer."
        )
    return tensor


def _check_t_for(t: object, x0: Tensor, schedule: Schedule) -> Tensor:
    t = _check_t(t, schedule)  # type: ignore[arg-type]
    if t.shape != x0.shape[:1]:
        raise ValueError(f"t must have shape (B,) = {tuple(x0.shape[:1])}, one step per row (got {tuple(t.shape)}).")
    return t


def _check_t(t: Tensor, schedule: Schedule) -> Tensor:
    _check_schedule(schedule)
    if not isinstance(t, Tensor) or t.dtype not in (torch.int32, torch.int64):
        raise TypeError("t must be an integer tensor of time steps in 1..T (e.g. torch.randint(1, T + 1, (B,))).")
    if t.numel() and (int(t.min()) < 1 or int(t.max()) > schedule.num_steps):
        raise ValueError(f"t must lie in 1..T = 1..{schedule.num_steps} (got {int(t.min())}..{int(t.max())}).")
    return t.long()


def _at(values: Tensor, t: Tensor, like: Tensor) -> Tensor:
    """values[t - 1] as a column (B, 1) in the dtype of ``like``."""
    return values.to(like.dtype)[t - 1].unsqueeze(-1)


# ------------------------------------------------------------------------------------------ the forward process
def q_sample(x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule) -> Tensor:
    """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, a draw of q(x_t | x_0): x0, eps (B, D), t (B,) -> (B, D)."""
    _check_schedule(schedule)
    _check_like(eps, "eps", _check_batch(x0, "x0"), "x0")
    t = _check_t_for(t, x0, schedule)
    ab = _at(schedule.alpha_bar, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def posterior(x0: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> tuple[Tensor, Tensor]:
    """q(x_{t-1} | x_t, x_0) = N(mu~_t, beta~_t I) (Ho et al. 2020, eqs. 6-7): (B, D), (B, D), (B,) ->
    mean (B, D), variance (B, 1)."""
    _check_schedule(schedule)
    _check_like(xt, "xt", _check_batch(x0, "x0"), "x0")
    t = _check_t_for(t, x0, schedule)
    mean = _at(schedule.coef_x0, t, x0) * x0 + _at(schedule.coef_xt, t, x0) * xt
    return mean, _at(schedule.posterior_variance, t, x0)


def condition_gaussian(mean: Tensor, cov: Tensor, observed: list[int], value: Tensor) -> tuple[Tensor, Tensor]:
    """The conditional of a joint Gaussian N(mean, cov) (n,), (n, n) on the coordinates ``observed`` = ``value``:
    mean_a + C_ab C_bb^{-1} (value - mean_b) and C_aa - C_ab C_bb^{-1} C_ba over the other coordinates a."""
    mean, cov, value = as_real_tensor(mean, "mean"), as_real_tensor(cov, "cov"), as_real_tensor(value, "value")
    check_instance(observed, "observed", (list, tuple), how="pass a list of coordinates such as [1]")
    n = len(mean)
    if cov.shape != (n, n):
        raise ValueError(f"cov must have shape ({n}, {n}) to match mean (got {tuple(cov.shape)}).")
    if not observed or len(set(observed)) != len(observed) or not all(0 <= i < n for i in observed):
        raise ValueError(f"observed must list distinct coordinates in 0..{n - 1} (got {observed}).")
    if value.shape != (len(observed),):
        raise ValueError(
            f"value must have shape ({len(observed)},), one per observed coordinate (got {tuple(value.shape)})."
        )
    rest = [i for i in range(n) if i not in observed]
    c_ab, c_bb = cov[rest][:, observed], cov[observed][:, observed]
    gain = torch.linalg.solve(c_bb, c_ab.T).T  # C_ab C_bb^{-1}
    return mean[rest] + gain @ (value - mean[observed]), cov[rest][:, rest] - gain @ c_ab.T


# --------------------------------------------------------------------------------------------- the bound's terms
def model_mean(eps_hat: Tensor, xt: Tensor, t: Tensor, schedule: Schedule) -> Tensor:
    """mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - abar_t) eps_hat) / sqrt(alpha_t) (Ho et al. 2020, eq. 11)."""
    _check_schedule(schedule)
    _check_like(eps_hat, "eps_hat", _check_batch(xt, "xt"), "xt")
    t = _check_t_for(t, xt, schedule)
    return (xt - _at(schedule.betas, t, xt) / _at(1 - schedule.alpha_bar, t, xt).sqrt() * eps_hat) / _at(
        schedule.alphas, t, xt
    ).sqrt()


def prior_term(x0: Tensor, schedule: Schedule) -> Tensor:
    """L_T = KL(q(x_T | x_0) || N(0, I)) = 1/2 sum_d [abar_T x_0d^2 + (1 - abar_T) - 1 - log(1 - abar_T)]:
    (B, D) -> (B,)."""
    _check_schedule(schedule)
    _check_batch(x0, "x0", finite=True)
    ab = schedule.alpha_bar[-1].to(x0.dtype)
    return 0.5 * (ab * x0**2 - ab - torch.log1p(-ab)).sum(-1)


def bound_terms(
    eps_model: EpsModel, x0: Tensor, t: Tensor, eps: Tensor, schedule: Schedule, variance: str = "beta"
) -> Tensor:
    """One draw of the bound's term at step t for each datapoint: x0, eps (B, D), t (B,) in 1..T -> (B,).

    With x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps: for t >= 2, KL(N(mu~_t, beta~_t I) || N(mu_theta, sigma_t^2 I))
    (an unbiased draw of L_{t-1}); for t = 1, -log N(x_0; mu_theta(x_1, 1), sigma_1^2 I) (a draw of L_0).
    """
    check_callable(eps_model, "eps_model", how="pass a noise predictor eps_model(x_t (B, D), t (B,)) -> (B, D)")
    _check_schedule(schedule)
    t = _check_t(t, schedule)
    _check_batch(x0, "x0", finite=True)
    if x0.shape != getattr(eps, "shape", None) or t.shape != x0.shape[:1]:
        raise ValueError(
            f"x0 and eps must be (B, D) and t (B,) (got {tuple(x0.shape)}, {tuple(getattr(eps, 'shape', ()))}, "
            f"{tuple(t.shape)})."
        )
    xt = q_sample(x0, t, eps, schedule)
    eps_hat = eps_model(xt, t)
    if getattr(eps_hat, "shape", None) != xt.shape:
        raise ValueError(
            f"eps_model(x_t, t) must return a tensor of the shape of x_t, {tuple(xt.shape)} "
            f"(got {tuple(getattr(eps_hat, 'shape', ())) if isinstance(eps_hat, Tensor) else type(eps_hat).__name__})."
        )
    mu = model_mean(eps_hat, xt, t, schedule)
    sigma2 = _at(reverse_variance(schedule, variance), t, x0)  # (B, 1)
    dim = x0.shape[-1]
    post_mean, post_var = posterior(x0, xt, t, schedule)
    ratio = torch.where(t.unsqueeze(-1) > 1, post_var / sigma2, torch.ones_like(sigma2))  # guard beta~_1 = 0
    kl = 0.5 * dim * (ratio - 1 - torch.log(ratio)).squeeze(-1) + ((post_mean - mu) ** 2).sum(-1) / (
        2 * sigma2.squeeze(-1)
    )
    nll = 0.5 * dim * (LOG_2PI + torch.log(sigma2)).squeeze(-1) + ((x0 - mu) ** 2).sum(-1) / (2 * sigma2.squeeze(-1))
    return torch.where(t > 1, kl, nll)


def epsilon_weights(schedule: Schedule, variance: str = "beta") -> tuple[Tensor, Tensor]:
    """lambda_t and c_t (T,) with L_{t-1} = lambda_t E||eps - eps_hat||^2 + D c_t (L_0 at t = 1):
    lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)), c_t = (r - 1 - log r) / 2 with r = beta~_t / sigma_t^2
    for t >= 2 and c_1 = log(2 pi sigma_1^2) / 2 (Ho et al. 2020, eq. 12)."""
    _check_schedule(schedule)
    sigma2 = reverse_variance(schedule, variance)
    lam = schedule.betas**2 / (2 * sigma2 * schedule.alphas * (1 - schedule.alpha_bar))
    r = schedule.posterior_variance[1:] / sigma2[1:]
    const = torch.cat([0.5 * (LOG_2PI + torch.log(sigma2[:1])), 0.5 * (r - 1 - torch.log(r))])
    return lam, const


def all_terms(
    eps_model: EpsModel,
    x0: Tensor,
    schedule: Schedule,
    variance: str = "beta",
    *,
    generator: torch.Generator | None = None,
    chunk: int = 200_000,
) -> Tensor:
    """Every term for every datapoint, one eps draw each: x0 (B, D) -> (B, T) (column t - 1: L_0 or L_{t-1}).
    The B * T evaluations are batched (``chunk`` rows of the network at a time), no loop over t."""
    check_generator(generator)
    check_callable(eps_model, "eps_model", how="pass a noise predictor eps_model(x_t (B, D), t (B,)) -> (B, D)")
    _check_schedule(schedule)
    _check_batch(x0, "x0", finite=True)
    chunk = check_count(chunk, "chunk")
    bsz, dim = x0.shape
    T = schedule.num_steps
    t = torch.arange(1, T + 1).repeat(bsz)  # (B * T,), datapoint-major
    x_rep = x0.repeat_interleave(T, 0)
    eps = torch.randn(x_rep.shape, generator=generator, dtype=x0.dtype)
    out = torch.cat(
        [
            bound_terms(eps_model, x_rep[i : i + chunk], t[i : i + chunk], eps[i : i + chunk], schedule, variance)
            for i in range(0, len(t), chunk)
        ]
    )
    return out.reshape(bsz, T)


def negative_elbo(
    eps_model: EpsModel,
    x0: Tensor,
    schedule: Schedule,
    variance: str = "beta",
    *,
    t_probs: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """An unbiased estimate of the bound L(x_0) (nats) per datapoint from one sampled step: (B, D) -> (B,).

    L_T in closed form + one draw of L_0 + L_{t-1}(x_0; eps) / p(t) with t ~ p over 2..T: ``t_probs`` (T - 1,) for
    t = 2..T (None: uniform, the estimator (T - 1) L_{t-1}). L_0 is kept out of the sampled sum because it is
    large and of the other sign: sampled with probability 1/T it would dominate the variance. Importance-sampling t
    with p(t) proportional to sqrt(E[L_{t-1}^2]) lowers the variance further (Nichol & Dhariwal 2021).
    """
    check_generator(generator)
    check_callable(eps_model, "eps_model", how="pass a noise predictor eps_model(x_t (B, D), t (B,)) -> (B, D)")
    _check_schedule(schedule)
    _check_batch(x0, "x0", finite=True)
    T = schedule.num_steps
    if t_probs is None:
        probs = torch.full((T - 1,), 1.0 / (T - 1), dtype=torch.float64)
    else:
        probs = check_finite(as_real_tensor(t_probs, "t_probs"), "t_probs")
    if probs.shape != (T - 1,) or (probs < 0).any() or abs(float(probs.sum()) - 1) > 1e-6:
        raise ValueError(f"t_probs must be (T - 1,) = ({T - 1},) for t = 2..T, non-negative, summing to 1.")
    bsz = x0.shape[0]
    t = torch.multinomial(probs.double(), bsz, replacement=True, generator=generator) + 2
    t_all = torch.cat([torch.ones(bsz, dtype=torch.long), t])  # L_0 and the sampled step in one network call
    eps = torch.randn((2 * bsz, *x0.shape[1:]), generator=generator, dtype=x0.dtype)
    terms = bound_terms(eps_model, torch.cat([x0, x0]), t_all, eps, schedule, variance)
    return prior_term(x0, schedule) + terms[:bsz] + terms[bsz:] / probs.to(x0.dtype)[t - 2]


def importance_probs(terms: Tensor) -> Tensor:
    """p(t) for t = 2..T proportional to sqrt(E[L_{t-1}^2]) from draws of all the terms, (B, T) -> (T - 1,)
    (Nichol & Dhariwal 2021, eq. 17; column 0, L_0, is not sampled: see :func:`negative_elbo`)."""
    check_instance(terms, "terms", Tensor, how="pass the (B, T) output of diffusion.all_terms")
    check_finite(terms, "terms")
    if terms.dim() != 2 or terms.shape[0] == 0 or terms.shape[1] < 3:
        raise ValueError(
            f"terms must be (B, T) with B >= 1 and T >= 3, from diffusion.all_terms (got {tuple(terms.shape)})."
        )
    rms = terms[:, 1:].pow(2).mean(0).sqrt()
    if not float(rms.sum()) > 0:
        raise ValueError("terms must not all be zero for t >= 2: p(t) proportional to sqrt(E[L_{t-1}^2]) is undefined.")
    return rms / rms.sum()


def simple_loss(
    eps_model: EpsModel, x0: Tensor, schedule: Schedule, *, generator: torch.Generator | None = None
) -> Tensor:
    """Ho et al.'s L_simple per datapoint, ||eps - eps_theta(x_t, t)||^2 at t ~ U{1..T}: (B, D) -> (B,)."""
    check_generator(generator)
    check_callable(eps_model, "eps_model", how="pass a noise predictor eps_model(x_t (B, D), t (B,)) -> (B, D)")
    _check_schedule(schedule)
    _check_batch(x0, "x0")
    t = torch.randint(1, schedule.num_steps + 1, (x0.shape[0],), generator=generator)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    return ((eps - eps_model(q_sample(x0, t, eps, schedule), t)) ** 2).sum(-1)


# ------------------------------------------------------------------------------- exact references: Gaussian data
def gaussian_posterior_x0(
    xt: Tensor, t: Tensor, mean: Tensor, std: Tensor, schedule: Schedule
) -> tuple[Tensor, Tensor]:
    """E[x_0 | x_t] and Var(x_0 | x_t) for data x_0 ~ N(mean, diag(std^2)): (B, D), (B,) -> (B, D), (B, D)."""
    t = _check_t(t, schedule)
    mean, std = _check_mean_std(mean, std)
    ab = _at(schedule.alpha_bar, t, xt)
    s2 = std.to(xt.dtype) ** 2
    gain = ab.sqrt() * s2 / (ab * s2 + 1 - ab)
    return mean + gain * (xt - ab.sqrt() * mean), s2 * (1 - ab) / (ab * s2 + 1 - ab)


def _check_mean_std(mean: object, std: object) -> tuple[Tensor, Tensor]:
    """mean finite and std finite and > 0, as tensors (dtype kept), of shapes that broadcast."""
    mean_t = check_finite(as_real_tensor(mean, "mean"), "mean")
    std_t = check_positive(as_real_tensor(std, "std"), "std", hint="std is a standard deviation; pass values > 0")
    try:
        torch.broadcast_shapes(mean_t.shape, std_t.shape)
    except RuntimeError:
        raise ValueError(
            f"mean and std must have shapes that broadcast (got {tuple(mean_t.shape)} and {tuple(std_t.shape)})."
        ) from None
    return mean_t, std_t


def gaussian_optimal_eps(mean: object, std: object, schedule: Schedule) -> EpsModel:
    """The Bayes-optimal noise predictor E[eps | x_t] for data N(mean, diag(std^2)), (D,) each: a callable
    eps_model(x_t, t) = (x_t - sqrt(abar_t) E[x_0 | x_t]) / sqrt(1 - abar_t)."""
    _check_schedule(schedule)
    mean, std = _check_mean_std(mean, std)

    def eps_model(xt: Tensor, t: Tensor) -> Tensor:
        x0_hat, _ = gaussian_posterior_x0(xt, t, mean, std, schedule)
        ab = _at(schedule.alpha_bar, t, xt)
        return (xt - ab.sqrt() * x0_hat) / (1 - ab).sqrt()

    return eps_model


def gaussian_bound(mean: object, std: object, schedule: Schedule, variance: str = "beta") -> tuple[Tensor, Tensor]:
    """Every term of the bound in closed form for data x_0 ~ N(mean, diag(std^2)) (D,) and the optimal model:
    returns L_T (scalar) and the terms (T,) (index 0: L_0, index t - 1: L_{t-1}), each E over the data, in nats.

    L_{t-1} = sum_d [ (r - 1 - log r) / 2 + coef_x0^2 Var(x_0d | x_t) / (2 sigma_t^2) ], r = beta~_t / sigma_t^2;
    L_0 = sum_d [ log(2 pi sigma_1^2) / 2 + Var(x_0d | x_1) / (2 sigma_1^2) ]; Var(x_0d | x_t) = s^2 (1 - abar_t) /
    (abar_t s^2 + 1 - abar_t); L_T = sum_d [abar_T (m^2 + s^2) - abar_T - log(1 - abar_T)] / 2."""
    _check_schedule(schedule)
    mean, std = _check_mean_std(mean, std)
    if mean.numel() != std.numel() and min(mean.numel(), std.numel()) != 1:
        raise ValueError(f"mean and std must have one entry per coordinate (got {mean.numel()} and {std.numel()}).")
    mean, std = mean.reshape(-1), std.reshape(-1)
    ab, s2 = schedule.alpha_bar.unsqueeze(-1), std.double() ** 2  # (T, 1), (D,)
    var_x0 = s2 * (1 - ab) / (ab * s2 + 1 - ab)  # (T, D)
    lam, const = epsilon_weights(schedule, variance)
    sigma2 = reverse_variance(schedule, variance).unsqueeze(-1)
    quad = torch.cat(
        [var_x0[:1] / (2 * sigma2[:1]), schedule.coef_x0[1:].unsqueeze(-1) ** 2 * var_x0[1:] / (2 * sigma2[1:])]
    )
    terms = quad.sum(-1) + len(s2) * const
    prior = 0.5 * (ab[-1] * (mean.double() ** 2 + s2) - ab[-1] - torch.log1p(-ab[-1])).sum()
    return prior, terms


def gaussian_model_nll(mean: object, std: object, schedule: Schedule, variance: str = "beta") -> Tensor:
    """The exact E_data[-log p_theta(x_0)] (nats) of the optimal model for data N(mean, diag(std^2)): the reverse
    chain is linear-Gaussian, x_{t-1} = A_t x_t + b_t + sigma_t z, so p_theta(x_0) = N(M, V) per coordinate with
    M, V from the recursion M <- A M + b, V <- A^2 V + sigma^2 from (M, V) = (0, 1) at t = T."""
    _check_schedule(schedule)
    check_choice(variance, "variance", VARIANCES)
    mean_t, std_t = _check_mean_std(mean, std)
    mean, std = mean_t.reshape(-1).double(), std_t.reshape(-1).double()
    ab, s2 = schedule.alpha_bar, std**2
    gain = ab.sqrt().unsqueeze(-1) * s2 / (ab.unsqueeze(-1) * s2 + 1 - ab.unsqueeze(-1))  # (T, D)
    c0 = torch.cat([torch.ones(1, dtype=ab.dtype), schedule.coef_x0[1:]]).unsqueeze(-1)  # mu_theta(x_1) = E[x_0 | x_1]
    ct = torch.cat([torch.zeros(1, dtype=ab.dtype), schedule.coef_xt[1:]]).unsqueeze(-1)
    A = c0 * gain + ct
    b = c0 * (mean - gain * ab.sqrt().unsqueeze(-1) * mean)
    sigma2 = reverse_variance(schedule, variance).unsqueeze(-1)
    M, V = torch.zeros_like(mean), torch.ones_like(mean)
    for i in reversed(range(schedule.num_steps)):  # T affine maps of two numbers per coordinate
        M, V = A[i] * M + b[i], A[i] ** 2 * V + sigma2[i]
    return (0.5 * (LOG_2PI + torch.log(V)) + ((mean - M) ** 2 + s2) / (2 * V)).sum()


def gaussian_diffusion_loss_continuous(std: object, log_snr_max: float, log_snr_min: float) -> Tensor:
    """The continuous-time diffusion loss 1/2 int gamma'(tau) E||eps - eps_hat||^2 dtau of the optimal model for data
    with per-coordinate std s, between SNR_max = e^{log_snr_max} and SNR_min (Kingma et al. 2021, eq. 17): the
    integrand is -SNR'(tau) mmse / 2 with mmse = s^2 / (1 + SNR s^2), so it is sum_d log((1 + SNR_max s^2) /
    (1 + SNR_min s^2)) / 2, whatever the schedule in between."""
    s2 = check_positive(as_real_tensor(std, "std"), "std").reshape(-1).double() ** 2
    check_real(log_snr_max, "log_snr_max", hint="e.g. float(schedule.log_snr[0])")
    check_real(log_snr_min, "log_snr_min", hint="e.g. float(schedule.log_snr[-1])")
    if not log_snr_max > log_snr_min:
        raise ValueError(
            f"log_snr_max must be above log_snr_min (got {log_snr_max} and {log_snr_min}): the SNR falls from "
            "the first step to the last."
        )
    return 0.5 * (torch.log1p(math.exp(log_snr_max) * s2) - torch.log1p(math.exp(log_snr_min) * s2)).sum()


# --------------------------------------------------------------------- exact references: a Gaussian mixture
class GaussianMixture:
    """x_0 ~ sum_k w_k N(m_k, s_k^2 I): weights (K,), means (K, D), stds (K,). Its noisy marginals q(x_t) are the
    mixtures sum_k w_k N(sqrt(abar) m_k, (abar s_k^2 + 1 - abar) I), so the optimal denoiser E[x_0 | x_t] and the exact
    log-density are computable: the bound of the optimal model is a ceiling for any trained network."""

    def __init__(self, weights: object, means: object, stds: object) -> None:
        self.weights = check_positive(as_tensor(weights, "weights"), "weights")
        self.means = check_finite(as_tensor(means, "means"), "means")
        self.stds = check_positive(as_tensor(stds, "stds"), "stds")
        K = len(self.weights)
        if self.means.dim() != 2 or len(self.means) != K or self.stds.shape != (K,):
            raise ValueError(f"means must be (K, D) and stds (K,) with K = len(weights) = {K}.")
        if abs(float(self.weights.sum()) - 1) > 1e-8:
            raise ValueError(f"weights must sum to 1 (got {float(self.weights.sum())}).")

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, num: int, *, generator: torch.Generator | None = None) -> Tensor:
        """num draws (num, D)."""
        num = check_count(num, "num")
        check_generator(generator)
        k = torch.multinomial(self.weights, num, replacement=True, generator=generator)
        return self.means[k] + self.stds[k, None] * torch.randn(
            (num, self.dim), generator=generator, dtype=self.means.dtype
        )

    def _components(self, x: Tensor, alpha_bar: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """log w_k N(x; sqrt(ab) m_k, v_k I) (B, K), the component means sqrt(ab) m_k (B, K, D) and v_k (B, K)."""
        ab = alpha_bar.to(x.dtype).reshape(-1, 1)  # (B or 1, 1)
        v = ab * self.stds**2 + 1 - ab  # (B, K)
        loc = ab.sqrt().unsqueeze(-1) * self.means  # (B, K, D)
        sq = ((x.unsqueeze(-2) - loc) ** 2).sum(-1)
        return torch.log(self.weights) - 0.5 * self.dim * (LOG_2PI + torch.log(v)) - sq / (2 * v), loc, v

    def log_prob(self, x: Tensor, alpha_bar: Tensor | float = 1.0) -> Tensor:
        """log q(x_t) at x (B, D) for the noise level abar (scalar or (B,)); abar = 1: the data density. -> (B,)."""
        if _check_batch(x, "x").shape[1] != self.dim:
            raise ValueError(f"x must have D = {self.dim} columns, the mixture's dimension (got {tuple(x.shape)}).")
        return torch.logsumexp(self._components(x, torch.as_tensor(alpha_bar, dtype=x.dtype))[0], -1)

    def posterior_mean(self, xt: Tensor, alpha_bar: Tensor) -> Tensor:
        """E[x_0 | x_t] = sum_k r_k(x_t) (m_k + sqrt(ab) s_k^2 / v_k (x_t - sqrt(ab) m_k)), r_k the responsibilities."""
        log_c, loc, v = self._components(xt, alpha_bar)
        r = torch.softmax(log_c, -1)  # (B, K)
        ab = alpha_bar.to(xt.dtype).reshape(-1, 1, 1)
        comp = self.means + (ab.sqrt() * self.stds[:, None] ** 2 / v.unsqueeze(-1)) * (xt.unsqueeze(-2) - loc)
        return (r.unsqueeze(-1) * comp).sum(-2)

    def optimal_eps(self, schedule: Schedule) -> EpsModel:
        """The Bayes-optimal noise predictor E[eps | x_t] = (x_t - sqrt(abar_t) E[x_0 | x_t]) / sqrt(1 - abar_t)."""

        def eps_model(xt: Tensor, t: Tensor) -> Tensor:
            ab = schedule.alpha_bar.to(xt.dtype)[_check_t(t, schedule) - 1]
            return (xt - ab.sqrt().unsqueeze(-1) * self.posterior_mean(xt, ab)) / (1 - ab).sqrt().unsqueeze(-1)

        return eps_model


# ------------------------------------------------------------------------------------- the network, training, sampling
class NoiseMLP(nn.Module):
    """eps_theta(x_t, t): an MLP on [x_t, sinusoidal embedding of t / T] (Vaswani et al.'s features, as in Ho et al.):
    x (B, D), t (B,) int in 1..T -> (B, D). With ``generator``, the weights and biases are drawn from it
    (U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the scale of PyTorch's default) instead of the global generator."""

    def __init__(
        self,
        dim: int,
        num_steps: int,
        hidden: int = 128,
        depth: int = 3,
        embed_dim: int = 32,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        check_generator(generator)
        self.dim, self.num_steps = check_count(dim, "dim"), check_count(num_steps, "num_steps")
        hidden, depth, embed_dim = (
            check_count(hidden, "hidden"),
            check_count(depth, "depth"),
            check_count(embed_dim, "embed_dim", minimum=2),
        )
        self.register_buffer("freqs", torch.exp(-math.log(1000.0) * torch.arange(embed_dim // 2) / (embed_dim // 2)))
        layers: list[nn.Module] = []
        width = dim + 2 * (embed_dim // 2)
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*layers)
        if generator is not None:
            with torch.no_grad():
                for layer in self.net:
                    if isinstance(layer, nn.Linear):
                        bound = 1 / math.sqrt(layer.in_features)
                        for param in (layer.weight, layer.bias):
                            param.copy_((2 * torch.rand(param.shape, generator=generator) - 1) * bound)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        angle = (t.to(x.dtype) / self.num_steps * 1000.0).unsqueeze(-1) * self.freqs.to(x.dtype)
        return self.net(torch.cat([x, torch.sin(angle), torch.cos(angle)], -1))


def train_noise_model(
    model: nn.Module,
    x_train: Tensor,
    schedule: Schedule,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    loss: str = "simple",
    variance: str = "beta",
    generator: torch.Generator | None = None,
) -> list[float]:
    """Adam on minibatches of ``x_train`` (N, D), one t ~ U{1..T} per example (vectorized over t): ``loss="simple"``
    minimizes E||eps - eps_theta||^2, ``"elbo"`` the bound's terms T * term(t) (+ L_T, constant in theta).
    The learning rate decays linearly to 0. Returns the per-step losses (per datapoint)."""
    steps, batch_size = check_count(steps, "steps"), check_count(batch_size, "batch_size")
    check_choice(loss, "loss", ("simple", "elbo"))
    check_generator(generator)
    check_instance(model, "model", nn.Module, how="pass a torch.nn.Module such as diffusion.NoiseMLP(D, T)")
    _check_batch(x_train, "x_train", finite=True)
    _check_schedule(schedule)
    check_positive_number(lr, "lr", example="lr=2e-3")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / steps)
    history = []
    for _ in range(steps):
        x0 = x_train[torch.randint(len(x_train), (batch_size,), generator=generator)]
        if loss == "simple":
            value = simple_loss(model, x0, schedule, generator=generator).mean()
        else:
            value = negative_elbo(model, x0, schedule, variance, generator=generator).mean()
        opt.zero_grad()
        value.backward()
        opt.step()
        sched.step()
        history.append(float(value.detach()))
    return history


@torch.no_grad()
def sample(
    eps_model: EpsModel,
    schedule: Schedule,
    num: int,
    dim: int,
    variance: str = "beta",
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Ancestral sampling x_T ~ N(0, I), x_{t-1} ~ N(mu_theta(x_t, t), sigma_t^2 I) down to the mean at t = 1
    (Ho et al. 2020, Algorithm 2): (num, dim). A loop over the T steps, as sampling must be."""
    num, dim = check_count(num, "num"), check_count(dim, "dim")
    check_generator(generator)
    check_callable(eps_model, "eps_model", how="pass a noise predictor eps_model(x_t (B, D), t (B,)) -> (B, D)")
    check_instance(dtype, "dtype", torch.dtype, how="e.g. dtype=torch.float32")
    _check_schedule(schedule)
    sigma = reverse_variance(schedule, variance).sqrt().to(dtype)
    x = torch.randn((num, dim), generator=generator, dtype=dtype)
    for step in range(schedule.num_steps, 0, -1):
        t = torch.full((num,), step, dtype=torch.long)
        x = model_mean(eps_model(x, t), x, t, schedule)
        if step > 1:
            x = x + sigma[step - 1] * torch.randn((num, dim), generator=generator, dtype=dtype)
    return x


def dequantize(x: Tensor, levels: int, *, generator: torch.Generator | None = None) -> Tensor:
    """Uniform dequantization of pixels k / (levels - 1), k in 0..levels-1, to y = (k + u) / levels in [0, 1],
    u ~ U(0, 1): (N, D) -> (N, D). Then -log P(k) <= E_u[-log p(y)] + D log(levels) (Theis et al. 2016)."""
    levels = check_count(levels, "levels", minimum=2)
    check_instance(x, "x", Tensor, how="convert it with torch.as_tensor(...)")
    check_generator(generator)
    k = torch.round(x * (levels - 1))
    if (k < 0).any() or (k > levels - 1).any() or (x * (levels - 1) - k).abs().max() > 1e-4:
        raise ValueError(f"x must hold pixels k / {levels - 1} with k in 0..{levels - 1}.")
    return (k + torch.rand(x.shape, generator=generator, dtype=x.dtype)) / levels
