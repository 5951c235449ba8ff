"""Dataset loaders and their fixed splits (course_utils.datasets)."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from course_utils import data
from course_utils.data import DatasetNotFoundError, DatasetSpec, RemoteFile, fetch
from course_utils.datasets import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    CorruptFileError,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_fashion_mnist_images,
    load_images,
    load_iris,
    load_labels,
    read_idx,
    split_indices,
)

from .cu_helpers import idx_bytes

FMNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_fmnist = pytest.mark.skipif(
    not FMNIST_DIR.is_dir(), reason="needs Debian's dataset-fashion-mnist package"
)


@needs_fmnist
def test_fashion_mnist_is_found_in_the_system_dir_without_download() -> None:
    assert fetch("fashion-mnist", download=False) == FMNIST_DIR


@needs_fmnist
def test_debian_files_hold_the_upstream_data() -> None:
    # Debian re-gzips the archives, so we also accept their hashes; justify that by
    # checking the decompressed bytes against the md5s torchvision pins for the
    # upstream files (an independent record of the original data).
    upstream_raw_md5 = {
        "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    }
    for f in data.DATASETS["fashion-mnist"].files:
        raw = gzip.decompress((FMNIST_DIR / f.name).read_bytes())
        assert hashlib.md5(raw).hexdigest() == upstream_raw_md5[f.name], f.name


@needs_fmnist
@pytest.mark.parametrize(
    ("split", "n"), [("train", 55_000), ("val", 5_000), ("test", 10_000), ("trainval", 60_000)]
)
def test_fashion_mnist_shapes_dtypes_and_labels(split: str, n: int) -> None:
    X, y = load_fashion_mnist(split)
    assert X.shape == (n, 28, 28) and X.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.int64
    assert y.min() == 0 and y.max() == 9
    assert X.max() == 255  # raw pixel values, not rescaled
    Xf, _ = load_fashion_mnist(split, flatten=True)
    assert Xf.shape == (n, 784)
    np.testing.assert_array_equal(Xf[:3], X[:3].reshape(3, 784))


@needs_fmnist
def test_fashion_mnist_known_facts() -> None:
    # Published properties of the data: balanced classes and the first test labels.
    _, y_test = load_fashion_mnist("test")
    _, y_all = load_fashion_mnist("trainval")
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert np.bincount(y_all).tolist() == [6000] * 10
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"


@needs_fmnist
def test_fashion_mnist_split_is_fixed_and_partitions_the_training_set() -> None:
    X_all, y_all = load_fashion_mnist("trainval")
    X_tr, y_tr = load_fashion_mnist("train")
    X_va, y_va = load_fashion_mnist("val")
    train_idx, val_idx = split_indices(60_000)
    np.testing.assert_array_equal(X_tr, X_all[train_idx])
    np.testing.assert_array_equal(y_va, y_all[val_idx])
    assert len(np.union1d(train_idx, val_idx)) == 60_000
    assert len(np.intersect1d(train_idx, val_idx)) == 0
    X_tr2, y_tr2 = load_fashion_mnist("train")
    np.testing.assert_array_equal(X_tr2, X_tr)
    np.testing.assert_array_equal(y_tr2, y_tr)


def test_split_permutation_is_pinned() -> None:
    # Golden values: if these change, every student's validation set changes too.
    train_idx, val_idx = split_indices(60_000)
    assert train_idx[:5].tolist() == [41314, 58103, 6852, 10516, 45696]
    assert len(train_idx) == 55_000 and len(val_idx) == 5_000
    with pytest.raises(ValueError):
        split_indices(100, val_size=100)


@needs_fmnist
def test_callers_cannot_corrupt_the_cache() -> None:
    X, y = load_fashion_mnist("test")
    X[:] = 0
    y[:] = -1
    X2, y2 = load_fashion_mnist("test")
    assert X2.max() == 255 and y2.min() == 0


@needs_fmnist
def test_images_only_loader_and_tensors() -> None:
    X, y = load_fashion_mnist("val")
    np.testing.assert_array_equal(load_fashion_mnist_images("val"), X)
    np.testing.assert_array_equal(load_labels("fashion-mnist", "val"), y)
    Xt, yt = load_fashion_mnist("val", as_tensor=True, flatten=True)
    import torch

    assert isinstance(Xt, torch.Tensor) and Xt.dtype == torch.uint8 and Xt.shape == (5000, 784)
    assert yt.dtype == torch.int64
    np.testing.assert_array_equal(yt.numpy(), y)


def test_bad_split_name() -> None:
    with pytest.raises(ValueError, match="'train', 'val', 'test', 'trainval'"):
        load_images("fashion-mnist", "validation")


def test_missing_dataset_raises_not_found() -> None:
    # The isolated cache holds no MNIST, and download=False keeps this test offline.
    with pytest.raises(DatasetNotFoundError, match="mnist"):
        fetch("mnist", download=False)


def test_read_idx_round_trip_and_corruption(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    good = tmp_path / "good.gz"
    good.write_bytes(gzip.compress(idx_bytes(array)))
    result = read_idx(good, expect_ndim=3)
    np.testing.assert_array_equal(result, array)
    assert not result.flags.writeable

    raw = tmp_path / "plain-idx"
    raw.write_bytes(idx_bytes(array))
    np.testing.assert_array_equal(read_idx(raw), array)

    cases = {
        "magic.gz": gzip.compress(b"\x12\x34" + idx_bytes(array)[2:]),
        "short.gz": gzip.compress(idx_bytes(array)[:-5]),
        "long.gz": gzip.compress(idx_bytes(array) + b"\x00"),
        "notgzip.gz": b"plainly not gzip data",
        "empty.gz": gzip.compress(b""),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CorruptFileError, match=name):
            read_idx(tmp_path / name)
    with pytest.raises(CorruptFileError, match="expected an IDX file with 1 dimensions"):
        read_idx(good, expect_ndim=1)


def _fake_cifar(path: Path, per_batch: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A cifar-10-binary.tar.gz with tiny batches; returns the (X, y) of its training part."""
    rng = np.random.RandomState(0)
    xs, ys = [], []
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            X = rng.randint(0, 256, size=(per_batch, 32, 32, 3)).astype(np.uint8)
            y = rng.randint(0, 10, size=per_batch).astype(np.uint8)
            planes = X.transpose(0, 3, 1, 2).reshape(per_batch, -1)  # R, G, B planes
            records = np.concatenate([y[:, None], planes], axis=1).tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(records)
            tar.addfile(info, io.BytesIO(records))
            if name != "test_batch.bin":
                xs.append(X)
                ys.append(y)
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def test_cifar10_binary_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "cifar-10-binary.tar.gz"
    X_expected, y_expected = _fake_cifar(archive)
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    spec = DatasetSpec("cifar-10", (RemoteFile(archive.name, ("http://127.0.0.1:9/",), sha),),
                       system_dirs=(str(tmp_path),))
    monkeypatch.setitem(data.DATASETS, "cifar-10", spec)
    X, y = load_dataset("cifar-10", "trainval")
    assert X.shape == (10, 32, 32, 3) and X.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(X, X_expected)
    np.testing.assert_array_equal(y, y_expected)
    assert load_images("cifar-10", "test").shape == (2, 32, 32, 3)
    assert load_images("cifar-10", "test", flatten=True).shape == (2, 3072)
    assert CIFAR10_CLASSES[0] == "airplane" and len(CIFAR10_CLASSES) == 10


