"""What a student sees of a check before answering: its docstring gives the signature, what to return and the
shapes, not the formula; its named-mistake messages say what is wrong without printing the corrected formula; a
function that raises NotImplementedError (the student edition's stub) is "not attempted".

The formula pieces below are those the docstrings and messages used to state (each a piece of a reference answer:
``help(check.cavi.q_tau_update)`` and the missing-half message printed a_N = a_0 + (N + 1)/2, the IWELBO messages
"the log of the average weight", ...). They are searched in every public docstring of helpers.check and in every
string literal of the check modules, which holds every message a check can return."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
import torch
from torch.distributions import Normal, kl_divergence

import helpers.check
from helpers import check
from helpers.check._feedback import STATUSES, Feedback

#: check module -> pieces of its reference formulas (or ways around deriving them) that no docstring or message of
#: helpers.check may contain
FORMULA_PIECES = {
    "elbo": ["z_s = loc + scale * eps_s", "- log q(z) of each draw", "ELBO subtracts"],
    "cavi": ["(N + 1)/2", "(N + 1) / 2", "lambda_0 E[(mu - mu_0)^2]", "E[(x_n - mu)^2]", "prior's 1/2", "own 1/2"],
    "bbvi": ["-log scale of log q", "-1 / scale + "],
    "natural_gradients": ["psi_1(alpha)", "polygamma", "alpha / s^2", "alpha/s^2"],
    "gradient_estimators": ["f(z_s) times the score", "weighs it by f(z)", "f(z) d log q(z)", "E_q[log p(x, z)] alone"],
    "vae": [
        "where it divides by it",
        "four times too much",
        "half of it",
        "product of the densities",
        "mu^2 + sigma^2",
    ],  # fmt: skip
    "iwae": ["log of the average weight", "log of p(x, z_k) / q(z_k | x)", "z_k = mu + sigma * eps_k"],
    "stl": ["not only the parameters inside log q"],
    "discrete": [
        "logarithm twice",
        "softmax over the last axis",
        "softmax at the temperature",
        "pulls a toward b",
        "log(-log u)",
        "sigma(a)sigma(-a)",
    ],  # fmt: skip
    "diffusion": ["pairs t - 1 with t", "1 - abar_t", "SNR_{t-1} / SNR_t"],
}
#: ways to the answer without deriving it, named in no docstring or message: the package's and torch's own
#: implementations (and, in a docstring, "autograd of" the package's function)
IMPLEMENTATIONS = ["torch.distributions", "categorical_reparametrize", "deep.bernoulli_kl", "kl_divergence"]
SHORTCUTS = ["autograd of", *IMPLEMENTATIONS]


def _modules():
    """The chapter modules of helpers.check (not _feedback, not summary: no ``answer`` checks there)."""
    names = [m.name for m in pkgutil.iter_modules(helpers.check.__path__) if not m.name.startswith("_")]
    names = [name for name in names if name != "summary"]  # check.summary relays the checks' own messages
    return [importlib.import_module(f"helpers.check.{name}") for name in sorted(names)]


def _checks():
    """(module name, check name, function) of every public check: a function whose first parameter is ``answer``."""
    found = []
    for module in _modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            if list(inspect.signature(fn).parameters)[:1] == ["answer"]:
                found.append((module.__name__.rsplit(".", 1)[1], name, fn))
    return found


CHECKS = _checks()


def test_every_chapter_module_has_checks_and_a_list_of_formula_pieces():
    modules = {m for m, _, _ in CHECKS}
    assert len(CHECKS) >= 14 and modules == set(FORMULA_PIECES), (modules, set(FORMULA_PIECES))


@pytest.mark.parametrize("module, name, fn", CHECKS, ids=[f"{m}.{n}" for m, n, _ in CHECKS])
def test_a_stub_is_not_attempted(module, name, fn):
    """The student edition's stub raises NotImplementedError: "not attempted", falsy, whatever the arguments."""

    def stub(*args):
        raise NotImplementedError("your code here")

    feedback = fn(stub)
    assert isinstance(feedback, Feedback) and not feedback
    assert feedback.status == "not attempted" and feedback.message.startswith("not attempted: ")
    assert "NotImplementedError (your code here)" in feedback.message


@pytest.mark.parametrize("module, name, fn", CHECKS, ids=[f"{m}.{n}" for m, n, _ in CHECKS])
def test_a_crash_is_not_yet_and_says_what_it_raised(module, name, fn):
    def crashes(*args):
        raise ValueError("a bug")

    feedback = fn(crashes)
    assert not feedback and feedback.status == "not yet" and "raised ValueError: a bug" in feedback.message


