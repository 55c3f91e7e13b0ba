"""The package installs where students are: Colab's Pythons (3.12, 3.13), beside the torch a runtime already has.

Colab runs Python 3.12 or 3.13 with torch, torchvision, NumPy, SciPy, matplotlib, scikit-learn and tqdm
preinstalled, and the guard cell of every chapter asks for ``%pip install "vi-gradients-course @ git+..."``. That
install must keep the runtime's torch (a replaced torch means gigabytes of downloads and a broken CUDA set-up),
so pyproject.toml gives ranges, not pins (the exact lock, constraints.txt, is for ``make`` and CI only).

* **Python 3.12, a real install.** A Colab-like environment holds torch 2.6.0 and, for every other dependency, the
  oldest release pyproject.toml allows (:data:`OLDEST`). It is built once per machine (about 4 GB, CUDA
  libraries included; ~15 minutes) into ``$VI_COURSE_TEST_CACHE`` (default ``~/.cache/vi-course-tests``) and
  reused. Each run creates a fresh venv that sees it through a ``.pth`` file, as a runtime's preinstalled packages
  are seen, installs the course from a copy of this checkout the way ``pip install git+...`` builds it, and checks
  that pip installed the course and nothing else (torch is still 2.6.0, from the base), then runs the course's
  own tests of the set-up, the Monte Carlo estimators, the data and the VAE there (imports and uses it).
* **Python 3.13, a resolution** (``pip install --dry-run --report``): a real install would download the
  gigabytes of a second torch in every CI run. pip sees torch 2.14.1 and torchvision 0.29.1 as installed (their
  metadata from PyPI in ``dist-info`` folders, no code), and the resolution must keep them and find a wheel for
  Python 3.13 of everything else.

Needs Python 3.12 and 3.13 (pyenv's, or on PATH) and PyPI; nothing else from the network. Not tested here: Colab
itself (its exact preinstalled versions, its ``%pip`` magic, a GPU runtime).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from _shared import ROOT
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PACKAGE = PYPROJECT["name"]
#: a Colab-like Python 3.12: torch at the lower bound of pyproject's range and the oldest allowed other releases
OLDEST = {
    "torch": "2.6.0",
    "torchvision": "0.21.0",
    "numpy": "1.26.4",
    "scipy": "1.13.1",
    "matplotlib": "3.8.4",
    "scikit-learn": "1.5.2",
    "tqdm": "4.66.5",
}
#: dependencies a runtime may lack: the 3.12 test installs them at their lower bound beside the base, before the course
#: (so the base, and its cache, stay what a Colab-like runtime has preinstalled)
NOT_PREINSTALLED = {"safetensors": "0.4.3", "pooch": "1.8.2"}
#: what Python 3.13 already has in the resolution test (the lock's torch)
PREINSTALLED_313 = {"torch": "2.14.1", "torchvision": "0.29.1"}
#: the course's tests run in the 3.12 environment (set-up and scales, Monte Carlo estimators, data, the VAE)
TESTS_312 = [
    "tests/common/test_config.py",
    "tests/estimators/test_monte_carlo.py",
    "tests/deep/test_data.py",
    "tests/deep/test_vae.py",
]
CACHE = Path(os.environ.get("VI_COURSE_TEST_CACHE", Path.home() / ".cache" / "vi-course-tests"))


def _python(version: str) -> Path:
    """The interpreter for ``version`` (e.g. "3.12"): on PATH, else pyenv's newest ``version``.x."""
    found = shutil.which(f"python{version}")
    candidates = [Path(found)] if found else []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(pyenv.glob(f"{version}.*/bin/python"), key=lambda p: Version(p.parts[-3]), reverse=True)
    for path in candidates:
        probe = [path, "-c", "import sys; print(sys.version_info[:2])"]
        out = subprocess.run(probe, capture_output=True, text=True, env=ENV)
        if out.returncode == 0 and out.stdout.strip() == str(tuple(map(int, version.split(".")))):
            return path
    pytest.fail(f"Python {version} not found (on PATH or under {pyenv}): install it, e.g. `pyenv install {version}`")


