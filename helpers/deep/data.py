"""Image data sets for the deep latent variable model chapters, and their binarization.

:func:`load_images` returns ``(x, labels)``: ``x`` float32 of shape (N, D) with pixels in [0, 1] (D = 784 for the
28 x 28 data sets, 64 for the 8 x 8 digits) and ``labels`` int64 of shape (N,).

Where the data come from (the policy, in order):

* **Local files first.** The data directory is ``root`` if given, else ``$VI_COURSE_DATA``, else ``<repo>/data``.
  MNIST is read from ``<root>/mnist/`` or torchvision's layout ``<root>/MNIST/raw/``; Fashion-MNIST from
  ``<root>/fashion-mnist/``, ``<root>/FashionMNIST/raw/`` or the Debian package's
  ``/usr/share/datasets/fashion-mnist/``. The files are the original IDX files (``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``), gzipped or not; they are
  read with NumPy (no torchvision needed).
* **Downloads only when asked** (``download=True``): torchvision then fetches MNIST or Fashion-MNIST into
  ``<root>``. Downloads are opt-in so that an offline machine never waits on the network; a failed download raises
  :class:`DatasetNotAvailableError` at once (a 10 s socket timeout bounds each connection attempt). The one
  exception is Google Colab (``helpers.common.config.in_colab``), which has the network and no local data: there
  ``"auto"`` downloads Fashion-MNIST instead of falling back to the digits (and falls back, saying why, when the
  download fails).
* scikit-learn's bundled 8 x 8 **digits** always work offline.

``name="auto"`` takes MNIST when its files are there, else Fashion-MNIST, else the digits, and prints which one it
used. Asking for a data set that is not there raises :class:`DatasetNotAvailableError` (a ``FileNotFoundError``)
whose message says how to get it.

Raw arrays are cached in memory (the first Fashion-MNIST load takes about a second, later ones nothing); every
call returns fresh tensors, so a caller that modifies them in place cannot corrupt the cache.

Binarization (chapters *The variational autoencoder* and *Importance-weighted bounds*): :func:`binarize` draws
x_bin ~ Bernoulli(x) afresh every time it is called (dynamic binarization, Burda et al. 2016, applied to every
minibatch by :func:`helpers.train`); :func:`fixed_binarization` draws it once with a fixed seed (or thresholds at
1/2), the same every time.
"""

from __future__ import annotations

import functools
import gzip
import os
import socket
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from helpers.common.config import in_colab
from helpers.common.validation import (
    check_choice,
    check_count,
    check_flag,
    check_generator,
    check_instance,
    check_unit_interval,
)

DATA_ENV_VAR = "VI_COURSE_DATA"
REPO_ROOT = Path(__file__).resolve().parents[2]
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
DATASETS = ("mnist", "fashion-mnist", "digits")
SPLITS = ("train", "test")
#: The digits split: a fixed permutation of scikit-learn's 1,797 images (NumPy default_rng(0)); the last 360
#: (20%) are the test set, the first 1,437 the training set.
DIGITS_TEST_SIZE = 360
DIGITS_SPLIT_SEED = 0
DOWNLOAD_TIMEOUT_SECONDS = 10.0

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_SUBDIRS = {"mnist": ("mnist", "MNIST/raw"), "fashion-mnist": ("fashion-mnist", "FashionMNIST/raw")}


class DatasetNotAvailableError(FileNotFoundError):
    """A data set asked for by name is not on this machine (and was not, or could not be, downloaded)."""


def data_root(root: str | Path | None = None) -> Path:
    """The local data directory: ``root``, else ``$VI_COURSE_DATA``, else ``<repo>/data``."""
    if root is not None:
        check_instance(root, "root", (str, Path), how="a directory such as 'data'")
        return Path(root).expanduser()
    from_env = os.environ.get(DATA_ENV_VAR)
    return Path(from_env).expanduser() if from_env else REPO_ROOT / "data"


def _candidate_dirs(name: str, root: Path) -> list[Path]:
    dirs = [root / sub for sub in _SUBDIRS[name]]
    if name == "fashion-mnist":
        dirs.append(FASHION_MNIST_SYSTEM_DIR)
    return dirs


