"""Every self-check of one chapter at once: ``check.summary("vae")`` runs each of the chapter's checks on the
student's function of the conventional name (``my_kl``, ``my_log_q``, ...: the names of the chapter's "check your
own answer" cell, declared by each check module's ``SELF_CHECKS`` table) and prints one line per exercise::

    check.vae.gaussian_kl(my_kl): correct
    check.vae.gaussian_log_q(my_log_q): not yet: your log q(z | x) misses ...
    check.iwae.iwelbo(my_iwelbo): not attempted (my_iwelbo raises NotImplementedError)

A function that is missing from the namespace, or that raises ``NotImplementedError`` (the student edition's stub),
is "not attempted"; anything else is judged by the check itself ("correct" or its "not yet: ..." feedback). This is
the counterpart of otter-grader's ``grader.check_all()``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from helpers.check import bbvi, cavi, diffusion, discrete, elbo, gradient_estimators, iwae, natural_gradients, stl, vae
from helpers.check._feedback import Feedback

#: the chapters with self-checks: the chapter's notebook (book/<part>/<chapter>.ipynb) -> its check module
CHAPTERS: dict[str, ModuleType] = {
    "vi/elbo": elbo,
    "vi/cavi": cavi,
    "vi/bbvi": bbvi,
    "vi/natural-gradients": natural_gradients,
    "estimators/gradient-estimators": gradient_estimators,
    "deep/vae": vae,
    "deep/iwae": iwae,
    "deep/stl": stl,
    "deep/discrete": discrete,
    "deep/diffusion": diffusion,
}

CORRECT, NOT_YET, NOT_ATTEMPTED = "correct", "not yet", "not attempted"


@dataclass(frozen=True)
class Result:
    """One exercise's line: the student's function ``name``, the ``check`` (e.g. ``"vae.gaussian_kl"``), the
    ``status`` (``"correct"``, ``"not yet"`` or ``"not attempted"``) and the check's message or why not attempted."""

    name: str
    check: str
    status: str
    message: str

    def __str__(self) -> str:
        head = f"check.{self.check}({self.name})"
        if self.status == CORRECT:
            return f"{head}: correct"
        if self.status == NOT_ATTEMPTED:
            return f"{head}: not attempted ({self.message})"
        return f"{head}: {self.message}"


@dataclass(frozen=True)
class Summary:
    """The chapter's results, one per exercise in the chapter's order; truthy when every one is correct. Shown in a
    notebook as the count (the lines themselves are printed by :func:`summary`)."""

    chapter: str
    results: tuple[Result, ...]

    def __bool__(self) -> bool:
        return all(r.status == CORRECT for r in self.results)

    def count(self, status: str) -> int:
        """How many exercises have ``status`` ("correct", "not yet" or "not attempted")."""
        return sum(r.status == status for r in self.results)

    def __str__(self) -> str:
        return "\n".join(str(r) for r in self.results)

    def __repr__(self) -> str:
        n = len(self.results)
        return (
            f"{self.chapter}: {self.count(CORRECT)} of {n} self-checks correct, {self.count(NOT_YET)} not yet, "
            f"{self.count(NOT_ATTEMPTED)} not attempted"
        )


def chapter_module(chapter: str) -> tuple[str, ModuleType]:
    """The chapter ``"deep/vae"`` and its check module for ``chapter`` given as ``"vae"``, ``"deep/vae"``,
    ``"deep/vae.ipynb"`` or the module's name (``"natural_gradients"`` for ``"natural-gradients"``); ``ValueError``
    naming the valid chapters otherwise."""
    if not isinstance(chapter, str):
        raise TypeError(
            f"chapter must be a string such as 'vae' or 'deep/vae', got {type(chapter).__name__}: "
            f"valid chapters are {', '.join(CHAPTERS)}"
        )
    key = chapter.strip().removesuffix(".ipynb").rsplit("/", 1)[-1].replace("_", "-")
    for name, module in CHAPTERS.items():
        if name.rsplit("/", 1)[-1] == key:
            return name, module
    raise ValueError(
        f"chapter {chapter!r} has no self-checks: valid chapters are {', '.join(CHAPTERS)} "
        "(the part may be left out, e.g. 'vae')"
    )


def _run(name: str, check: Callable[[object], Feedback], answer: object) -> Result:
    label = f"{check.__module__.rsplit('.', 1)[-1]}.{check.__name__}"
    if not callable(answer):
        return Result(name, label, NOT_YET, f"not yet: {name} is a {type(answer).__name__}, not a function.")
    stub = []

    def watched(*args, **kwargs):
        try:
            return answer(*args, **kwargs)
        except NotImplementedError:
            stub.append(True)
            raise

    feedback = check(watched)
    if stub:
        return Result(name, label, NOT_ATTEMPTED, f"{name} raises NotImplementedError")
    return Result(name, label, CORRECT if feedback else NOT_YET, feedback.message)


def summary(chapter: str, namespace: Mapping[str, object] | None = None) -> Summary:
    """Run every self-check of ``chapter`` on the student's functions and print one line per exercise.

    ``chapter``: ``"vae"``, ``"deep/vae"`` or ``"deep/vae.ipynb"`` (see :data:`CHAPTERS`). ``namespace``: where the
    functions are looked up by their conventional names (each check module's ``SELF_CHECKS``, e.g. ``my_kl``);
    default: the caller's globals (a notebook's variables). A missing function, or one that raises
    ``NotImplementedError``, is "not attempted"; the others get the check's verdict, "correct" or "not yet" with
    its feedback. Returns a :class:`Summary` (truthy when every exercise is correct)."""
    name, module = chapter_module(chapter)
    if namespace is None:
        frame = inspect.currentframe()
        namespace = frame.f_back.f_globals if frame is not None and frame.f_back is not None else {}
    if not isinstance(namespace, Mapping):
        raise TypeError(
            f"namespace must be a mapping of names to functions such as globals() or {{'my_kl': my_kl}}, "
            f"got {type(namespace).__name__}"
        )
    results = []
    for function, check in module.SELF_CHECKS.items():
        if function not in namespace:
            label = f"{module.__name__.rsplit('.', 1)[-1]}.{check.__name__}"
            results.append(Result(function, label, NOT_ATTEMPTED, f"{function} is not defined"))
        else:
            results.append(_run(function, check, namespace[function]))
    result = Summary(name, tuple(results))
    print(result)
    return result
