"""The benchmark scripts run (small sizes): a benchmark that rots is worse than none. Timings are not asserted."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _shared import ROOT


def test_estimator_benchmark_runs_and_reports_every_row():
    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench_estimators.py",
            "--num-samples",
            "1000",
            "--loop-samples",
            "20",
            "--repeats",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for row in (
        "estimators.score_function_gradient",
        "estimators.reparameterization_gradient",
        "per-sample Python loop",
    ):
        assert row in result.stdout


def test_iwae_benchmark_implementations_agree():
    """The straightforward IWAE step and deep.iwelbo give the same value and gradient (the timing is not run)."""
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_iwae.py", "--check-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "agreement: IWELBO (K=50) equal" in result.stdout


def test_bbvi_benchmark_checks_the_same_elbo_and_reports_both_rows():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_bbvi.py", "--repeats", "1", "--skip-loop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ELBO at the same q" in result.stdout  # the agreement within SE is asserted before timing
    for row in ("helpers.vi.bbvi", "Pyro SVI, Trace_ELBO, vectorized particles"):
        assert row in result.stdout


def test_results_md_has_every_benchmark_and_the_readme_links_it():
    """Measurements live in benchmarks/RESULTS.md, written by `make bench` (benchmarks/run_all.py)."""
    import run_all

    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    for title, command in run_all.BENCHMARKS:
        assert f"## {title}" in results and command[0] in results, title
    assert "benchmarks/RESULTS.md" in (ROOT / "README.md").read_text()
    assert "benchmarks/run_all.py" in (ROOT / "Makefile").read_text()


def test_discrete_benchmark_implementations_agree():
    """deep.disarm_gradient equals the per-image loop and deep.exact_gradient the loop over the 2^D states (the
    script asserts both with torch.testing.assert_close and prints the line below once they hold)."""
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_discrete.py", "--check-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "agreement: disarm_gradient == per-image loop, exact_gradient == loop over states" in result.stdout


def test_training_benchmark_implementations_agree():
    """One epoch of deep.train and of the bare loop give the same parameters (the timing is not run)."""
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_training.py", "--check-only", "--images", "500"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "agreement: one epoch of deep.train == the bare loop" in result.stdout


def test_replica_benchmark_implementations_agree():
    """Three replicas trained stacked equal the sequential reference (the timing is not run)."""
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_replicas.py", "--check-only", "--images", "600"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "agreement: R = 3 replicas stacked == the sequential reference" in result.stdout


def test_run_all_only_replaces_just_the_named_section():
    """`run_all.py --only` rewrites one section of RESULTS.md and keeps the others (and the header) as they were."""
    import run_all

    text = "# Benchmark results\n\nheader\n\n## A\n\nold a\n\n## B\n\nold b\n\n## Book execution time\n\nrows\n"
    out = run_all.replace_sections(text, {"B": "## B\n\nnew b\n"})
    assert out == "# Benchmark results\n\nheader\n\n## A\n\nold a\n\n## B\n\nnew b\n\n## Book execution time\n\nrows\n"
    with pytest.raises(SystemExit, match="sections titled 'C'"):
        run_all.replace_sections(text, {"C": "## C\n\nc\n"})
