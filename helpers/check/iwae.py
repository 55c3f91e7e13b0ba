"""Self-checks for the chapter *Importance-weighted autoencoders* (book/deep/iwae.ipynb): the IWELBO from
log-weights, and the log-weights themselves."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from helpers.check._feedback import Feedback, call, check_answer, compare, noise_feedback, wrong
from helpers.check.vae import _HALF_LOG_2PI, _log_q_mistakes, _log_q_size, _reference_log_q


def iwelbo(answer: object) -> Feedback:
    """Check ``answer(log_w) -> (B,)``, the K-sample importance-weighted bound of each datapoint from its log-weights.

    Shapes: ``log_w`` (K, B), the K samples on dim 0. Reference: Burda, Grosse & Salakhutdinov (2016), eq. (8).

    Feedback names the missing normalization by K, the average of log w (the ELBO), the wrong axis, and an overflow
    or underflow of exp (log-weights of images are in the hundreds of nats); answers of any floating dtype are
    compared at their precision."""
    fn = check_answer(answer)
    what = "your IWELBO"
    g = torch.Generator().manual_seed(2016)
    K, B = 7, 4
    log_w = torch.randn((K, B), generator=g, dtype=torch.float64) * 2 - 3
    value = call(fn, (log_w.clone(),), what)
    if isinstance(value, Feedback):
        return value
    mistakes = {
        "misses the - log K: the bound is the log of the average weight, not of the sum.": torch.logsumexp(log_w, 0),
        "averages log w over the K samples: that is the ELBO estimate; the IWELBO is the log of the average weight.": (
            log_w.mean(0)
        ),
        "reduces over the batch axis: log_w has shape (K, B), the K samples are dim 0.": torch.logsumexp(log_w, 1)
        - math.log(B),
    }
    feedback = compare(
        value,
        torch.logsumexp(log_w, 0) - math.log(K),
        what=what,
        shape_hint="(B,): one bound per datapoint",
        mistakes=mistakes,
        inputs=f"on seeded log-weights of shape ({K}, {B})",
        magnitude=log_w.abs().max(0).values + math.log(K),
    )
    if not feedback.ok:
        return feedback
    far = log_w - 800.0  # log-weights of 28x28 images: exp() underflows to 0 in float64
    value = call(fn, (far.clone(),), what)
    if isinstance(value, Feedback):
        return value
    stable = compare(
        value,
        torch.logsumexp(far, 0) - math.log(K),
        what=what,
        shape_hint="(B,)",
        inputs="",
        magnitude=far.abs().max(0).values + math.log(K),
    )
    if not stable.ok:
        return wrong(what, "is right for moderate log-weights but not for log w near -800, where exp(log w) "
                           "underflows: use torch.logsumexp.")  # fmt: skip
    return feedback


#: the check's decoder: Bernoulli pixels from logits z @ _W + _BIAS, and B = 4 binary images _IMAGES of P = 6 pixels
_G = torch.Generator().manual_seed(2015)
_W = torch.randn((3, 6), generator=_G, dtype=torch.float64)
_BIAS = torch.randn(6, generator=_G, dtype=torch.float64)
_IMAGES = (torch.rand((4, 6), generator=_G, dtype=torch.float64) > 0.5).to(torch.float64)


def _log_likelihood(z: Tensor) -> Tensor:
    """log p(x | z) of the check's decoder for its 4 images: z (K, B, D) -> (K, B), B = 4, D = 3."""
    logits = z @ _W.to(z.dtype) + _BIAS.to(z.dtype)
    return (_IMAGES.to(z.dtype) * logits - F.softplus(logits)).sum(-1)


def _log_likelihood_size(z: Tensor, z_size: Tensor) -> Tensor:
    """The size of the terms of log p(x | z), (K, B), with ``z_size`` (K, B, D) the size z is rounded relative to."""
    logits = z @ _W + _BIAS
    return ((_IMAGES * logits).abs() + F.softplus(logits)).sum(-1) + (z_size @ _W.abs() + _BIAS.abs()).sum(-1)