def test_status_of_a_correct_answer_and_of_a_named_mistake():
    right = check.vae.gaussian_kl(lambda mu, s: kl_divergence(Normal(mu, s), Normal(0.0, 1.0)).sum(-1))
    wrong = check.vae.gaussian_kl(lambda mu, s: kl_divergence(Normal(0.0, 1.0), Normal(mu, s)).sum(-1))
    assert right.status == "correct" and wrong.status == "not yet" and "reverse" in wrong.message
    attempted = {Feedback(False, "not attempted: x").status, Feedback(False, "x").status}
    assert attempted == {"not attempted", "not yet"}
    # every status a Feedback can have is one STATUSES lists (the summary's columns), and each is reached
    assert {right.status, wrong.status, *attempted} == set(STATUSES) and len(STATUSES) == len(set(STATUSES))


@pytest.mark.parametrize("module, name, fn", CHECKS, ids=[f"{m}.{n}" for m, n, _ in CHECKS])
def test_the_docstring_gives_the_signature_the_return_and_the_shapes(module, name, fn):
    """``Check ``answer(<arguments>) -> <what it returns>``, <what it is>.`` then a ``Shapes:`` paragraph: the form
    the student edition turns into the stub's docstring (book/_ext/student_edition.py)."""
    doc = inspect.getdoc(fn)
    first = " ".join(doc.split("\n\n")[0].split())
    match = re.match(r"Check ``answer\((?P<args>[^)]*)\) -> (?P<ret>[^`]+)``, \S", first)
    assert match, first
    args = [a.strip() for a in match["args"].split(",")]
    parameters = [a for a in args if a]
    assert parameters and all(re.fullmatch(r"[a-zA-Z_]\w*", a) for a in parameters), args
    assert any(p.startswith("Shapes:") for p in doc.split("\n\n")), doc


def _public_docstrings() -> list[tuple[str, str]]:
    docs = [("helpers.check", inspect.getdoc(check))]
    for module in _modules():
        docs.append((module.__name__, inspect.getdoc(module) or ""))
        for name, obj in inspect.getmembers(module):
            if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__:
                docs.append((f"{module.__name__}.{name}", inspect.getdoc(obj) or ""))
    return docs


def _string_literals(module) -> list[str]:
    """Every string literal of the module's source (the parts of f-strings too): all the messages it can return."""
    tree = ast.parse(Path(module.__file__).read_text())
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_no_docstring_states_a_formula_piece_or_a_shortcut():
    pieces = [p for ps in FORMULA_PIECES.values() for p in ps] + SHORTCUTS
    found = [(where, p) for where, doc in _public_docstrings() for p in pieces if p in doc]
    assert not found, found


def test_no_message_prints_a_formula_piece():
    """The search is real: the literals hold the named mistakes (one of each module is looked for)."""
    pieces = [p for ps in FORMULA_PIECES.values() for p in ps] + IMPLEMENTATIONS
    found = []
    for module in _modules():
        literals = _string_literals(module)
        assert any(s.startswith(("misses", "has ", "uses ", "is ", "dKL/da", "adds", "treats")) for s in literals), (
            module.__name__
        )
        found += [(module.__name__, p, s) for s in literals for p in pieces if p in s]
    assert not found, found


def test_the_search_finds_a_formula_piece_where_there_is_one(tmp_path):
    """The scan of the literals sees the old missing-half message (the test cannot pass vacuously)."""
    old = tmp_path / "old.py"
    old.write_text('M = {"has a_N = a_0 + N/2: the prior of mu adds its own 1/2, a_N = a_0 + (N + 1)/2.": 0}\n')
    literals = _string_literals(type("m", (), {"__file__": str(old)}))
    assert any(p in s for s in literals for p in FORMULA_PIECES["cavi"])


def test_the_reference_helper_of_cavi_is_private():
    """help(check.cavi) lists no function that computes the answer."""
    functions = inspect.getmembers(check.cavi, inspect.isfunction)
    public = [n for n, f in functions if not n.startswith("_") and f.__module__ == check.cavi.__name__]
    assert public == ["q_tau_update"], public
    prior = check.cavi.NormalGamma(0.0, 1.0, 1.0, 1.0)
    assert torch.is_tensor(check.cavi._reference_q_tau(torch.ones(3), prior, 0.0, 1.0))
