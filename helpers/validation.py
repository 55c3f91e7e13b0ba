"""Checks at the boundary of the public API: each error names the argument and says how to fix it."""

from __future__ import annotations

import torch
from torch import Tensor


def as_tensor(value: object, name: str, *, dtype: torch.dtype | None = None) -> Tensor:
    """Convert ``value`` to a floating tensor, keeping its dtype and device when it is one already."""
    if isinstance(value, Tensor):
        if value.is_complex():
            raise ValueError(f"{name} must be real (got a complex tensor).")
        tensor = value if value.is_floating_point() else value.to(torch.get_default_dtype())
    else:
        if isinstance(value, complex) or (
            isinstance(value, (list, tuple)) and any(isinstance(v, complex) for v in value)
        ):
            raise ValueError(f"{name} must be real (got {value!r}).")
        try:
            tensor = torch.as_tensor(value, dtype=dtype or torch.float64)
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{name} must be a tensor of numbers (got {type(value).__name__}): {error}") from None
    return tensor if dtype is None else tensor.to(dtype)


def check_finite(tensor: Tensor, name: str) -> Tensor:
    """Raise ``ValueError`` naming ``name`` when ``tensor`` has a NaN or an infinite entry."""
    if not torch.isfinite(tensor).all():
        raise ValueError(
            f"{name} must be finite; it contains NaN or inf ({tensor.tolist()}). Check how it was computed."
        )
    return tensor


def check_positive(tensor: Tensor, name: str, *, hint: str = "") -> Tensor:
    """Raise ``ValueError`` naming ``name`` unless every entry is finite and strictly positive."""
    check_finite(tensor, name)
    if not (tensor > 0).all():
        fix = hint or f"pass values > 0 (optimize an unconstrained log_{name} and use {name} = exp(log_{name}))"
        raise ValueError(f"{name} must be strictly positive (got {tensor.tolist()}); {fix}.")
    return tensor


def check_shape(tensor: Tensor, name: str, shape: tuple[int, ...]) -> Tensor:
    """Raise ``ValueError`` naming ``name`` unless ``tensor.shape == shape``."""
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} (got {tuple(tensor.shape)}).")
    return tensor


def check_count(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising ``ValueError`` naming ``name`` unless it is an integer >= ``minimum``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum} (got the bool {value!r}).")
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


def check_variational_params(loc: object, scale: object, dim: int) -> tuple[Tensor, Tensor]:
    """Validate the parameters of a mean-field family over ``dim`` latents: ``loc`` and ``scale`` of shape (D,).

    ``scale`` is a standard deviation (not a variance, not a precision) and must be finite and positive.
    Both are returned with a common floating dtype and device.
    """
    loc_t = as_tensor(loc, "loc")
    scale_t = as_tensor(scale, "scale")
    if loc_t.device != scale_t.device:
        raise ValueError(f"loc and scale must be on the same device (got {loc_t.device} and {scale_t.device}).")
    check_shape(loc_t, "loc", (dim,))
    check_shape(scale_t, "scale", (dim,))
    check_finite(loc_t, "loc")
    check_positive(
        scale_t,
        "scale",
        hint="scale is a standard deviation; pass values > 0, or optimize log_scale and use scale = exp(log_scale)",
    )
    dtype = torch.promote_types(loc_t.dtype, scale_t.dtype)
    return loc_t.to(dtype), scale_t.to(dtype)
