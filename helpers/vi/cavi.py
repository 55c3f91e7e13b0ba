"""Coordinate ascent variational inference (CAVI) for the Normal–Gamma model (chapter *Coordinate ascent VI*).

Model (rates, not scales)::

    x_n | mu, tau ~ N(mu, 1/tau),  n = 1..N,     mu | tau ~ N(mu_0, 1/(lambda_0 tau)),     tau ~ Gamma(a_0, rate b_0)

and the mean-field family q(mu, tau) = q(mu) q(tau) with q(mu) = N(mu_N, 1/lambda_N), q(tau) = Gamma(a_N, rate b_N).

The optimal factor log q_j* = E_{-j}[log p(x, mu, tau)] + const (Bishop 2006, section 10.1.3) gives, with
xbar the data mean and E[tau] = a_N / b_N::

    q(mu):   mu_N = (lambda_0 mu_0 + N xbar) / (lambda_0 + N),      lambda_N = (lambda_0 + N) E[tau]
    q(tau):  a_N = a_0 + (N + 1) / 2,
             b_N = b_0 + 1/2 E_mu[ sum_n (x_n - mu)^2 + lambda_0 (mu - mu_0)^2 ]
                 = b_0 + 1/2 [ sum_n (x_n - mu_N)^2 + N / lambda_N + lambda_0 ((mu_N - mu_0)^2 + 1 / lambda_N) ]

The ``+ 1`` in a_N's (N + 1) / 2 (half a unit beyond the exact posterior's a_0 + N/2) comes from the prior of
mu, whose precision lambda_0 tau contains tau (a factor tau^(1/2)). After the first sweep one sweep maps b_N to
b + b_N / (2 a_N), b the exact posterior's rate: a contraction with factor 1 / (2 a_N) and a unique fixed point.
The full ELBO, in closed form with E[log tau] = digamma(a_N) - log b_N::

    ELBO = E_q[log p(x | mu, tau)] + E_q[log p(mu | tau)] + E_q[log p(tau)] + H[q(mu)] + H[q(tau)]
    E_q[log p(x | mu, tau)] = N/2 (E[log tau] - log 2 pi) - E[tau]/2 (sum_n (x_n - mu_N)^2 + N / lambda_N)
    E_q[log p(mu | tau)]    = 1/2 (log lambda_0 + E[log tau] - log 2 pi)
                              - lambda_0 E[tau]/2 ((mu_N - mu_0)^2 + 1/lambda_N)
    E_q[log p(tau)]         = a_0 log b_0 - lgamma(a_0) + (a_0 - 1) E[log tau] - b_0 E[tau]
    H[q(mu)]                = 1/2 (1 + log 2 pi - log lambda_N)
    H[q(tau)]               = a_N - log b_N + lgamma(a_N) + (1 - a_N) digamma(a_N)

Everything is float64. References: Bishop (2006), *Pattern Recognition and Machine Learning*, section 10.1.3;
Blei, Kucukelbir and McAuliffe (2017), *Variational inference: a review for statisticians*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from helpers.common.densities import LOG_2PI
from helpers.common.validation import (
    as_tensor,
    check_count,
    check_finite,
    check_instance,
    check_positive,
    check_positive_number,
)
from helpers.models.normal_gamma import NormalGamma, check_data
from helpers.vi.meanfield import NormalGammaQ

#: Column names of :attr:`CAVIFit.trace`.
TRACE_COLUMNS = ("mu_N", "lambda_N", "a_N", "b_N")


def check_prior(prior: object) -> NormalGamma:
    """Raise TypeError unless ``prior`` is a :class:`helpers.NormalGamma` (the model's prior)."""
    return check_instance(
        prior, "prior", NormalGamma, how="build it with helpers.NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)"
    )


def normal_gamma_elbo(
    x: object,
    prior: NormalGamma,
    mu_N: float | Tensor,
    lambda_N: float | Tensor,
    a_N: float | Tensor,
    b_N: float | Tensor,
) -> Tensor:
    """The full ELBO of q(mu) q(tau) = N(mu; mu_N, 1/lambda_N) Gamma(tau; a_N, rate b_N), in closed form.

    ELBO = E_q[log p(x, mu, tau)] - E_q[log q(mu) + log q(tau)], term by term in the module docstring.
    It equals ``prior.log_evidence(x) - KL(q || p(mu, tau | x))`` for any such q.

    Args:
        x: data, shape (N,).
        prior: the model's :class:`~helpers.NormalGamma` prior.
        mu_N, lambda_N, a_N, b_N: the parameters of q (``lambda_N`` a precision, ``b_N`` a rate), numbers or
            float tensors of any broadcastable shape (e.g. (B,) for a batch of q's). Tensors keep their
            autograd graph, so the result is differentiable with respect to them.

    Returns:
        The ELBO, float64, shape of the broadcast of the four parameters (0-d for numbers).

    Chapters: *Coordinate ascent VI* (the objective CAVI increases), *Black-box VI* (the exact reference).
    """
    data = check_data(x)
    prior = check_prior(prior)
    m = check_finite(as_tensor(mu_N, "mu_N", dtype=torch.float64), "mu_N")
    lam = check_positive(
        as_tensor(lambda_N, "lambda_N", dtype=torch.float64), "lambda_N", hint="lambda_N is the precision of q(mu)"
    )
    a = check_positive(as_tensor(a_N, "a_N", dtype=torch.float64), "a_N", hint="a_N is the Gamma shape of q(tau)")
    b = check_positive(
        as_tensor(b_N, "b_N", dtype=torch.float64), "b_N", hint="b_N is the Gamma rate of q(tau) (not its scale)"
    )
    n = data.numel()
    xbar = data.mean()
    sum_sq = ((data - xbar) ** 2).sum()

    e_tau = a / b
    e_log_tau = torch.digamma(a) - torch.log(b)
    e_sq_data = sum_sq + n * ((xbar - m) ** 2 + 1.0 / lam)  # E_q[sum_n (x_n - mu)^2]
    e_sq_prior = (m - prior.mu0) ** 2 + 1.0 / lam  # E_q[(mu - mu_0)^2]

    log_lik = 0.5 * n * (e_log_tau - LOG_2PI) - 0.5 * e_tau * e_sq_data
    log_p_mu = 0.5 * (math.log(prior.lambda0) + e_log_tau - LOG_2PI) - 0.5 * prior.lambda0 * e_tau * e_sq_prior
    log_p_tau = prior.a0 * math.log(prior.b0) - math.lgamma(prior.a0) + (prior.a0 - 1.0) * e_log_tau - prior.b0 * e_tau
    entropy_mu = 0.5 * (1.0 + LOG_2PI - torch.log(lam))
    entropy_tau = a - torch.log(b) + torch.lgamma(a) + (1.0 - a) * torch.digamma(a)
    return log_lik + log_p_mu + log_p_tau + entropy_mu + entropy_tau


@dataclass(frozen=True)
class CAVIFit(NormalGammaQ):
    """The result of :func:`cavi_normal_gamma`: the final q(mu) = N(mu_N, 1/lambda_N), q(tau) = Gamma(a_N, rate b_N)
    (a :class:`~helpers.vi.NormalGammaQ`, with its ``log_prob``, ``sample``, moments), and the run's traces.

    Attributes:
        mu_N, lambda_N, a_N, b_N: the final parameters (after the last iteration).
        elbo: the full ELBO after each iteration, float64, shape (T,) with T = ``num_iters``.
        trace: the parameters after each iteration, float64, shape (T, 4), columns :data:`TRACE_COLUMNS`
            = (mu_N, lambda_N, a_N, b_N).
        init_mean_tau: the E_q[tau] used for the first update of q(mu).
    """

    elbo: Tensor
    trace: Tensor
    init_mean_tau: float

    @property
    def q(self) -> NormalGammaQ:
        """The final q alone, without the traces."""
        return NormalGammaQ(self.mu_N, self.lambda_N, self.a_N, self.b_N)

    @property
    def mean_mu_trace(self) -> Tensor:
        """E_q[mu] after each iteration, shape (T,)."""
        return self.trace[:, 0]

    @property
    def mean_tau_trace(self) -> Tensor:
        """E_q[tau] after each iteration, shape (T,)."""
        return self.trace[:, 2] / self.trace[:, 3]


def _initial_mean_tau(init: object, data: Tensor, prior: NormalGamma) -> float:
    if isinstance(init, str):
        if init == "prior":
            return prior.mean_tau
        if init == "data":
            if data.numel() < 2 or float(data.var()) <= 0.0:
                raise ValueError(
                    "init='data' sets E[tau] = 1 / (sample variance of x) and needs at least two distinct "
                    "observations; use init='prior' or pass a positive number."
                )
            return 1.0 / float(data.var())
        raise ValueError(f"init must be 'prior', 'data' or a positive number for E_q[tau] (got {init!r}).")
    return check_positive_number(init, "init", hint="init is 'prior', 'data' or a positive number for E_q[tau]")


def cavi_normal_gamma(
    x: object,
    prior: NormalGamma,
    num_iters: int = 50,
    *,
    init: str | float = "prior",
) -> CAVIFit:
    """Run ``num_iters`` sweeps of CAVI on the Normal–Gamma model; each sweep updates q(mu), then q(tau).

    Updates (derived in the chapter *Coordinate ascent VI*; module docstring)::

        mu_N = (lambda_0 mu_0 + N xbar) / (lambda_0 + N),   lambda_N = (lambda_0 + N) a_N / b_N,
        a_N = a_0 + (N + 1)/2,
        b_N = b_0 + 1/2 [sum_n (x_n - mu_N)^2 + N/lambda_N + lambda_0 ((mu_N - mu_0)^2 + 1/lambda_N)]

    Args:
        x: data, shape (N,), finite.
        prior: the model's :class:`~helpers.NormalGamma` prior (mu_0, lambda_0, a_0, b_0).
        num_iters: number of sweeps T >= 1; no early stopping, so ``fit.elbo`` always has length T.
        init: how q(tau) starts. The first update of q(mu) needs only E_q[tau], so the initial q(tau) is
            given by that one number: ``"prior"`` (default) takes the prior mean a_0 / b_0; ``"data"`` takes
            1 / (sample variance of x); a positive number is used as E_q[tau] directly.

    Returns:
        A :class:`CAVIFit` with the final parameters, the ELBO after each sweep (shape (T,)) and the parameter
        trace (shape (T, 4)).

    Raises:
        ValueError: for ``num_iters < 1``, data that is not a non-empty finite 1-D sequence, or a bad ``init``.
        TypeError: if ``prior`` is not a :class:`~helpers.NormalGamma`.
    """
    data = check_data(x)
    prior = check_prior(prior)
    t = check_count(num_iters, "num_iters")
    init_mean_tau = _initial_mean_tau(init, data, prior)
    e_tau = init_mean_tau

    n = data.numel()
    xbar = float(data.mean())
    sum_sq = float(((data - xbar) ** 2).sum())
    # q(mu)'s mean does not depend on q(tau); only its precision does.
    mu_n = (prior.lambda0 * prior.mu0 + n * xbar) / (prior.lambda0 + n)
    a_n = prior.a0 + 0.5 * (n + 1)
    rows = []
    for _ in range(t):
        lambda_n = (prior.lambda0 + n) * e_tau
        e_sq_data = sum_sq + n * (xbar - mu_n) ** 2 + n / lambda_n  # E_q[sum_n (x_n - mu)^2]
        e_sq_prior = (mu_n - prior.mu0) ** 2 + 1.0 / lambda_n  # E_q[(mu - mu_0)^2]
        b_n = prior.b0 + 0.5 * (e_sq_data + prior.lambda0 * e_sq_prior)
        e_tau = a_n / b_n
        rows.append((mu_n, lambda_n, a_n, b_n))
    trace = torch.tensor(rows, dtype=torch.float64)
    elbo = normal_gamma_elbo(data, prior, *trace.unbind(-1))
    mu_n, lambda_n, a_n, b_n = rows[-1]
    return CAVIFit(mu_N=mu_n, lambda_N=lambda_n, a_N=a_n, b_N=b_n, elbo=elbo, trace=trace, init_mean_tau=init_mean_tau)
