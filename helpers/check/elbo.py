"""Self-check for the chapter *The evidence lower bound* (book/vi/elbo.ipynb)."""

from __future__ import annotations

import math

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare, noise_feedback
from helpers.common.densities import normal_log_prob

_X = torch.tensor([[0.8, -1.3], [1.9, -0.2], [1.1, -0.9], [0.4, -1.6], [1.5, -0.4]], dtype=torch.float64)  # (N, D)


def _log_likelihood(z: torch.Tensor) -> torch.Tensor:
    """sum_n log N(x_n; z, I): z (S, D) -> (S,)."""
    return normal_log_prob(_X[:, None, :], z, 1.0).sum(0)


def _log_prior(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I): z (S, D) -> (S,)."""
    return normal_log_prob(z, 0.0, 1.0)


def elbo_estimate(answer: object) -> Feedback:
    """Check ``answer(log_likelihood, log_prior, loc, scale, eps) -> a scalar``, the Monte Carlo estimate of the ELBO
    of q = N(loc, diag scale^2) (``scale`` a standard deviation) from the draws z_s = loc + scale * eps_s.

    Shapes: ``loc`` and ``scale`` (D,), ``eps`` (S, D); ``log_likelihood`` and ``log_prior`` map z (S, D) to (S,).
    References: Blei, Kucukelbir & McAuliffe (2017), eq. (13); Kingma & Welling (2014).

    Feedback names a missing prior or entropy term, a wrong sign of log q, a variance used as the scale, a per-draw
    or summed answer, and an answer that draws its own noise or ignores eps; a wrong number is never called "off by
    a constant factor" (a ratio of two numbers says nothing). It accepts the valid variants with the entropy or the
    KL to the prior in closed form, and answers of any floating dtype (compared at their precision).
    """
    fn = check_answer(answer)
    what = "your ELBO estimate"
    g = torch.Generator().manual_seed(2026)
    loc = torch.tensor([0.9, -0.7], dtype=torch.float64)
    scale = torch.tensor([0.5, 2.0], dtype=torch.float64)
    eps = torch.randn((64, 2), generator=g, dtype=torch.float64)

    def args(noise: torch.Tensor = eps) -> tuple:
        return (_log_likelihood, _log_prior, loc.clone(), scale.clone(), noise.clone())

    value = call(fn, args(), what)
    if isinstance(value, Feedback):
        return value
    z = loc + scale * eps
    ll, lp, lq = _log_likelihood(z), _log_prior(z), normal_log_prob(z, loc, scale)
    entropy = (torch.log(scale) + 0.5 * math.log(2 * math.pi * math.e)).sum()
    kl = (0.5 * (loc**2 + scale**2 - 1) - torch.log(scale)).sum()
    z_var = loc + scale**2 * eps
    mistakes = {
        "misses the prior term log p(z).": (ll - lq).mean(),
        "misses the entropy term (the - log q(z) of each draw).": (ll + lp).mean(),
        "adds log q(z) where the ELBO subtracts it (the sign of the entropy term).": (ll + lp + lq).mean(),
        "uses scale**2 (a variance) where the standard deviation belongs.": (
            _log_likelihood(z_var) + _log_prior(z_var) - normal_log_prob(z_var, loc, scale**2)
        ).mean(),
        "returns one value per draw (shape (S,)): the estimate is one number for the S draws.": ll + lp - lq,
        "sums over the S draws: the estimate is their average.": (ll + lp - lq).sum(),
    }
    alternatives = {
        "is a valid ELBO estimator with the entropy of q in closed form instead of the - log q(z) of each draw "
        "(it agrees with the course's version of that estimator on the same draws).": (ll + lp).mean() + entropy,
        "is a valid ELBO estimator with the KL(q || p(z)) in closed form instead of log p(z) - log q(z) of each "
        "draw (it agrees with the course's version of that estimator on the same draws).": ll.mean() - kl,
    }
    feedback = compare(
        value,
        (ll + lp - lq).mean(),
        what=what,
        shape_hint="a scalar: the average over the S draws",
        mistakes=mistakes,
        alternatives=alternatives,
        inputs="on 64 seeded draws of a 2-D Gaussian model",
        magnitude=(ll.abs() + lp.abs() + lq.abs()).mean(),
    )
    if feedback.ok or "none of the chapter's known mistakes" not in feedback.message:
        return feedback
    other = torch.randn((64, 2), generator=g, dtype=torch.float64)
    noise = noise_feedback(fn, args, lambda: args(other), value, what, "eps")
    return feedback if noise is None else noise


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_elbo": elbo_estimate,
}
