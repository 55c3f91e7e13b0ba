"""Checks of Python numbers: counts, finite reals, positive and non-negative numbers, a number strictly between 0
and 1, and Adam's (b1, b2). Each returns the number as an int or a float and raises ValueError naming the argument
(a bool is not a number here)."""

from __future__ import annotations

import math
import numbers

from helpers.common.validation.objects import check_instance


def check_count(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising ``ValueError`` naming ``name`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be an integer >= {minimum} (got the {type(value).__name__} {value!r}).")
    if not isinstance(value, int):
        try:
            is_integer = float(value) == int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            is_integer = False
        if not is_integer:
            raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r}).")
        value = int(value)  # type: ignore[arg-type]
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value}).")
    return value


def check_real(value: object, name: str, *, hint: str = "") -> float:
    """Return ``value`` as a float, raising ``ValueError`` naming ``name`` unless it is a finite real number
    (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite real number (got {value!r}){'; ' + hint if hint else ''}.")
    return float(value)


def check_positive_number(value: object, name: str, *, hint: str = "", example: str = "") -> float:
    """Return ``value`` as a float, raising ``ValueError`` naming ``name`` unless it is a finite number > 0."""
    number = check_real(value, name, hint=hint or (f"e.g. {example}" if example else ""))
    if number <= 0:
        fix = hint or (f"e.g. {example}" if example else "pass a value > 0")
        raise ValueError(f"{name} must be > 0 (got {value!r}); {fix}.")
    return number


def check_nonnegative_number(value: object, name: str, *, hint: str = "") -> float:
    """Return ``value`` as a float, raising ``ValueError`` naming ``name`` unless it is a finite number >= 0."""
    number = check_real(value, name, hint=hint)
    if number < 0:
        raise ValueError(f"{name} must be >= 0 (got {value!r}){'; ' + hint if hint else ''}.")
    return number


def check_open_unit_number(value: object, name: str, *, example: str = "0.95") -> float:
    """Return ``value`` as a float, raising ``ValueError`` naming ``name`` unless it is a number strictly between 0
    and 1 (a confidence level or a probability; 95 for 95% is refused, not divided by 100)."""
    number = check_real(value, name, hint=f"e.g. {name}={example}")
    if not 0 < number < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1 (got {value!r}); e.g. {name}={example} for 95%.")
    return number


def check_betas(betas: object) -> tuple[float, float]:
    """Adam's (b1, b2) as floats: TypeError unless a tuple or list, ValueError naming ``betas`` unless two numbers in
    [0, 1) (Adam divides by 1 - b^t)."""
    check_instance(betas, "betas", (tuple, list), how="pass two numbers in [0, 1), e.g. betas=(0.9, 0.999)")
    if len(betas) != 2:  # type: ignore[arg-type]
        raise ValueError(f"betas must be two numbers (b1, b2) in [0, 1) (got {betas!r}); e.g. betas=(0.9, 0.999).")
    for b in betas:  # type: ignore[union-attr]
        if not 0 <= check_real(b, "betas", hint="e.g. betas=(0.9, 0.999)") < 1:
            raise ValueError(f"betas must be in [0, 1) (got {betas!r}): Adam divides by 1 - b^t; e.g. (0.9, 0.999).")
    return float(betas[0]), float(betas[1])  # type: ignore[index]
