"""Image grids for the deep latent variable model chapters (chapter *The variational autoencoder*).

Pure tensor functions: they arrange images; the chapter draws the result with ``plt.imshow``. Nothing here imports
matplotlib or changes global state.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from helpers.common.validation import check_count


def tile_images(images: Tensor, ncols: int, *, side: int | None = None, pad: int = 1, fill: float = 1.0) -> Tensor:
    """Arrange flattened square images in a grid: images (B, P) with P = side^2 -> (rows * (side + pad) - pad,
    ncols * (side + pad) - pad), rows = ceil(B / ncols), row-major (image i at row i // ncols, column i % ncols).

    Gaps between images and empty cells of the last row are ``fill`` (1.0: white lines around [0, 1] images).

    Raises:
        ValueError: images is not a 2-D tensor, P is not a perfect square (and ``side`` is not given), ``side``
            does not match P, or ``ncols`` / ``pad`` are not counts.
    """
    if not isinstance(images, Tensor) or images.ndim != 2:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor of shape (B, P), one flattened image per row (got {shape}).")
    ncols = check_count(ncols, "ncols")
    pad = check_count(pad, "pad", minimum=0)
    num, pixels = images.shape
    if side is None:
        side = math.isqrt(pixels)
        if side * side != pixels:
            raise ValueError(f"images have P = {pixels} pixels, not a square number; pass side= (the image width).")
    side = check_count(side, "side")
    if side * side != pixels:
        raise ValueError(f"side = {side} does not match P = {pixels} pixels per image (side^2 must equal P).")
    rows = max(1, math.ceil(num / ncols))
    step = side + pad
    grid = torch.full((rows * step - pad, ncols * step - pad), float(fill), dtype=images.dtype)
    for i, image in enumerate(images.detach().cpu()):
        r, c = divmod(i, ncols)
        grid[r * step : r * step + side, c * step : c * step + side] = image.reshape(side, side)
    return grid
