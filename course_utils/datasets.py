"""Dataset loaders that return NumPy arrays (or torch tensors) with fixed splits.

Image datasets (files found or downloaded by :func:`course_utils.data.fetch`):

========================  ======================  =====  =====  ======
name                      X (uint8)               train  val    test
========================  ======================  =====  =====  ======
``"fashion-mnist"``       (N, 28, 28)             55000  5000   10000
``"mnist"``               (N, 28, 28)             55000  5000   10000
``"cifar-10"``            (N, 32, 32, 3)          45000  5000   10000
========================  ======================  =====  =====  ======

``"train"`` and ``"val"`` are the first and last rows of a fixed, seeded permutation
of the official training set, so everyone in the course gets the same validation
set; ``"trainval"`` is the whole official training set in its original order and
``"test"`` the official test set. Labels y are int64, shape (N,).

Parsed arrays are cached in-process; every call returns fresh copies, so a student
who normalises X in place cannot corrupt the next call's data.
"""

from __future__ import annotations

import gzip
import struct
import tarfile
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .data import DatasetSpec, fetch, get_spec

__all__ = [
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "CIFAR10_CLASSES",
    "SPLITS",
    "SPLIT_SEED",
    "CorruptFileError",
    "read_idx",
    "split_indices",
    "load_images",
    "load_labels",
    "load_dataset",
    "load_fashion_mnist",
    "load_fashion_mnist_images",
    "load_mnist",
    "load_mnist_images",
    "load_cifar10",
    "load_cifar10_images",
    "load_digits",
    "load_iris",
]

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
MNIST_CLASSES = [str(digit) for digit in range(10)]
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]

SPLITS = ("train", "val", "test", "trainval")
SPLIT_SEED = 20240101
VAL_SIZE = 5000


class CorruptFileError(ValueError):
    """A data file is truncated or not in the format it claims to be."""


