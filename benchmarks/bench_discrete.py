"""Cost of the discrete-latent gradient estimators (chapter *Gradients for discrete latent variables*), side by side.

Part 1: one training step (forward, backward, Adam) of the 200-bit Bernoulli VAE of the ARM / DisARM / RELAX
benchmark, linear (784-200-784) and nonlinear (two hidden layers of 200), batch 50, for every estimator's objective
value ``deep.DiscreteELBO``, with the same two decoder evaluations per image (S = 2, or one antithetic pair).

Part 2: the vectorized helpers against straightforward implementations of the same computation:

* DisARM's logit gradient for a batch: ``deep.disarm_gradient`` (one call) against a loop over the images, one
  decoder call per image and draw;
* the exact gradient of a 10-bit model: ``deep.exact_gradient`` (one decoder call on all 1,024 states) against a
  loop over the states accumulating q(z) f(z) (z - sigmoid(alpha)) (about the same cost: the batched call is
  memory-bound on its (2^n, B, P) intermediate).

Before timing, each straightforward implementation must return the same numbers as the helper on the same noise.
``--check-only`` runs only these agreement checks (fast) and exits. Usage:
``python benchmarks/bench_discrete.py [--repeats N] [--threads T] [--check-only]``.
"""

from __future__ import annotations

import argparse
import functools

import torch
from timing import best_time

from helpers import deep

ESTIMATORS = {  # name: the objective value (two decoder evaluations per image and step)
    "REINFORCE (S=2)": deep.DiscreteELBO("reinforce", 2),
    "leave-one-out (S=2)": deep.DiscreteELBO("leave-one-out", 2),
    "NVIL (S=2)": deep.DiscreteELBO("nvil", 2),
    "Gumbel-Softmax (S=2)": deep.DiscreteELBO("gumbel", 2, 0.5),
    "straight-through (S=2)": deep.DiscreteELBO("st-gumbel", 2, 0.5),
    "ARM (1 pair)": deep.DiscreteELBO("arm"),
    "DisARM (1 pair)": deep.DiscreteELBO("disarm"),
}


def _data(batch: int, pixels: int = 784) -> torch.Tensor:
    return torch.bernoulli(torch.full((batch, pixels), 0.3), generator=torch.Generator().manual_seed(0))


def disarm_loop(model: deep.BernoulliVAE, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Straightforward DisARM: one image at a time, the antithetic pair decoded separately; u (S, B, n)."""
    grads = []
    with torch.no_grad():
        for b in range(len(x)):
            alpha = model.encode(x[b : b + 1])[0]  # (n,)
            p = torch.sigmoid(alpha)
            total = torch.zeros_like(alpha)
            for s in range(u.shape[0]):
                z, z_tilde = (u[s, b] < p).float(), (1 - u[s, b] < p).float()
                f = model.log_likelihood(x[b : b + 1], z[None])[0]
                f_tilde = model.log_likelihood(x[b : b + 1], z_tilde[None])[0]
                total += 0.5 * (f - f_tilde) * (1 - 2 * z_tilde) * (z != z_tilde).float() * torch.sigmoid(alpha.abs())
            grads.append(total / u.shape[0])
    return torch.stack(grads)


def exact_loop(f, logits: torch.Tensor) -> torch.Tensor:
    """Straightforward enumeration: a Python loop over the 2^n states."""
    n = logits.shape[-1]
    p = torch.sigmoid(logits)
    grad = torch.zeros_like(logits)
    for k in range(2**n):
        z = torch.tensor([(k >> (n - 1 - i)) & 1 for i in range(n)], dtype=logits.dtype)
        q = torch.where(z.bool(), p, 1 - p).prod(-1)  # (B,)
        grad += (q * f(z.expand(1, *logits.shape))[0])[:, None] * (z - p)
    return grad


def check() -> None:
    """The straightforward implementations agree with the helpers on the same noise."""
    torch.manual_seed(0)
    model = deep.BernoulliVAE(784, 200, (200, 200))
    x = _data(5)
    u = torch.rand((3, 5, 200), generator=torch.Generator().manual_seed(1))
    # replay: disarm_gradient draws u from the generator with the same call as torch.rand above
    helper = deep.disarm_gradient(
        functools.partial(model.log_likelihood, x),
        model.encode(x).detach(),
        3,
        generator=torch.Generator().manual_seed(1),
    )
    torch.testing.assert_close(helper, disarm_loop(model, x, u), rtol=1e-4, atol=1e-3)
    small = deep.BernoulliVAE(784, 10, ()).double()
    xs = x.double()
    with torch.no_grad():
        logits = small.encode(xs)
    f = functools.partial(small.log_likelihood, xs)
    torch.testing.assert_close(deep.exact_gradient(f, logits), exact_loop(f, logits))
    print("agreement: disarm_gradient == per-image loop, exact_gradient == loop over states")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--check-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    check()
    if args.check_only:
        return
    x = _data(50)
    gen = torch.Generator().manual_seed(2)
    print(f"\nOne training step, batch 50, {args.threads} thread(s), best of {args.repeats} (ms)")
    print(f"{'estimator':<26}{'linear':>10}{'nonlinear':>12}")
    for name, objective in ESTIMATORS.items():
        cells = []
        for hidden in ((), (200, 200)):
            torch.manual_seed(0)
            model = deep.BernoulliVAE(784, 200, hidden, baseline_hidden=100)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)

            def step(model=model, opt=opt, objective=objective):
                loss = -objective(model, x, generator=gen).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

            cells.append(1000 * best_time(step, args.repeats))
        print(f"{name:<26}{cells[0]:>10.2f}{cells[1]:>12.2f}")

    torch.manual_seed(0)
    model = deep.BernoulliVAE(784, 200, (200, 200))
    with torch.no_grad():
        logits = model.encode(x)
    f = functools.partial(model.log_likelihood, x)
    u = torch.rand((1, 50, 200), generator=gen)
    vec = best_time(lambda: deep.disarm_gradient(f, logits, 1, generator=gen), args.repeats)
    loop = best_time(lambda: disarm_loop(model, x, u), 1)
    small = deep.BernoulliVAE(784, 10, ()).double()
    xs = x[:8].double()
    with torch.no_grad():
        sl = small.encode(xs)
    fs = functools.partial(small.log_likelihood, xs)
    vec_e = best_time(lambda: deep.exact_gradient(fs, sl), args.repeats)
    loop_e = best_time(lambda: exact_loop(fs, sl), 1)
    print("\nVectorized helper against a straightforward loop (ms)")
    print(f"{'computation':<52}{'helper':>10}{'loop':>10}{'speed-up':>10}")
    for label, fast, slow in (
        ("DisARM logit gradient, 50 images, nonlinear", vec, loop),
        ("exact gradient, 10 bits, 8 images, linear", vec_e, loop_e),
    ):
        print(f"{label:<52}{1000 * fast:>10.2f}{1000 * slow:>10.1f}{slow / fast:>9.0f}x")
    assert loop / vec > 3, "disarm_gradient should be faster than the per-image loop"
    # no such check for the enumeration: one decoder call on a (2^n, B, P) tensor is memory-bound, and at this size a
    # loop over the 1,024 states of (B, P) tensors costs about the same; the helper's point is one call, not speed


if __name__ == "__main__":
    main()
