"""Black-box variational inference (Ranganath et al. 2014), chapter *Black-box VI*.

The score-function ("black-box") gradient of the ELBO for a mean-field q(z) = prod_g q_g(z_g), built from small
pure functions. Shapes: S draws, D variational parameters, F factors of log p, G latent groups.

* ``scores`` (S, D): h_d(z_s) = d log q(z_s) / d omega_d, the score of draw s for parameter d.
* ``weights`` (S,) or (S, D): w_s = log p(x, z_s) - log q(z_s) (one weight for every parameter), or, Rao-
  Blackwellized, one weight per parameter: the terms of log p and log q that contain the parameter's group.
* the gradient estimate is the mean over S of the per-draw terms h_d(z_s) (w_sd - a_d), a_d the control variate's
  coefficient (:func:`score_function_terms`).

The Normal-Gamma mean-field family of the chapter, q(mu) = N(mu_N, 1/lambda_N) and q(tau) = Gamma(a_N, rate b_N),
has its parameters in the order omega = (mu_N, lambda_N, a_N, b_N) everywhere; :func:`bbvi_normal_gamma` optimizes
the unconstrained theta = (mu_N, log lambda_N, log a_N, log b_N) with a Robbins-Monro step size preconditioned
per coordinate as in AdaGrad (Duchi et al. 2011), in :func:`bbvi`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from helpers.models.normal_gamma import NormalGamma
from helpers.sampling import sample_gamma  # re-exported: the chapter calls bbvi.sample_gamma
from helpers.validation import as_tensor, check_count, check_finite, check_positive, check_shape

LOG_2PI = math.log(2.0 * math.pi)
PARAM_NAMES = ("mu_N", "lambda_N", "a_N", "b_N")
CV = Literal["leave-one-out", "same-draws"] | None
_CV_CHOICES = ("leave-one-out", "same-draws", None)


# ------------------------------------------------------------------------------------------ validation
def check_q_params(params: object, parameterization: str = "precision") -> Tensor:
    """Validate omega = (mu_N, lambda_N, a_N, b_N) (or (mu_N, sigma_N, a_N, b_N)), returned as float64 (4,).

    Raises ValueError naming the offending entry: lambda_N (or sigma_N), a_N and b_N must be finite and > 0.
    """
    omega = as_tensor(params, "params", dtype=torch.float64)
    check_shape(omega, "params", (4,))
    names = _names(parameterization)
    check_finite(omega[:1], names[0])
    hints = {
        "lambda_N": "lambda_N is the precision of q(mu) (1 / variance); pass a value > 0, or optimize log lambda_N",
        "sigma_N": "sigma_N is the standard deviation of q(mu); pass a value > 0, or optimize log sigma_N",
        "a_N": "a_N is the Gamma shape of q(tau); pass a value > 0, or optimize log a_N",
        "b_N": "b_N is the Gamma RATE of q(tau) (not its scale); pass a value > 0, or optimize log b_N",
    }
    for i in (1, 2, 3):
        check_positive(omega[i : i + 1], names[i], hint=hints[names[i]])
    return omega


def _names(parameterization: str) -> tuple[str, str, str, str]:
    if parameterization == "precision":
        return PARAM_NAMES
    if parameterization == "sd":
        return ("mu_N", "sigma_N", "a_N", "b_N")
    raise ValueError(f"parameterization must be 'precision' or 'sd' (got {parameterization!r}).")


def _check_cv(control_variate: object) -> None:
    if control_variate not in _CV_CHOICES:
        raise ValueError(
            f"control_variate must be one of {_CV_CHOICES} (got {control_variate!r}); 'leave-one-out' is unbiased."
        )


# ------------------------------------------------------------------------------------------ the family q
def sample_q(params: Tensor, num_samples: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Draws (mu, tau), each (S,), from q(mu) q(tau) = N(mu_N, 1/lambda_N) Gamma(a_N, rate b_N); params (4,)."""
    mu_n, lambda_n, a_n, b_n = (float(v) for v in params)
    s = check_count(num_samples, "num_samples")
    mu = mu_n + torch.randn(s, dtype=torch.float64, generator=generator) / math.sqrt(lambda_n)
    return mu, sample_gamma(a_n, b_n, s, generator)


def log_q_parts(mu: Tensor, tau: Tensor, params: Tensor) -> tuple[Tensor, Tensor]:
    """(log q(mu), log q(tau)), each of the shape of the draws (S,):

    log q(mu)  = 1/2 log lambda_N - 1/2 log 2 pi - lambda_N (mu - mu_N)^2 / 2,
    log q(tau) = a_N log b_N - lgamma(a_N) + (a_N - 1) log tau - b_N tau.
    """
    mu_n, lambda_n, a_n, b_n = params.unbind(-1)
    log_q_mu = 0.5 * (torch.log(lambda_n) - LOG_2PI) - 0.5 * lambda_n * (mu - mu_n) ** 2
    log_q_tau = a_n * torch.log(b_n) - torch.lgamma(a_n) + (a_n - 1.0) * torch.log(tau) - b_n * tau
    return log_q_mu, log_q_tau


