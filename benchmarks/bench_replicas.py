"""Seed replicas with stacked weights: model-images per second of ``deep.train_replicas`` (R = 1, 4, 8 stacked)
against one model trained by ``deep.train``, side by side in one process.

The network is the VAE chapter's exercise network, ``deep.VAE(784, (20, 20), 5, encoder="separate")``,
Bernoulli likelihood, ``deep.elbo``, batch 50, dynamic binarization: overhead-bound, which is what stacking R
replicas' weights into batched matrix products (``deep.stack``, helpers/deep/networks.py) amortizes. A second table
does the same for the IWAE chapter's network (784-200-200-50, tanh, IWELBO with K = 50, batch 20): R = 3 seeds
stacked against three sequential ``deep.train`` runs (``--iwae-images``; 0 skips it).

Usage: ``python benchmarks/bench_replicas.py [--images N] [--blocks B] [--replicas 1 4 8] [--threads T]``;
``--check-only`` runs only the agreement check (tests/book/test_benchmarks.py).

1. Agreement: R = 3 replicas trained stacked and the same three trained one after the other by ``deep.train``
   (``stack=False``: the sequential reference) end with the same parameters and training ELBO (float tolerance).
2. Timing: B blocks; in each, one epoch over N images by every implementation (whole calls, set-up included), in
   an order rotated from block to block. Reported per implementation: model-images per second (R N / seconds,
   median and quartiles) and the speed-up over ``deep.train`` of one model (median and quartiles over the paired
   blocks).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: import this checkout's helpers
from timing import images_784, quartiles  # noqa: E402

import helpers  # noqa: E402, F401 - imported first: the course package from this checkout
from helpers import deep  # noqa: E402

BATCH, LR = 50, 1e-3
SETTINGS = {"objective": deep.ELBO(), "batch_size": BATCH, "lr": LR, "binarization": "dynamic", "progress": False}


def exercise_models(num: int, seed: int = 0) -> list[deep.VAE]:
    models = []
    for r in range(num):
        torch.manual_seed(seed + r)
        models.append(deep.VAE(784, (20, 20), 5, encoder="separate", likelihood="bernoulli"))
    return models


def generators(num: int, seed: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(1000 * seed + r) for r in range(num)]


def check_agreement(x: torch.Tensor) -> None:
    results = {}
    for stack in (True, False):
        models = exercise_models(3)
        histories = deep.train_replicas(models, x, generators=generators(3, 0), epochs=1, stack=stack, **SETTINGS)
        results[stack] = (models, histories)
    for (m, h), (m_ref, h_ref) in zip(zip(*results[True]), zip(*results[False])):
        for (name, p), q in zip(m.named_parameters(), m_ref.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-3, atol=1e-4, msg=f"parameter {name} differs")
        assert abs(h.train[0] - h_ref.train[0]) <= 1e-4 * abs(h_ref.train[0]), (h.train, h_ref.train)
    shown = ", ".join(f"{h.train[0]:.3f}" for h in results[True][1])
    print(
        f"agreement: R = 3 replicas stacked == the sequential reference (train() per replica): parameters equal "
        f"within float32 tolerance, training ELBO per replica {shown}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5_000, help="images per epoch (one timed block each)")
    parser.add_argument("--blocks", type=int, default=8, help="paired timed blocks")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: the other core is shared)")
    parser.add_argument("--iwae-images", type=int, default=400, help="images per epoch of the IWAE table (0: skip)")
    parser.add_argument("--check-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = images_784(args.images)
    check_agreement(x[:600])
    if args.check_only:
        return

    def one_train(seed: int) -> None:
        deep.train(exercise_models(1)[0], x, generator=generators(1, seed)[0], epochs=1, **SETTINGS)

    def stacked(num: int):
        def run(seed: int) -> None:
            deep.train_replicas(exercise_models(num), x, generators=generators(num, seed), epochs=1, stack=True,
                                **SETTINGS)  # fmt: skip

        return run

    functions = {"deep.train, 1 model": (1, one_train)}
    functions.update({f"train_replicas, R = {r}": (r, stacked(r)) for r in args.replicas})
    for _, function in functions.values():  # warm-up
        function(0)
    seconds: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for block in range(args.blocks):
        order = names[block % len(names) :] + names[: block % len(names)]
        for name in order:
            start = time.perf_counter()
            functions[name][1](block + 1)
            seconds[name].append(time.perf_counter() - start)
    print(
        f"\nOne epoch of {args.images} images per model, batch {BATCH}, deep.VAE(784, (20, 20), 5, "
        f"encoder='separate'), Bernoulli, deep.elbo, dynamic binarization; torch {torch.__version__}, "
        f"{args.threads} thread(s); {args.blocks} blocks in one process, order rotated"
    )
    print(f"{'implementation':<26}{'model-images/s':>16}{'quartiles':>18}{'vs train':>10}{'quartiles':>16}")
    base = seconds["deep.train, 1 model"]
    for name, values in seconds.items():
        num = functions[name][0]
        q1, q2, q3 = quartiles([num * args.images / v for v in values])
        s1, s2, s3 = quartiles([num * b / v for b, v in zip(base, values)])
        print(f"{name:<26}{q2:>16.0f}{f'{q1:.0f}-{q3:.0f}':>18}{s2:>9.2f}x{f'{s1:.2f}x-{s3:.2f}x':>16}")
    if args.iwae_images:
        iwae_table(x[: args.iwae_images], args.blocks)


def iwae_models(num: int) -> list[deep.VAE]:
    models = []
    for r in range(num):
        torch.manual_seed(r)
        models.append(deep.VAE(784, (200, 200), 50, likelihood="bernoulli", activation="tanh"))
    return models


def iwae_table(x: torch.Tensor, blocks: int) -> None:
    """The IWAE network at K = 50, batch 20: R = 3 seeds stacked against 3 sequential deep.train runs."""
    settings = {"objective": deep.IWELBO(50), "batch_size": 20, "lr": 1e-3, "binarization": "dynamic",
                "progress": False, "epochs": 1}  # fmt: skip

    def sequential(seed: int) -> None:
        for model, g in zip(iwae_models(3), generators(3, seed)):
            deep.train(model, x, generator=g, **settings)

    def stacked(seed: int) -> None:
        deep.train_replicas(iwae_models(3), x, generators=generators(3, seed), stack=True, **settings)

    functions = {"3 x deep.train": sequential, "R = 3 stacked": stacked}
    for function in functions.values():
        function(0)
    seconds: dict[str, list[float]] = {name: [] for name in functions}
    for block in range(blocks):
        for name in list(functions)[block % 2 :] + list(functions)[: block % 2]:
            start = time.perf_counter()
            functions[name](block + 1)
            seconds[name].append(time.perf_counter() - start)
    print(
        f"\nIWAE network 784-200-200-50 (tanh), IWELBO K = 50, batch 20, one epoch of {len(x)} images per model, "
        f"3 seeds; {blocks} blocks, order alternated"
    )
    print(f"{'implementation':<26}{'model-images/s':>16}{'quartiles':>18}{'vs sequential':>15}{'quartiles':>16}")
    base = seconds["3 x deep.train"]
    for name, values in seconds.items():
        q1, q2, q3 = quartiles([3 * len(x) / v for v in values])
        s1, s2, s3 = quartiles([b / v for b, v in zip(base, values)])
        print(f"{name:<26}{q2:>16.0f}{f'{q1:.0f}-{q3:.0f}':>18}{s2:>14.2f}x{f'{s1:.2f}x-{s3:.2f}x':>16}")


if __name__ == "__main__":
    main()
