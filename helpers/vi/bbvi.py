"""Black-box variational inference (Ranganath et al. 2014), chapter *Black-box VI*.

The score-function ("black-box") gradient of the ELBO for a mean-field q(z) = prod_g q_g(z_g), built from small
pure functions. Shapes: S draws, D variational parameters, F factors of log p, G latent groups.

* ``scores`` (S, D): h_d(z_s) = d log q(z_s) / d omega_d, the score of draw s for parameter d.
* ``weights`` (S,) or (S, D): w_s = log p(x, z_s) - log q(z_s) (one weight for every parameter), or, Rao-
  Blackwellized, one weight per parameter: the terms of log p and log q that contain the parameter's group.
* the gradient estimate is the mean over S of the per-draw terms h_d(z_s) (w_sd - a_d), where a_d h_d is the control
  variate (the score times a coefficient a_d, :func:`control_variate_coefficients`; :func:`bbvi_terms`).

Vocabulary, the same in the whole course: a *control variate* here is the score h_d with a regression coefficient
a_d; ``coefficient="leave-one-out"`` estimates a_d for draw s from the other S - 1 draws (unbiased),
``"same-draws"`` from all S (biased, for demonstration). The gradient estimators of the part *Monte Carlo gradient
estimators* use the same words for their baseline b_s (``baseline="leave-one-out"``).

The Normal-Gamma mean-field family of the chapter, q(mu) = N(mu_N, 1/lambda_N) and q(tau) = Gamma(a_N, rate b_N),
(:class:`helpers.vi.NormalGammaQ`, in :mod:`helpers.vi.meanfield`) has its parameters in the order
omega = (mu_N, lambda_N, a_N, b_N) everywhere; :func:`bbvi_normal_gamma` optimizes the unconstrained
theta = (mu_N, log lambda_N, log a_N, log b_N) with a Robbins-Monro step size preconditioned per coordinate as in
AdaGrad (Duchi et al. 2011), in :func:`run_bbvi`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI
from helpers.common.sampling import sample_gamma
from helpers.common.validation import check_count, check_flag, check_positive_number
from helpers.models.normal_gamma import NormalGamma, check_data
from helpers.vi.cavi import check_prior
from helpers.vi.meanfield import NormalGammaQ, check_q_params, from_unconstrained, to_unconstrained

Coefficient = Literal["leave-one-out", "same-draws"] | None
COEFFICIENTS = ("leave-one-out", "same-draws")


def _check_coefficient(coefficient: object, *, allow_none: bool = True) -> None:
    if not (coefficient is None and allow_none) and coefficient not in COEFFICIENTS:
        allowed = [*COEFFICIENTS, None] if allow_none else list(COEFFICIENTS)
        raise ValueError(f"coefficient must be one of {allowed} (got {coefficient!r}); 'leave-one-out' is unbiased.")


# ------------------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class NormalGammaData:
    """Sufficient statistics of x (N,): N, the mean and the sum of squared deviations; computed once."""

    n: int
    xbar: float
    sum_sq: float

    @classmethod
    def from_x(cls, x: object) -> NormalGammaData:
        data = check_data(x)
        xbar = float(data.mean())
        return cls(n=data.numel(), xbar=xbar, sum_sq=float(((data - xbar) ** 2).sum()))


def log_joint_factors(data: NormalGammaData, prior: NormalGamma, mu: Tensor, tau: Tensor) -> Tensor:
    """The three factors of log p(x, mu, tau), shape (S, 3), for draws mu, tau of shape (S,) with tau > 0:

    [log p(x | mu, tau),  log p(mu | tau),  log p(tau)]
    = [N/2 (log tau - log 2 pi) - tau/2 (sum_n (x_n - xbar)^2 + N (xbar - mu)^2),
       1/2 (log lambda_0 + log tau - log 2 pi) - lambda_0 tau (mu - mu_0)^2 / 2,
       a_0 log b_0 - lgamma(a_0) + (a_0 - 1) log tau - b_0 tau].
    Their sum equals ``prior.log_joint(x, mu, tau)``.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    log_tau = torch.log(tau)
    lik = 0.5 * data.n * (log_tau - LOG_2PI) - 0.5 * tau * (data.sum_sq + data.n * (data.xbar - mu) ** 2)
    mu_given_tau = (
        0.5 * (math.log(prior.lambda0) + log_tau - LOG_2PI) - 0.5 * prior.lambda0 * tau * (mu - prior.mu0) ** 2
    )
    tau_prior = prior.a0 * math.log(prior.b0) - math.lgamma(prior.a0) + (prior.a0 - 1.0) * log_tau - prior.b0 * tau
    return torch.stack([lik, mu_given_tau, tau_prior], dim=-1)


