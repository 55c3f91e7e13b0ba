"""``check.summary(chapter)``: every self-check of a chapter at once, one line per exercise.

The answers come from the chapters themselves: each chapter's self-check cell (the code cell that starts with
``# self-check``) is executed, so the right answers are the chapter's reference functions under the names the
chapter uses, and the known wrong answers are the chapter's own mistaken variants (``my_kl_with_a_variance``, ...)
or, where a chapter passes its mistake inline, the right answer's result nudged by 1 %. A function that is missing
or raises ``NotImplementedError`` (the student edition's stub) is "not attempted"."""

from __future__ import annotations

import functools
import inspect
import math

import nbformat
import pytest
import torch
from _shared import BOOK, assert_clear_error
from torch.distributions import Normal

from helpers import check
from helpers.check.summary import CHAPTERS, CORRECT, NOT_ATTEMPTED, NOT_YET, Summary, chapter_module


def _self_check_namespace(chapter: str) -> dict:
    """The names that the chapter's self-check cell defines, executed with the chapters' usual imports (its asserts
    run too: the cell's right answer passes and its mistake does not)."""
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith("# self-check")]
    assert len(cells) == 1, f"{chapter}: expected one code cell starting with '# self-check', found {len(cells)}"
    namespace = {"math": math, "functools": functools, "torch": torch, "Normal": Normal, "check": check}
    exec(compile(cells[0], f"{chapter}.ipynb:self-check", "exec"), namespace)
    return namespace


def _nudged(answer):
    """``answer`` with every returned tensor scaled by 1.01: a wrong answer for every check."""

    def nudged(*args, **kwargs):
        value = answer(*args, **kwargs)
        if isinstance(value, tuple):
            return tuple(1.01 * v for v in value)
        return 1.01 * value

    return nudged


def _stub(*args, **kwargs):
    raise NotImplementedError("your code here")


def test_every_chapter_with_checks_is_summarized():
    modules = {m for m in check.__all__ if m not in ("Feedback", "summary")}
    assert {module.__name__.rsplit(".", 1)[-1] for module in CHAPTERS.values()} == modules
    for chapter, module in CHAPTERS.items():
        assert (BOOK / f"{chapter}.ipynb").is_file(), chapter
        public = {
            name
            for name, obj in vars(module).items()
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
            and "answer" in inspect.signature(obj).parameters
        }  # fmt: skip
        assert set(module.SELF_CHECKS.values()) == {getattr(module, n) for n in public}, chapter
        assert all(name.startswith("my_") for name in module.SELF_CHECKS), chapter


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_the_chapters_own_answers_are_correct(chapter, capsys):
    namespace = _self_check_namespace(chapter)
    names = list(CHAPTERS[chapter].SELF_CHECKS)
    assert set(names) <= set(namespace), f"{chapter}'s self-check cell does not define {set(names) - set(namespace)}"
    capsys.readouterr()
    result = check.summary(chapter, namespace)
    printed = capsys.readouterr().out.splitlines()
    assert isinstance(result, Summary) and result and result.count(CORRECT) == len(names)
    assert printed == [f"check.{r.check}({r.name}): correct" for r in result.results]
    assert [r.name for r in result.results] == names
    assert repr(result) == f"{chapter}: {len(names)} of {len(names)} self-checks correct, 0 not yet, 0 not attempted"


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_a_wrong_answer_is_not_yet_with_the_checks_message(chapter, capsys):
    namespace = _self_check_namespace(chapter)
    table = CHAPTERS[chapter].SELF_CHECKS
    for name, check_function in table.items():
        mistakes = [namespace[k] for k in namespace if k.startswith(f"{name}_") and callable(namespace[k])]
        for wrong in [*mistakes, _nudged(namespace[name])]:
            result = check.summary(chapter, {**namespace, name: wrong})
            (line,) = [r for r in result.results if r.name == name]
            assert line.status == NOT_YET and not result, (chapter, name, line)
            assert line.message == check_function(wrong).message and line.message.startswith("not yet: ")
            others = [r.status for r in result.results if r.name != name]
            assert others == [CORRECT] * (len(table) - 1)
    assert "not yet: " in capsys.readouterr().out


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_missing_or_stub_is_not_attempted(chapter, capsys):
    names = list(CHAPTERS[chapter].SELF_CHECKS)
    missing = check.summary(chapter, {})
    assert [r.status for r in missing.results] == [NOT_ATTEMPTED] * len(names) and not missing
    assert [r.message for r in missing.results] == [f"{n} is not defined" for n in names]
    stubs = check.summary(chapter, {n: _stub for n in names})
    assert [r.status for r in stubs.results] == [NOT_ATTEMPTED] * len(names)
    assert all(r.message.endswith("raises NotImplementedError") for r in stubs.results)
    printed = capsys.readouterr().out
    assert printed.count("not attempted (") == 2 * len(names)


def test_a_mix_is_counted_and_the_default_namespace_is_the_callers_globals(capsys):
    """Called from a notebook (here: code executed with its own globals), it finds the functions there."""
    namespace = _self_check_namespace("deep/vae")
    caller = {"check": check, "my_kl": namespace["my_kl"], "my_log_q": _stub}
    capsys.readouterr()
    exec("result = check.summary('vae')", caller)
    result = caller["result"]
    assert [r.status for r in result.results] == [CORRECT, NOT_ATTEMPTED]
    assert repr(result) == "deep/vae: 1 of 2 self-checks correct, 0 not yet, 1 not attempted"
    assert capsys.readouterr().out.splitlines() == [
        "check.vae.gaussian_kl(my_kl): correct",
        "check.vae.gaussian_log_q(my_log_q): not attempted (my_log_q raises NotImplementedError)",
    ]


def test_a_value_that_is_not_a_function_is_not_yet():
    result = check.summary("iwae", {"my_iwelbo": 3.0})
    assert result.results[0].status == NOT_YET and "my_iwelbo is a float, not a function" in result.results[0].message


def test_a_not_implemented_error_caught_inside_the_answer_is_judged():
    """Only a NotImplementedError that leaves the student's function makes it "not attempted": an answer that
    tries a stubbed helper, catches its NotImplementedError and computes the value another way is judged."""
    namespace = _self_check_namespace("vi/elbo")

    def with_a_fallback(*args):
        try:
            return _stub(*args)
        except NotImplementedError:
            return namespace["my_elbo"](*args)

    assert check.summary("elbo", {"my_elbo": with_a_fallback}).results[0].status == CORRECT


NAMES = [
    ("vae", "deep/vae"),
    ("deep/vae.ipynb", "deep/vae"),
    ("natural_gradients", "vi/natural-gradients"),
    ("gradient-estimators", "estimators/gradient-estimators"),
    (" elbo ", "vi/elbo"),
]


@pytest.mark.parametrize("name, chapter", NAMES)
def test_chapter_names(name, chapter):
    assert chapter_module(name) == (chapter, CHAPTERS[chapter])


def test_bad_input_is_refused_clearly():
    valid = r"valid chapters are vi/elbo, vi/cavi, .*deep/diffusion"
    assert_clear_error(lambda: check.summary("vea"), ValueError, r"chapter 'vea' has no self-checks: " + valid)
    assert_clear_error(lambda: check.summary("intro"), ValueError, valid)
    assert_clear_error(lambda: check.summary(3), TypeError, r"chapter must be a string.*" + valid)
    assert_clear_error(lambda: check.summary("vae", ["my_kl"]), TypeError, r"namespace must be a mapping.*globals\(\)")
