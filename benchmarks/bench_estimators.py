"""Speed of the gradient estimators, measured side by side in one run.

Compares, for one estimate from M draws at the chapter's parameters:

* the helpers' vectorized estimators (``estimators.score_function_gradient`` and friends);
* a tight hand-written tensor expression for the same score-function estimate (the floor for torch on this CPU);
* a per-sample Python loop written like the original exercise solution (numpy draws, scipy.stats log-densities,
  one sample at a time).

Usage: ``python benchmarks/bench_estimators.py [--num-samples M] [--loop-samples M_loop] [--repeats N]``.
The loop is timed at ``--loop-samples`` draws and scaled linearly to M (its cost is linear in M by construction).
Before timing, all three are run on the same noise and must return the same estimate; after timing, the
vectorized estimator must be at least 10x faster than the loop (it is about 1,000x: the check only catches a
regression to per-sample code, it is not a speed target).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import torch
from scipy import stats
from timing import best_time

from helpers import estimators, models

X = np.array(models.EXERCISE_DATA, dtype=float)
LOC = torch.tensor([5.0, 1.0], dtype=torch.float64)
SCALE = torch.tensor([0.5, 0.2], dtype=torch.float64)


def score_function_loop(eps: np.ndarray) -> np.ndarray:
    """The straightforward solution: one draw at a time, log-densities from scipy.stats; eps of shape (M, 2)."""
    mu_u, mu_v, s_u, s_v = 5.0, 1.0, 0.5, 0.2
    grad = np.zeros(4)
    for eps_u, eps_v in eps:
        u = mu_u + s_u * eps_u
        v = mu_v + s_v * eps_v
        log_p = (
            stats.poisson.logpmf(X, u * v).sum()
            + stats.gamma.logpdf(u, 5.0, scale=1.0)
            + stats.gamma.logpdf(v, 4.0, scale=1.0 / 4.0)
        )
        log_q = stats.norm.logpdf(u, mu_u, s_u) + stats.norm.logpdf(v, mu_v, s_v)
        score = np.array(
            [
                (u - mu_u) / s_u**2,
                (v - mu_v) / s_v**2,
                -1 / s_u + (u - mu_u) ** 2 / s_u**3,
                -1 / s_v + (v - mu_v) ** 2 / s_v**3,
            ]
        )
        grad += score * (log_p - log_q)
    return grad / len(eps)


# log p(x, u, v) - log q(u, v) = 46 log u + 45 log v - 10 u v - u - 4 v + 0.5 |eps|^2 + CONSTANT at the chapter's q
CONSTANT = float(
    -sum(math.lgamma(x + 1) for x in X)
    + 5 * math.log(1.0)
    - math.lgamma(5)
    + 4 * math.log(4.0)
    - math.lgamma(4)
    + math.log(2 * math.pi)
    + math.log(0.5)
    + math.log(0.2)
)


def score_function_tight(num_samples: int, generator: torch.Generator) -> torch.Tensor:
    """The same estimate as one hand-written tensor expression, with the model's constants folded in."""
    eps = torch.randn((num_samples, 2), generator=generator, dtype=torch.float64)
    z = LOC + SCALE * eps
    u, v = z[:, 0], z[:, 1]
    weight = 46 * torch.log(u) + 45 * torch.log(v) - 10 * u * v - u - 4 * v + 0.5 * (eps**2).sum(-1) + CONSTANT
    return torch.cat([(eps / SCALE * weight[:, None]).mean(0), ((eps**2 - 1) / SCALE * weight[:, None]).mean(0)])


def check_all_agree(model: models.GammaPoisson) -> None:
    """The three implementations compute the same estimate from the same draws (else timing them means nothing)."""
    vectorized = torch.cat(
        estimators.score_function_gradient(model, LOC, SCALE, 300, generator=torch.Generator().manual_seed(5))
    )
    tight = score_function_tight(300, torch.Generator().manual_seed(5))
    eps = torch.randn((300, 2), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    loop = torch.from_numpy(score_function_loop(eps.numpy()))
    torch.testing.assert_close(tight, vectorized)
    torch.testing.assert_close(loop, vectorized)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--loop-samples", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    m = args.num_samples
    model = models.GammaPoisson()
    g = torch.Generator().manual_seed(0)
    warnings.simplefilter("ignore", estimators.SupportWarning)  # a rare draw below zero changes no timing

    rows = {
        "estimators.elbo_estimate": lambda: estimators.elbo_estimate(model, LOC, SCALE, m, generator=g),
        "estimators.score_function_gradient": lambda: estimators.score_function_gradient(
            model, LOC, SCALE, m, generator=g
        ),
        "  ... baseline='leave-one-out'": lambda: estimators.score_function_gradient(
            model, LOC, SCALE, m, baseline="leave-one-out", generator=g
        ),
        "estimators.reparameterization_gradient": lambda: estimators.reparameterization_gradient(
            model, LOC, SCALE, m, generator=g
        ),
        "tight tensor expression (score function)": lambda: score_function_tight(m, g),
    }
    times = {name: best_time(function, args.repeats) for name, function in rows.items()}

    check_all_agree(model)
    eps = np.random.default_rng(0).standard_normal((args.loop_samples, 2))
    start = time.perf_counter()
    score_function_loop(eps)
    loop_time = (time.perf_counter() - start) * m / args.loop_samples
    times["per-sample Python loop (scipy.stats), scaled"] = loop_time

    print(f"One estimate from M = {m:,} draws; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'estimator':<48}{'ms per estimate':>16}{'vs loop':>12}{'vs tight':>10}")
    tight = times["tight tensor expression (score function)"]
    for name, seconds in times.items():
        print(f"{name:<48}{1e3 * seconds:>16.3f}{loop_time / seconds:>11.0f}x{seconds / tight:>9.2f}x")
    speedup = loop_time / times["estimators.score_function_gradient"]
    assert speedup > 10, f"the vectorized estimator is only {speedup:.1f}x faster than a per-sample loop"


if __name__ == "__main__":
    main()