def log_weights(answer: object) -> Feedback:
    """Check ``answer(log_likelihood, mu, sigma, eps) -> (K, B)``, the importance log-weights of a VAE with a
    standard normal prior and the Gaussian encoder q(z | x) = N(mu, diag sigma^2) (``sigma`` a standard deviation),
    at the draws z_k = mu + sigma * eps_k: the log of p(x, z_k) / q(z_k | x), one per draw and datapoint.

    Shapes: ``mu`` and ``sigma`` (B, D), ``eps`` (K, B, D); ``log_likelihood`` maps z (K, B, D) to log p(x | z)
    (K, B) (the decoder, for the batch of B images). Reference: Burda, Grosse & Salakhutdinov (2016), sec. 3.

    Feedback names the log q slips (misplaced parentheses of the quadratic term, sigma as a variance, a missing or
    doubled log-determinant, a missing sum over D), a missing prior, the wrong sign of log q, the closed-form KL in
    place of each draw's log p(z) - log q(z | x), the constant log 2 pi in only one of the two densities, a
    variance in the draws, a reduced answer and an answer that draws its own noise. Dropping the constant from both
    densities (it cancels) passes, as does any correct form, loop or dtype (compared at its precision)."""
    fn = check_answer(answer)
    what = "your log-weights"
    g = torch.Generator().manual_seed(2016)
    mu = torch.randn((4, 3), generator=g, dtype=torch.float64)  # (B, D)
    sigma = torch.exp(0.7 * torch.randn((4, 3), generator=g, dtype=torch.float64) - 0.3)
    eps = torch.randn((5, 4, 3), generator=g, dtype=torch.float64)  # (K, B, D)

    def args(noise: Tensor = eps) -> tuple:
        return (_log_likelihood, mu.clone(), sigma.clone(), noise.clone())

    value = call(fn, args(), what)
    if isinstance(value, Feedback):
        return value
    z = mu + sigma * eps
    ll, lq = _log_likelihood(z), _reference_log_q(z, mu, sigma)
    lp = (-0.5 * z**2 - _HALF_LOG_2PI).sum(-1)
    reference = ll + lp - lq
    d = z.shape[-1]
    z_size = mu.abs() + (sigma * eps).abs()  # z = mu + sigma * eps, rounded relative to this
    mistakes = {
        f"has a slip in log q(z | x): it {message}": ll + lp - wrong_lq
        for message, wrong_lq in _log_q_mistakes(z, mu, sigma).items()
        if wrong_lq.shape == lq.shape
    }
    z_var = mu + sigma**2 * eps
    kl = (0.5 * (mu**2 + sigma**2 - 1) - torch.log(sigma)).sum(-1)
    mistakes |= {
        "misses log p(z), the prior's term.": ll - lq,
        "adds log q(z | x) where the log-weight subtracts it.": ll + lp + lq,
        "uses the closed-form KL in place of each draw's log p(z_k) - log q(z_k | x): that is an ELBO estimate "
        "(Kingma & Welling's L^B), not a log-weight; the importance weights need each draw's own densities.": (
            ll - kl
        ).expand_as(reference),
        "has the constant - log(2 pi) / 2 of each dimension in log p(z) but not in log q(z | x): the two cancel "
        "only when both densities have it (or neither).": reference - d * _HALF_LOG_2PI,
        "has the constant - log(2 pi) / 2 of each dimension in log q(z | x) but not in log p(z): the two cancel "
        "only when both densities have it (or neither).": reference + d * _HALF_LOG_2PI,
        "draws z with sigma**2 (a variance) where the standard deviation belongs.": _log_likelihood(z_var)
        + (-0.5 * z_var**2 - _HALF_LOG_2PI).sum(-1)
        - _reference_log_q(z_var, mu, sigma**2),
        "returns one value per datapoint (shape (B,)), an average over the K draws: the check asks for the K "
        "log-weights themselves, shape (K, B).": reference.mean(0),
        "returns the IWELBO (shape (B,)): the check asks for the log-weights it is built from, shape (K, B).": (
            torch.logsumexp(reference, 0) - math.log(reference.shape[0])
        ),
    }
    feedback = compare(
        value,
        reference,
        what=what,
        shape_hint="(K, B): one log-weight per draw and datapoint",
        mistakes=mistakes,
        inputs="at 5 seeded draws for each of 4 datapoints of a small Bernoulli decoder",
        magnitude=_log_likelihood_size(z, z_size) + (z_size**2 + _HALF_LOG_2PI).sum(-1) + _log_q_size(z, mu, sigma),
    )
    if feedback.ok or "none of the chapter's known mistakes" not in feedback.message:
        return feedback
    other = torch.randn(eps.shape, generator=g, dtype=torch.float64)
    noise = noise_feedback(fn, args, lambda: args(other), value, what, "eps")
    return feedback if noise is None else noise


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_iwelbo": iwelbo,
    "my_log_weights": log_weights,
}
