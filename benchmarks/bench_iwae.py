"""Speed of one IWAE training step (K = 50, batch 20, Burda et al.'s 784-200-200-50 tanh network), helpers versus
the straightforward implementation of the course solutions, each timed in a fresh process.

The straightforward implementation (below, :class:`StraightforwardIWAE` and :func:`straightforward_iwelbo`) is what
the published course solution writes: a decoder ending in a sigmoid and ``F.binary_cross_entropy`` on the
probabilities, x broadcast to the K samples with ``expand_as`` (mu and sigma by broadcasting; no ``.repeat``),
log N(z; 0, I) and log N(z; mu, sigma) written out with (z - mu) / sigma, ``torch.logsumexp`` over the K
weights, and the default ``torch.optim.Adam``. The helpers' step is ``-deep.iwelbo(model, x, 50).mean()`` with
the fused Adam that ``deep.train`` uses.

Usage: ``python benchmarks/bench_iwae.py [--steps N] [--rounds R] [--threads T] [--min-ratio 1.5]``;
``--check-only`` runs only the agreement check (tests/book/test_benchmarks.py), ``--ablation`` also times, in one
process and interleaved, the steps in between (what each change buys).

1. Agreement: both compute the same IWELBO (and gradient) from the same weights and the same draws, else timing
   them means nothing.
2. Timing: R rounds; in each, one fresh process per implementation (same thread count, default 1: on a shared
   2-core machine a second thread mostly waits for the other tenants) warms up, then the two processes time
   blocks of N training steps on dynamically binarized images in turn (alternating which goes first), so both
   see the same load from whatever else runs on the machine. Reported: images per second (median and best
   block) and CPU time per step of each, and the ratio helpers / straightforward as the median over the paired
   blocks. The script exits non-zero when that ratio is below ``--min-ratio``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: import this checkout's helpers
import helpers  # noqa: E402, F401 - imported first: the course package from this checkout
from helpers import common, deep  # noqa: E402

K, BATCH, INPUT, HIDDEN, LATENT = 50, 20, 784, (200, 200), 50


class StraightforwardIWAE(nn.Module):
    """The course solution's network: same layers (and parameter names) as deep.VAE, a sigmoid at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(INPUT, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(), nn.Linear(200, 2 * LATENT)
        )
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(), nn.Linear(200, INPUT), nn.Sigmoid()
        )


