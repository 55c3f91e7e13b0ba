"""The set-up files agree: pyproject's pins, environment.yml, the lock, the Makefile, the README and CI."""

from __future__ import annotations

import re
import tomllib

from _shared import ROOT


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in project["optional-dependencies"].values():
        requirements += group
    pins = {}
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        assert version, f"{requirement!r} in pyproject.toml is not pinned with =="
        pins[name.strip().lower()] = version.strip()
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
            pins[name.strip().lower()] = version.strip()
    return pins


def test_environment_yml_lists_the_same_pins_as_pyproject():
    assert _environment_yml_pins() == _pyproject_pins()


def test_environment_yml_installs_the_package_itself():
    assert re.search(r"^\s*- -e \.\s*$", (ROOT / "environment.yml").read_text(), re.MULTILINE)


def test_the_lock_agrees_with_every_pin():
    lock = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.strip().lower().replace("_", "-")] = version.strip()
    for name, version in _pyproject_pins().items():
        assert lock.get(name.replace("_", "-")) == version, (
            f"constraints.txt pins {name} to {lock.get(name)}, pyproject to {version}"
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
    assert re.search(r"^test: lint unit notebooks test-build site-check$", makefile, re.M)
