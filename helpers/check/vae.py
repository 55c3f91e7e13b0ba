"""Self-check for the chapter *Variational autoencoders* (book/deep/vae.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare


def gaussian_kl(answer: object) -> Feedback:
    """Check ``answer(mu, sigma) -> (B,)``, KL(N(mu, diag sigma^2) || N(0, I)) per datapoint for mu, sigma (B, D),
    ``sigma`` a standard deviation: 1/2 sum_d (mu_d^2 + sigma_d^2 - 1 - 2 log sigma_d) (Kingma & Welling 2014,
    app. B). Feedback names sigma used as a variance, the wrong sign of the log term, the reverse KL, and a
    missing or extra sum."""
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
        "treats sigma as a variance: with a standard deviation the terms are sigma^2 and 2 log sigma.": (
            0.5 * (mu**2 + sigma - 1 - torch.log(sigma))
        ).sum(-1),
        "has the wrong sign of the log term: - log sigma^2, since KL = E_q[log q - log p].": (
            0.5 * (mu**2 + sigma**2 - 1 + 2 * torch.log(sigma))
        ).sum(-1),
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
    )
