"""helpers.common.validation.objects: types, flags, callables, choices, generators, devices and renamed keywords;
a wrong type is a TypeError naming the argument."""

from __future__ import annotations

import pytest
import torch

from helpers.common import validation as v


def test_check_choice():
    assert v.check_choice("fixed", "binarization", ("dynamic", "fixed")) == "fixed"
    with pytest.raises(ValueError, match=r"binarization must be one of \['dynamic', 'fixed'\]"):
        v.check_choice("static", "binarization", ("dynamic", "fixed"))
    with pytest.raises(ValueError, match="control_variate"):  # True == 1 but 1 is not the bool True
        v.check_choice(1, "control_variate", (True, False))
    with pytest.raises(TypeError, match="binarization must be a str"):
        v.check_choice(3, "binarization", ("dynamic", "fixed"))


def test_wrong_types_are_type_errors_naming_the_argument():
    with pytest.raises(TypeError, match="prior must be a dict.*how to fix"):
        v.check_instance([], "prior", dict, how="how to fix")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        v.check_generator(0)
    assert v.check_generator(None) is None
    with pytest.raises(TypeError, match="analytic_kl must be True or False"):
        v.check_flag("no", "analytic_kl")
    with pytest.raises(TypeError, match="gradient must be callable"):
        v.check_callable(3, "gradient")


def test_check_device_names_the_argument():
    assert v.check_device("cpu") == torch.device("cpu")
    with pytest.raises(TypeError, match="prefer must be a str or torch.device"):
        v.check_device(3, "prefer")
    with pytest.raises(ValueError, match="prefer must name a torch device"):
        v.check_device("nonsense", "prefer")


def test_renamed_arguments_name_the_new_keyword():
    @v.renamed_arguments(control_variate="baseline")
    def f(baseline=None):
        return baseline

    assert f(baseline=1) == 1
    with pytest.raises(TypeError, match="f\\(\\) has no argument control_variate= any more: it is called baseline="):
        f(control_variate=1)