def _find_file(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _find_idx(name: str, split: str, root: Path) -> tuple[Path, Path] | None:
    """The (images, labels) IDX files of ``name``/``split`` in the first directory that has both, else None."""
    images_stem, labels_stem = _IDX_FILES[split]
    for directory in _candidate_dirs(name, root):
        images, labels = _find_file(directory, images_stem), _find_file(directory, labels_stem)
        if images is not None and labels is not None:
            return images, labels
    return None


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a NumPy uint8 array of its stored shape, e.g. (N, 28, 28)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {data[:4]!r}); is it corrupted?")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = offset + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"{path} has {len(data)} bytes, its header says {expected}: the file is truncated.")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def _how_to_get(name: str, root: Path) -> str:
    if name == "mnist":
        return (
            f"MNIST is not in {root / 'mnist'} or {root / 'MNIST/raw'}. Put the four IDX files there "
            "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            f"t10k-labels-idx1-ubyte.gz), set ${DATA_ENV_VAR} to the folder that has them, or, online, call "
            "helpers.load_images('mnist', download=True). Offline, use 'fashion-mnist', 'digits' or 'auto'."
        )
    return (
        f"Fashion-MNIST is not in {FASHION_MNIST_SYSTEM_DIR}, {root / 'fashion-mnist'} or "
        f"{root / 'FashionMNIST/raw'}. On Debian/Ubuntu run `sudo apt-get install dataset-fashion-mnist` (or "
        f"`make datasets`), put the four IDX files in {root / 'fashion-mnist'}, or, online, call "
        "helpers.load_images('fashion-mnist', download=True). Offline without it, use 'digits' or 'auto'."
    )


def _download(name: str, root: Path) -> None:
    """Fetch ``name`` into ``root`` with torchvision; any failure becomes DatasetNotAvailableError."""
    import torchvision  # local import: only downloads need it

    dataset_class = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.FashionMNIST
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_SECONDS)  # restored below: no global state survives the call
    try:
        for train in (True, False):
            dataset_class(str(root), train=train, download=True)
    except Exception as error:  # noqa: BLE001 - every network or disk failure gets the same how-to message
        message = f"downloading {name} into {root} failed ({error}). {_how_to_get(name, root)}"
        raise DatasetNotAvailableError(message) from error
    finally:
        socket.setdefaulttimeout(previous)


@functools.lru_cache(maxsize=8)
def _raw_idx(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{images_path} and {labels_path} do not hold matching images and labels.")
    images = images.reshape(len(images), -1)
    images.flags.writeable = False
    return images, labels


@functools.lru_cache(maxsize=2)
def _raw_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # local import: scikit-learn only when the digits are asked for

    digits = load_digits()
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(digits.target))
    chosen = order[-DIGITS_TEST_SIZE:] if split == "test" else order[:-DIGITS_TEST_SIZE]
    images = (digits.data[chosen] / 16.0).astype(np.float32)
    labels = digits.target[chosen].astype(np.int64)
    images.flags.writeable = False
    return images, labels


@functools.lru_cache(maxsize=4)
def _colab_auto(root: Path) -> str:
    """In Google Colab, ``"auto"`` without local files: Fashion-MNIST by download, else (once) the digits."""
    try:
        _download("fashion-mnist", root)
    except DatasetNotAvailableError as error:
        print(f"helpers.load_images('auto'): Fashion-MNIST could not be downloaded in Colab ({error.__cause__})")
        return "digits"
    return "fashion-mnist"


def available_datasets(root: str | Path | None = None) -> list[str]:
    """The data sets :func:`load_images` can load now without a download, in ``"auto"``'s order of preference."""
    base = data_root(root)
    found = [name for name in ("mnist", "fashion-mnist") if all(_find_idx(name, s, base) for s in SPLITS)]
    return [*found, "digits"]


