"""Self-check for the chapter *Importance-weighted autoencoders* (book/deep/iwae.ipynb)."""

from __future__ import annotations

import math

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare, wrong


def iwelbo(answer: object) -> Feedback:
    """Check ``answer(log_w) -> (B,)``, the K-sample bound from log-weights log_w (K, B):
    IWELBO_K = log (1/K) sum_k w_k = logsumexp_k(log w_k) - log K (Burda, Grosse & Salakhutdinov 2016, eq. 8).
    Feedback names the missing - log K, the average of log w (the ELBO), the wrong axis, and an overflow or
    underflow of exp (log-weights of images are in the hundreds of nats)."""
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
    )
    if not feedback.ok:
        return feedback
    far = log_w - 800.0  # log-weights of 28x28 images: exp() underflows to 0 in float64
    value = call(fn, (far.clone(),), what)
    if isinstance(value, Feedback):
        return value
    stable = compare(value, torch.logsumexp(far, 0) - math.log(K), what=what, shape_hint="(B,)", inputs="")
    if not stable.ok:
        return wrong(what, "is right for moderate log-weights but not for log w near -800, where exp(log w) "
                           "underflows: use torch.logsumexp.")  # fmt: skip
    return feedback
