"""Checks at the boundary of the public API, the only home of argument checks: each error names the argument and says
how to fix it. A value of the wrong type raises TypeError; a value of the right type out of range raises ValueError."""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


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


def check_shape(tensor: Tensor, name: str, shape: tuple[int, ...], *, what: str = "") -> Tensor:
    """Raise ``ValueError`` naming ``name`` (and saying ``what`` it holds) unless ``tensor.shape == shape``."""
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(
            f"{name} must have shape {tuple(shape)}{' (' + what + ')' if what else ''} (got {tuple(tensor.shape)})."
        )
    return tensor


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


def check_choice(value: object, name: str, choices: Sequence[object]) -> object:
    """Return ``value``, raising ``ValueError`` naming ``name`` and the allowed values unless it is one of them;
    when every choice is a string, a value that is not a string is a wrong type (``TypeError``)."""
    if all(isinstance(c, str) for c in choices) and not isinstance(value, str):
        raise TypeError(f"{name} must be a str (got {type(value).__name__}); pass one of {list(choices)}.")
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        raise ValueError(f"{name} must be one of {list(choices)} (got {value!r}).")
    return value


def check_instance(value: object, name: str, expected: type | tuple[type, ...], *, how: str = "") -> object:
    """Return ``value``, raising ``TypeError`` naming ``name`` unless it is an instance of ``expected``.

    A value of the wrong *type* is a TypeError everywhere in the course; a value of the right type that is out of
    range is a ValueError."""
    if not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise TypeError(f"{name} must be a {names} (got {type(value).__name__}){'; ' + how if how else ''}.")
    return value


def check_generator(generator: object) -> torch.Generator | None:
    """Return ``generator``, raising ``TypeError`` unless it is a ``torch.Generator`` or None."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None (got {type(generator).__name__}); "
            "pass cfg.generator from helpers.setup, or torch.Generator().manual_seed(0)."
        )
    return generator


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


def check_open_unit_number(value: object, name: str, *, example: str = "0.95") -> float:
    """Return ``value`` as a float, raising ``ValueError`` naming ``name`` unless it is a number strictly between 0
    and 1 (a confidence level or a probability; 95 for 95% is refused, not divided by 100)."""
    number = check_real(value, name, hint=f"e.g. {name}={example}")
    if not 0 < number < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1 (got {value!r}); e.g. {name}={example} for 95%.")
    return number


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
