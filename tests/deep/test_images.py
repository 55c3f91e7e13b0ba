"""helpers.deep.images.tile_images: every image lands, unchanged, in its cell; gaps are filled; bad input raises."""

from __future__ import annotations

import pytest
import torch

from helpers.deep.images import tile_images


def test_each_image_is_in_its_cell_row_major():
    images = torch.arange(5 * 9, dtype=torch.float32).reshape(5, 9)  # five 3 x 3 images
    grid = tile_images(images, ncols=2, pad=1, fill=-1.0)
    assert grid.shape == (3 * 4 - 1, 2 * 4 - 1)
    for i in range(5):
        r, c = divmod(i, 2)
        torch.testing.assert_close(grid[4 * r : 4 * r + 3, 4 * c : 4 * c + 3], images[i].reshape(3, 3))
    # the gaps and the empty last cell hold the fill value, and nothing else does
    assert (grid == -1.0).sum() == grid.numel() - 5 * 9


def test_no_padding_and_explicit_side():
    images = torch.rand(4, 16)
    grid = tile_images(images, ncols=4, side=4, pad=0)
    torch.testing.assert_close(grid, torch.cat([im.reshape(4, 4) for im in images], dim=1))


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (torch.rand(3, 10), {}, "square"),
        (torch.rand(3, 16), {"side": 3}, "side"),
        (torch.rand(16), {}, r"\(B, P\)"),
        (torch.rand(3, 16), {"ncols": 0}, "ncols"),
    ],
)
def test_bad_input_raises(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tile_images(images, **{"ncols": 2, **kwargs})
