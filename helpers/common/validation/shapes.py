"""Checks of a tensor's type, dtype and shape: a shape, a last axis, (B, D) batches, (..., S, D) noise, images, time
steps, shapes that must match or broadcast, and the shape of a user's function's result. They read no values (except
:func:`check_steps` with ``num_steps`` and :func:`check_batch` with ``finite``), so they are cheap enough for a hot
path. A value that is not a tensor raises TypeError; a wrong shape raises ValueError naming the argument."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from helpers.common.validation.objects import check_instance


def check_shape(tensor: Tensor, name: str, shape: tuple[int, ...], *, what: str = "") -> Tensor:
    """Raise ``ValueError`` naming ``name`` (and saying ``what`` it holds) unless ``tensor.shape == shape``."""
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(
            f"{name} must have shape {tuple(shape)}{' (' + what + ')' if what else ''} (got {tuple(tensor.shape)})."
        )
    return tensor


def check_last_dim(tensor: object, name: str, size: int, *, what: str = "") -> Tensor:
    """Return ``tensor`` (a floating tensor), raising ``TypeError`` when it is not a tensor and ``ValueError`` naming
    ``name`` unless its last axis has ``size`` entries (a parameter vector of the wrong length is refused rather
    than silently read in part)."""
    check_instance(tensor, name, Tensor)
    if tensor.ndim == 0 or tensor.shape[-1] != size:
        raise ValueError(
            f"{name} must have shape (..., {size}){' (' + what + ')' if what else ''} (got {tuple(tensor.shape)})."
        )
    return tensor


def check_broadcasts_to(tensor: Tensor, name: str, shape: tuple[int, ...], *, what: str = "") -> Tensor:
    """Return ``tensor``, raising ``ValueError`` naming ``name`` unless it broadcasts to ``shape`` without enlarging
    it (shape (B, 1) against (B,) would silently turn a (B,) result into (B, B))."""
    try:
        fits = tuple(torch.broadcast_shapes(tensor.shape, shape)) == tuple(shape)
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name} must have a shape that broadcasts to {tuple(shape)}{' (' + what + ')' if what else ''} "
            f"(got {tuple(tensor.shape)})."
        )
    return tensor


def check_same_shape(value: object, name: str, like: Tensor, like_name: str) -> Tensor:
    """Return ``value``, raising ``TypeError`` naming ``name`` unless it is a tensor and ``ValueError`` unless it has
    the shape of ``like`` (called ``like_name``): a tensor that merely broadcasts would give a wrong answer."""
    tensor: Tensor = check_instance(value, name, Tensor, how="convert it with torch.as_tensor(...)")  # type: ignore[assignment]
    if tensor.shape != like.shape:
        raise ValueError(
            f"{name} must have the shape of {like_name}, {tuple(like.shape)} (got {tuple(tensor.shape)}): it would "
            "broadcast into a wrong answer."
        )
    return tensor


def check_result_shape(value: object, name: str, shape: tuple[int, ...], *, what: str = "") -> Tensor:
    """Return ``value``, the result of a user's function ``name``, raising ``TypeError`` unless it is a tensor and
    ``ValueError`` unless its shape is ``shape`` (a result that merely broadcasts would give a wrong answer)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must return a torch.Tensor{' ' + what if what else ''} (got {type(value).__name__}).")
    if tuple(value.shape) != tuple(shape):
        raise ValueError(
            f"{name} must return a tensor of shape {tuple(shape)}{' ' + what if what else ''} "
            f"(got {tuple(value.shape)})."
        )
    return value


def check_floating(value: object, name: str, *, min_dim: int = 0, what: str = "") -> Tensor:
    """Return ``value``, raising ``TypeError`` naming ``name`` unless it is a floating-point tensor with at least
    ``min_dim`` axes (``ValueError`` for fewer). Type, dtype and shape only: cheap enough for a hot path."""
    how = "convert it with torch.as_tensor(..., dtype=torch.float32)"
    tensor: Tensor = check_instance(value, name, Tensor, how=how)  # type: ignore[assignment]
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor (got dtype {tensor.dtype}); convert it: x.float().")
    if tensor.dim() < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} axes{' (' + what + ')' if what else ''} (got {tuple(tensor.shape)})."
        )
    return tensor


