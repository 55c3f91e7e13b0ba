"""Overhead of the training loop: ``deep.train`` against a bare loop of the same maths, side by side in one process.

The network is the VAE chapter's exercise network, ``deep.VAE(784, (20, 20), 5, encoder="separate")`` with the
Bernoulli likelihood, trained with ``deep.elbo`` in minibatches of 50: a small model, so the time per step is
mostly overhead and any per-step cost of the loop shows. The bare loop is what a student writes::

    order = torch.randperm(n, generator=g); x_shuffled = x[order]
    for xb in x_shuffled.split(50):
        loss = -deep.elbo(model, xb, generator=g).mean()
        opt.zero_grad(); loss.backward(); opt.step()      # Adam(fused=True), as deep.train's default

Usage: ``python benchmarks/bench_training.py [--images N] [--blocks B] [--threads T] [--max-ratio 1.25]``;
``--check-only`` runs only the agreement check (tests/book/test_benchmarks.py).

1. Agreement: from the same initial weights and the same generator seed, both draw the same permutation and the
   same noise, so one epoch of each must give the same parameters (float tolerance) and the same mean training
   ELBO; otherwise timing them means nothing.
2. Timing: B blocks; in each, one epoch over N images by each implementation (a whole ``deep.train`` call, its
   argument checks, data hash and set-up included), in alternating order, on fresh copies of one model. Reported:
   images per second (median, quartiles) of each and the ratio of their times per block (median and quartiles
   over the paired blocks). The script exits non-zero when the median ratio train / bare exceeds
   ``--max-ratio``.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: import this checkout's helpers
from timing import images_784, quartiles  # noqa: E402

import helpers  # noqa: E402, F401 - imported first: the course package from this checkout
from helpers import deep  # noqa: E402

BATCH, LR = 50, 1e-3


def exercise_model(seed: int = 0) -> deep.VAE:
    torch.manual_seed(seed)
    return deep.VAE(784, (20, 20), 5, encoder="separate", likelihood="bernoulli")


def images(num: int) -> torch.Tensor:
    return deep.fixed_binarization(images_784(num), seed=0)


def bare_epoch(model: deep.VAE, x: torch.Tensor, generator: torch.Generator) -> float:
    """One epoch of the bare loop; returns the mean training ELBO over the epoch's minibatches (weighted by size)."""
    opt = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    order = torch.randperm(len(x), generator=generator)
    shuffled = x[order]
    losses = []
    for xb in shuffled.split(BATCH):
        loss = -deep.elbo(model, xb, generator=generator).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.detach() * len(xb))
    return -float(torch.stack(losses).sum()) / len(x)


def train_epoch(model: deep.VAE, x: torch.Tensor, generator: torch.Generator) -> float:
    history = deep.train(
        model, x, objective=deep.ELBO(), epochs=1, batch_size=BATCH, lr=LR, generator=generator, progress=False
    )
    return history.train[-1]


def check_agreement(x: torch.Tensor) -> None:
    model = exercise_model()
    twins = {"bare": copy.deepcopy(model), "train": copy.deepcopy(model)}
    value_bare = bare_epoch(twins["bare"], x, torch.Generator().manual_seed(1))
    value_train = train_epoch(twins["train"], x, torch.Generator().manual_seed(1))
    for (name, p), q in zip(twins["bare"].named_parameters(), twins["train"].parameters()):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5, msg=f"parameter {name} differs after one epoch")
    assert abs(value_bare - value_train) <= 1e-4 * abs(value_bare), (value_bare, value_train)
    print(
        f"agreement: one epoch of deep.train == the bare loop (same draws): parameters equal within float32 "
        f"tolerance, mean training ELBO {value_train:.4f} vs {value_bare:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000, help="images per epoch (one timed block each)")
    parser.add_argument("--blocks", type=int, default=12, help="paired timed blocks")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: the other core is shared)")
    parser.add_argument("--max-ratio", type=float, default=1.25)
    parser.add_argument("--check-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = images(args.images)
    check_agreement(x[: min(len(x), 2000)])
    if args.check_only:
        return
    functions = {"bare loop": bare_epoch, "deep.train": train_epoch}
    seconds: dict[str, list[float]] = {name: [] for name in functions}
    model = exercise_model()
    for function in functions.values():  # warm-up: allocator, caches, first calls
        function(copy.deepcopy(model), x[:1000], torch.Generator().manual_seed(0))
    for block in range(args.blocks):
        names = list(functions) if block % 2 == 0 else list(functions)[::-1]
        for name in names:
            twin = copy.deepcopy(model)
            start = time.perf_counter()
            functions[name](twin, x, torch.Generator().manual_seed(block))
            seconds[name].append(time.perf_counter() - start)
    ratios = [t / b for t, b in zip(seconds["deep.train"], seconds["bare loop"])]
    print(
        f"\nOne epoch of {args.images} images, batch {BATCH}, deep.VAE(784, (20, 20), 5, encoder='separate'), "
        f"Bernoulli, deep.elbo, Adam(fused); torch {torch.__version__}, {args.threads} thread(s); {args.blocks} "
        "alternating blocks in one process"
    )
    print(f"{'implementation':<16}{'images/s median':>17}{'quartiles':>22}")
    for name, values in seconds.items():
        q1, q2, q3 = quartiles([args.images / v for v in values])
        print(f"{name:<16}{q2:>17.0f}{f'{q1:.0f}-{q3:.0f}':>22}")
    q1, q2, q3 = quartiles(ratios)
    print(
        f"time ratio deep.train / bare loop: {q2:.2f}x (median of {len(ratios)} paired blocks; quartiles "
        f"{q1:.2f}x-{q3:.2f}x; target <= {args.max_ratio}x)"
    )
    if q2 > args.max_ratio:
        print(f"FAIL: deep.train takes {q2:.2f}x the bare loop's time (target {args.max_ratio}x)")
        sys.exit(1)


if __name__ == "__main__":
    main()