def log_q(mu: Tensor, tau: Tensor, params: Tensor) -> Tensor:
    """log q(mu, tau) = log q(mu) + log q(tau), shape (S,); see :func:`log_q_parts`."""
    log_q_mu, log_q_tau = log_q_parts(mu, tau, params)
    return log_q_mu + log_q_tau


def score(mu: Tensor, tau: Tensor, params: Tensor, parameterization: str = "precision") -> Tensor:
    """The score h(mu, tau) = grad_omega log q(mu, tau), shape (S, 4), columns in the order of omega.

    precision (omega = (mu_N, lambda_N, a_N, b_N)):
        lambda_N (mu - mu_N),   1/(2 lambda_N) - (mu - mu_N)^2 / 2,   log b_N - digamma(a_N) + log tau,   a_N/b_N - tau;
    sd (omega = (mu_N, sigma_N, a_N, b_N), q(mu) = N(mu_N, sigma_N^2)):
        (mu - mu_N) / sigma_N^2,   -1/sigma_N + (mu - mu_N)^2 / sigma_N^3,   (the same two Gamma columns).
    Chapter *Black-box VI*, "The score of the Normal-Gamma family" (checked there against autograd).
    """
    _names(parameterization)
    mu_n, second, a_n, b_n = params.unbind(-1)
    diff = mu - mu_n
    if parameterization == "precision":
        d_mu, d_second = second * diff, 0.5 / second - 0.5 * diff**2
    else:
        d_mu, d_second = diff / second**2, -1.0 / second + diff**2 / second**3
    d_a = torch.log(b_n) - torch.special.digamma(a_n) + torch.log(tau)
    d_b = a_n / b_n - tau
    return torch.stack([d_mu, d_second, d_a, d_b], dim=-1)


def to_unconstrained(params: Tensor) -> Tensor:
    """omega = (mu_N, lambda_N, a_N, b_N) -> theta = (mu_N, log lambda_N, log a_N, log b_N), shape (..., 4)."""
    return torch.cat([params[..., :1], torch.log(params[..., 1:])], dim=-1)


def from_unconstrained(theta: Tensor) -> Tensor:
    """theta = (mu_N, log lambda_N, log a_N, log b_N) -> omega, shape (..., 4)."""
    return torch.cat([theta[..., :1], torch.exp(theta[..., 1:])], dim=-1)


def unconstrained_score(mu: Tensor, tau: Tensor, params: Tensor) -> Tensor:
    """grad_theta log q, (S, 4): by the chain rule d/d log c = c d/dc, so the score times (1, lambda_N, a_N, b_N)."""
    jacobian = torch.cat([torch.ones_like(params[..., :1]), params[..., 1:]], dim=-1)
    return score(mu, tau, params) * jacobian


# ------------------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class NormalGammaData:
    """Sufficient statistics of x (N,): N, the mean and the sum of squared deviations; computed once."""

    n: int
    xbar: float
    sum_sq: float

    @classmethod
    def from_x(cls, x: object) -> NormalGammaData:
        data = as_tensor(x, "x", dtype=torch.float64)
        if data.ndim != 1 or data.numel() == 0:
            raise ValueError(f"x must be a non-empty 1-D sequence of observations (got shape {tuple(data.shape)}).")
        check_finite(data, "x")
        xbar = float(data.mean())
        return cls(n=data.numel(), xbar=xbar, sum_sq=float(((data - xbar) ** 2).sum()))


def log_joint_factors(data: NormalGammaData, prior: NormalGamma, mu: Tensor, tau: Tensor) -> Tensor:
    """The three factors of log p(x, mu, tau), shape (S, 3), for draws mu, tau of shape (S,) with tau > 0:

    [log p(x | mu, tau),  log p(mu | tau),  log p(tau)]
    = [N/2 (log tau - log 2 pi) - tau/2 (sum_n (x_n - xbar)^2 + N (xbar - mu)^2),
       1/2 (log lambda_0 + log tau - log 2 pi) - lambda_0 tau (mu - mu_0)^2 / 2,
       a_0 log b_0 - lgamma(a_0) + (a_0 - 1) log tau - b_0 tau].
    Their sum equals ``prior.log_joint(x, mu, tau)``.
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
    """
    if blanket.shape != (log_q_groups.shape[-1], log_p_factors.shape[-1]):
        raise ValueError(
            f"blanket must have shape (G, F) = ({log_q_groups.shape[-1]}, {log_p_factors.shape[-1]}) "
            f"(got {tuple(blanket.shape)})."
        )
    # a masked sum over F rather than a matrix product: on these small shapes torch's multithreaded matmul can
    # cost 100x more on a loaded 2-core machine (it was most of a BBVI step on the chapter's hierarchical model)
    in_blanket = torch.where(blanket, log_p_factors[..., None, :], 0.0)  # (S, G, F)
    return in_blanket.sum(-1) - log_q_groups