def straightforward_iwelbo(model: StraightforwardIWAE, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """IWELBO per data point as the published course solution writes it: x (B, P) -> (B,).

    z (K, B, D) by broadcasting mu and sigma, a decoder ending in a sigmoid, ``F.binary_cross_entropy`` on the
    probabilities against x broadcast with ``expand_as`` (no copy), and the Gaussian log-densities written out.
    """
    out = model.encoder(x)
    mu, log_sigma = out[:, :LATENT], out[:, LATENT:]
    sigma = torch.exp(log_sigma)
    eps = torch.randn((K, *mu.shape), generator=generator)
    z = mu + sigma * eps  # (K, B, D)
    probs = model.decoder(z)  # (K, B, P)
    log_px_z = -F.binary_cross_entropy(probs, x.expand_as(probs), reduction="none").sum(-1)
    log_pz = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_qz = (-0.5 * ((z - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_w = log_px_z + log_pz - log_qz  # (K, B)
    return torch.logsumexp(log_w, 0) - math.log(K)


def helpers_iwelbo(model: deep.VAE, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return deep.iwelbo(model, x, K, generator=generator)


def make(implementation: str, seed: int = 0):
    """(model, objective, optimizer) for one implementation, with the same initial weights for both."""
    torch.manual_seed(seed)
    reference = deep.VAE(INPUT, HIDDEN, LATENT, likelihood="bernoulli", activation="tanh")
    if implementation == "helpers":
        return reference, helpers_iwelbo, torch.optim.Adam(reference.parameters(), lr=1e-3, fused=True)
    model = StraightforwardIWAE()
    model.load_state_dict(reference.state_dict())
    return model, straightforward_iwelbo, torch.optim.Adam(model.parameters(), lr=1e-3)


def images(num: int = 2000) -> torch.Tensor:
    x, _ = deep.load_images("fashion-mnist" if "fashion-mnist" in deep.available_datasets() else "digits")
    if x.shape[1] != INPUT:  # only the 8x8 digits: tile them to 784 pixels (the timing needs the shape only)
        x = x.repeat(1, math.ceil(INPUT / x.shape[1]))[:, :INPUT]
    return x[:num]


def check_agreement() -> None:
    """Same weights, same draws: the same IWELBO and the same gradient (float32 tolerances: values to 1e-5
    relative, gradients to 1e-4 of each tensor's largest entry)."""
    x = torch.bernoulli(images(BATCH), generator=torch.Generator().manual_seed(1))
    values, grads = {}, {}
    for name in ("straightforward", "helpers"):
        model, objective, _ = make(name)
        value = objective(model, x, torch.Generator().manual_seed(2))
        values[name] = value.detach()
        grads[name] = torch.autograd.grad(value.mean(), list(model.parameters()))
    torch.testing.assert_close(values["helpers"], values["straightforward"], rtol=1e-5, atol=1e-3)
    for g_h, g_s in zip(grads["helpers"], grads["straightforward"]):
        torch.testing.assert_close(g_h, g_s, rtol=1e-3, atol=1e-4 * float(g_s.abs().max()))
    print(f"agreement: IWELBO (K={K}) equal within float32 tolerance, e.g. {values['helpers'][:3].tolist()}")


def worker(implementation: str, steps: int, threads: int) -> None:
    """A fresh process: warm up, print "ready", then time one block of ``steps`` training steps per "run" line
    read from stdin, printing its seconds per step (wall clock and this thread's CPU time) as JSON."""
    torch.set_num_threads(threads)
    x = images()
    generator = torch.Generator().manual_seed(3)
    model, objective, optimizer = make(implementation)

    def step() -> None:
        index = torch.randint(len(x), (BATCH,), generator=generator)
        xb = torch.bernoulli(x[index], generator=generator)
        loss = -objective(model, xb, generator).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(max(5, steps // 4)):  # warm-up: allocator, caches, first-call overheads
        step()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(steps):
            step()
        wall, cpu = (time.perf_counter() - wall) / steps, (time.thread_time() - cpu) / steps
        print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)


class Worker:
    """A worker process driven block by block, so that both implementations are timed under the same load."""

    def __init__(self, implementation: str, steps: int, threads: int) -> None:
        command = [sys.executable, __file__, "--worker", implementation, "--steps", str(steps)]
        command += ["--threads", str(threads)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {implementation} worker failed to start")

    def run_block(self) -> dict[str, float]:
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def ablation(steps: int, threads: int) -> None:
    """In one process, interleaved: what each change from the straightforward step buys (forward + backward)."""
    from helpers.common.densities import HALF_LOG_2PI
    from helpers.deep._kernels import BernoulliLogProb, fast_tanh

    torch.set_num_threads(threads)
    x = torch.bernoulli(images(BATCH), generator=torch.Generator().manual_seed(1))
    generator = torch.Generator().manual_seed(4)
    straight, _, _ = make("straightforward")
    model, _, _ = make("helpers")

    def logits_version(bernoulli) -> torch.Tensor:
        mu, sigma = model.encode(x)
        eps = torch.randn((K, *mu.shape), generator=generator)
        z = mu + sigma * eps  # broadcast, no .repeat
        log_px = bernoulli(x, model.decode(z))
        log_qz = -0.5 * eps.square().sum(-1) - torch.log(sigma).sum(-1) - LATENT * HALF_LOG_2PI
        log_w = log_px + common.standard_normal_log_prob(z) - log_qz
        return torch.logsumexp(log_w, 0) - math.log(K)

    variants = {
        "straightforward (sigmoid + BCE, expand_as, explicit log q)": lambda: straightforward_iwelbo(
            straight, x, generator
        ),
        "logits + BCE-with-logits, broadcast, log q from eps": lambda: logits_version(
            lambda x, l: -F.binary_cross_entropy_with_logits(l, x.expand_as(l), reduction="none").sum(-1)
        ),
        "  ... x.l - F.softplus(l) (autograd)": lambda: logits_version(
            lambda x, l: (l * x).sum(-1) - F.softplus(l).sum(-1)
        ),
        "  ... hand-written backward (deep._kernels.BernoulliLogProb)": lambda: logits_version(
            lambda x, l: BernoulliLogProb.apply(l, x)
        ),
        "deep.iwelbo (fused, blocked last layer)": lambda: deep.iwelbo(model, x, K, generator=generator),
        "  ... last layer's elementwise work free (bound for any fusion)": lambda: logits_free_iwelbo(
            model, x, generator
        ),
    }
    compiled = compiled_straightforward_loss(straight)
    if compiled is not None:
        variants["plain logits + softplus under torch.compile (inductor)"] = lambda: compiled(x, generator)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(steps):
        for name, forward in variants.items():
            start = time.thread_time()  # CPU time of this thread: what another tenant's load changes least
            forward().mean().backward()
            times[name].append(time.thread_time() - start)
    base = statistics.median(times[next(iter(variants))])
    print(f"\nAblation, forward + backward of one step (CPU ms, median of {steps}, interleaved, {threads} thread(s)):")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<60}{1e3 * median:8.2f} ms{base / median:8.2f}x")
    floor = matmul_floor()
    print(f"  {'matrix products alone (same shapes, forward + backward)':<60}{1e3 * floor:8.2f} ms{base / floor:8.2f}x")
    hidden = torch.randn(K * BATCH, 200, generator=generator, requires_grad=True)
    upstream = torch.randn(K * BATCH, 200, generator=generator)
    for name, function in (("torch.tanh", torch.tanh), ("fast_tanh, 2 sigmoid(2h) - 1", fast_tanh)):
        seconds = timed(lambda f=function: torch.autograd.grad(f(hidden), hidden, upstream), steps)
        print(f"  {'tanh of (K B, 200), fwd + bwd: ' + name:<60}{1e3 * seconds:8.2f} ms")
    optimizers = {
        "torch.optim.Adam (default)": torch.optim.Adam(model.parameters(), lr=1e-3),
        "torch.optim.Adam(fused=True)": torch.optim.Adam(model.parameters(), lr=1e-3, fused=True),
    }
    for parameter in model.parameters():
        parameter.grad = torch.zeros_like(parameter)
    for name, optimizer in optimizers.items():
        for _ in range(5):
            optimizer.step()
        start = time.perf_counter()
        for _ in range(steps):
            optimizer.step()
        print(f"  {name:<60}{1e3 * (time.perf_counter() - start) / steps:8.2f} ms")


class _MatmulsOnly(torch.autograd.Function):
    """The decoder's last layer with only its three matrix products: l = h W^T + b forward (summed, one cheap pass),
    then h's and W's gradients from a fixed d (K B, P). What ``deep.iwelbo`` would cost if the elementwise work on the
    (K B, P) logits (softplus, sigmoid, x - sigmoid) took no time: an upper bound on what fusing it could buy."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(h, weight, d)
        rows = h.reshape(-1, h.shape[-1])
        return torch.addmm(bias, rows, weight.t()).sum(-1).view(h.shape[:-1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        h, weight, d = ctx.saved_tensors
        g = grad.reshape(-1, 1)
        rows = h.reshape(-1, h.shape[-1])
        return (d @ weight).mul_(g).view(h.shape), d.t() @ (rows * g), d.t() @ g.view(-1), None


def logits_free_iwelbo(model: deep.VAE, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``deep.iwelbo``'s step with the last layer's elementwise work removed (see :class:`_MatmulsOnly`)."""
    mu, sigma = model.encode(x)
    eps = torch.randn((K, *mu.shape), generator=generator)
    z = mu + sigma * eps
    last = model.decoder[-1]
    d = _FIXED_D.setdefault("d", torch.rand(K * BATCH, INPUT, generator=torch.Generator().manual_seed(8)) - 0.5)
    log_px = _MatmulsOnly.apply(model.decoder[:-1](z), last.weight, last.bias, d)
    log_qz = common.normal_log_prob_from_noise(eps, torch.log(sigma).sum(-1))  # as deep.iwelbo
    log_w = log_px + common.standard_normal_log_prob(z) - log_qz
    return torch.logsumexp(log_w, 0) - math.log(K)


_FIXED_D: dict[str, torch.Tensor] = {}


def compiled_straightforward_loss(model: StraightforwardIWAE):
    """The IWELBO with logits, x . l - softplus(l) and log q from the noise, compiled by ``torch.compile``
    (inductor's C++ backend fuses the elementwise work and the autograd graph): None, with the reason printed,
    where it cannot compile (no C++ compiler)."""
    encoder, decoder = model.encoder, model.decoder[:-1]  # the logits: the network without its final sigmoid

    def objective(x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        out = encoder(x)
        mu, log_sigma = out[:, :LATENT], out[:, LATENT:]
        z = mu + torch.exp(log_sigma) * eps
        logits = decoder(z)
        log_px = (logits * x).sum(-1) - F.softplus(logits).sum(-1)
        log_w = log_px - 0.5 * z.square().sum(-1) + 0.5 * eps.square().sum(-1) + log_sigma.sum(-1)
        return torch.logsumexp(log_w, 0) - math.log(K)

    try:
        compiled = torch.compile(objective)
        x = torch.zeros(BATCH, INPUT)
        start = time.perf_counter()
        compiled(x, torch.zeros(K, BATCH, LATENT)).mean().backward()
        seconds = time.perf_counter() - start
    except Exception as error:  # noqa: BLE001 - report any compiler failure and time the others
        print(f"torch.compile unavailable here ({type(error).__name__}: {str(error)[:120]}); not timed")
        return None

    def call(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return compiled(x, torch.randn((K, BATCH, LATENT), generator=generator))  # the draws straightforward takes

    x = torch.bernoulli(images(BATCH), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(  # same weights, same draws: the same IWELBO, else timing it means nothing
        call(x, torch.Generator().manual_seed(2)), straightforward_iwelbo(model, x, torch.Generator().manual_seed(2))
    )
    print(f"torch.compile: compiled in {seconds:.0f} s; agrees with the straightforward IWELBO (same draws)")
    return call


def timed(function, steps: int) -> float:
    """CPU seconds per call of this thread: the best of 3 loops of ``steps`` calls (after 3 warm-up calls)."""
    for _ in range(3):
        function()
    best = math.inf
    for _ in range(3):
        start = time.thread_time()
        for _ in range(steps):
            function()
        best = min(best, (time.thread_time() - start) / steps)
    return best


def matmul_floor(steps: int = 20) -> float:
    """CPU seconds of the matrix products alone of one IWAE step (K B = 1000 decoder rows, B = 20 encoder rows):
    the forward product and the two backward products (input and weight gradients) of every layer."""
    g = torch.Generator().manual_seed(5)
    shapes = [(BATCH, INPUT, 200), (BATCH, 200, 200), (BATCH, 200, 2 * LATENT)]  # encoder: rows, in, out
    shapes += [(K * BATCH, LATENT, 200), (K * BATCH, 200, 200), (K * BATCH, 200, INPUT)]  # decoder
    mats = [(torch.randn(m, i, generator=g), torch.randn(o, i, generator=g), torch.randn(m, o, generator=g))
            for m, i, o in shapes]  # fmt: skip

    def products() -> None:
        for h, w, d in mats:
            h @ w.t()
            d @ w
            d.t() @ h

    return timed(products, steps)


def profile_table(steps: int) -> None:
    """torch.profiler over ``steps`` training steps of each implementation: self CPU time per step by kind of
    operation (matrix products, elementwise and reductions, optimizer, the rest)."""
    from torch.profiler import ProfilerActivity, profile

    x = torch.bernoulli(images(BATCH), generator=torch.Generator().manual_seed(1))
    kinds = {"matrix products": ("aten::mm", "aten::addmm", "aten::bmm", "aten::addmv", "aten::addmv_")}
    print(f"\nProfile (torch.profiler, self CPU ms per step, {steps} steps; the profiler adds its own overhead):")
    print(f"{'implementation':<18}{'matrix products':>17}{'optimizer':>11}{'other ops':>11}{'all':>8}")
    for name in ("straightforward", "helpers"):
        model, objective, optimizer = make(name)
        generator = torch.Generator().manual_seed(7)

        def step(model=model, objective=objective, optimizer=optimizer, generator=generator) -> None:
            loss = -objective(model, x, generator).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        for _ in range(5):
            step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                step()
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)  # every op once
        matmul = sum(e.self_cpu_time_total for e in events if e.key in kinds["matrix products"])
        optim = sum(e.cpu_time_total for e in events if e.key.startswith("Optimizer."))  # with the ops inside
        scale = 1e-3 / steps  # microseconds in all -> ms per step
        print(
            f"{name:<18}{matmul * scale:>17.2f}{optim * scale:>11.2f}{(total - matmul - optim) * scale:>11.2f}"
            f"{total * scale:>8.2f}"
        )


def batch_table(steps: int) -> None:
    """Images per second of helpers' training step at K = 1 (the VAE) for batches 20, 100, 500, with 1 and 2
    threads, in one process, interleaved (CPU-bound work on a shared 2-core machine: 2 threads compete with
    whatever else runs)."""
    x = images()
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in (20, 100, 500):
            model, _, optimizer = make("helpers")
            generator = torch.Generator().manual_seed(6)

            def step(batch=batch, model=model, optimizer=optimizer, generator=generator) -> None:
                index = torch.randint(len(x), (batch,), generator=generator)
                xb = torch.bernoulli(x[index], generator=generator)
                loss = -deep.iwelbo(model, xb, 1, generator=generator).mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

            for _ in range(3):
                step()
            best = math.inf
            for _ in range(3):
                start = time.perf_counter()
                for _ in range(max(3, steps * 20 // batch)):
                    step()
                best = min(best, (time.perf_counter() - start) / max(3, steps * 20 // batch))
            rows.append((threads, batch, batch / best))
    torch.set_num_threads(1)
    print(f"\nK = 1 (the VAE), {INPUT}-200-200-{LATENT} tanh, helpers' step, images/s (wall clock, best of 3 loops):")
    print(f"{'threads':>8}{'batch 20':>12}{'batch 100':>12}{'batch 500':>12}")
    for threads in (1, 2):
        print(f"{threads:>8}" + "".join(f"{rate:>12.0f}" for t, _, rate in rows if t == threads))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed block")
    parser.add_argument("--blocks", type=int, default=10, help="timed blocks per process")
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per implementation")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in every worker")
    parser.add_argument("--min-ratio", type=float, default=1.5)
    parser.add_argument("--check-only", action="store_true")
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--batches", action="store_true", help="K = 1 images/s: batch 20, 100, 500; 1, 2 threads")
    parser.add_argument("--worker", choices=("straightforward", "helpers"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.threads)
        return
    check_agreement()
    if args.check_only:
        return
    names = ("straightforward", "helpers")
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    paired = []
    for _ in range(args.rounds):
        workers = {name: Worker(name, args.steps, args.threads) for name in names}
        try:
            for block in range(args.blocks):
                order = names if block % 2 == 0 else names[::-1]  # alternate who goes first
                result = {name: workers[name].run_block() for name in order}
                for name in names:
                    wall[name].append(result[name]["wall"])
                    cpu[name].append(result[name]["cpu"])
                paired.append(result["straightforward"]["wall"] / result["helpers"]["wall"])
        finally:
            for w in workers.values():
                w.close()
    print(
        f"\nIWAE training step, K = {K}, batch {BATCH}, {INPUT}-200-200-{LATENT} tanh; torch {torch.__version__}, "
        f"{args.threads} thread(s); {args.rounds} pairs of fresh processes, {args.blocks} alternating blocks of "
        f"{args.steps} steps each"
    )
    print(
        f"{'implementation':<18}{'images/s median':>17}{'images/s best':>15}{'ms/step median':>16}{'CPU ms/step':>13}"
    )
    for name in names:
        median, best = statistics.median(wall[name]), min(wall[name])
        print(
            f"{name:<18}{BATCH / median:>17.0f}{BATCH / best:>15.0f}{1e3 * median:>16.2f}"
            f"{1e3 * statistics.median(cpu[name]):>13.2f}"
        )
    ratio = statistics.median(paired)
    quartiles = statistics.quantiles(paired, n=4) if len(paired) > 1 else [ratio, ratio, ratio]
    cpu_ratio = statistics.median(cpu["straightforward"]) / statistics.median(cpu["helpers"])
    print(
        f"images/s ratio helpers / straightforward: {ratio:.2f}x (median of {len(paired)} paired blocks; "
        f"quartiles {quartiles[0]:.2f}x-{quartiles[2]:.2f}x); CPU time ratio {cpu_ratio:.2f}x"
    )
    if args.ablation:
        ablation(max(20, args.steps), args.threads)
        profile_table(max(20, args.steps))
    if args.batches:
        batch_table(args.steps)
    if ratio < args.min_ratio:
        print(f"FAIL: the helpers' step is only {ratio:.2f}x the straightforward one (target {args.min_ratio}x)")
        sys.exit(1)


if __name__ == "__main__":
    main()
