"""helpers.common.validation.values: what a tensor holds; every check names the argument, wrong types are TypeErrors,
bad values ValueErrors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.common import validation as v


def test_tensor_checks():
    with pytest.raises(ValueError, match="scale must be strictly positive"):
        v.check_positive(torch.tensor([1.0, 0.0]), "scale")
    with pytest.raises(ValueError, match="loc must be finite"):
        v.check_finite(torch.tensor([math.nan]), "loc")
    with pytest.raises(ValueError, match=r"x must have every entry in \[0, 1\]"):
        v.check_unit_interval(torch.tensor([0.5, 255.0]), "x")
    with pytest.raises(ValueError, match="must be real"):
        v.as_tensor(torch.tensor([1j]), "loc")
    loc, scale = v.check_location_scale([1.0, 2.0], torch.tensor([0.5, 0.5], dtype=torch.float32), dim=2)
    assert loc.dtype == scale.dtype == torch.float64


def test_check_real_tensor_keeps_tensors_converts_numpy_and_ints_and_refuses_the_rest():
    import numpy as np

    t = torch.randn(2, 3, requires_grad=True)
    assert v.check_real_tensor(t, "logits") is t  # the graph is kept
    assert v.check_real_tensor(np.zeros((2, 3)), "logits").dtype == torch.float64
    assert v.check_real_tensor(torch.tensor([1, 2]), "a").dtype == torch.get_default_dtype()
    cases = [([1.0], TypeError), (torch.tensor(1.0), ValueError), (torch.zeros(2, 0), ValueError),
             (torch.tensor([True]), ValueError), (torch.tensor([1 + 1j]), ValueError),
             (torch.tensor([0.0, math.nan]), ValueError), (torch.tensor([-math.inf]), ValueError)]  # fmt: skip
    for bad, error in cases:
        with pytest.raises(error, match="logits"):
            v.check_real_tensor(bad, "logits")
    with pytest.raises(
        ValueError, match=r"a must be finite \(got 1 of 3 entries NaN or inf, the first at index \(2,\)"
    ):
        v.check_real_tensor(torch.tensor([0.0, 1.0, math.inf]), "a")
    a = torch.tensor([[0.0, -math.inf], [1.0, 2.0]])
    assert v.check_real_tensor(a, "a", allow_negative_infinity=True) is a
    for bad in (torch.tensor([0.0, math.inf]), torch.tensor([0.0, math.nan]), torch.full((2, 2), -math.inf)):
        with pytest.raises(ValueError, match=r"\ba\b"):
            v.check_real_tensor(bad, "a", allow_negative_infinity=True)


@pytest.mark.parametrize("bad", ["1.0", None, True, {"a": 1}, torch.tensor([True]), np.array(["a"])])
def test_as_tensor_refuses_wrong_types(bad):
    with pytest.raises(TypeError, match="theta must"):
        v.as_tensor(bad, "theta")


def test_as_tensor_accepts_numbers_lists_arrays_and_tensors():
    for good in (2, 2.0, [2.0], np.array([2.0]), torch.tensor([2]), torch.tensor([2.0], dtype=torch.float64)):
        assert float(v.as_tensor(good, "theta", dtype=torch.float64).sum()) == 2.0


def test_check_replicates():
    out = v.check_replicates(torch.tensor([1.0, 2.0], requires_grad=True), "gaps")
    assert out.dtype == torch.float64 and not out.requires_grad and out.tolist() == [1.0, 2.0]
    assert v.check_replicates(np.array([1, 2, 3]), "gaps", minimum=3).tolist() == [1.0, 2.0, 3.0]
    for bad, message in (([1.0], "at least 2"), (torch.zeros(2, 2), "1-D"), ([1.0, math.nan], "finite")):
        with pytest.raises(ValueError, match=f"gaps.*{message}|gaps needs {message}"):
            v.check_replicates(bad, "gaps")
    with pytest.raises(TypeError, match="gaps"):
        v.check_replicates("12", "gaps")