#: the environment of every command: none of this checkout's settings (PYTHONPATH would import its helpers)
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BOOK_SCALE", "COLAB_RELEASE_TAG")}


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=ENV, **kwargs)
    assert out.returncode == 0, f"{' '.join(map(str, args))} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _site_packages(venv: Path) -> Path:
    (path,) = (venv / "lib").glob("python3.*/site-packages")
    return path


def _venv(python: Path, path: Path) -> Path:
    _run(python, "-m", "venv", path)
    return path / "bin" / "python"


def _source_copy(tmp_path: Path) -> Path:
    """What ``pip install git+<repository>`` builds from: the package and its metadata (no build files left here)."""
    copy = tmp_path / "source"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "helpers", copy / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _report(path: Path) -> dict[str, str]:
    """{name: version} of what a ``pip install --report`` installed (or would install)."""
    items = json.loads(path.read_text())["install"]
    return {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"] for item in items}


def _colab_like_base(python: Path) -> Path:
    """The cached Python 3.12 environment with :data:`OLDEST` installed; built on first use."""
    spec = [f"{name}=={version}" for name, version in OLDEST.items()]
    key = hashlib.sha256(" ".join([str(python), *spec]).encode()).hexdigest()[:12]
    base = CACHE / f"colab-like-py3.12-{key}"
    if not (base / ".complete").is_file():
        partial = CACHE / f"{base.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        pip = _venv(python, partial)
        _run(pip, "-m", "pip", "install", "--disable-pip-version-check", "--no-cache-dir", *spec)
        (partial / ".complete").write_text("\n".join(spec) + "\n")
        shutil.rmtree(base, ignore_errors=True)
        partial.rename(base)
    return _site_packages(base)


def test_the_oldest_allowed_versions_are_the_lower_bounds_of_pyproject():
    """OLDEST is what pyproject.toml's ranges allow at their low end, so the 3.12 test covers the lower bounds."""
    ranges = {Requirement(r).name.lower(): Requirement(r).specifier for r in PYPROJECT["dependencies"]}
    assert set(ranges) == set(OLDEST) | set(NOT_PREINSTALLED)
    for name, version in {**OLDEST, **NOT_PREINSTALLED}.items():
        assert ranges[name].contains(version), f"{name}=={version} is outside pyproject.toml's {ranges[name]}"
        lower = Version(next(s.version for s in ranges[name] if s.operator == ">="))
        assert Version(version).release[: len(lower.release)] == lower.release, (name, version, lower)


def test_python_3_12_installs_beside_a_preinstalled_torch_and_uses_it(tmp_path):
    python = _python("3.12")
    base = _colab_like_base(python)
    venv = tmp_path / "venv"
    pip = _venv(python, venv)
    (_site_packages(venv) / "colab-like-base.pth").write_text(f"{base}\n")  # the runtime's preinstalled packages
    source = _source_copy(tmp_path)
    report = tmp_path / "install.json"
    lower = [f"{name}=={version}" for name, version in NOT_PREINSTALLED.items()]
    _run(pip, "-m", "pip", "install", "--disable-pip-version-check", "-q", *lower)
    _run(pip, "-m", "pip", "install", "--disable-pip-version-check", "--report", report, source)
    installed = _report(report)
    assert installed == {PACKAGE: PYPROJECT["version"]}, f"pip installed more than the course: {installed}"
    probe = "import torch, torchvision, numpy, helpers; print(torch.__version__, torch.__file__, helpers.__file__)"
    version, torch_file, helpers_file = _run(pip, "-c", probe, cwd=tmp_path).stdout.split()
    assert version.split("+")[0] == OLDEST["torch"] and Path(torch_file).is_relative_to(base), (version, torch_file)
    assert Path(helpers_file).is_relative_to(_site_packages(venv)), helpers_file  # the installed course, not ROOT

    # uses it: the course's own tests of these modules, from a copy of tests/ (so `helpers` is the installed one)
    test_extras = {Requirement(r).name: r for r in PYPROJECT["optional-dependencies"]["test"]}
    _run(pip, "-m", "pip", "install", "--disable-pip-version-check", "-q", test_extras["pytest"], test_extras["mpmath"])
    work = tmp_path / "work"
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")  # the pytest settings
    out = _run(pip, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS_312, cwd=work)
    assert " passed" in out.stdout and "failed" not in out.stdout, out.stdout[-2000:]
    print(f"\nPython 3.12 beside torch {version}: installed {installed}; {out.stdout.strip().splitlines()[-1]}")


def _stub(site_packages: Path, metadata: dict) -> None:
    """A distribution pip sees as installed: its PyPI metadata in a dist-info folder, without any code."""
    name, version = metadata["name"], metadata["version"]
    info = site_packages / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in metadata.get("requires_dist", [])]
    if metadata.get("requires_python"):
        lines.append(f"Requires-Python: {metadata['requires_python']}")
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "INSTALLER").write_text("vi-course-test-stub\n")
    (info / "RECORD").write_text("")


