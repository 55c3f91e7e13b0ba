"""Scale presets, set-up, and no global state changed by importing the package."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

import helpers
from helpers import common


def test_scale_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.setenv("BOOK_SCALE", "quick")
    assert common.get_scale().name == "quick"
    monkeypatch.setenv("BOOK_SCALE", " Full ")
    assert common.get_scale().name == "full"
    monkeypatch.delenv("BOOK_SCALE")
    assert common.get_scale().name == "standard"


def test_unknown_scale_names_the_variable(monkeypatch):
    monkeypatch.setenv("BOOK_SCALE", "huge")
    with pytest.raises(ValueError, match="BOOK_SCALE"):
        common.get_scale()


@pytest.mark.parametrize("how", ["env", "module"])
def test_in_colab_the_default_scale_is_quick_and_setup_says_how_to_change_it(how, monkeypatch, capsys):
    import types

    monkeypatch.delenv("BOOK_SCALE", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert not common.config.in_colab()  # this machine is not Colab
    helpers.setup(seed=0)
    assert capsys.readouterr().out == ""
    if how == "env":  # Colab sets it in every runtime
        monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20260101-060000_RC00")
    else:  # imported by Colab's kernel at start-up
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert common.config.in_colab()
    cfg = helpers.setup(seed=0)
    assert cfg.scale.name == "quick" and common.get_scale().name == "quick"
    out = capsys.readouterr().out
    assert "Colab: scale 'quick'" in out and "%env BOOK_SCALE=standard" in out and "run this cell again" in out
    monkeypatch.setenv("BOOK_SCALE", "standard")  # what the note says to do
    assert helpers.setup(seed=0).scale.name == "standard"
    assert capsys.readouterr().out == ""  # a chosen scale gets no note
    monkeypatch.delenv("BOOK_SCALE")
    assert helpers.setup(seed=0, scale="full").scale.name == "full"
    assert capsys.readouterr().out == ""


def test_every_part_of_the_book_has_one_frozen_dataclass_of_sizes_per_chapter():
    """cfg.scale.<part>.<chapter>.<field>: each preset is a frozen dataclass of the same type at every scale (that
    each chapter field names a notebook of the book is checked in tests/book/test_layout.py)."""
    scales = [helpers.get_scale(name) for name in common.SCALE_NAMES]
    assert set(scales[0].parts) == {"vi", "estimators", "deep"}
    for part in scales[0].parts:
        presets = [getattr(scale, part) for scale in scales]
        assert len({type(p) for p in presets}) == 1, part  # one dataclass per part at every scale
        for chapter in dataclasses.fields(presets[0]):
            sizes = [getattr(p, chapter.name) for p in presets]
            assert len({type(x) for x in sizes}) == 1 and dataclasses.is_dataclass(sizes[0]), (part, chapter.name)
            with pytest.raises(dataclasses.FrozenInstanceError):
                sizes[0].__setattr__(dataclasses.fields(sizes[0])[0].name, 0)
    cfg = helpers.setup(seed=0, scale="quick")
    assert cfg.scale.deep.iwae.epochs == scales[0].deep.iwae.epochs == helpers.deep.scales.IWAE["quick"].epochs


def test_an_unknown_part_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="no part 'dep'.*deep"):
        helpers.get_scale("quick").dep  # noqa: B018


def test_common_knows_no_part_and_nothing_is_registered_at_import():
    """common imports nothing else of helpers: its get_scale gives the parts it is passed, and a scale without them
    says where they come from."""
    assert common.get_scale("quick").parts == {}
    with pytest.raises(AttributeError, match="helpers.setup"):
        common.get_scale("quick").deep  # noqa: B018
    assert not [name for name in vars(common.config) if "register" in name.lower() or name.startswith("_PART")]
    parts = {"new_part": {name: name.upper() for name in common.SCALE_NAMES}}
    assert common.get_scale("full", parts).new_part == "FULL"  # a new part needs no registry


def test_get_scale_refuses_incomplete_presets():
    with pytest.raises(ValueError, match=r"parts\['new_part'\].*standard"):
        common.get_scale("quick", {"new_part": {"quick": object()}})
    with pytest.raises(ValueError, match="identifier"):
        common.get_scale("quick", {"name": {name: 0 for name in common.SCALE_NAMES}})
    with pytest.raises(TypeError, match="parts must be a mapping"):
        common.get_scale("quick", [("deep", {})])


def test_setup_seeds_reproducibly():
    first = helpers.setup(seed=3, scale="quick")
    a = (torch.rand(3), torch.rand(3, generator=first.generator))
    second = helpers.setup(seed=3, scale="quick")
    b = (torch.rand(3), torch.rand(3, generator=second.generator))
    torch.testing.assert_close(a, b)
    assert first.device.type in ("cpu", "cuda") and first.scale.name == "quick"
    for bad in (-1, True, 1.5, "0"):
        with pytest.raises(ValueError, match="seed"):
            helpers.setup(seed=bad)
    assert helpers.setup(seed=np.int64(4), scale="quick").seed == 4


def test_setup_sets_the_course_style_and_print_precision():
    import matplotlib as mpl

    helpers.setup(seed=0, scale="quick")
    for key, value in helpers.common.plotting.COURSE_STYLE.items():
        assert mpl.rcParams[key] == value or list(mpl.rcParams[key]) == list(value), key
    assert "e-07" in str(torch.tensor([2.9e-7]))  # small numbers stay visible (no forced fixed notation)


def test_importing_helpers_changes_no_global_state():
    state = (
        "(dict(mpl.rcParams), torch.get_default_dtype(), torch.random.get_rng_state().sum().item(),"
        " np.random.get_state()[1][:5].tolist(), str(torch.tensor([0.123456789])))"
    )
    code = (
        "import matplotlib as mpl, torch, numpy as np\n"
        f"before = {state}\n"
        "import helpers\n"
        f"after = {state}\n"
        "assert before == after, 'importing helpers changed global state'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_errors_name_the_argument_of_the_function_called():
    """get_device(prefer=...) and get_scale(name=...) name their parameters; setup names its own (device, scale)."""
    with pytest.raises(TypeError, match="prefer must be a str or torch.device"):
        common.get_device(3)
    with pytest.raises(ValueError, match="prefer must name a torch device"):
        common.get_device("gpu")
    with pytest.raises(TypeError, match="name must be a scale name, a str"):
        common.get_scale(3)
    with pytest.raises(ValueError, match=r"name must be a scale name, one of \['quick', 'standard', 'full'\]"):
        common.get_scale("huge")
    with pytest.raises(ValueError, match="scale must be a scale name"):
        common.setup(0, scale="huge")
    with pytest.raises(ValueError, match="device must name a torch device"):
        common.setup(0, device="gpu")
