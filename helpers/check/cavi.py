"""Self-check for the chapter *Coordinate ascent VI* (book/vi/cavi.ipynb)."""

from __future__ import annotations

import torch

from helpers.check._feedback import Feedback, call, check_answer, compare, precision_of
from helpers.models import NormalGamma


def reference_q_tau(x: torch.Tensor, prior: NormalGamma, mu_n: float, lambda_n: float) -> torch.Tensor:
    """(a_N, b_N), float64, of the course's CAVI update of q(tau) = Gamma(a_N, rate b_N) given
    q(mu) = N(mu_N, 1 / lambda_N), from log q(tau) = E_mu[log p(x, mu, tau)] + const (Bishop 2006, sec. 10.1.3, with
    the prior's lambda_0 term). x (N,). tests/check/test_vi.py checks it against the fixed point of
    :func:`helpers.vi.cavi_normal_gamma`."""
    n = x.numel()
    a = prior.a0 + (n + 1) / 2
    sq = ((x - mu_n) ** 2).sum() + n / lambda_n
    b = prior.b0 + 0.5 * (sq + prior.lambda0 * ((mu_n - prior.mu0) ** 2 + 1 / lambda_n))
    return torch.stack([torch.as_tensor(a, dtype=torch.float64), b])


def q_tau_update(answer: object) -> Feedback:
    """Check ``answer(x, prior, mu_N, lambda_N) -> (a_N, b_N)``, the CAVI update of q(tau) = Gamma(a_N, b_N) with
    b_N a **rate**, given q(mu) = N(mu_N, 1/lambda_N).

    Shapes: ``x`` (N,), ``prior`` a :class:`~helpers.NormalGamma`, ``mu_N`` and ``lambda_N`` floats; a_N and b_N
    are two numbers (floats or 0-dim tensors of any floating dtype). Reference: Bishop (2006), sec. 10.1.3.

    Feedback names scale and rate mixed up, a missing prior term, the missing variance of q(mu) and a shape a_N
    without the prior's 1/2."""
    fn = check_answer(answer)
    what = "your q(tau) update"
    g = torch.Generator().manual_seed(7)
    prior = NormalGamma(mu0=1.0, lambda0=0.1, a0=1.0, b0=2.0)
    cases = [(torch.randn(n, generator=g, dtype=torch.float64) * 0.7 + 2.0, mu, lam) for n, mu, lam in
             ((10, 1.8, 4.0), (25, 2.3, 12.0), (3, 0.5, 0.8))]  # fmt: skip
    answers, refs, returned = [], [], []
    mistakes: dict[str, list] = {
        "returns the scale 1 / b_N where the rate b_N belongs (scale and rate mixed up).": [],
        "misses the prior term lambda_0 E[(mu - mu_0)^2] in b_N.": [],
        "misses the variance of q(mu) in E[(x_n - mu)^2].": [],
        "has a_N = a_0 + N/2: the prior of mu adds its own 1/2, a_N = a_0 + (N + 1)/2.": [],
    }
    keys = list(mistakes)
    for x, mu_n, lambda_n in cases:
        value = call(fn, (x.clone(), prior, mu_n, lambda_n), what)
        if isinstance(value, Feedback):
            return value
        returned.append(value)
        try:
            answers.append(torch.stack([torch.as_tensor(v, dtype=torch.float64).reshape(()) for v in value]))
        except (TypeError, ValueError, RuntimeError):
            return Feedback(False, "not yet: your q(tau) update must return the pair (a_N, b_N) of two numbers.")
        ref = reference_q_tau(x, prior, mu_n, lambda_n)
        refs.append(ref)
        n = x.numel()
        mistakes[keys[0]].append(torch.stack([ref[0], 1 / ref[1]]))
        no_prior = prior.b0 + 0.5 * (((x - mu_n) ** 2).sum() + n / lambda_n)
        mistakes[keys[1]].append(torch.stack([ref[0], no_prior]))
        no_var = prior.b0 + 0.5 * (((x - mu_n) ** 2).sum() + prior.lambda0 * (mu_n - prior.mu0) ** 2)
        mistakes[keys[2]].append(torch.stack([ref[0], no_var]))
        mistakes[keys[3]].append(torch.stack([ref[0] - 0.5, ref[1]]))
    return compare(
        torch.stack(answers),
        torch.stack(refs),
        what=what,
        shape_hint="the pair (a_N, b_N)",
        mistakes={k: torch.stack(v) for k, v in mistakes.items()},
        inputs="on three seeded data sets",
        precision=precision_of(returned),
    )


#: the chapter's self-checks in exercise order: the name of the student's function in the chapter's "check your
#: own answer" cell -> its check (``check.summary`` runs them; the student edition's stubs keep these names)
SELF_CHECKS = {
    "my_q_tau": q_tau_update,
}
