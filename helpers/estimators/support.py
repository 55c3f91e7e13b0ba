"""Draws outside a model's support: counted and reported, never dropped (chapter *Gradient estimators*).

A variational family whose support is larger than the model's (a Gaussian q for positive latents) puts mass
where log p = -inf. The estimators keep such draws, so the estimate is -inf or NaN, the honest value: the ELBO
of such a q is -inf. This module holds the warning they raise.
"""

from __future__ import annotations

import warnings

from helpers.common.validation import check_count


class SupportWarning(UserWarning):
    """Draws of q fell where the model's density is zero (log p = -inf); they were counted, not dropped."""


def warn_outside_support(num_outside: int, num_draws: int, where: str, support: str, *, stacklevel: int = 2) -> None:
    """Emit a :class:`SupportWarning` saying how many draws fell outside ``support`` and what that means.

    Args:
        num_outside, num_draws: the count and the total.
        where: the function that drew them, for the message.
        support: the model's support in words, e.g. ``"u > 0 and v > 0"``.
        stacklevel: counted from the function that calls this one (1: that function, 2: its caller, ...),
            chosen so that the warning points at the user's line.
    """
    num_draws = check_count(num_draws, "num_draws", minimum=0)
    num_outside = check_count(num_outside, "num_outside", minimum=0)
    if num_outside > num_draws:
        raise ValueError(f"num_outside must be at most num_draws (got {num_outside} of {num_draws}).")
    if num_outside:
        warnings.warn(
            f"{where}: {num_outside} of {num_draws} draws of q fell outside the support of p ({support}), "
            "where log p = -inf. They were kept, so this estimate is -inf/NaN, which is the honest value: the ELBO "
            "of a q whose support is larger than p's is -inf. Use a family with the model's support "
            "(family='lognormal' for positive latents) or a q with less mass outside it.",
            SupportWarning,
            stacklevel=stacklevel + 1,
        )
