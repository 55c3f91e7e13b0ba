"""binder/ (what Binder's repo2docker reads instead of the repository root) agrees with pyproject.toml and the lock.

Checked here, offline: the lock's versions of the package's dependencies (pyproject.toml gives ranges), torch and
torchvision as CPU-only wheels from the PyTorch CPU index, JupyterLab with JupyterLab-MyST (the chapters' MyST
rendered) at pyproject's pins, the lock as constraints, Python 3.11, the course package and its named kernel
installed by postBuild, BOOK_SCALE=quick by default, and the deep chapters' data falling back to scikit-learn's
digits on a machine without Debian's Fashion-MNIST (Binder has no apt here). Not checked (no network in CI): that
download.pytorch.org serves these wheels and that mybinder.org builds the image.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib

import pytest
from _shared import ROOT

BINDER = ROOT / "binder"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line)
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\s\[]", requirement, maxsplit=1)[0].lower()


REQUIREMENTS = (BINDER / "requirements.txt").read_text().splitlines()
BINDER_PINS = _pins(REQUIREMENTS)
LOCK = {name.replace("_", "-"): v for name, v in _pins((ROOT / "constraints.txt").read_text().splitlines()).items()}
#: the package's dependencies (ranges in pyproject.toml) at the lock's versions
RUNTIME = {_name(r): LOCK[_name(r)] for r in PYPROJECT["project"]["dependencies"]}
BOOK = _pins(PYPROJECT["project"]["optional-dependencies"]["book"])
LAB = ("jupyterlab", "jupyterlab-myst", "ipykernel")  # the notebook server, its MyST renderer, the kernel


def test_torch_and_torchvision_are_the_pinned_versions_as_cpu_wheels_from_the_cpu_index():
    for name in ("torch", "torchvision"):
        assert BINDER_PINS[name] == f"{RUNTIME[name]}+cpu", (name, BINDER_PINS.get(name), RUNTIME[name])
    options = [line.split() for line in REQUIREMENTS if line.startswith("--")]
    assert ["--extra-index-url", CPU_INDEX] in options  # +cpu local versions exist only on that index


def test_every_other_dependency_is_locked_and_the_lab_packages_agree_with_pyproject():
    for name, version in RUNTIME.items():
        if name not in ("torch", "torchvision"):
            assert BINDER_PINS.get(name) == version, f"binder/requirements.txt: {name} is not pinned to {version}"
    for name in LAB:
        assert BINDER_PINS.get(name) == BOOK[name], name
    assert set(BINDER_PINS) == set(RUNTIME) | set(LAB), "binder pins a package pyproject does not"


def test_the_lock_is_used_as_constraints_and_resolves_from_the_binder_folder():
    assert "-c ../constraints.txt" in REQUIREMENTS
    assert (BINDER / ".." / "constraints.txt").resolve().is_file()
    for name in (*RUNTIME, *LAB):  # a +cpu local version satisfies the lock's ==X.Y.Z
        assert BINDER_PINS[name].removesuffix("+cpu") == LOCK[name], name


def test_python_version_is_the_lock_s_and_within_requires_python():
    from packaging.specifiers import SpecifierSet

    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"  # the lock is resolved on 3.11 (make lock)
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains("3.11")


def test_post_build_installs_the_course_and_its_named_kernel():
    script = (BINDER / "postBuild").read_text()
    assert os.access(BINDER / "postBuild", os.X_OK) and script.startswith("#!/bin/bash")
    assert "set -euo pipefail" in script
    assert re.search(r"pip install --no-deps -e \.\s*$", script, re.M)  # dependencies come from requirements.txt
    assert 'ipykernel install --sys-prefix --name vi-course --display-name "VI course"' in script


@pytest.mark.parametrize(("preset", "expected"), [(None, "quick"), ("standard", "standard")])
def test_start_sets_the_quick_scale_by_default_and_runs_the_command(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "BOOK_SCALE"}
    if preset:
        env["BOOK_SCALE"] = preset
    assert os.access(BINDER / "start", os.X_OK)
    out = subprocess.run(
        [str(BINDER / "start"), "python3", "-c", "import os; print(os.environ['BOOK_SCALE'])"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == expected


def test_without_debian_fashion_mnist_the_chapters_fall_back_to_the_digits(tmp_path, monkeypatch, capsys):
    """Binder has no apt-get here: no /usr/share/datasets/fashion-mnist and an empty data folder. The chapters'
    deep.load_images("auto") must then give scikit-learn's 8 x 8 digits, and say so."""
    from helpers.deep import data

    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "no-such-dir")
    monkeypatch.setenv("VI_COURSE_DATA", str(tmp_path / "empty"))
    assert data.available_datasets() == ["digits"]
    images, labels = data.load_images("auto", "train")
    assert images.shape[1] == 64 and images.shape[0] == labels.shape[0] > 1000
    assert 0 <= float(images.min()) and float(images.max()) <= 1
    assert "using digits" in capsys.readouterr().out
    with pytest.raises(data.DatasetNotAvailableError, match="fashion-mnist|Fashion-MNIST"):
        data.load_images("fashion-mnist", "train")
