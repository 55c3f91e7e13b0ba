"""Checks of the values a tensor holds: conversion of numbers, lists and arrays to a real tensor, finite and
positive entries, entries in [0, 1], log-probabilities, a Normal's (loc, scale), a variance with its fourth central
moment, and the per-replicate values of a comparison over seeds. A wrong type raises TypeError; a wrong value or
shape raises ValueError naming the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import Tensor

from helpers.common.validation.shapes import check_shape


def as_tensor(value: object, name: str, *, dtype: torch.dtype | None = None) -> Tensor:
    """Convert ``value`` to a floating tensor, keeping its dtype and device when it is one already (``dtype``, when
    given, converts it; numbers, lists and numpy arrays become float64 by default).

    A value that is not a number, a list or tuple of numbers, a numpy array or a tensor of numbers (a str, None, a
    dict, a bool, a bool array) raises ``TypeError`` naming ``name``; a complex value raises ``ValueError``."""
    if isinstance(value, (Tensor, np.ndarray)):
        kind = "bool" if value.dtype in (torch.bool, np.bool_) else None
        if kind is None and isinstance(value, np.ndarray) and value.dtype.kind not in "iufc":
            kind = str(value.dtype)
        if kind is not None:
            raise TypeError(f"{name} must hold numbers (got an array of {kind}); convert it, e.g. with x.double().")
    elif isinstance(value, bool) or not isinstance(value, (numbers.Number, list, tuple)):
        raise TypeError(
            f"{name} must be a number, a list of numbers, a numpy array or a tensor (got {type(value).__name__})."
        )
    if isinstance(value, Tensor):
        if value.is_complex():
            raise ValueError(f"{name} must be real (got a complex tensor).")
        tensor = value if value.is_floating_point() else value.to(torch.get_default_dtype())
    else:
        if (
            isinstance(value, complex)
            or (isinstance(value, (list, tuple)) and any(isinstance(v, complex) for v in value))
            or (isinstance(value, np.ndarray) and value.dtype.kind == "c")
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


def check_unit_interval(x: object, name: str) -> Tensor:
    """Raise ``ValueError`` naming ``name`` unless x is a floating tensor with every entry in [0, 1] and no NaN
    (pixel intensities, Bernoulli observations)."""
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise ValueError(
            f"{name} must be a floating-point tensor of values in [0, 1] (got "
            f"{'a tensor of dtype ' + str(x.dtype) if isinstance(x, Tensor) else type(x).__name__}); "
            "convert it, e.g. torch.as_tensor(x, dtype=torch.float32)."
        )
    if torch.isnan(x).any() or (x < 0).any() or (x > 1).any():
        raise ValueError(
            f"{name} must have every entry in [0, 1] (got min {x.min().item():.4g}, max {x.max().item():.4g}); "
            "a Bernoulli observation is 0 or 1 (or an intensity in between): scale pixels to [0, 1] first, "
            "e.g. x / 255."
        )
    return x


def check_real_tensor(
    value: object, name: str, *, what: str = "", hint: str = "", allow_negative_infinity: bool = False
) -> Tensor:
    """Return ``value`` as a floating tensor of shape (..., K), K >= 1, with finite entries: a floating tensor is
    returned as is (its graph kept), a numpy array is converted, an integer tensor becomes the default float dtype.

    Anything but a tensor or a numpy array raises ``TypeError`` naming ``name``; a bool or complex dtype, no last
    axis, an empty last axis, NaN or inf raise ``ValueError``. ``allow_negative_infinity``: -inf is accepted (a
    log-probability of 0), NaN and +inf are not."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{name} must hold real numbers (got a numpy array of dtype {value.dtype}).")
        value = torch.from_numpy(value)
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor{' of shape ' + what if what else ''} (got {type(value).__name__}); "
            "convert with torch.as_tensor(..., dtype=torch.float32)."
        )
    if value.dtype == torch.bool or value.is_complex():
        raise ValueError(f"{name} must be a real floating-point tensor (got dtype {value.dtype}).")
    if not value.is_floating_point():
        value = value.to(torch.get_default_dtype())
    if value.ndim == 0 or value.shape[-1] == 0:
        raise ValueError(
            f"{name} must have shape {what or '(..., K)'} with at least one entry on the last axis "
            f"(got shape {tuple(value.shape)})."
        )
    nonfinite = ~torch.isfinite(value)
    if nonfinite.any():  # the usual path pays one reduction
        bad = torch.isnan(value) | (value == math.inf) if allow_negative_infinity else nonfinite
        if bad.any():
            need = "free of NaN and +inf (-inf, a probability of 0, is allowed)"
            need = need if allow_negative_infinity else "finite"
            raise ValueError(
                f"{name} must be {need} (got {int(bad.sum())} of {value.numel()} entries NaN or inf, the first at "
                f"index {tuple(int(i) for i in bad.nonzero()[0])}){'; ' + hint if hint else ''}."
            )
        if (value == -math.inf).all(-1).any():
            raise ValueError(
                f"{name} has a row (along its last axis) of only -inf entries: no category with a positive "
                "probability; each row needs at least one finite entry."
            )
    return value