@pytest.mark.parametrize(
    ("loader", "sizes", "n_features", "n_classes", "duplicates"),
    # iris contains one flower twice, and its copies landed on both sides of the split
    [(load_digits, (1077, 360, 360), 64, 10, 0), (load_iris, (90, 30, 30), 4, 3, 1)],
)
def test_small_sklearn_sets(loader, sizes: tuple[int, int, int], n_features: int, n_classes: int,
                            duplicates: int) -> None:
    parts = {split: loader(split) for split in ("train", "val", "test", "trainval")}
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        X, y = parts[split]
        assert X.shape == (n, n_features) and X.dtype == np.float64
        assert y.shape == (n,) and y.dtype == np.int64
        assert set(np.unique(y)) == set(range(n_classes))  # stratified: every class present
    # train and val together are trainval; no row of test appears in trainval.
    X_tv, _ = parts["trainval"]
    assert len(X_tv) == sizes[0] + sizes[1]
    rows = lambda X: {r.tobytes() for r in X}
    assert rows(parts["train"][0]) | rows(parts["val"][0]) == rows(X_tv)
    assert len(rows(parts["test"][0]) & rows(X_tv)) == duplicates
    X_again, _ = loader("train")
    np.testing.assert_array_equal(X_again, parts["train"][0])
