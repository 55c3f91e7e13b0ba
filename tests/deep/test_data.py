"""helpers.deep.data: shapes, ranges, the local-file policy, the how-to errors, binarization statistics."""

from __future__ import annotations

import gzip
import urllib.error

import numpy as np
import pytest
import torch
from _shared import Z_TOL, generator

import helpers.deep.data as data
from helpers import common, deep

FASHION_INSTALLED = (data.FASHION_MNIST_SYSTEM_DIR / "t10k-images-idx3-ubyte.gz").is_file()


def write_idx(directory, split: str, images: np.ndarray, labels: np.ndarray, compress: bool) -> None:
    """Write IDX files as the original distribution does (magic 0x0803 / 0x0801, big-endian sizes)."""
    directory.mkdir(parents=True, exist_ok=True)
    names = data._IDX_FILES[split]
    for name, array in zip(names, (images, labels)):
        header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
        payload = header + array.astype(np.uint8).tobytes()
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (directory / name).write_bytes(payload)


@pytest.fixture
def fake_mnist(tmp_path):
    """A tiny MNIST in torchvision's layout (uncompressed) and the plain layout (gzipped)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28))
    labels = rng.integers(0, 10, size=7)
    write_idx(tmp_path / "MNIST" / "raw", "train", images, labels, compress=False)
    write_idx(tmp_path / "mnist", "test", images[:3], labels[:3], compress=True)
    return tmp_path, images, labels


def test_digits_shapes_ranges_and_a_deterministic_disjoint_split():
    x_train, y_train = deep.load_images("digits", "train")
    x_test, y_test = deep.load_images("digits", "test")
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert x_train.min() >= 0 and x_train.max() <= 1 and x_train.max() == 1
    assert set(y_test.tolist()) == set(range(10))
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(data.DIGITS_SPLIT_SEED).permutation(1797)
    torch.testing.assert_close(x_test, torch.from_numpy(digits.data[order[-360:]] / 16).float())
    assert len(set(order[:-360]) & set(order[-360:])) == 0  # disjoint, and together all 1,797
    again, _ = deep.load_images("digits", "train")
    torch.testing.assert_close(again, x_train)


@pytest.mark.skipif(not FASHION_INSTALLED, reason="Fashion-MNIST not installed: apt-get install dataset-fashion-mnist")
def test_fashion_mnist_from_the_debian_package():
    x, y = deep.load_images("fashion-mnist", "test")
    assert x.shape == (10000, 784) and x.dtype == torch.float32
    assert y.shape == (10000,) and y.dtype == torch.int64 and set(y.tolist()) == set(range(10))
    assert x.min() == 0 and x.max() == 1
    first, _ = deep.load_images("fashion-mnist", "test", limit=5)
    torch.testing.assert_close(first, x[:5])
    x_train, _ = deep.load_images("fashion-mnist", "train", limit=100)
    assert x_train.shape == (100, 784)


def test_returned_tensors_do_not_share_memory_with_the_cache():
    x, y = deep.load_images("digits", "test", limit=10)
    x.fill_(7.0)
    y.fill_(-1)
    fresh, labels = deep.load_images("digits", "test", limit=10)
    assert fresh.max() <= 1 and labels.min() >= 0


def test_local_idx_files_in_either_layout(fake_mnist):
    root, images, labels = fake_mnist
    x, y = deep.load_images("mnist", "train", root=root)
    assert x.shape == (7, 784) and x.dtype == torch.float32
    torch.testing.assert_close(x, torch.from_numpy(images.reshape(7, -1) / 255.0).float())
    assert y.tolist() == labels.tolist()
    x_test, _ = deep.load_images("mnist", "test", root=root, limit=2)
    assert x_test.shape == (2, 784)


def test_auto_prefers_mnist_then_fashion_then_digits_and_says_which(fake_mnist, tmp_path_factory, capsys):
    root, _, _ = fake_mnist
    deep.load_images("auto", "test", root=root)
    assert "using mnist" in capsys.readouterr().out
    empty = tmp_path_factory.mktemp("empty")
    x, _ = deep.load_images("auto", "test", root=empty, limit=3)
    expected = "fashion-mnist" if FASHION_INSTALLED else "digits"
    assert f"using {expected}" in capsys.readouterr().out
    assert x.shape == (3, 784 if FASHION_INSTALLED else 64)


def test_a_missing_data_set_raises_a_specific_error_that_says_how_to_get_it(tmp_path, monkeypatch):
    with pytest.raises(data.DatasetNotAvailableError, match="download=True") as info:
        deep.load_images("mnist", root=tmp_path)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in str(info.value)
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    with pytest.raises(deep.DatasetNotAvailableError, match="apt-get install dataset-fashion-mnist"):
        deep.load_images("fashion-mnist", root=tmp_path)
    assert deep.available_datasets(tmp_path) == ["digits"]


def test_the_data_directory_comes_from_the_environment(fake_mnist, monkeypatch):
    root, _, _ = fake_mnist
    monkeypatch.setenv(data.DATA_ENV_VAR, str(root))
    assert deep.data_root() == root
    x, _ = deep.load_images("mnist", "train")
    assert x.shape == (7, 784)


def test_a_failed_download_becomes_the_specific_error(tmp_path, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(deep.DatasetNotAvailableError, match="downloading mnist .* failed"):
        deep.load_images("mnist", root=tmp_path, download=True)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="name must be one of"):
        deep.load_images("cifar10")
    with pytest.raises(ValueError, match="split must be"):
        deep.load_images("digits", "validation")
    with pytest.raises(ValueError, match="limit"):
        deep.load_images("digits", limit=0)


def test_corrupt_idx_files_are_reported(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(tmp_path / "bad")
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        data.read_idx(tmp_path / "text")


def test_dynamic_binarization_is_unbiased_and_fresh_at_every_call():
    x = torch.tensor([0.0, 0.1, 0.5, 0.93, 1.0]).repeat(20_000, 1)
    g = generator(0)
    first = deep.binarize(x, generator=g)
    second = deep.binarize(x, generator=g)
    assert set(first.unique().tolist()) == {0.0, 1.0} and first.dtype == x.dtype
    assert not torch.equal(first, second)
    mean, se = common.mean_and_se(first)
    p = x[0]
    exact_se = torch.sqrt(p * (1 - p) / len(x))
    assert ((mean - p).abs() <= Z_TOL * exact_se).all()  # exactly 0 and 1 at the ends, where the SE is 0


def test_fixed_binarization_is_the_same_every_time():
    x = torch.rand(50, 30, generator=generator(1))
    a = deep.fixed_binarization(x, seed=3)
    assert torch.equal(a, deep.fixed_binarization(x, seed=3))
    assert not torch.equal(a, deep.fixed_binarization(x, seed=4))
    assert torch.equal(deep.fixed_binarization(x, method="threshold"), (x > 0.5).float())
    with pytest.raises(ValueError, match="method"):
        deep.fixed_binarization(x, method="round")
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        deep.binarize(x * 2)


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """A Colab runtime without local data: no Debian Fashion-MNIST, an empty data folder, COLAB_RELEASE_TAG set."""
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "no-debian-package")
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path / "data"))
    data._colab_auto.cache_clear()
    yield tmp_path / "data"
    data._colab_auto.cache_clear()


def test_in_colab_auto_downloads_fashion_mnist_through_torchvision(colab, monkeypatch, capsys):
    """The chapters' "auto" in Colab: Fashion-MNIST fetched by torchvision (here a stand-in that writes the IDX
    files where torchvision puts them, <root>/FashionMNIST/raw), once for both splits, then read like local files."""
    import torchvision

    rng = np.random.default_rng(1)
    calls = []

    def fashion_mnist(root, train, download):
        calls.append((root, train, download))
        n = 5 if train else 3
        images, labels = rng.integers(0, 256, size=(n, 28, 28)), rng.integers(0, 10, size=n)
        write_idx(data.Path(root) / "FashionMNIST" / "raw", "train" if train else "test", images, labels, True)

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", fashion_mnist)
    x, labels = deep.load_images("auto", "train")
    assert x.shape == (5, 784) and labels.shape == (5,) and 0 <= float(x.min()) <= float(x.max()) <= 1
    assert "using fashion-mnist" in capsys.readouterr().out
    x_test, _ = deep.load_images("auto", "test")
    assert x_test.shape == (3, 784)
    assert calls == [(str(colab), True, True), (str(colab), False, True)]  # downloaded once, both splits


def test_in_colab_without_network_auto_falls_back_to_the_digits_once_and_says_why(colab, monkeypatch, capsys):
    import torchvision

    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    x, _ = deep.load_images("auto", "train")
    out = capsys.readouterr().out
    assert x.shape[1] == 64 and "could not be downloaded in Colab (<urlopen error no network>)" in out
    assert "using digits" in out
    deep.load_images("auto", "test")
    assert len(calls) == 1  # the failed download is not retried by the chapter's second call


def test_outside_colab_auto_never_downloads(tmp_path, monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "no-debian-package")
    monkeypatch.setattr(data, "_download", lambda *a: pytest.fail("auto downloaded outside Colab"))
    x, _ = deep.load_images("auto", "train", root=tmp_path)
    assert x.shape[1] == 64
