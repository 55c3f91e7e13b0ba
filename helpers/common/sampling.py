"""Random draws that torch cannot take from a ``torch.Generator``: Gamma variates."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.common.validation import check_count, check_generator, check_positive_number


def sample_gamma(shape: float, rate: float, num_samples: int, generator: torch.Generator | None = None) -> Tensor:
    """S draws of Gamma(shape, rate), shape (S,), float64, from ``generator`` (Marsaglia and Tsang 2000).

    torch's own Gamma sampler takes no generator, so every Gamma draw in the course comes from here (the q(tau) of
    *Black-box VI*, CAVI's q and the Normal–Gamma prior of *Coordinate ascent VI*, the hierarchical model's v).

    Marsaglia and Tsang's rejection sampler is exact: for shape
    a >= 1, with d = a - 1/3 and c = 1 / sqrt(9 d), a candidate d (1 + c x)^3, x ~ N(0, 1), is accepted when
    log u < x^2/2 + d - d v + d log v (v = (1 + c x)^3 > 0, u ~ U(0, 1)); at least 95% are. For a < 1 it draws
    Gamma(a + 1) and multiplies by u^(1/a). Candidates are drawn in vectorized batches (no loop over draws).
    """
    s = check_count(num_samples, "num_samples")
    check_generator(generator)
    a = check_positive_number(shape, "shape", hint="it is the Gamma shape, e.g. a_N; pass a value > 0")
    b = check_positive_number(rate, "rate", hint="it is the Gamma rate b_N (not its scale); pass a value > 0")
    boost = a < 1.0
    d = (a + 1.0 if boost else a) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    accepted: list[Tensor] = []
    missing = s
    while missing > 0:
        size = int(1.1 * missing) + 8
        x = torch.randn(size, dtype=torch.float64, generator=generator)
        log_u = torch.rand(size, dtype=torch.float64, generator=generator).log()
        v = (1.0 + c * x) ** 3
        ok = (v > 0) & (log_u < 0.5 * x * x + d - d * v + d * torch.log(v.clamp_min(1e-300)))
        kept = (d * v)[ok][:missing]
        accepted.append(kept)
        missing -= kept.numel()
    draws = accepted[0] if len(accepted) == 1 else torch.cat(accepted)
    if boost:
        draws = draws * torch.rand(s, dtype=torch.float64, generator=generator).pow(1.0 / a)
    return draws / b
