"""The set-up files agree: pyproject's ranges and pins, environment.yml, the lock, the Makefile, the README and CI."""

from __future__ import annotations

import re
import tomllib

from _shared import ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    lock = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[_name(name)] = version.strip()
    return lock


def _runtime() -> dict[str, Requirement]:
    """The package's own dependencies: compatible ranges (pip keeps a torch that is already there, e.g. Colab's)."""
    return {_name(r.name): r for r in map(Requirement, PROJECT["dependencies"])}


def _pyproject_pins() -> dict[str, str]:
    """The book's and the tests' tools: exact pins."""
    pins = {}
    for group in PROJECT["optional-dependencies"].values():
        for requirement in group:
            name, _, version = requirement.partition("==")
            assert version, f"{requirement!r} in pyproject.toml's extras is not pinned with =="
            pins[_name(name.strip())] = version.strip()
    return pins


def _environment_yml_pins() -> dict[str, str]:
    pins, in_pip = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.split("#")[0].strip()
        if stripped == "- pip:":
            in_pip = True
            continue
        if in_pip and stripped.startswith("- ") and "==" in stripped:
            name, version = stripped[2:].split("==")
            pins[_name(name.strip())] = version.strip()
    return pins


def test_the_package_requires_ranges_and_pythons_from_the_lock_s_to_colab_s():
    runtime = _runtime()
    assert set(runtime) >= {"torch", "torchvision", "numpy", "scipy", "matplotlib", "scikit-learn", "tqdm"}
    for requirement in runtime.values():
        assert not any(spec.operator in ("==", "===") for spec in requirement.specifier), (
            f"{requirement} pins: the package's dependencies are ranges (the exact versions are constraints.txt's)"
        )
        assert any(spec.operator == ">=" for spec in requirement.specifier), f"{requirement} needs a lower bound"
    pythons = SpecifierSet(PROJECT["requires-python"])
    for version in ("3.11", "3.12", "3.13"):  # the lock's (make, CI, Binder) and Colab's current runtimes
        assert pythons.contains(version), f"requires-python {pythons} excludes Python {version}"


def test_environment_yml_lists_the_pins_and_the_locked_dependencies():
    lock = _lock()
    expected = {**_pyproject_pins(), **{name: lock[name] for name in _runtime()}}
    assert _environment_yml_pins() == expected


def test_environment_yml_installs_the_package_itself():
    assert re.search(r"^\s*- -e \.\s*$", (ROOT / "environment.yml").read_text(), re.MULTILINE)


def test_the_lock_agrees_with_every_pin_and_range():
    lock = _lock()
    for name, version in _pyproject_pins().items():
        assert lock.get(name) == version, f"constraints.txt pins {name} to {lock.get(name)}, pyproject to {version}"
    for name, requirement in _runtime().items():
        assert name in lock, f"constraints.txt does not lock {name}: run make lock"
        assert requirement.specifier.contains(lock[name], prereleases=True), (
            f"constraints.txt's {name}=={lock[name]} is outside pyproject.toml's range {requirement}"
        )


def test_jupyter_book_is_version_1():
    assert _pyproject_pins()["jupyter-book"].startswith("1.")


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\s*$", ci, re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text()
    for target in ("book:", "test:", "lab:"):
        assert re.search(rf"^{target}", makefile, re.MULTILINE), target


def test_make_help_lists_every_target_and_make_test_is_its_steps():
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY: (.+)$", makefile, re.M).group(1).split()
    help_text = makefile[makefile.index("\nhelp:") : makefile.index("# ---", makefile.index("\nhelp:"))]
    for target in set(phony) - {"help"}:
        assert re.search(rf"make {re.escape(target)}\b", help_text), f"make help does not list {target}"
    # test-build executes every notebook once (book/_ext/execute_parallel.py) and fails on any error: no nbmake pass
    assert re.search(r"^test: lint unit test-build site-check$", makefile, re.M)


def test_package_version_is_pyprojects():
    import helpers

    assert helpers.__version__ == PROJECT["version"], (
        f"helpers.__version__ is {helpers.__version__!r} but pyproject.toml's version is {PROJECT['version']!r}: "
        "set both to the same release"
    )
