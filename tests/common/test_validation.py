"""helpers.common.validation: every check names the argument; wrong types are TypeErrors, bad values ValueErrors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.common import validation as v


@pytest.mark.parametrize("bad", [True, "1", None, math.nan, math.inf, 1 + 2j])
def test_check_real_refuses_what_is_not_a_finite_real(bad):
    with pytest.raises(ValueError, match="lr must be a finite real number"):
        v.check_real(bad, "lr")


def test_positive_and_nonnegative_numbers():
    assert v.check_positive_number(3, "lr") == 3.0
    with pytest.raises(ValueError, match="lr must be > 0.*lr=1e-3"):
        v.check_positive_number(0.0, "lr", example="lr=1e-3")
    assert v.check_nonnegative_number(0, "beta") == 0.0
    with pytest.raises(ValueError, match="beta must be >= 0"):
        v.check_nonnegative_number(-0.1, "beta")


def test_check_count_and_choice():
    assert v.check_count(3.0, "epochs") == 3
    for bad in (0, 2.5, True, "3"):
        with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
            v.check_count(bad, "epochs")
    assert v.check_choice("fixed", "binarization", ("dynamic", "fixed")) == "fixed"
    with pytest.raises(ValueError, match=r"binarization must be one of \['dynamic', 'fixed'\]"):
        v.check_choice("static", "binarization", ("dynamic", "fixed"))
    with pytest.raises(ValueError, match="control_variate"):  # True == 1 but 1 is not the bool True
        v.check_choice(1, "control_variate", (True, False))


def test_wrong_types_are_type_errors_naming_the_argument():
    with pytest.raises(TypeError, match="prior must be a dict.*how to fix"):
        v.check_instance([], "prior", dict, how="how to fix")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        v.check_generator(0)
    assert v.check_generator(None) is None


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


@pytest.mark.parametrize("bad", ["1.0", None, True, {"a": 1}, torch.tensor([True]), np.array(["a"])])
def test_as_tensor_refuses_wrong_types(bad):
    with pytest.raises(TypeError, match="theta must"):
        v.as_tensor(bad, "theta")


def test_as_tensor_accepts_numbers_lists_arrays_and_tensors():
    for good in (2, 2.0, [2.0], np.array([2.0]), torch.tensor([2]), torch.tensor([2.0], dtype=torch.float64)):
        assert float(v.as_tensor(good, "theta", dtype=torch.float64).sum()) == 2.0


def test_check_open_unit_number_and_check_replicates():
    assert v.check_open_unit_number(0.95, "level") == 0.95
    for bad in (0, 1, 95, -0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="level"):
            v.check_open_unit_number(bad, "level")
    out = v.check_replicates(torch.tensor([1.0, 2.0], requires_grad=True), "gaps")
    assert out.dtype == torch.float64 and not out.requires_grad and out.tolist() == [1.0, 2.0]
    assert v.check_replicates(np.array([1, 2, 3]), "gaps", minimum=3).tolist() == [1.0, 2.0, 3.0]
    for bad, message in (([1.0], "at least 2"), (torch.zeros(2, 2), "1-D"), ([1.0, math.nan], "finite")):
        with pytest.raises(ValueError, match=f"gaps.*{message}|gaps needs {message}"):
            v.check_replicates(bad, "gaps")
    with pytest.raises(TypeError, match="gaps"):
        v.check_replicates("12", "gaps")