def control_variate_coefficients(terms: Tensor, scores: Tensor, control_variate: CV = "leave-one-out") -> Tensor:
    """Per-parameter control-variate coefficient a_d = Cov(f_d, h_d) / Var(h_d), f_d = h_d w_d the score-function terms.

    Args:
        terms: f (S, D); scores: h (S, D).
        control_variate: ``"leave-one-out"`` returns (S, D): the coefficient for draw s computed from the other
            S - 1 draws, hence independent of z_s and the estimator stays unbiased (needs S >= 3).
            ``"same-draws"`` returns (1, D) from all S draws, including z_s: biased, with a bias of order 1/S.
    Ranganath et al. (2014), section 3.2, pool the ratio over the parameters of each latent variable; one coefficient
    per parameter is the finer variant (its optimum is at least as good for every coordinate). Chapter *Black-box VI*,
    "Control variates".
    """
    _check_cv(control_variate)
    num = terms.shape[0]
    if control_variate == "same-draws":
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


def score_function_terms(scores: Tensor, weights: Tensor, control_variate: CV = None) -> Tensor:
    """Per-draw terms h_d(z_s) (w_sd - a_sd) of the BBVI gradient, shape (S, D); the estimate is their mean over S.

    Args:
        scores: h (S, D), grad of log q at each draw (:func:`score`, :func:`unconstrained_score`).
        weights: (S,) the log-weights log p - log q, or (S, D) Rao-Blackwellized per-parameter weights.
        control_variate: None, ``"leave-one-out"`` (unbiased) or ``"same-draws"`` (biased, for demonstration):
            subtracts a_d h_d, a_d from :func:`control_variate_coefficients`. E[h_d] = 0, so any a_d independent
            of z_s leaves the mean unchanged.
    Ranganath et al. (2014), Algorithm 1 and section 3.
    """
    _check_cv(control_variate)
    w = weights[:, None] if weights.ndim == 1 else weights
    terms = scores * w
    if control_variate is None:
        return terms
    return terms - control_variate_coefficients(terms, scores, control_variate) * scores


# ------------------------------------------------------------------------------------------ the loop
@dataclass(frozen=True)
class BBVITrace:
    """What :func:`bbvi` returns.

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
    """
    return step_size * t ** (-decay) / (torch.sqrt(grad_sq_sum / t) + eps)


