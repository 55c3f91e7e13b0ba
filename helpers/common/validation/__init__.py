"""Checks at the boundary of the public API, the only home of argument checks: each error names the argument and says
how to fix it. A value of the wrong type raises TypeError; a value of the right type out of range raises ValueError.

One set of checkers, by what they check: ``objects`` (a type, a flag, a callable, a choice, a generator, a device, a
renamed keyword), ``scalars`` (counts and Python numbers), ``shapes`` (a tensor's type, dtype and shape, no pass over
its values) and ``values`` (what a tensor holds: finite, positive, in [0, 1], a Normal's loc and scale, replicates).
Import them from here: ``from helpers.common.validation import check_count``.
"""

from helpers.common.validation.objects import (
    check_callable,
    check_choice,
    check_device,
    check_flag,
    check_generator,
    check_instance,
    renamed_arguments,
)
from helpers.common.validation.scalars import (
    check_betas,
    check_count,
    check_nonnegative_number,
    check_open_unit_number,
    check_positive_number,
    check_real,
)
from helpers.common.validation.shapes import (
    check_batch,
    check_broadcasts_to,
    check_floating,
    check_images,
    check_last_dim,
    check_noise,
    check_result_shape,
    check_same_shape,
    check_shape,
    check_steps,
)
from helpers.common.validation.values import (
    as_tensor,
    check_finite,
    check_location_scale,
    check_positive,
    check_real_tensor,
    check_replicates,
    check_unit_interval,
    check_variance_and_fourth_moment,
)

__all__ = [
    "as_tensor",
    "check_batch",
    "check_betas",
    "check_broadcasts_to",
    "check_callable",
    "check_choice",
    "check_count",
    "check_device",
    "check_finite",
    "check_flag",
    "check_floating",
    "check_generator",
    "check_images",
    "check_instance",
    "check_last_dim",
    "check_location_scale",
    "check_noise",
    "check_nonnegative_number",
    "check_open_unit_number",
    "check_positive",
    "check_positive_number",
    "check_real",
    "check_real_tensor",
    "check_replicates",
    "check_result_shape",
    "check_same_shape",
    "check_shape",
    "check_steps",
    "check_unit_interval",
    "check_variance_and_fourth_moment",
    "renamed_arguments",
]
