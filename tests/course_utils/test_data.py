"""Locating, verifying and downloading dataset files (course_utils.data)."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import numpy as np
import pytest

from course_utils import data
from course_utils.data import (
    ChecksumError,
    DatasetNotFoundError,
    DatasetSpec,
    RemoteFile,
    data_dir,
    download_file,
    fetch,
    register,
    sha256_of,
)
from course_utils.datasets import read_idx

from .cu_helpers import LocalServer, idx_bytes, write_gz


def _tiny_arrays() -> tuple[np.ndarray, np.ndarray]:
    images = np.arange(6 * 2 * 3, dtype=np.uint8).reshape(6, 2, 3)
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    return images, labels


def _tiny_spec(server: LocalServer, *, name: str = "tiny", extra_urls: tuple[str, ...] = (),
               sha_override: dict[str, str] | None = None, **kwargs) -> DatasetSpec:
    """Write two small IDX files into the server's root and describe them."""
    images, labels = _tiny_arrays()
    files = []
    for fname, array in (("images.gz", images), ("labels.gz", labels)):
        sha = write_gz(server.root / fname, idx_bytes(array))
        if sha_override and fname in sha_override:
            sha = sha_override[fname]
        files.append(RemoteFile(fname, (*extra_urls, server.url(fname)), sha))
    return DatasetSpec(name=name, files=tuple(files), **kwargs)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_data_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "explicit"))
    assert data_dir() == tmp_path / "explicit"
    monkeypatch.delenv("COURSE_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "dl-course"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "dl-course"


def test_download_writes_verified_files(local_server: LocalServer, isolated_cache: Path) -> None:
    spec = _tiny_spec(local_server)
    directory = fetch(spec, progress=False)
    assert directory == isolated_cache / "tiny"
    # Only the two final files: no temporary .part files left behind.
    assert _leftovers(directory) == ["images.gz", "labels.gz"]
    images, labels = _tiny_arrays()
    np.testing.assert_array_equal(read_idx(directory / "images.gz"), images)
    np.testing.assert_array_equal(read_idx(directory / "labels.gz"), labels)


def test_second_fetch_uses_cache_without_network(local_server: LocalServer) -> None:
    spec = _tiny_spec(local_server)
    first = fetch(spec, progress=False)
    assert len(local_server.requests) == 2
    second = fetch(spec, progress=False)
    assert second == first
    assert len(local_server.requests) == 2  # nothing new went over the network


def test_checksum_mismatch_is_an_error_and_leaves_no_file(local_server: LocalServer,
                                                          isolated_cache: Path) -> None:
    wrong = "0" * 64
    spec = _tiny_spec(local_server, sha_override={"images.gz": wrong})
    actual = hashlib.sha256((local_server.root / "images.gz").read_bytes()).hexdigest()
    with pytest.raises(DatasetNotFoundError) as info:
        fetch(spec, progress=False)
    message = str(info.value)
    assert "checksum mismatch for images.gz" in message
    assert wrong in message and actual in message
    assert _leftovers(isolated_cache / "tiny") == []


def test_download_file_raises_checksum_error(local_server: LocalServer, tmp_path: Path) -> None:
    (local_server.root / "blob.bin").write_bytes(b"not what you wanted")
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(ChecksumError) as info:
        download_file(local_server.url("blob.bin"), dest, ["f" * 64], progress=False)
    assert info.value.name == "blob.bin"
    assert info.value.expected == ("f" * 64,)
    assert info.value.actual == hashlib.sha256(b"not what you wanted").hexdigest()
    assert _leftovers(dest.parent) == []


def test_truncated_download_leaves_no_partial_file(local_server: LocalServer, tmp_path: Path) -> None:
    payload = os.urandom(300_000)
    (local_server.root / "big.bin").write_bytes(payload)
    local_server.truncate.add("big.bin")
    dest = tmp_path / "out" / "big.bin"
    with pytest.raises(ConnectionError, match="stopped after 150000 of 300000 bytes"):
        download_file(local_server.url("big.bin"), dest, [hashlib.sha256(payload).hexdigest()],
                      progress=False)
    assert _leftovers(dest.parent) == []


def test_interrupted_download_leaves_no_partial_file(local_server: LocalServer, tmp_path: Path) -> None:
    payload = os.urandom(300_000)
    (local_server.root / "big.bin").write_bytes(payload)
    dest = tmp_path / "out" / "big.bin"
    seen: list[int] = []

    def hook(done: int, total: int | None) -> None:
        seen.append(done)
        assert total == len(payload)
        raise KeyboardInterrupt  # the student pressed Ctrl-C mid-download

    with pytest.raises(KeyboardInterrupt):
        download_file(local_server.url("big.bin"), dest, [hashlib.sha256(payload).hexdigest()],
                      progress=False, reporthook=hook)
    assert seen and seen[0] < len(payload)
    assert _leftovers(dest.parent) == []


def test_interrupted_download_keeps_previous_file(local_server: LocalServer, tmp_path: Path) -> None:
    # Even a bad old file under the final name must not be replaced by a partial one.
    payload = os.urandom(200_000)
    (local_server.root / "big.bin").write_bytes(payload)
    local_server.truncate.add("big.bin")
    dest = tmp_path / "big.bin"
    dest.write_bytes(b"old contents")
    with pytest.raises(ConnectionError):
        download_file(local_server.url("big.bin"), dest, [hashlib.sha256(payload).hexdigest()],
                      progress=False)
    assert dest.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == ["big.bin", "served"]


def test_second_url_is_tried_after_a_failure(local_server: LocalServer) -> None:
    spec = _tiny_spec(local_server, extra_urls=(local_server.url("missing/"),))
    directory = fetch(spec, progress=False)
    assert (directory / "images.gz").is_file()
    assert any(r.startswith("missing/") for r in local_server.requests)


def test_offline_error_lists_places_urls_and_advice(tmp_path: Path, isolated_cache: Path) -> None:
    port = _closed_port()
    url = f"http://127.0.0.1:{port}/train.gz"
    system_dir = tmp_path / "usr-share"
    spec = DatasetSpec(
        name="offline-set",
        files=(RemoteFile("train.gz", (url,), "a" * 64),),
        system_dirs=(str(system_dir),),
        env_var="OFFLINE_SET_DIR",
        how_to_get="sudo apt-get install dataset-offline-set",
    )
    with pytest.raises(DatasetNotFoundError) as info:
        fetch(spec, progress=False)
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    for place in (isolated_cache / "offline-set", system_dir):
        assert str(place) in message
    assert url in message
    assert "apt-get install dataset-offline-set" in message
    assert "COURSE_DATA_DIR" in message and "OFFLINE_SET_DIR" in message
    assert "train.gz missing" in message


def test_download_false_never_touches_the_network(local_server: LocalServer) -> None:
    spec = _tiny_spec(local_server)
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        fetch(spec, download=False)
    assert local_server.requests == []


def test_dataset_env_var_and_system_dir_are_searched(local_server: LocalServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _tiny_spec(local_server, env_var="TINY_DIR", system_dirs=(str(local_server.root),))
    # The served directory doubles as a "system" directory holding verified files.
    assert fetch(spec) == local_server.root
    own = tmp_path / "own"
    own.mkdir()
    for f in spec.files:
        (own / f.name).write_bytes((local_server.root / f.name).read_bytes())
    monkeypatch.setenv("TINY_DIR", str(own))
    assert fetch(spec) == own
    assert local_server.requests == []


def test_corrupt_cached_file_is_replaced(local_server: LocalServer, isolated_cache: Path) -> None:
    spec = _tiny_spec(local_server)
    target = isolated_cache / "tiny"
    target.mkdir(parents=True)
    (target / "images.gz").write_bytes(b"garbage")
    fetch(spec, progress=False)
    assert sha256_of(target / "images.gz") == spec.files[0].sha256
    assert sorted(local_server.requests) == ["images.gz", "labels.gz"]


def test_sha256_is_cached_by_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"aaaa")
    first = sha256_of(path)
    assert first == hashlib.sha256(b"aaaa").hexdigest()
    stat = path.stat()
    # Same size, same mtime: the cached hash is used (this is what makes reloads fast).
    path.write_bytes(b"bbbb")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert sha256_of(path) == first
    # A new mtime invalidates the cache entry.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert sha256_of(path) == hashlib.sha256(b"bbbb").hexdigest()


def test_register_and_lookup(monkeypatch: pytest.MonkeyPatch, local_server: LocalServer) -> None:
    monkeypatch.setattr(data, "DATASETS", dict(data.DATASETS))
    spec = register(_tiny_spec(local_server, name="registered"))
    assert fetch("registered", progress=False).name == "registered"
    other = DatasetSpec("registered", (RemoteFile("x", ("http://127.0.0.1:1/x",), "0" * 64),))
    with pytest.raises(ValueError, match="already registered"):
        register(other)
    assert register(other, replace=True) is other
    assert data.DATASETS["registered"] is other
    assert other != spec


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="fashion-mnist"):
        fetch("no-such-dataset")


def test_builtin_registry_is_complete() -> None:
    assert {"fashion-mnist", "mnist", "cifar-10"} <= set(data.DATASETS)
    for spec in data.DATASETS.values():
        for f in spec.files:
            assert f.urls, f.name
            for digest in f.digests:
                assert len(digest) == 64 and int(digest, 16) >= 0
    cifar = data.DATASETS["cifar-10"].files
    assert [f.name for f in cifar] == ["cifar-10-binary.tar.gz"]  # binary version: no pickle
    assert data.DATASETS["fashion-mnist"].system_dirs == ("/usr/share/datasets/fashion-mnist",)