#: Which factors of log p contain each latent group: mu is in the likelihood and p(mu | tau); tau in all three.
NORMAL_GAMMA_BLANKET = torch.tensor([[True, True, False], [True, True, True]])
#: The group (0: mu, 1: tau) of each variational parameter in omega.
NORMAL_GAMMA_GROUPS = torch.tensor([0, 0, 1, 1])


# ------------------------------------------------------------------------------------------ the estimator
def rao_blackwellized_weights(log_p_factors: Tensor, log_q_groups: Tensor, blanket: Tensor) -> Tensor:
    """Per-group weights w_sg = sum_{f in blanket(g)} log p_f(z_s) - log q_g(z_sg), shape (S, G).

    Args:
        log_p_factors: (S, F), the factors of log p(x, z) at each draw.
        log_q_groups: (S, G), log q_g(z_g) for each mean-field group.
        blanket: (G, F) bool, True where factor f contains z_g (z_g's Markov blanket: its own prior, its
            children's likelihoods). Factors without z_g, and the other groups' log q, are left out: under a
            mean-field q their product with the score of q_g has expectation zero (Ranganath et al. 2014, eq. 5).

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    if blanket.shape != (log_q_groups.shape[-1], log_p_factors.shape[-1]):
        raise ValueError(
            f"blanket must have shape (G, F) = ({log_q_groups.shape[-1]}, {log_p_factors.shape[-1]}) "
            f"(got {tuple(blanket.shape)})."
        )
    # a masked sum over F rather than a matrix product: on these small shapes torch's multithreaded matmul costs
    # far more on a loaded machine (benchmarks/bench_bbvi.py times the whole step; RESULTS.md has the numbers)
    in_blanket = torch.where(blanket, log_p_factors[..., None, :], 0.0)  # (S, G, F)
    return in_blanket.sum(-1) - log_q_groups


def control_variate_coefficients(terms: Tensor, scores: Tensor, coefficient: Coefficient = "leave-one-out") -> Tensor:
    """Per-parameter control-variate coefficient a_d = Cov(f_d, h_d) / Var(h_d), f_d = h_d w_d the score-function terms.

    Args:
        terms: f (S, D); scores: h (S, D).
        coefficient: ``"leave-one-out"`` returns (S, D): the coefficient for draw s computed from the other
            S - 1 draws, hence independent of z_s and the estimator stays unbiased (needs S >= 3).
            ``"same-draws"`` returns (1, D) from all S draws, including z_s: biased, with a bias of order 1/S.
    Ranganath et al. (2014), section 3.2, pool the ratio over the parameters of each latent variable; one coefficient
    per parameter is the finer variant (its optimum is at least as good for every coordinate). Chapter *Black-box VI*,
    "Control variates".

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    _check_coefficient(coefficient, allow_none=False)
    num = terms.shape[0]
    if coefficient == "same-draws":
        fc, hc = terms - terms.mean(0), scores - scores.mean(0)
        return ((fc * hc).sum(0) / (hc * hc).sum(0))[None]
    if num < 3:
        raise ValueError(f"the leave-one-out coefficient needs num_samples >= 3 (got {num}); draw more samples.")
    # sums over the other S - 1 draws, for every s at once: total minus own term
    m = num - 1
    sum_f, sum_h = terms.sum(0) - terms, scores.sum(0) - scores
    sum_fh = (terms * scores).sum(0) - terms * scores
    sum_hh = (scores * scores).sum(0) - scores * scores
    cov = sum_fh - sum_f * sum_h / m
    var = sum_hh - sum_h * sum_h / m
    return cov / var