def bbvi(
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
    """
    num_iters = check_count(num_iters, "num_iters")
    if not (0.5 <= decay <= 1.0):
        raise ValueError(f"decay must be in [0.5, 1] (got {decay!r}); 0.5 is AdaGrad, (0.5, 1] meets Robbins-Monro.")
    if not step_size > 0:
        raise ValueError(f"step_size must be > 0 (got {step_size!r}).")
    theta = theta0.detach().clone()
    thetas = torch.empty((num_iters + 1, theta.numel()), dtype=theta.dtype)
    elbo = torch.empty(num_iters, dtype=theta.dtype)
    elbo_se = torch.empty(num_iters, dtype=theta.dtype)
    thetas[0] = theta
    grad_sq_sum = torch.zeros_like(theta)
    for t in range(1, num_iters + 1):
        g, w = gradient(theta, generator)
        grad_sq_sum += g * g
        theta = theta + step_sizes(grad_sq_sum, t, step_size, decay) * g
        thetas[t] = theta
        elbo[t - 1] = w.mean()
        elbo_se[t - 1] = w.std() / math.sqrt(w.numel())
    return BBVITrace(theta=thetas, elbo=elbo, elbo_se=elbo_se)


# ------------------------------------------------------------------------------------------ Normal-Gamma
def normal_gamma_gradient(
    data: NormalGammaData,
    prior: NormalGamma,
    theta: Tensor,
    num_samples: int,
    *,
    control_variate: CV = "leave-one-out",
    rao_blackwellize: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """One BBVI gradient estimate for the Normal-Gamma model in theta = (mu_N, log lambda_N, log a_N, log b_N).

    Returns (g (4,), w (S,)): the estimate of grad_theta ELBO (mean over S of :func:`score_function_terms`) and the
    log-weights w_s = log p(x, z_s) - log q(z_s). The same numbers as composing :func:`sample_q`,
    :func:`log_joint_factors`, :func:`log_q_parts`, :func:`unconstrained_score` and :func:`score_function_terms`
    (the tests check it), written with float parameters and few tensor operations because it runs at every step.
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
    terms = score_function_terms(scores, weights, control_variate)
    return terms.mean(0), w


@dataclass(frozen=True)
class BBVIFit:
    """The result of :func:`bbvi_normal_gamma`: the final q and per-iteration traces.

    q(mu) = N(mu_N, 1/lambda_N), q(tau) = Gamma(a_N, rate b_N).

    Attributes:
        mu_N, lambda_N, a_N, b_N: the final parameters (floats).
        params: (T + 1, 4) omega = (mu_N, lambda_N, a_N, b_N) before the first step and after every step.
        elbo, elbo_se: (T,) the Monte Carlo ELBO at each step (the step's own S draws) and its standard error.
        mean_mu, mean_tau: (T + 1,) E_q[mu] = mu_N and E_q[tau] = a_N / b_N along the run.
    """

    mu_N: float
    lambda_N: float
    a_N: float
    b_N: float
    params: Tensor
    elbo: Tensor
    elbo_se: Tensor

    @property
    def mean_mu(self) -> Tensor:
        return self.params[:, 0]

    @property
    def mean_tau(self) -> Tensor:
        return self.params[:, 2] / self.params[:, 3]


def default_init(x: object, prior: NormalGamma) -> Tensor:
    """The starting q: q(mu) = N(mu_0, 1) and q(tau) = Gamma(a_0, b_0), the prior's own tau marginal; (4,)."""
    return torch.tensor([prior.mu0, 1.0, prior.a0, prior.b0], dtype=torch.float64)


def bbvi_normal_gamma(
    x: object,
    prior: NormalGamma,
    num_iters: int = 2000,
    num_samples: int = 100,
    *,
    control_variate: bool | CV = True,
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
        control_variate: True (the optimal per-parameter coefficient, leave-one-out so it is unbiased), False,
            or one of "leave-one-out", "same-draws", None.
        rao_blackwellize: use each group's Markov-blanket terms only (:func:`rao_blackwellized_weights`).
        init: starting omega = (mu_N, lambda_N, a_N, b_N); default :func:`default_init`.
        generator: a seeded ``torch.Generator``.

    Chapter *Black-box VI*.
    """
    if not isinstance(prior, NormalGamma):
        raise ValueError(f"prior must be a helpers.NormalGamma (got {type(prior).__name__}).")
    data = NormalGammaData.from_x(x)
    num_samples = check_count(num_samples, "num_samples", minimum=3)
    cv: CV = "leave-one-out" if control_variate is True else (None if control_variate is False else control_variate)
    _check_cv(cv)
    omega0 = default_init(x, prior) if init is None else check_q_params(init)

    def gradient(theta: Tensor, gen: torch.Generator | None) -> tuple[Tensor, Tensor]:
        return normal_gamma_gradient(
            data, prior, theta, num_samples, control_variate=cv, rao_blackwellize=rao_blackwellize, generator=gen
        )

    trace = bbvi(to_unconstrained(omega0), gradient, num_iters, step_size=step_size, decay=decay, generator=generator)
    params = from_unconstrained(trace.theta)
    mu_n, lambda_n, a_n, b_n = (float(v) for v in params[-1])
    return BBVIFit(
        mu_N=mu_n, lambda_N=lambda_n, a_N=a_n, b_N=b_n, params=params, elbo=trace.elbo, elbo_se=trace.elbo_se
    )


# ------------------------------------------------------------------------------------------ any grouped model
def grouped_gradient(
    model,
    theta: Tensor,
    num_samples: int,
    *,
    control_variate: CV = None,
    rao_blackwellize: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """One BBVI gradient estimate (P,) and the log-weights (S,) for a model with mean-field latent groups.

    ``model`` provides ``sample(theta, S, generator)``, ``log_factors(*draws)`` (S, F), ``log_q_groups(theta, *draws)``
    (S, G), ``score(theta, *draws)`` (S, P), ``blanket()`` (G, F) and ``param_groups()`` (P,), as
    :class:`helpers.models.hierarchical.HierarchicalModel` does. With ``rao_blackwellize`` each parameter's
    weight keeps only its group's Markov-blanket factors and its own log q (:func:`rao_blackwellized_weights`).
    """
    draws = model.sample(theta, num_samples, generator)
    factors = model.log_factors(*draws)  # (S, F)
    log_q_groups = model.log_q_groups(theta, *draws)  # (S, G)
    w = factors.sum(-1) - log_q_groups.sum(-1)  # (S,)
    if rao_blackwellize:
        weights = rao_blackwellized_weights(factors, log_q_groups, model.blanket())[:, model.param_groups()]
    else:
        weights = w
    terms = score_function_terms(model.score(theta, *draws), weights, control_variate)
    return terms.mean(0), w
