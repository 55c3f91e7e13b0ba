"""Self-checks for the chapter *Variational autoencoders* (book/deep/vae.ipynb): the KL of the Gaussian encoder to
the prior, and the encoder's log-density log q(z | x) (the Monte Carlo KL's, and the IWAE's log-weights', part)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.check._feedback import Feedback, call, check_answer, compare

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def gaussian_kl(answer: object) -> Feedback:
    """Check ``answer(mu, sigma) -> (B,)``, KL(N(mu, diag sigma^2) || N(0, I)) per datapoint, ``sigma`` a standard
    deviation.

    Shapes: ``mu`` and ``sigma`` (B, D). Reference: Kingma & Welling (2014), appendix B.

    Feedback names sigma used as a variance, the wrong sign of the log term, the reverse KL, and a missing or extra
    sum; answers of any floating dtype (or from a Python loop) are compared at their precision."""
    fn = check_answer(answer)
    what = "your KL"
    g = torch.Generator().manual_seed(2013)
    mu = torch.randn((6, 3), generator=g, dtype=torch.float64)
    sigma = torch.exp(0.6 * torch.randn((6, 3), generator=g, dtype=torch.float64))
    value = call(fn, (mu.clone(), sigma.clone()), what)
    if isinstance(value, Feedback):
        return value
    per_dim = 0.5 * (mu**2 + sigma**2 - 1 - 2 * torch.log(sigma))
    mistakes = {
        "treats sigma as a variance; sigma is a standard deviation.": (
            0.5 * (mu**2 + sigma - 1 - torch.log(sigma))
        ).sum(-1),
        "has the wrong sign of the log term.": (0.5 * (mu**2 + sigma**2 - 1 + 2 * torch.log(sigma))).sum(-1),
        "is KL(p || q), the reverse direction; the ELBO's KL is KL(q(z | x) || p(z)).": (
            torch.log(sigma) + (1 + mu**2) / (2 * sigma**2) - 0.5
        ).sum(-1),
        "is not summed over the D latent dimensions (shape (B, D)): the KL of the product is the sum.": per_dim,
        "is summed over the batch: return one KL per datapoint, shape (B,).": per_dim.sum(),
    }
    return compare(
        value,
        per_dim.sum(-1),
        what=what,
        shape_hint="(B,): one KL per datapoint",
        mistakes=mistakes,
        inputs="on a seeded batch of 6 encoder outputs",
        magnitude=(0.5 * (mu**2 + sigma**2 + 1) + torch.log(sigma).abs()).sum(-1),
    )


def _reference_log_q(z: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """log N(z; mu, diag sigma^2) summed over D: z (K, B, D), mu and sigma (B, D) -> (K, B)."""
    return (-0.5 * ((z - mu) / sigma) ** 2 - torch.log(sigma) - _HALF_LOG_2PI).sum(-1)


def _log_q_size(z: Tensor, mu: Tensor, sigma: Tensor) -> Tensor:
    """The size of the terms of log q, (K, B): z - mu cancels, so its rounding is relative to |z| + |mu|."""
    r = (z - mu).abs()
    return (0.5 * (r / sigma) ** 2 + r * (z.abs() + mu.abs()) / sigma**2 + torch.log(sigma).abs() + _HALF_LOG_2PI).sum(
        -1
    )


def _log_q_mistakes(z: Tensor, mu: Tensor, sigma: Tensor) -> dict[str, Tensor]:
    """The slips a student makes in the Gaussian log q(z | x): message -> its value (K, B) (or (K, B, D))."""
    r, log_s = z - mu, torch.log(sigma)
    per_dim = -0.5 * (r / sigma) ** 2 - log_s - _HALF_LOG_2PI
    return {
        "multiplies the squared distance by sigma^2 where it divides by it: Python reads (z - mu)**2 / 2 * sigma**2 "
        "as ((z - mu)**2 / 2) * sigma**2 (a misplaced parenthesis).": (
            -(r**2) / 2 * sigma**2 - log_s - _HALF_LOG_2PI
        ).sum(-1),
        "divides the squared distance by (2 sigma)^2, four times too much (a misplaced parenthesis).": (
            -(r**2) / (2 * sigma) ** 2 - log_s - _HALF_LOG_2PI
        ).sum(-1),
        "divides only mu by sigma: (z - mu / sigma) is z - (mu / sigma) (a misplaced parenthesis).": (
            -0.5 * (z - mu / sigma) ** 2 - log_s - _HALF_LOG_2PI
        ).sum(-1),
        "treats sigma as a variance; sigma is a standard deviation.": (
            -(r**2) / (2 * sigma) - 0.5 * log_s - _HALF_LOG_2PI
        ).sum(-1),
        "misses the normalizer's - log sigma terms (the log-determinant of the scale).": (
            -0.5 * (r / sigma) ** 2 - _HALF_LOG_2PI
        ).sum(-1),
        "has - log sigma^2 per dimension where the normalizer has half of it (the log-determinant counted twice).": (
            -0.5 * (r / sigma) ** 2 - 2 * log_s - _HALF_LOG_2PI
        ).sum(-1),
        "adds the squared distance where log q subtracts it.": (0.5 * (r / sigma) ** 2 - log_s - _HALF_LOG_2PI).sum(-1),
        "is not summed over the D latent dimensions (shape (K, B, D)): the density of the product is the product of "
        "the densities, so log q is the sum.": per_dim,
    }


def gaussian_log_q(answer: object) -> Feedback:
    """Check ``answer(z, mu, sigma) -> (K, B)``, the encoder's log-density log q(z | x) = log N(z; mu, diag sigma^2)
    at K draws per datapoint, summed over the D latent dimensions, ``sigma`` a standard deviation.

    Shapes: ``z`` (K, B, D), ``mu`` and ``sigma`` (B, D). Reference: Kingma & Welling (2014), sec. 2.4 and
    appendix B (the Monte Carlo KL, L^A).

    Feedback names the misplaced parentheses of the quadratic term (multiplying by sigma^2, dividing by
    (2 sigma)^2, dividing only mu by sigma), sigma used as a variance, a missing or doubled log-determinant, a
    missing constant, the wrong sign of the quadratic term and a missing sum over D. Any correct form passes
    (torch.distributions, the noise form, a Python loop, float32), compared at its precision."""
    fn = check_answer(answer)
    what = "your log q(z | x)"
    g = torch.Generator().manual_seed(2014)
    mu = torch.randn((4, 3), generator=g, dtype=torch.float64)  # (B, D)
    sigma = torch.exp(0.7 * torch.randn((4, 3), generator=g, dtype=torch.float64))
    z = mu + sigma * torch.randn((5, 4, 3), generator=g, dtype=torch.float64)  # (K, B, D)
    value = call(fn, (z.clone(), mu.clone(), sigma.clone()), what)
    if isinstance(value, Feedback):
        return value
    mistakes = _log_q_mistakes(z, mu, sigma)
    no_constant = (-0.5 * ((z - mu) / sigma) ** 2 - torch.log(sigma)).sum(-1)
    mistakes["misses the constant - log(2 pi) / 2 of each dimension (here log q must be normalized)."] = no_constant
    return compare(
        value,
        _reference_log_q(z, mu, sigma),
        what=what,
        shape_hint="(K, B): one log-density per draw and datapoint, summed over D",
        mistakes=mistakes,
        inputs="at 5 seeded draws for each of 4 datapoints (D = 3)",
        magnitude=_log_q_size(z, mu, sigma),
    )


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_kl": gaussian_kl,
    "my_log_q": gaussian_log_q,
}
