"""Checks of Python objects and options: an instance of a type, a bool flag, a callable, one of a set of choices, a
``torch.Generator``, a device, and a keyword argument that was renamed. A value of the wrong type raises TypeError; a
value of the right type that is not allowed raises ValueError; each error names the argument and says how to fix it."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch


def check_instance(value: object, name: str, expected: type | tuple[type, ...], *, how: str = "") -> object:
    """Return ``value``, raising ``TypeError`` naming ``name`` unless it is an instance of ``expected``.

    A value of the wrong *type* is a TypeError everywhere in the course; a value of the right type that is out of
    range is a ValueError."""
    if not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise TypeError(f"{name} must be a {names} (got {type(value).__name__}){'; ' + how if how else ''}.")
    return value


def check_flag(value: object, name: str) -> bool:
    """Return ``value``, raising ``TypeError`` naming ``name`` unless it is a bool (the string "no" is truthy, so a
    string or a number is refused rather than silently switching the option on)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False (got the {type(value).__name__} {value!r}).")
    return value


def check_callable(value: object, name: str, *, how: str = "") -> object:
    """Return ``value``, raising ``TypeError`` naming ``name`` unless it is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable (got {type(value).__name__}){'; ' + how if how else ''}.")
    return value


def check_choice(value: object, name: str, choices: Sequence[object]) -> object:
    """Return ``value``, raising ``ValueError`` naming ``name`` and the allowed values unless it is one of them;
    when every choice is a string, a value that is not a string is a wrong type (``TypeError``)."""
    if all(isinstance(c, str) for c in choices) and not isinstance(value, str):
        raise TypeError(f"{name} must be a str (got {type(value).__name__}); pass one of {list(choices)}.")
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        raise ValueError(f"{name} must be one of {list(choices)} (got {value!r}).")
    return value


def check_generator(generator: object) -> torch.Generator | None:
    """Return ``generator``, raising ``TypeError`` unless it is a ``torch.Generator`` or None."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None (got {type(generator).__name__}); "
            "pass cfg.generator from helpers.setup, or torch.Generator().manual_seed(0)."
        )
    return generator


def check_device(device: object, name: str = "device") -> torch.device:
    """Return ``device`` as a ``torch.device``, raising ``TypeError`` for a wrong type and ``ValueError`` for an
    unknown device or one this machine does not have (e.g. "cuda" without a GPU)."""
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device such as 'cpu' or 'cuda' (got {type(device).__name__}).")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"{name} must name a torch device such as 'cpu', 'cuda' or 'cuda:0' (got {device!r})."
        ) from None
    if dev.type == "cuda" and (not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"{name} is {device!r} but this machine has no such CUDA device; pass device='cpu'.")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'mps' (got {device!r}).")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} is 'mps' but MPS is not available on this machine; pass device='cpu'.")
    return dev


def renamed_arguments(**renamed: str):
    """Decorator: a call with an argument's old keyword name raises TypeError naming the new one, e.g.
    ``@renamed_arguments(control_variate="baseline")`` turns ``f(control_variate=...)`` (Python's bare "unexpected
    keyword argument") into a message that says what to write instead."""

    def decorate(function):
        @functools.wraps(function)
        def checked(*args, **kwargs):
            for old, new in renamed.items():
                if old in kwargs:
                    raise TypeError(
                        f"{function.__name__}() has no argument {old}= any more: it is called {new}= now "
                        f"(see help({function.__name__}))."
                    )
            return function(*args, **kwargs)

        return checked

    return decorate
