"""The package mirrors the book, and its import graph follows the book's order: common <- models <- the parts, in the
order of book/_toc.yml (vi <- estimators <- deep) <- check.

The rule is read from the source (every ``import`` and ``from ... import`` statement, parsed with ``ast``, including
imports inside functions), so it holds for code that a test never runs. A part may import the parts *before* it in
the book, never after: what a part needs from a later one moves down to ``common/`` or ``models/``, or the chapter
that needs it moves after that part. ``check/`` (the exercises' self-checks) consumes every layer, and no layer
imports it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
import yaml
from _shared import BOOK, ROOT

HELPERS = ROOT / "helpers"


def parts_in_book_order(toc: Path = BOOK / "_toc.yml") -> tuple[str, ...]:
    """The parts (folders of book/) in the order their first chapter appears in the table of contents; a page at the
    top level (the instructors' page) is not a part."""
    order: list[str] = []
    for part in yaml.safe_load(toc.read_text())["parts"]:
        for chapter in part["chapters"]:
            folder, _, rest = chapter["file"].partition("/")
            if rest and folder not in order:
                order.append(folder)
    return tuple(order)


PARTS = parts_in_book_order()


def allowed_imports(parts: tuple[str, ...]) -> dict[str, set[str]]:
    """What each layer may import from inside the package: a part, the parts before it in the book."""
    return {
        "common": {"common"},
        "models": {"common", "models"},
        **{p: {"common", "models", *parts[: i + 1]} for i, p in enumerate(parts)},
        "check": {"common", "models", *parts, "check"},
    }


ALLOWED = allowed_imports(PARTS)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "helpers" else None


def imported_layers(path: Path) -> list[tuple[int, str]]:
    """(line, layer) for every import of ``helpers.<layer>...`` in the file at ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, _layer(alias.name)) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "helpers":  # from helpers import deep, common
                found += [(node.lineno, alias.name) for alias in node.names]
            else:
                found.append((node.lineno, _layer(node.module)))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}:{node.lineno}: use absolute imports (helpers.<layer>...), not relative ones")
    return [(line, layer) for line, layer in found if layer is not None]


def violations(root: Path = HELPERS, allowed: dict[str, set[str]] = ALLOWED) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            continue  # helpers/__init__.py assembles the namespaces; it may import every layer
        layer = rel.parts[0]
        if layer not in allowed:
            out.append(f"{rel}: {layer}/ is not a layer of the package ({sorted(allowed)})")
            continue
        for line, imported in imported_layers(path):
            if imported not in allowed[layer]:
                out.append(f"{rel}:{line}: {layer} imports {imported} (allowed: {sorted(allowed[layer])})")
    return out


def test_the_import_graph_follows_the_book():
    assert PARTS == ("vi", "estimators", "deep"), PARTS  # the toc's order of the parts, read from book/_toc.yml
    assert violations() == []


def test_an_import_of_a_later_part_is_caught(tmp_path):
    """The rule can fail: copy the package, plant imports against the book's order, and the check reports each."""
    import shutil

    copy = tmp_path / "helpers"
    shutil.copytree(HELPERS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "estimators" / "baselines.py"
    target.write_text(
        target.read_text() + "\n\ndef _planted():\n    from helpers.deep import elbo\n\n    return elbo\n"
    )
    found = violations(copy)
    assert len(found) == 1 and "estimators imports deep" in found[0], found
    (copy / "vi" / "planted.py").write_text("from helpers import estimators\n")  # vi comes before estimators
    assert any("vi imports estimators" in v for v in violations(copy))
    (copy / "common" / "planted.py").write_text("from helpers.models import GammaPoisson\n")
    assert any("common imports models" in v for v in violations(copy))
    (copy / "deep" / "planted.py").write_text("from helpers import check\n")  # nothing imports the self-checks
    assert any("deep imports check" in v for v in violations(copy))


def test_an_earlier_part_may_be_imported_and_the_order_comes_from_the_toc(tmp_path):
    """estimators may import vi (the part before it); swap the two parts in a copy of the toc and it may not."""
    toc = tmp_path / "_toc.yml"
    text = (BOOK / "_toc.yml").read_text()
    toc.write_text(text.replace("vi/", "VI_TMP/").replace("estimators/", "vi/").replace("VI_TMP/", "estimators/"))
    swapped = parts_in_book_order(toc)
    assert swapped[:2] == ("estimators", "vi")
    planted = tmp_path / "helpers"
    import shutil

    shutil.copytree(HELPERS, planted, ignore=shutil.ignore_patterns("__pycache__"))
    (planted / "estimators" / "planted.py").write_text("from helpers import vi\n")
    assert not any("planted" in v for v in violations(planted))  # vi is before estimators in the real book
    assert any("estimators/planted.py" in v and "estimators imports vi" in v
               for v in violations(planted, allowed_imports(swapped)))  # fmt: skip


def test_the_self_checks_may_import_every_part():
    imported = {layer for path in (HELPERS / "check").glob("*.py") for _, layer in imported_layers(path)}
    assert {"vi", "deep", "models"} <= imported and violations() == []


def test_every_part_of_the_book_has_its_package_and_tests():
    for part in sorted(p.name for p in BOOK.iterdir() if p.is_dir() and list(p.glob("*.ipynb"))):
        assert (HELPERS / part / "__init__.py").is_file(), f"book/{part}/ has no helpers/{part}/"
        assert (HELPERS / part / "scales.py").is_file(), f"helpers/{part}/ keeps its scale presets in scales.py"
        assert (ROOT / "tests" / part).is_dir(), f"book/{part}/ has no tests/{part}/"


def test_each_chapter_field_of_a_part_scale_names_one_of_its_notebooks():
    """cfg.scale.<part>.<chapter>: the chapter's sizes are named after its notebook, book/<part>/<chapter>.ipynb
    (with - for _)."""
    import dataclasses
    import importlib

    for part in PARTS:
        part_sizes = importlib.import_module(f"helpers.{part}.scales").SCALES["quick"]
        for chapter in dataclasses.fields(part_sizes):
            notebook = BOOK / part / f"{chapter.name.replace('_', '-')}.ipynb"
            assert notebook.is_file(), f"cfg.scale.{part}.{chapter.name} names no notebook ({notebook} is missing)"


#: modules whose tests live in a test file named after another module of the same layer (small modules tested with
#: the code that uses them); every other module m of helpers/<layer>/ has tests/<layer>/test_m.py
TESTED_WITH = {
    "common": {"plotting": "config"},
    "models": {},
    "vi": {"meanfield": "bbvi", "normal_gamma_bbvi": "bbvi", "scales": "vi_scales"},
    "estimators": {"support": "monte_carlo", "scales": "estimators_scales"},
    "check": {"_feedback": "feedback", "elbo": "vi", "cavi": "vi", "bbvi": "vi", "natural_gradients": "vi",
              "gradient_estimators": "estimators", "vae": "deep", "iwae": "deep", "stl": "deep", "discrete": "deep",
              "diffusion": "deep"},
    "deep": {"evaluation": "vae", "objectives": "vae", "_kernels": "vae", "checkpoints": "training",
             "networks": "training", "loop": "training", "optimizers": "training", "history": "training",
             "schedules": "training",
             **{f"reference_{m}": "reference" for m in ("catalogue", "chapters", "files", "loading", "metrics",
                                                          "trainer", "__main__")}},
}  # fmt: skip


@pytest.mark.parametrize("layer", ["common", "models", *PARTS, "check"])
def test_tests_mirror_the_package(layer):
    """Module m of helpers/<layer>/ has tests/<layer>/test_m.py; module m of a subpackage helpers/<layer>/<pkg>/ (a
    concept split into modules, e.g. deep/diffusion/) has tests/<layer>/test_<pkg>_m.py, and the subpackage itself
    (its namespace) tests/<layer>/test_<pkg>.py (flat files: test modules of one basename would collide)."""
    modules = {p.stem for p in (HELPERS / layer).glob("*.py")} - {"__init__"}
    if layer == "common":
        modules -= {"scales"}
    for package in sorted(p.parent for p in (HELPERS / layer).glob("*/__init__.py")):
        modules.add(package.name)
        modules |= {f"{package.name}_{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    for module in sorted(modules):
        name = TESTED_WITH[layer].get(module, module)
        assert (ROOT / "tests" / layer / f"test_{name}.py").is_file(), f"helpers/{layer}/{module}.py has no tests"


def test_a_subpackage_module_without_tests_is_caught(tmp_path, monkeypatch):
    """The rule can fail: a module planted in a subpackage of deep/ needs its own test file."""
    import shutil

    copy = tmp_path / "root"
    shutil.copytree(HELPERS, copy / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", copy / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "helpers" / "deep" / "diffusion" / "planted.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "HELPERS", copy / "helpers")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", copy)
    with pytest.raises(AssertionError, match="diffusion_planted"):
        test_tests_mirror_the_package("deep")


# ------------------------------------------------------------------------------- inside a part: no cycle, no privates
def module_imports(root: Path, package: str) -> dict[str, list[tuple[int, str, list[str]]]]:
    """For every module of ``helpers.<package>`` (subpackages included): (line, imported module, imported names)
    for each import of another module of the same package, at any depth of the file."""
    out: dict[str, list[tuple[int, str, list[str]]]] = {}
    prefix = f"helpers.{package}"
    for path in sorted((root / package).rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        name = "helpers." + ".".join(rel.parts)
        name = name.removesuffix(".__init__")
        found = []
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [(node.lineno, a.name, []) for a in node.names if a.name.startswith(prefix + ".")]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(prefix):
                if node.module == prefix:  # from helpers.deep import training: modules
                    found += [(node.lineno, f"{prefix}.{a.name}", []) for a in node.names]
                else:
                    found.append((node.lineno, node.module, [a.name for a in node.names]))
        out[name] = found
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of a graph (module -> imported modules), each as a path that returns to its start."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def deep_violations(root: Path = HELPERS) -> list[str]:
    imports = module_imports(root, "deep")
    out = []
    graph: dict[str, set[str]] = {}
    for module, found in imports.items():
        for line, target, names in found:
            if module.endswith("__init__") or module == "helpers.deep":
                continue  # the namespace assembles the modules
            if target != module and not (target == "helpers.deep" or module.startswith(target + ".")):
                graph.setdefault(module, set()).add(target)
            private = [n for n in names if n.startswith("_")]
            if private:
                out.append(f"{module}:{line} imports private names {private} of {target}")
    out += ["import cycle: " + " -> ".join(c) for c in cycles(graph)]
    return out


def test_the_deep_part_has_no_import_cycle_and_no_private_cross_imports():
    assert deep_violations() == []


def test_a_planted_cycle_and_a_private_import_are_caught(tmp_path):
    deep = tmp_path / "deep"
    deep.mkdir()
    (deep / "__init__.py").write_text("")
    (deep / "a.py").write_text("from helpers.deep.b import _helper\n")
    (deep / "b.py").write_text("def f():\n    from helpers.deep import a\n")
    found = deep_violations(tmp_path)
    assert any("private names ['_helper']" in v for v in found)
    assert any(v.startswith("import cycle: helpers.deep.a -> helpers.deep.b -> helpers.deep.a") for v in found)