def bbvi_terms(scores: Tensor, weights: Tensor, coefficient: Coefficient = None) -> Tensor:
    """Per-draw terms h_d(z_s) (w_sd - a_sd) of the BBVI gradient, shape (S, D); the estimate is their mean over S.

    Args:
        scores: h (S, D), grad of log q at each draw (:func:`~helpers.vi.q_score`,
            :func:`~helpers.vi.unconstrained_q_score`).
        weights: (S,) the log-weights log p - log q, or (S, D) Rao-Blackwellized per-parameter weights.
        coefficient: None (no control variate), ``"leave-one-out"`` (unbiased) or ``"same-draws"`` (biased, for
            demonstration): subtracts the control variate a_d h_d, a_d from :func:`control_variate_coefficients`.
            E[h_d] = 0, so any a_d independent of z_s leaves the mean unchanged.
    Ranganath et al. (2014), Algorithm 1 and section 3.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    _check_coefficient(coefficient)
    w = weights[:, None] if weights.ndim == 1 else weights
    terms = scores * w
    if coefficient is None:
        return terms
    return terms - control_variate_coefficients(terms, scores, coefficient) * scores


# ------------------------------------------------------------------------------------------ the loop
@dataclass(frozen=True)
class BBVITrace:
    """What :func:`run_bbvi` returns.

    Attributes:
        theta: (T + 1, P) the unconstrained parameters, before the first step and after every step.
        elbo: (T,) the Monte Carlo ELBO estimate at each step (from the step's own draws, before the update).
        elbo_se: (T,) its standard error, sd(w) / sqrt(S).
    """

    theta: Tensor
    elbo: Tensor
    elbo_se: Tensor


GradientFn = Callable[[Tensor, torch.Generator | None], tuple[Tensor, Tensor]]


def step_sizes(grad_sq_sum: Tensor, t: int, step_size: float, decay: float, eps: float = 1e-8) -> Tensor:
    """rho_t = step_size * t^(-decay) / sqrt(G_t / t), per coordinate; G_t = sum_{s <= t} g_s^2, shape (P,).

    With decay = 1/2 this is AdaGrad, step_size / sqrt(G_t) (Duchi et al. 2011), as in Ranganath et al. (2014).
    With 1/2 < decay <= 1 and G_t / t converging to a finite positive limit (the gradient's second moment), the
    sequence satisfies Robbins and Monro's conditions sum rho_t = infinity, sum rho_t^2 < infinity.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    return step_size * t ** (-decay) / (torch.sqrt(grad_sq_sum / t) + eps)


def run_bbvi(
    theta0: Tensor,
    gradient: GradientFn,
    num_iters: int,
    *,
    step_size: float,
    decay: float,
    generator: torch.Generator | None = None,
) -> BBVITrace:
    """Algorithm 1 of Ranganath et al. (2014): theta_{t+1} = theta_t + rho_t * g_t, with rho_t from :func:`step_sizes`.

    Args:
        theta0: (P,) unconstrained starting point.
        gradient: (theta, generator) -> (g (P,), w (S,)): an unbiased estimate of grad_theta ELBO and the
            log-weights of its draws (for the ELBO trace).
        num_iters: T.

    Raises:
        ValueError: the run diverged: a non-finite gradient, parameter or ELBO estimate, a gradient that fails at
            the new parameters, or an ELBO estimate 1000 times worse than at the start (the message names the step
            and suggests a smaller ``step_size``).
    """
    num_iters = check_count(num_iters, "num_iters")
    if not (0.5 <= decay <= 1.0):
        raise ValueError(f"decay must be in [0.5, 1] (got {decay!r}); 0.5 is AdaGrad, (0.5, 1] meets Robbins-Monro.")
    step_size = check_positive_number(step_size, "step_size", example="step_size=1.0")
    theta = theta0.detach().clone()
    thetas = torch.empty((num_iters + 1, theta.numel()), dtype=theta.dtype)
    elbo = torch.empty(num_iters, dtype=theta.dtype)
    elbo_se = torch.empty(num_iters, dtype=theta.dtype)
    thetas[0] = theta
    grad_sq_sum = torch.zeros_like(theta)
    floor = math.nan  # the ELBO below which the run counts as diverged: 1000 times worse than at the start
    for t in range(1, num_iters + 1):
        try:
            g, w = gradient(theta, generator)
        except (ValueError, OverflowError) as error:
            if t == 1:
                raise
            raise _diverged(t, num_iters, step_size, f"the gradient failed at the new parameters ({error})") from None
        grad_sq_sum += g * g
        theta = theta + step_sizes(grad_sq_sum, t, step_size, decay) * g
        thetas[t] = theta
        elbo[t - 1] = w.mean()
        elbo_se[t - 1] = w.std() / math.sqrt(w.numel())
        value = float(elbo[t - 1])
        if t == 1 and math.isfinite(value):
            floor = value - 1e3 * (1.0 + abs(value))
        if not (torch.isfinite(g).all() and torch.isfinite(theta).all()):
            raise _diverged(t, num_iters, step_size, f"the gradient or the parameters are not finite (theta {theta})")
        if not math.isfinite(value) or value < floor:
            what = f"the ELBO estimate is {value:.4g} (it was {float(elbo[0]):.4g} at step 1)"
            raise _diverged(t, num_iters, step_size, what)
    return BBVITrace(theta=thetas, elbo=elbo, elbo_se=elbo_se)


def _diverged(t: int, num_iters: int, step_size: float, what: str) -> ValueError:
    return ValueError(
        f"BBVI diverged at step {t} of {num_iters}: {what}. Lower the step size (step_size={step_size:g}; try "
        f"{step_size / 10:g}), raise decay, or start closer to the optimum (init=)."
    )


# ------------------------------------------------------------------------------------------ Normal-Gamma
def normal_gamma_gradient(
    data: NormalGammaData,
    prior: NormalGamma,
    theta: Tensor,
    num_samples: int,
    *,
    coefficient: Coefficient = "leave-one-out",
    rao_blackwellize: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """One BBVI gradient estimate for the Normal-Gamma model in theta = (mu_N, log lambda_N, log a_N, log b_N).

    Returns (g (4,), w (S,)): the estimate of grad_theta ELBO (mean over S of :func:`bbvi_terms`) and the
    log-weights w_s = log p(x, z_s) - log q(z_s). The same numbers as composing :func:`~helpers.vi.sample_q`,
    :func:`log_joint_factors`, :func:`~helpers.vi.log_q_parts`, :func:`~helpers.vi.unconstrained_q_score` and
    :func:`bbvi_terms`
    (the tests check it), written with float parameters and few tensor operations because it runs at every step.

    Unvalidated building block: it takes tensors the public functions have already checked (hot path).
    """
    mu_n, log_lambda, log_a, log_b = theta.tolist()
    lambda_n, a_n, b_n = math.exp(log_lambda), math.exp(log_a), math.exp(log_b)
    eps = torch.randn(num_samples, dtype=torch.float64, generator=generator)
    mu = mu_n + eps / math.sqrt(lambda_n)  # (S,)
    tau = sample_gamma(a_n, b_n, num_samples, generator)  # (S,)
    log_tau = torch.log(tau)
    factors = log_joint_factors(data, prior, mu, tau)  # (S, 3)
    log_q_mu = 0.5 * (log_lambda - LOG_2PI) - 0.5 * eps * eps
    log_q_tau = (a_n * log_b - math.lgamma(a_n)) + (a_n - 1.0) * log_tau - b_n * tau
    # scores in theta: d/dmu_N, lambda_N d/dlambda_N, a_N d/da_N, b_N d/db_N of log q
    scores = torch.stack(
        [
            math.sqrt(lambda_n) * eps,
            0.5 * (1.0 - eps * eps),
            a_n * (log_b - float(torch.special.digamma(torch.tensor(a_n, dtype=torch.float64))) + log_tau),
            a_n - b_n * tau,
        ],
        dim=-1,
    )  # (S, 4)
    w = factors.sum(-1) - log_q_mu - log_q_tau  # (S,)
    if rao_blackwellize:
        per_group = rao_blackwellized_weights(factors, torch.stack([log_q_mu, log_q_tau], -1), NORMAL_GAMMA_BLANKET)
        weights = per_group[:, NORMAL_GAMMA_GROUPS]  # (S, 4)
    else:
        weights = w
    terms = bbvi_terms(scores, weights, coefficient)
    return terms.mean(0), w


@dataclass(frozen=True)
class BBVIFit(NormalGammaQ):
    """The result of :func:`bbvi_normal_gamma`: the final q (a :class:`~helpers.vi.NormalGammaQ`:
    q(mu) = N(mu_N, 1/lambda_N), q(tau) = Gamma(a_N, rate b_N)) and per-iteration traces.

    Attributes:
        mu_N, lambda_N, a_N, b_N: the final parameters (floats).
        params: (T + 1, 4) omega = (mu_N, lambda_N, a_N, b_N) before the first step and after every step.
        elbo, elbo_se: (T,) the Monte Carlo ELBO at each step (the step's own S draws) and its standard error.
    """

    params_trace: Tensor
    elbo: Tensor
    elbo_se: Tensor

    @property
    def q(self) -> NormalGammaQ:
        """The final q alone, without the traces."""
        return NormalGammaQ(self.mu_N, self.lambda_N, self.a_N, self.b_N)

    @property
    def mean_mu_trace(self) -> Tensor:
        """E_q[mu] = mu_N along the run, (T + 1,)."""
        return self.params_trace[:, 0]

    @property
    def mean_tau_trace(self) -> Tensor:
        """E_q[tau] = a_N / b_N along the run, (T + 1,)."""
        return self.params_trace[:, 2] / self.params_trace[:, 3]


def default_init(x: object, prior: NormalGamma) -> Tensor:
    """The starting q: q(mu) = N(mu_0, 1) and q(tau) = Gamma(a_0, b_0), the prior's own tau marginal; (4,)."""
    check_prior(prior)
    return torch.tensor([prior.mu0, 1.0, prior.a0, prior.b0], dtype=torch.float64)


def bbvi_normal_gamma(
    x: object,
    prior: NormalGamma,
    num_iters: int = 2000,
    num_samples: int = 100,
    *,
    control_variate: bool = True,
    coefficient: Coefficient = "leave-one-out",
    rao_blackwellize: bool = False,
    step_size: float = 1.0,
    decay: float = 0.6,
    init: object | None = None,
    generator: torch.Generator | None = None,
) -> BBVIFit:
    """BBVI (Ranganath et al. 2014, Algorithm 1) for the Normal-Gamma model with q(mu) q(tau) mean-field.

    Ascends the ELBO in theta = (mu_N, log lambda_N, log a_N, log b_N) with score-function gradients from
    ``num_samples`` draws per step and the step sizes of :func:`step_sizes` (AdaGrad's per-coordinate scaling
    times a Robbins-Monro decay t^(-decay)). Optimizing log-parameters keeps lambda_N, a_N, b_N positive while
    each step's gradient stays an unbiased estimate of the gradient in theta.

    Args:
        x: data (N,).
        prior: a :class:`helpers.NormalGamma`.
        control_variate: subtract the control variate a_d h_d (the score times its optimal per-parameter
            coefficient) from each draw's term.
        coefficient: how a_d is estimated: ``"leave-one-out"`` (from the other S - 1 draws: unbiased) or
            ``"same-draws"`` (biased, for demonstration).
        rao_blackwellize: use each group's Markov-blanket terms only (:func:`rao_blackwellized_weights`).
        init: starting omega = (mu_N, lambda_N, a_N, b_N); default :func:`default_init`.
        generator: a seeded ``torch.Generator``.

    Chapter *Black-box VI*.
    """
    check_prior(prior)
    data = NormalGammaData.from_x(x)
    num_samples = check_count(num_samples, "num_samples", minimum=3)
    check_flag(control_variate, "control_variate")
    check_flag(rao_blackwellize, "rao_blackwellize")
    _check_coefficient(coefficient, allow_none=False)
    cv: Coefficient = coefficient if control_variate else None
    omega0 = default_init(x, prior) if init is None else check_q_params(init)

    def gradient(theta: Tensor, gen: torch.Generator | None) -> tuple[Tensor, Tensor]:
        return normal_gamma_gradient(
            data, prior, theta, num_samples, coefficient=cv, rao_blackwellize=rao_blackwellize, generator=gen
        )

    trace = run_bbvi(
        to_unconstrained(omega0), gradient, num_iters, step_size=step_size, decay=decay, generator=generator
    )
    params = from_unconstrained(trace.theta)
    mu_n, lambda_n, a_n, b_n = (float(v) for v in params[-1])
    return BBVIFit(
        mu_N=mu_n, lambda_N=lambda_n, a_N=a_n, b_N=b_n, params_trace=params, elbo=trace.elbo, elbo_se=trace.elbo_se
    )


# ------------------------------------------------------------------------------------------ any grouped model
def grouped_gradient(
    model,
    theta: Tensor,
    num_samples: int,
    *,
    coefficient: Coefficient = None,
    rao_blackwellize: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """One BBVI gradient estimate (P,) and the log-weights (S,) for a model with mean-field latent groups.

    ``model`` provides ``sample(theta, S, generator)``, ``log_factors(*draws)`` (S, F), ``log_q_groups(theta, *draws)``
    (S, G), ``score(theta, *draws)`` (S, P), ``blanket()`` (G, F) and ``param_groups()`` (P,), as
    :class:`helpers.models.hierarchical.HierarchicalModel` does. With ``rao_blackwellize`` each parameter's
    weight keeps only its group's Markov-blanket factors and its own log q (:func:`rao_blackwellized_weights`).
    """
    check_flag(rao_blackwellize, "rao_blackwellize")
    draws = model.sample(theta, num_samples, generator)
    factors = model.log_factors(*draws)  # (S, F)
    log_q_groups = model.log_q_groups(theta, *draws)  # (S, G)
    w = factors.sum(-1) - log_q_groups.sum(-1)  # (S,)
    if rao_blackwellize:
        weights = rao_blackwellized_weights(factors, log_q_groups, model.blanket())[:, model.param_groups()]
    else:
        weights = w
    terms = bbvi_terms(model.score(theta, *draws), weights, coefficient)
    return terms.mean(0), w
