"""helpers.common.validation: one set of checkers, each in exactly one module of the package, all importable from the
package itself (the deep engine imports them from there)."""

from __future__ import annotations

import importlib
import inspect

from helpers.common import validation

MODULES = ("objects", "scalars", "shapes", "values")


def test_every_checker_is_exported_once_from_the_package():
    defined: dict[str, str] = {}
    for name in MODULES:
        module = importlib.import_module(f"helpers.common.validation.{name}")
        for attr, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not attr.startswith("_"):
                assert attr not in defined, f"{attr} is defined in {defined[attr]} and {name}"
                defined[attr] = name
    assert sorted(defined) == sorted(validation.__all__)
    for attr, name in defined.items():
        assert getattr(validation, attr).__module__ == f"helpers.common.validation.{name}"


def test_every_checker_has_a_docstring_and_type_hints():
    for attr in validation.__all__:
        function = getattr(validation, attr)
        assert inspect.getdoc(function), attr
        assert attr == "renamed_arguments" or "return" in function.__annotations__, attr