def check_batch(x: object, name: str, *, finite: bool = False, stacked: bool = False) -> Tensor:
    """Return ``x`` as given, raising ``TypeError`` naming ``name`` unless it is a tensor and ``ValueError`` unless it
    is floating of shape (B, D), one row per datapoint (``stacked``: (..., B, D), any leading axes such as a replica
    axis R). Type, dtype and shape only, cheap enough for a hot path; ``finite`` adds a pass over the values (NaN or
    inf raise ``ValueError``)."""
    tensor: Tensor = check_instance(x, name, Tensor, how="convert it with torch.as_tensor(...)")  # type: ignore[assignment]
    if (tensor.dim() < 2 if stacked else tensor.dim() != 2) or not tensor.is_floating_point():
        raise ValueError(
            f"{name} must be a floating tensor {'(..., B, D)' if stacked else '(B, D)'}, one row per datapoint (got "
            f"{tensor.dtype} of shape {tuple(tensor.shape)}); a single point is x[None]."
        )
    if finite and not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} must be finite; it contains NaN or inf. Check how it was computed.")
    return tensor


def check_noise(eps: object, dim: int) -> Tensor:
    """Raise ``TypeError`` unless ``eps`` is a floating tensor and ``ValueError`` unless its shape is (..., S, D) with
    D = ``dim``: noise of shape (S, 1) would broadcast against (D,) parameters into a wrong answer."""
    check_instance(eps, "eps", Tensor)
    if eps.ndim < 2 or eps.shape[-1] != dim:
        raise ValueError(
            f"eps must have shape (..., S, {dim}), one standard normal draw per sample and latent dimension "
            f"(got {tuple(eps.shape)}); draw it with estimators.draw_noise(num_samples, {dim})."
        )
    return eps


def check_images(x: object, name: str) -> Tensor:
    """Return ``x`` as a tensor: a numpy array or a tensor is accepted; anything else raises ``TypeError`` naming
    ``name``; an empty set of images raises ``ValueError`` (an epoch over no data has no mean)."""
    if not isinstance(x, Tensor):
        if not isinstance(x, np.ndarray):
            raise TypeError(
                f"{name} must be a torch.Tensor or a numpy array of images (B, P) (got {type(x).__name__}); "
                "convert with torch.as_tensor(...)."
            )
        x = torch.from_numpy(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{name} must hold at least one image (got shape {tuple(x.shape)}).")
    return x


def check_steps(
    t: object, name: str = "t", *, num_steps: int | None = None, shape: tuple[int, ...] | None = None
) -> Tensor:
    """Return ``t`` as int64, raising ``TypeError`` naming ``name`` unless it is an integer tensor of time steps,
    ``ValueError`` unless it has ``shape`` (when given: one step per row) and, when ``num_steps`` = T is given,
    unless every entry lies in 1..T (a pass over the values: leave ``num_steps`` out on a hot path)."""
    if not isinstance(t, Tensor) or t.dtype not in (torch.int32, torch.int64):
        got = f"a tensor of dtype {t.dtype}" if isinstance(t, Tensor) else type(t).__name__
        raise TypeError(
            f"{name} must be an integer tensor of time steps in 1..T (got {got}); e.g. torch.randint(1, T + 1, (B,))."
        )
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise ValueError(
            f"{name} must have shape {tuple(shape)}, one step per row of the batch (got {tuple(t.shape)})."
        )
    if num_steps is not None and t.numel() and (int(t.min()) < 1 or int(t.max()) > num_steps):
        raise ValueError(f"{name} must lie in 1..T = 1..{num_steps} (got {int(t.min())}..{int(t.max())}).")
    return t.long()
