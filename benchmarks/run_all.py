"""Run every speed comparison in this folder and write benchmarks/RESULTS.md (``make bench``).

Each benchmark runs in its own process, checks first that the implementations it compares agree, then times them
side by side in the same run. Their printed tables are collected, with the machine they ran on, into RESULTS.md:
measurements live there, not in code comments or the README.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ("Gradient estimators (Gamma–Poisson model)", ["bench_estimators.py"]),
    ("Training-loop overhead: deep.train against a bare loop", ["bench_training.py"]),
    ("Seed replicas with stacked weights: deep.train_replicas against deep.train", ["bench_replicas.py"]),
    ("One IWAE training step (Burda et al.'s network)", ["bench_iwae.py", "--ablation", "--batches"]),
    ("One BBVI iteration against Pyro (Normal–Gamma model)", ["bench_bbvi.py"]),
    ("Discrete-latent gradient estimators: one training step each", ["bench_discrete.py"]),
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {'CUDA' if torch.cuda.is_available() else 'no GPU'}"
    )


def book_times(cache: Path) -> str:
    """The execution time of each notebook in the last book build, from its jupyter-cache records ("" if none)."""
    if not cache.exists():
        return ""
    from jupyter_cache import get_cache

    rows = []
    for record in get_cache(str(cache)).list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None:
            uri = Path(record.uri)
            name = uri.relative_to(uri.parents[1]).as_posix()  # <part>/<chapter>.ipynb, from whichever checkout
            rows.append((name, float(seconds)))
    if not rows:
        return ""
    key = (cache.parent / ".build-key").read_text().strip() if (cache.parent / ".build-key").exists() else "?"
    lines = [f"| `{name}` | {seconds:.0f} |" for name, seconds in sorted(rows)]
    total = sum(seconds for _, seconds in rows)
    times_file = cache.parent / "execution-times.json"  # written by book/_ext/execute_parallel.py
    wall = ""
    if times_file.exists():
        run = json.loads(times_file.read_text())
        wall = (
            f"\nThe last execution ({len(run['executed'])} notebooks, BOOK_SCALE={run['scale']}) ran {run['jobs']} "
            f"at a time, one BLAS thread each: {run['wall_seconds']:.0f} s wall clock.\n"
        )
    return (
        "## Book execution time (the last `make book` or `make test` build)\n\n"
        f"Build key `{key}` (the scale, then a hash of the helpers). Seconds per notebook:\n\n"
        "| notebook | seconds |\n| --- | --- |\n" + "\n".join(lines) + f"\n| all | {total:.0f} |\n" + wall
    )


def replace_sections(results: str, sections: dict[str, str]) -> str:
    """RESULTS.md's text with the sections whose titles are keys of ``sections`` replaced by their values (each a
    whole "## title" section); every other section is kept as it was. A title not in the text is an error."""
    parts = results.split("\n## ")
    for title, section in sections.items():
        matches = [i for i, part in enumerate(parts) if i > 0 and part.split("\n", 1)[0] == title]
        if len(matches) != 1:
            raise SystemExit(f"--only: RESULTS.md has {len(matches)} sections titled {title!r}; run make bench")
        parts[matches[0]] = section.removeprefix("## ").rstrip("\n") + "\n"
    return "\n## ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--book-times-only",
        type=Path,
        metavar="CACHE",
        default=None,
        help="only rewrite the book-time section of --output from this jupyter-cache folder",
    )
    parser.add_argument(
        "--only",
        metavar="TEXT",
        default=None,
        help="rerun only the benchmarks whose title contains TEXT and replace their sections in --output",
    )
    args = parser.parse_args()
    if args.book_times_only is not None:
        times = book_times(args.book_times_only.resolve())
        if not times:
            raise SystemExit(f"--book-times-only: no executed notebooks in {args.book_times_only}")
        kept = args.output.read_text().split("## Book execution time")[0].rstrip() + "\n"
        args.output.write_text(kept + "\n" + times)
        print(f"wrote the book-time section of {args.output}")
        return
    chosen = [(t, c) for t, c in BENCHMARKS if args.only is None or args.only.lower() in t.lower()]
    if not chosen:
        raise SystemExit(f"--only {args.only!r} matches none of: " + "; ".join(t for t, _ in BENCHMARKS))
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = []
    for title, command in chosen:
        print(f"== {title}: {' '.join(command)}", flush=True)
        result = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]], capture_output=True, text=True)
        print(result.stdout, end="")
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            raise SystemExit(f"{command[0]} failed (exit {result.returncode}); RESULTS.md was not written")
        rerun = f" (rerun alone on {when}, on {machine()}, by `run_all.py --only`)" if args.only else ""
        sections.append(
            f"## {title}\n\n`python benchmarks/{' '.join(command)}`{rerun}\n\n```\n{result.stdout.strip()}\n```\n"
        )
    if args.only is not None:
        args.output.write_text(replace_sections(args.output.read_text(), dict(zip([t for t, _ in chosen], sections))))
        print(f"wrote {len(sections)} section(s) of {args.output}")
        return
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` (benchmarks/run_all.py) on {when}, on {machine()}. Each table compares "
        "implementations side by side in one run, after checking that they agree. On a shared machine the numbers "
        "vary by about 30% from run to run; the ratios within a table vary less.\n"
    )
    times = book_times(HERE.parent / "book" / "_build" / ".jupyter_cache")
    args.output.write_text(header + "\n" + "\n".join(sections) + ("\n" + times if times else ""))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
