"""Black-box VI for the Normal-Gamma model (chapter *Black-box VI*): the model's factors, the score-function gradient
in theta = (mu_N, log lambda_N, log a_N, log b_N) and the fit.

The Normal-Gamma mean-field family of the chapter, q(mu) = N(mu_N, 1/lambda_N) and q(tau) = Gamma(a_N, rate b_N),
(:class:`helpers.vi.NormalGammaQ`, in :mod:`helpers.vi.meanfield`) has its parameters in the order
omega = (mu_N, lambda_N, a_N, b_N) everywhere; :func:`bbvi_normal_gamma` optimizes the unconstrained
theta = (mu_N, log lambda_N, log a_N, log b_N) with a Robbins-Monro step size preconditioned per coordinate as in
AdaGrad (Duchi et al. 2011), in :func:`helpers.vi.run_bbvi` (:mod:`helpers.vi.bbvi_loop`). The estimator's pieces
(weights, regression coefficients, per-draw terms) are in :mod:`helpers.vi.bbvi`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI
from helpers.common.sampling import sample_gamma
from helpers.common.validation import (
    as_tensor,
    check_choice,
    check_count,
    check_finite,
    check_flag,
    check_generator,
    check_instance,
    check_shape,
    renamed_arguments,
)
from helpers.models.normal_gamma import NormalGamma, check_data
from helpers.vi.bbvi import COEFFICIENTS, Coefficient, _bbvi_terms, _rao_blackwellized_weights
from helpers.vi.bbvi_loop import run_bbvi
from helpers.vi.cavi import check_prior
from helpers.vi.meanfield import NormalGammaQ, _draws, _from_unconstrained, _to_unconstrained, check_q_params


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


def log_joint_factors(data: NormalGammaData, prior: NormalGamma, mu: object, tau: object) -> Tensor:
    """The three factors of log p(x, mu, tau), shape (S, 3), for draws mu, tau of shape (S,) with tau > 0:

    [log p(x | mu, tau),  log p(mu | tau),  log p(tau)]
    = [N/2 (log tau - log 2 pi) - tau/2 (sum_n (x_n - xbar)^2 + N (xbar - mu)^2),
       1/2 (log lambda_0 + log tau - log 2 pi) - lambda_0 tau (mu - mu_0)^2 / 2,
       a_0 log b_0 - lgamma(a_0) + (a_0 - 1) log tau - b_0 tau].
    Their sum equals ``prior.log_joint(x, mu, tau)``. ``data`` a :class:`NormalGammaData`, ``prior`` a
    :class:`helpers.NormalGamma`, mu finite and tau > 0 of shapes that broadcast (errors name them otherwise).
    """
    check_instance(data, "data", NormalGammaData, how="build it with vi.NormalGammaData.from_x(x)")
    check_prior(prior)
    mu_t, tau_t = _draws(mu, tau)  # the mean-field q's check of (mu, tau) draws
    return _log_joint_factors(data, prior, mu_t, tau_t)


def _log_joint_factors(data: NormalGammaData, prior: NormalGamma, mu: Tensor, tau: Tensor) -> Tensor:
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


# ------------------------------------------------------------------------------------------ Normal-Gamma
@renamed_arguments(control_variate="coefficient")
def normal_gamma_gradient(
    data: NormalGammaData,
    prior: NormalGamma,
    theta: object,
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
    ``theta`` (4,) finite; ``num_samples`` >= 3 with the leave-one-out coefficient (errors name them otherwise).
    """
    check_instance(data, "data", NormalGammaData, how="build it with vi.NormalGammaData.from_x(x)")
    check_prior(prior)
    what = "theta = (mu_N, log lambda_N, log a_N, log b_N)"
    theta_t = check_finite(check_shape(as_tensor(theta, "theta"), "theta", (4,), what=what), "theta")
    check_choice(coefficient, "coefficient", (*COEFFICIENTS, None))
    num_samples = check_count(num_samples, "num_samples", minimum=3 if coefficient == "leave-one-out" else 1)
    check_flag(rao_blackwellize, "rao_blackwellize")
    check_generator(generator)
    return _normal_gamma_gradient(
        data, prior, theta_t, num_samples, coefficient=coefficient, rao_blackwellize=rao_blackwellize,
        generator=generator,
    )  # fmt: skip


def _normal_gamma_gradient(
    data: NormalGammaData,
    prior: NormalGamma,
    theta: Tensor,
    num_samples: int,
    *,
    coefficient: Coefficient,
    rao_blackwellize: bool,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    mu_n, log_lambda, log_a, log_b = theta.tolist()
    lambda_n, a_n, b_n = math.exp(log_lambda), math.exp(log_a), math.exp(log_b)
    eps = torch.randn(num_samples, dtype=torch.float64, generator=generator)
    mu = mu_n + eps / math.sqrt(lambda_n)  # (S,)
    tau = sample_gamma(a_n, b_n, num_samples, generator)  # (S,)
    log_tau = torch.log(tau)
    factors = _log_joint_factors(data, prior, mu, tau)  # (S, 3)
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
        per_group = _rao_blackwellized_weights(factors, torch.stack([log_q_mu, log_q_tau], -1), NORMAL_GAMMA_BLANKET)
        weights = per_group[:, NORMAL_GAMMA_GROUPS]  # (S, 4)
    else:
        weights = w
    terms = _bbvi_terms(scores, weights, coefficient)
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
    ``num_samples`` draws per step and the step sizes of :func:`helpers.vi.step_sizes` (AdaGrad's per-coordinate scaling
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
    check_choice(coefficient, "coefficient", COEFFICIENTS)
    cv: Coefficient = coefficient if control_variate else None
    omega0 = default_init(x, prior) if init is None else check_q_params(init, name="init")

    def gradient(theta: Tensor, gen: torch.Generator | None) -> tuple[Tensor, Tensor]:
        return _normal_gamma_gradient(
            data, prior, theta, num_samples, coefficient=cv, rao_blackwellize=rao_blackwellize, generator=gen
        )

    trace = run_bbvi(
        _to_unconstrained(omega0), gradient, num_iters, step_size=step_size, decay=decay, generator=generator
    )
    params = _from_unconstrained(trace.theta)
    mu_n, lambda_n, a_n, b_n = (float(v) for v in params[-1])
    return BBVIFit(
        mu_N=mu_n, lambda_N=lambda_n, a_N=a_n, b_N=b_n, params_trace=params, elbo=trace.elbo, elbo_se=trace.elbo_se
    )