def check_location_scale(
    loc: object,
    scale: object,
    *,
    dim: int | None = None,
    dtype: torch.dtype | None = None,
    names: tuple[str, str] = ("loc", "scale"),
) -> tuple[Tensor, Tensor]:
    """``loc`` and ``scale`` of a Normal (or of a mean-field family) as floating tensors of one dtype, device and
    shape: loc finite, scale a standard deviation (not a variance, not a precision), finite and > 0.

    ``dim`` given: both must have shape (D,) with D = ``dim`` (the parameters of a mean-field family over ``dim``
    latents; nothing broadcasts). ``dim`` None: one is broadcast to the other's shape, and shapes that do not
    broadcast so (including (2, 1) with (2,), which would make a (2, 2) result) raise ``ValueError`` naming both
    arguments. Integer tensors become floating; float16 and bfloat16 become float32 (their range turns a log-density
    of -70 into -inf). ``names``: the arguments' names in the caller (e.g.
    ``("mu", "sigma")``), used in the errors."""
    loc_name, scale_name = names
    loc_t, scale_t = as_tensor(loc, loc_name, dtype=dtype), as_tensor(scale, scale_name, dtype=dtype)
    if loc_t.device != scale_t.device:
        raise ValueError(
            f"{loc_name} and {scale_name} must be on the same device (got {loc_t.device} and {scale_t.device})."
        )
    if dim is not None:
        check_shape(loc_t, loc_name, (dim,))
        check_shape(scale_t, scale_name, (dim,))
    else:
        try:
            shape = torch.broadcast_shapes(loc_t.shape, scale_t.shape)
        except RuntimeError:
            shape = None
        if shape is None or shape not in (loc_t.shape, scale_t.shape):  # (2, 1) with (2,) would make (2, 2)
            raise ValueError(
                f"{loc_name} and {scale_name} must have shapes that broadcast, one to the other's shape (got "
                f"{tuple(loc_t.shape)} and {tuple(scale_t.shape)})."
            )
        loc_t, scale_t = torch.broadcast_tensors(loc_t, scale_t)
    check_finite(loc_t, loc_name)
    check_positive(
        scale_t,
        scale_name,
        hint=f"{scale_name} is a standard deviation; pass values > 0, or optimize log_{scale_name} and use "
        f"{scale_name} = exp(log_{scale_name})",
    )
    common = torch.promote_types(loc_t.dtype, scale_t.dtype)
    if common in (torch.float16, torch.bfloat16):
        common = torch.float32
    return loc_t.to(common), scale_t.to(common)


def check_variance_and_fourth_moment(variance: object, central4: object) -> tuple[Tensor, Tensor]:
    """Return ``variance`` and ``central4`` (a fourth central moment) as broadcast tensors, raising ``TypeError``
    for non-numbers and ``ValueError`` naming the argument unless both are finite, variance >= 0 and
    central4 >= variance^2 (Jensen's inequality: a fourth central moment below the squared variance is impossible)."""
    var_t = check_finite(as_tensor(variance, "variance"), "variance")
    mu4_t = check_finite(as_tensor(central4, "central4"), "central4")
    if not (var_t >= 0).all():
        raise ValueError(f"variance must be >= 0 (got {var_t.tolist()}); pass the variance, not a log or an SE.")
    try:
        var_t, mu4_t = torch.broadcast_tensors(var_t, mu4_t)
    except RuntimeError:
        raise ValueError(
            f"variance and central4 must broadcast together (got shapes {tuple(var_t.shape)}, {tuple(mu4_t.shape)})."
        ) from None
    if not (mu4_t >= var_t**2 * (1 - 1e-12)).all():
        raise ValueError(
            f"central4 must be >= variance^2 (got {mu4_t.tolist()} for variance {var_t.tolist()}); pass the fourth "
            "CENTRAL moment E[(X - E X)^4], not the kurtosis or the excess kurtosis."
        )
    return var_t, mu4_t


def check_replicates(value: object, name: str, *, minimum: int = 2, what: str = "one value per replicate") -> Tensor:
    """Return ``value`` as a 1-D float64 CPU tensor of at least ``minimum`` finite entries (a sequence, a numpy
    array or a tensor; a tensor's graph and device are dropped). A wrong type raises ``TypeError``; a shape other
    than (R,), fewer than ``minimum`` entries, NaN or inf raise ``ValueError`` naming ``name``."""
    if isinstance(value, Tensor):
        value = value.detach().cpu()
    elif isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
        if not all(isinstance(v, Tensor) and v.numel() == 1 for v in value):
            raise ValueError(f"{name} must be 1-D, {what} (got a sequence of tensors that are not all scalars).")
        value = [float(v.detach().cpu()) for v in value]
    tensor = as_tensor(value, name, dtype=torch.float64)
    if tensor.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, {what} (got shape {tuple(tensor.shape)}); pass one replicate's value per entry, "
            "e.g. flatten or index the tensor first."
        )
    if tensor.numel() < minimum:
        raise ValueError(f"{name} needs at least {minimum} entries, {what} (got {tensor.numel()}).")
    if not torch.isfinite(tensor).all():
        bad = (~torch.isfinite(tensor)).nonzero().flatten().tolist()
        raise ValueError(
            f"{name} must be finite (entries {bad} of {tensor.numel()} are NaN or inf); a diverged replicate must be "
            "reported, not averaged."
        )
    return tensor
