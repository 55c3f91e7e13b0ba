"""Self-check for the chapter *The evidence lower bound* (book/vi/elbo.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare
from helpers.common.densities import normal_log_prob

_X = torch.tensor([[0.8, -1.3], [1.9, -0.2], [1.1, -0.9], [0.4, -1.6], [1.5, -0.4]], dtype=torch.float64)  # (N, D)


def _log_likelihood(z: torch.Tensor) -> torch.Tensor:
    """sum_n log N(x_n; z, I): z (S, D) -> (S,)."""
    return normal_log_prob(_X[:, None, :], z, 1.0).sum(0)


def _log_prior(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I): z (S, D) -> (S,)."""
    return normal_log_prob(z, 0.0, 1.0)


def elbo_estimate(answer: object) -> Feedback:
    """Check ``answer(log_likelihood, log_prior, loc, scale, eps) -> ELBO estimate`` (a scalar):

    ELBO_S = (1/S) sum_s [log p(x | z_s) + log p(z_s) - log q(z_s)],  z_s = loc + scale * eps_s,
    q = N(loc, diag scale^2) (``scale`` a standard deviation); ``log_likelihood`` and ``log_prior`` map z (S, D)
    to (S,), ``eps`` has shape (S, D). Blei, Kucukelbir & McAuliffe (2017), eq. (13); Kingma & Welling (2014).
    Feedback names a missing prior or entropy term, a wrong sign of log q, a variance used as the scale, and
    a per-draw or summed answer.
    """
    fn = check_answer(answer)
    what = "your ELBO estimate"
    g = torch.Generator().manual_seed(2026)
    loc = torch.tensor([0.9, -0.7], dtype=torch.float64)
    scale = torch.tensor([0.5, 2.0], dtype=torch.float64)
    eps = torch.randn((64, 2), generator=g, dtype=torch.float64)
    value = call(fn, (_log_likelihood, _log_prior, loc.clone(), scale.clone(), eps.clone()), what)
    if isinstance(value, Feedback):
        return value
    z = loc + scale * eps
    ll, lp, lq = _log_likelihood(z), _log_prior(z), normal_log_prob(z, loc, scale)
    z_var = loc + scale**2 * eps
    mistakes = {
        "misses the prior term log p(z): the ELBO is E_q[log p(x | z) + log p(z) - log q(z)].": (ll - lq).mean(),
        "misses the entropy term - log q(z).": (ll + lp).mean(),
        "adds log q(z) where it should subtract it (the sign of the entropy term).": (ll + lp + lq).mean(),
        "uses scale**2 (a variance) where the standard deviation belongs: z = loc + scale * eps.": (
            _log_likelihood(z_var) + _log_prior(z_var) - normal_log_prob(z_var, loc, scale**2)
        ).mean(),
        "returns one value per draw (shape (S,)): average over the S draws.": ll + lp - lq,
        "sums over the S draws: the estimate is their average.": (ll + lp - lq).sum(),
    }
    return compare(
        value,
        (ll + lp - lq).mean(),
        what=what,
        shape_hint="a scalar: the average over the S draws",
        mistakes=mistakes,
        inputs="on 64 seeded draws of a 2-D Gaussian model",
    )
