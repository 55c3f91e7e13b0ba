"""helpers.common.validation.shapes: a tensor's type, dtype and shape; each error names the argument."""

from __future__ import annotations

import pytest
import torch

from helpers.common import validation as v


def test_check_shape_and_check_last_dim():
    x = torch.zeros(2, 3)
    assert v.check_shape(x, "x", (2, 3)) is x and v.check_last_dim(x, "x", 3) is x
    with pytest.raises(ValueError, match=r"x must have shape \(3, 2\) \(the transposed\) \(got \(2, 3\)\)"):
        v.check_shape(x, "x", (3, 2), what="the transposed")
    with pytest.raises(ValueError, match=r"theta must have shape \(\.\.\., 4\)"):
        v.check_last_dim(x, "theta", 4)


def test_check_broadcasts_to_and_check_result_shape():
    b = torch.zeros(3)
    assert v.check_broadcasts_to(b, "baseline", (2, 3)) is b
    assert v.check_broadcasts_to(torch.zeros(()), "baseline", (3,)).shape == ()
    for bad in (torch.zeros(3, 1), torch.zeros(2)):  # (3, 1) would enlarge (3,) to (3, 3); (2,) does not broadcast
        with pytest.raises(ValueError, match=r"baseline must have a shape that broadcasts to \(3,\)"):
            v.check_broadcasts_to(bad, "baseline", (3,))
    out = torch.zeros(4, 3)
    assert v.check_result_shape(out, "f", (4, 3)) is out
    with pytest.raises(ValueError, match=r"f must return a tensor of shape \(4, 3\).*got \(4, 3, 2\)"):
        v.check_result_shape(torch.zeros(4, 3, 2), "f", (4, 3))
    with pytest.raises(TypeError, match="f must return a torch.Tensor"):
        v.check_result_shape(1.0, "f", (4, 3))


def test_floating_batches_noise_and_steps():
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        v.check_floating(torch.zeros(2, dtype=torch.long), "x")
    with pytest.raises(ValueError, match=r"x must be a floating tensor \(B, D\)"):
        v.check_batch(torch.zeros(3), "x")
    with pytest.raises(ValueError, match=r"eps must have shape \(\.\.\., S, 2\)"):
        v.check_noise(torch.zeros(5, 1), 2)
    assert v.check_steps(torch.tensor([1, 3], dtype=torch.int32), num_steps=3).dtype == torch.int64
    with pytest.raises(ValueError, match=r"t must lie in 1\.\.T = 1\.\.3"):
        v.check_steps(torch.tensor([0, 3]), num_steps=3)
    with pytest.raises(ValueError, match="images must hold at least one image"):
        v.check_images(torch.zeros(0, 4), "images")