def test_python_3_13_resolves_beside_a_preinstalled_torch_without_replacing_it(tmp_path):
    python = _python("3.13")
    venv = tmp_path / "venv"
    pip = _venv(python, venv)
    # the runtime's torch and torchvision with everything they depend on (NumPy, the CUDA libraries, ...): their
    # metadata from PyPI, resolved as a real install would, written as installed distributions
    wanted = tmp_path / "preinstalled.json"
    pins = [f"{name}=={version}" for name, version in PREINSTALLED_313.items()]
    _run(pip, "-m", "pip", "install", "--disable-pip-version-check", "--dry-run", "--ignore-installed", "--report",
         wanted, *pins)  # fmt: skip
    for item in json.loads(wanted.read_text())["install"]:
        _stub(_site_packages(venv), item["metadata"])
    listed = _run(pip, "-m", "pip", "list", "--format=json").stdout
    preinstalled = {d["name"].lower().replace("_", "-"): d["version"] for d in json.loads(listed)}
    assert preinstalled.items() >= PREINSTALLED_313.items() and "numpy" in preinstalled

    report = tmp_path / "resolution.json"
    source = _source_copy(tmp_path)
    _run(pip, "-m", "pip", "install", "--disable-pip-version-check", "--dry-run", "--report", report, source)
    resolved = _report(report)
    assert PACKAGE in resolved
    replaced = {name: (preinstalled[name], resolved[name]) for name in set(resolved) & set(preinstalled)}
    assert not replaced, f"the resolution replaces preinstalled packages (installed, new): {replaced}"
    ranges = {Requirement(r).name.lower(): Requirement(r).specifier for r in PYPROJECT["dependencies"]}
    for name, specifier in ranges.items():
        if name in resolved:
            assert specifier.contains(resolved[name]), (name, resolved[name], specifier)
    for item in json.loads(report.read_text())["install"]:
        url = item["download_info"]["url"]
        if item["metadata"]["name"] != PACKAGE:  # a wheel for this Python, nothing to compile on Colab
            assert url.endswith(".whl") and ("cp313" in url or "py3-none" in url or "abi3" in url), url
    print(f"\nPython 3.13 beside torch {PREINSTALLED_313['torch']}: would install {resolved}")


def test_requires_python_admits_the_tested_pythons():
    from packaging.specifiers import SpecifierSet

    assert all(SpecifierSet(PYPROJECT["requires-python"]).contains(v) for v in ("3.11", "3.12", "3.13"))
    assert sys.version_info[:2] >= (3, 11)
