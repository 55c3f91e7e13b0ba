"""Scale presets, set-up, and no global state changed by importing the package."""

from __future__ import annotations

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


def _presets(part):
    return [getattr(helpers.common.get_scale(name), part) for name in helpers.common.SCALE_NAMES]


def test_every_part_registers_its_presets_with_the_same_fields():
    scale = helpers.common.get_scale("quick")
    assert set(scale.parts) == {"vi", "estimators", "deep"}
    for part in scale.parts:
        types = {type(preset) for preset in _presets(part)}
        assert len(types) == 1, part  # one dataclass per part, the same fields at every scale
    assert helpers.setup(seed=0, scale="quick").scale.deep.epochs == scale.deep.epochs


def test_an_unknown_part_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="no part 'dep'.*deep"):
        helpers.common.get_scale("quick").dep  # noqa: B018


def test_register_scales_refuses_incomplete_presets():
    with pytest.raises(ValueError, match="quick"):
        helpers.common.register_scales("new_part", {"quick": object()})
    assert "new_part" not in helpers.common.get_scale("quick").parts


def test_scales_grow():
    quick, standard, full = _presets("estimators")
    assert quick.num_repeats <= standard.num_repeats <= full.num_repeats
    assert quick.num_repeats >= 1_000  # the chapter's variance study needs >= 1,000 repetitions at every scale
    for scale in (quick, standard, full):
        assert scale.sample_sizes[0] == 1 and scale.sample_sizes[-1] == 10_000
    quick, standard, full = _presets("vi")
    for field in ("bbvi_repeats", "bbvi_seeds", "bbvi_iters"):
        assert getattr(quick, field) <= getattr(standard, field) <= getattr(full, field), field


def test_deep_model_scales_grow():
    quick, standard, full = _presets("deep")
    assert quick.train_images <= standard.train_images and full.train_images is None
    for field in (
        "num_repeats",
        "test_images",
        "epochs",
        "iwae_epochs",
        "loglik_images",
        "loglik_samples",
        "stl_epochs",
        "stl_grad_repeats",
        "stl_seeds",
    ):
        assert getattr(quick, field) <= getattr(standard, field) <= getattr(full, field), field
    assert standard.loglik_samples == full.loglik_samples == 5_000  # Burda et al.'s k
    # Burda et al. (2016, sec. 5): 3^i passes at learning rate 1e-3 * 10^(-i/7) for i = 0, ..., 7
    assert full.iwae_epochs == sum(3**i for i in range(8))
    assert quick.stl_seeds >= 2 and quick.stl_epochs >= 2  # a verdict over seeds, and a last pass's gain


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