def load_images(
    name: str = "auto",
    split: Literal["train", "test"] = "train",
    *,
    root: str | Path | None = None,
    limit: int | None = None,
    download: bool = False,
) -> tuple[Tensor, Tensor]:
    """Images as float32 rows ``x`` (N, D) with pixels in [0, 1], and their labels int64 (N,).

    Args:
        name: ``"mnist"`` (D = 784), ``"fashion-mnist"`` (D = 784), ``"digits"`` (scikit-learn's 8 x 8 digits,
            D = 64, pixel values /16; a fixed split: 1,437 training and 360 test images, see
            ``DIGITS_TEST_SIZE``), or ``"auto"``: MNIST if its files are there, else Fashion-MNIST, else digits
            (in Google Colab: Fashion-MNIST by download before the digits); prints which one it used.
        split: ``"train"`` (60,000 images for MNIST and Fashion-MNIST) or ``"test"`` (10,000).
        root: the local data directory (default ``$VI_COURSE_DATA``, else ``<repo>/data``); see the module
            docstring for the layouts searched.
        limit: keep the first ``limit`` images only (all of them when the set is smaller, or when None).
        download: fetch MNIST or Fashion-MNIST with torchvision into ``root`` when the files are missing
            (needs the network; off by default so offline runs never wait).

    Raises:
        DatasetNotAvailableError: the data set is not on this machine (the message says how to get it).
        ValueError: an unknown ``name`` or ``split``, or a ``limit`` that is not a positive integer.

    Chapters: *The variational autoencoder*, *Importance-weighted bounds*, *Sticking the landing*.
    """
    check_choice(name.strip().lower() if isinstance(name, str) else name, "name", (*DATASETS, "auto"))
    check_choice(split, "split", SPLITS)
    if limit is not None:
        limit = check_count(limit, "limit")
    check_flag(download, "download")
    key = name.strip().lower()
    base = data_root(root)
    if key == "auto":
        key = available_datasets(base)[0]
        if key == "digits" and in_colab():
            key = _colab_auto(base)
        print(f"helpers.load_images('auto'): using {key} ({split})")
    if key == "digits":
        images, labels = _raw_digits(split)
        x = torch.from_numpy(images[:limit].copy())
    else:
        paths = _find_idx(key, split, base)
        if paths is None and download:
            _download(key, base)
            paths = _find_idx(key, split, base)
        if paths is None:
            raise DatasetNotAvailableError(_how_to_get(key, base))
        images, labels = _raw_idx(*paths)
        x = torch.from_numpy(images[:limit].astype(np.float32)).div_(255.0)
    return x, torch.from_numpy(labels[:limit].astype(np.int64))


def binarize(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Dynamic binarization: x_bin ~ Bernoulli(x) elementwise, a fresh draw at every call (Burda et al. 2016).

    ``x`` (..., D) in [0, 1] -> a float tensor of 0s and 1s of the same shape, dtype and device; E[x_bin] = x.
    """
    check_unit_interval(x, "x")
    check_generator(generator)
    return torch.bernoulli(x, generator=generator)


def fixed_binarization(x: Tensor, *, seed: int = 0, method: Literal["sample", "threshold"] = "sample") -> Tensor:
    """Fixed binarization: the same 0/1 images at every call.

    ``method="sample"`` draws x_bin ~ Bernoulli(x) once from a generator seeded with ``seed`` (like the
    binarized MNIST of Larochelle & Murray 2011); ``method="threshold"`` sets x_bin = 1[x > 1/2] (biased: it
    changes the data distribution). ``x`` (..., D) in [0, 1] -> same shape, dtype and device.
    """
    check_unit_interval(x, "x")
    if method == "threshold":
        return (x > 0.5).to(x.dtype)
    check_choice(method, "method", ("sample", "threshold"))
    seed = check_count(seed, "seed", minimum=0)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    return torch.bernoulli(x, generator=generator)


def binarize_with(u: Tensor, x: Tensor) -> Tensor:
    """Dynamic binarization from uniform draws u ~ U[0, 1) of x's shape: 1[u < x] ~ Bernoulli(x), in x's dtype
    (the distribution of ``torch.bernoulli(x)``, about three times faster on the CPU)."""
    return torch.lt(u, x, out=torch.empty(x.shape, dtype=torch.bool, device=x.device)).to(x.dtype)