# IDX type byte -> big-endian NumPy dtype (http://yann.lecun.com/exdb/mnist/, "IDX format").
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path, *, expect_ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzipped if its name ends in .gz) into a read-only array.

    The header is two zero bytes, a type byte, the number of dimensions and then one
    big-endian uint32 per dimension; the payload must have exactly the declared size.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CorruptFileError(f"{path}: cannot decompress ({exc}); delete it and fetch again") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise CorruptFileError(f"{path}: not an IDX file (magic bytes {raw[:4].hex() or 'missing'})")
    ndim = raw[3]
    if expect_ndim is not None and ndim != expect_ndim:
        raise CorruptFileError(f"{path}: expected an IDX file with {expect_ndim} dimensions, found {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptFileError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise CorruptFileError(
            f"{path}: header promises {expected} bytes of data for shape {dims}, "
            f"file has {len(raw) - header}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _read_idx_dataset(directory: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for split, prefix in (("trainval", "train"), ("test", "t10k")):
        X = read_idx(directory / f"{prefix}-images-idx3-ubyte.gz", expect_ndim=3)
        y = read_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", expect_ndim=1)
        if len(X) != len(y):
            raise CorruptFileError(f"{directory}: {len(X)} {prefix} images but {len(y)} labels")
        out[split] = (X, y.astype(np.int64))
    return out


_CIFAR_RECORD = 1 + 32 * 32 * 3  # label byte, then 1024 red, 1024 green, 1024 blue


def _read_cifar_batches(tar: tarfile.TarFile, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    chunks = []
    for name in names:
        member = tar.extractfile(f"cifar-10-batches-bin/{name}")
        if member is None:
            raise CorruptFileError(f"{tar.name}: {name} is missing")
        raw = np.frombuffer(member.read(), dtype=np.uint8)
        if raw.size % _CIFAR_RECORD:
            raise CorruptFileError(f"{tar.name}: {name} is not a whole number of records")
        chunks.append(raw.reshape(-1, _CIFAR_RECORD))
    records = np.concatenate(chunks)
    y = records[:, 0].astype(np.int64)
    X = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
    return np.ascontiguousarray(X), y


def _read_cifar10(directory: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    # Read members straight from the archive: nothing is extracted to disk.
    try:
        with tarfile.open(directory / "cifar-10-binary.tar.gz", "r:gz") as tar:
            train = _read_cifar_batches(tar, [f"data_batch_{i}.bin" for i in range(1, 6)])
            test = _read_cifar_batches(tar, ["test_batch.bin"])
    except (tarfile.TarError, KeyError, EOFError, zlib.error) as exc:
        raise CorruptFileError(f"{directory}: cannot read cifar-10-binary.tar.gz ({exc})") from exc
    return {"trainval": train, "test": test}


_READERS = {"fashion-mnist": _read_idx_dataset, "mnist": _read_idx_dataset, "cifar-10": _read_cifar10}


def _idx_file(key: str, part: str) -> str:
    """The IDX archive holding `part` ("images" or "labels") of "trainval" or "test"."""
    prefix = "train" if key == "trainval" else "t10k"
    return f"{prefix}-{part}-idx{3 if part == 'images' else 1}-ubyte.gz"


@cache
def _raw_part(spec: DatasetSpec, key: str, part: str) -> np.ndarray:
    """Images or labels of "trainval" or "test", read-only. IDX datasets read only that file,
    so images load where the labels are not readable (a graded kernel: see DatasetSpec.kernel_hidden)."""
    if _READERS.get(spec.name) is _read_idx_dataset:
        name = _idx_file(key, part)
        array = read_idx(fetch(spec, files=[name]) / name, expect_ndim=3 if part == "images" else 1)
        array = array.astype(np.int64) if part == "labels" else array
        array.setflags(write=False)
        return array
    X, y = _raw(spec)[key]
    return X if part == "images" else y


@cache
def _raw(spec: DatasetSpec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    reader = _READERS.get(spec.name)
    if reader is None:
        raise KeyError(f"no loader for dataset {spec.name!r}; known: {', '.join(_READERS)}")
    arrays = reader(fetch(spec))
    for X, y in arrays.values():
        X.setflags(write=False)
        y.setflags(write=False)
    return arrays


@cache
def split_indices(n: int, val_size: int = VAL_SIZE, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx): the first n - val_size and the last val_size of a seeded permutation.

    Uses the legacy RandomState on purpose: NumPy freezes its stream (NEP 19), so the
    split is the same on every NumPy version, on Colab and locally.
    """
    if not 0 < val_size < n:
        raise ValueError(f"val_size must be between 1 and {n - 1}, got {val_size}")
    perm = np.random.RandomState(seed).permutation(n)
    train, val = perm[: n - val_size], perm[n - val_size :]
    train.setflags(write=False)
    val.setflags(write=False)
    return train, val


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}; got {split!r}")


def _select(array: np.ndarray, split: str) -> np.ndarray:
    """Rows of the official train array (or the test array) belonging to `split`, as a copy."""
    if split in ("train", "val"):
        train_idx, val_idx = split_indices(len(array))
        return array[train_idx if split == "train" else val_idx]  # fancy indexing copies
    return array.copy()


def _finish(array: np.ndarray, as_tensor: bool) -> Any:
    if as_tensor:
        import torch

        return torch.from_numpy(array)
    return array


def load_images(name: str | DatasetSpec, split: str = "train", *, flatten: bool = False,
                as_tensor: bool = False) -> Any:
    """X only, uint8: (N, H, W) or (N, H, W, 3); (N, H*W*C) when `flatten`."""
    _check_split(split)
    X = _select(_raw_part(get_spec(name), "test" if split == "test" else "trainval", "images"), split)
    if flatten:
        X = X.reshape(len(X), -1)
    return _finish(X, as_tensor)


def load_labels(name: str | DatasetSpec, split: str = "train", *, as_tensor: bool = False) -> Any:
    """y only: int64 class indices, shape (N,)."""
    _check_split(split)
    y = _select(_raw_part(get_spec(name), "test" if split == "test" else "trainval", "labels"), split)
    return _finish(y, as_tensor)


def load_dataset(name: str | DatasetSpec, split: str = "train", *, flatten: bool = False,
                 as_tensor: bool = False) -> tuple[Any, Any]:
    """(X, y) for `split` of an image dataset; see the module docstring for shapes."""
    return (
        load_images(name, split, flatten=flatten, as_tensor=as_tensor),
        load_labels(name, split, as_tensor=as_tensor),
    )


def load_fashion_mnist(split: str = "train", *, flatten: bool = False,
                       as_tensor: bool = False) -> tuple[Any, Any]:
    """Fashion-MNIST: X uint8 (N, 28, 28) or (N, 784), y int64 (N,) in 0..9."""
    return load_dataset("fashion-mnist", split, flatten=flatten, as_tensor=as_tensor)


def load_fashion_mnist_images(split: str = "train", *, flatten: bool = False,
                              as_tensor: bool = False) -> Any:
    """Fashion-MNIST images only, so the grader can hand out inputs without labels."""
    return load_images("fashion-mnist", split, flatten=flatten, as_tensor=as_tensor)


def load_mnist(split: str = "train", *, flatten: bool = False,
               as_tensor: bool = False) -> tuple[Any, Any]:
    """MNIST digits: X uint8 (N, 28, 28) or (N, 784), y int64 (N,) in 0..9."""
    return load_dataset("mnist", split, flatten=flatten, as_tensor=as_tensor)


def load_mnist_images(split: str = "train", *, flatten: bool = False,
                      as_tensor: bool = False) -> Any:
    """MNIST images only."""
    return load_images("mnist", split, flatten=flatten, as_tensor=as_tensor)


def load_cifar10(split: str = "train", *, flatten: bool = False,
                 as_tensor: bool = False) -> tuple[Any, Any]:
    """CIFAR-10: X uint8 (N, 32, 32, 3) or (N, 3072), y int64 (N,) in 0..9."""
    return load_dataset("cifar-10", split, flatten=flatten, as_tensor=as_tensor)


def load_cifar10_images(split: str = "train", *, flatten: bool = False,
                        as_tensor: bool = False) -> Any:
    """CIFAR-10 images only."""
    return load_images("cifar-10", split, flatten=flatten, as_tensor=as_tensor)


# scikit-learn's small bundled datasets: 60% train, 20% val, 20% test, stratified by
# class with a fixed random_state, so the split never changes between runs.
_SMALL_FRACTIONS = (0.6, 0.2, 0.2)


@cache
def _small_split(which: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    bunch = getattr(sklearn.datasets, f"load_{which}")()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    X_tv, X_te, y_tv, y_te = train_test_split(
        X, y, test_size=_SMALL_FRACTIONS[2], stratify=y, random_state=SPLIT_SEED % 2**32
    )
    val_of_tv = _SMALL_FRACTIONS[1] / (_SMALL_FRACTIONS[0] + _SMALL_FRACTIONS[1])
    X_tr, X_va, y_tr, y_va = train_test_split(
        X_tv, y_tv, test_size=val_of_tv, stratify=y_tv, random_state=SPLIT_SEED % 2**32
    )
    out = {"train": (X_tr, y_tr), "val": (X_va, y_va), "test": (X_te, y_te), "trainval": (X_tv, y_tv)}
    for X_, y_ in out.values():
        X_.setflags(write=False)
        y_.setflags(write=False)
    return out


def _load_small(which: str, split: str, as_tensor: bool) -> tuple[Any, Any]:
    _check_split(split)
    X, y = _small_split(which)[split]
    return _finish(X.copy(), as_tensor), _finish(y.copy(), as_tensor)


def load_digits(split: str = "train", *, as_tensor: bool = False) -> tuple[Any, Any]:
    """scikit-learn's 8x8 digits: X float64 (N, 64) with values 0..16, y int64 (N,) in 0..9.

    1797 images split 60/20/20 (stratified): 1077 train, 360 val, 360 test.
    """
    return _load_small("digits", split, as_tensor)


def load_iris(split: str = "train", *, as_tensor: bool = False) -> tuple[Any, Any]:
    """Fisher's iris: X float64 (N, 4) in cm, y int64 (N,) in 0..2.

    150 flowers split 60/20/20 (stratified): 90 train, 30 val, 30 test.
    """
    return _load_small("iris", split, as_tensor)
