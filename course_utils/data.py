"""Finding, verifying and downloading dataset files.

Every file is identified by its SHA-256, never by its name alone: a file is used only
if its hash is one we know, whether it sits in the user's cache, in a system
directory (Debian's ``dataset-fashion-mnist``) or has just been downloaded. Downloads
go to a temporary file next to the target and are renamed with ``os.replace`` only
after the hash checks out, so an interrupted or corrupt download never leaves a file
under the final name. Nothing here runs silently: the progress bar shows what is
downloaded and where it goes, and a failure lists every place and URL tried.

Parsing the files into arrays lives in :mod:`course_utils.datasets`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = [
    "RemoteFile",
    "DatasetSpec",
    "DATASETS",
    "DatasetNotFoundError",
    "ChecksumError",
    "register",
    "get_spec",
    "data_dir",
    "candidate_dirs",
    "sha256_of",
    "download_file",
    "fetch",
]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name on disk, where to download it, and its SHA-256.

    ``also_accept`` lists hashes of other packagings with the same content, e.g.
    Debian re-compresses the Fashion-MNIST archives, which changes the .gz bytes but
    not the decompressed data. A file is accepted if its hash is in ``digests``.
    """

    name: str
    urls: tuple[str, ...]
    sha256: str
    also_accept: tuple[str, ...] = ()

    @property
    def digests(self) -> tuple[str, ...]:
        return (self.sha256, *self.also_accept)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to locate a dataset.

    ``env_var`` names an environment variable that may point straight at a directory
    holding these files (checked before anything else); ``system_dirs`` are read-only
    places where a package manager installs them; ``how_to_get`` is advice shown to
    the student when the files cannot be found. ``kernel_hidden`` names the files a
    graded kernel never sees (evaluation labels, which only the grader reads): the
    autograder's sandbox binds every other file of the dataset one by one.
    """

    name: str
    files: tuple[RemoteFile, ...]
    system_dirs: tuple[str, ...] = ()
    env_var: str = ""
    how_to_get: str = ""
    kernel_hidden: tuple[str, ...] = ()


class DatasetNotFoundError(FileNotFoundError):
    """No verified copy of a dataset could be found or downloaded; the message says why."""


class ChecksumError(ValueError):
    """A downloaded file's SHA-256 is not the expected one."""

    def __init__(self, name: str, expected: Iterable[str], actual: str):
        self.name = name
        self.expected = tuple(expected)
        self.actual = actual
        super().__init__(
            f"checksum mismatch for {name}: expected sha256 {' or '.join(self.expected)}, "
            f"got {actual}"
        )


def _idx_files(base: str, shas: dict[str, str], also: dict[str, str] | None = None):
    # The four MNIST-style archives, in a fixed order, each with its mirrors.
    names = (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    )
    bases = base.split()
    also = also or {}
    return tuple(
        RemoteFile(
            name,
            tuple(b + name for b in bases),
            shas[name],
            (also[name],) if name in also else (),
        )
        for name in names
    )


# Hashes of the archives as served upstream, cross-checked against TensorFlow
# Datasets' url_checksums (fashion_mnist.txt, mnist.txt, cifar10.txt).
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    files=_idx_files(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        # Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1 re-gzips the files.
        # Decompressed, they have the md5s torchvision pins for the upstream data
        # (f4a8712d..., 9018921c..., 8181f547..., 15d48437...), so the content is identical.
        also={
            "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        },
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    env_var="FASHION_MNIST_DIR",
    how_to_get="On Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist",
    kernel_hidden=("t10k-labels-idx1-ubyte.gz",),  # test labels: graded notebooks are scored on them
)

MNIST = DatasetSpec(
    name="mnist",
    files=_idx_files(
        "https://ossci-datasets.s3.amazonaws.com/mnist/ http://yann.lecun.com/exdb/mnist/",
        {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
    env_var="MNIST_DIR",
    kernel_hidden=("t10k-labels-idx1-ubyte.gz",),
)

CIFAR10 = DatasetSpec(
    name="cifar-10",
    files=(
        # The binary version: plain fixed-size records, so no pickle is ever loaded.
        RemoteFile(
            "cifar-10-binary.tar.gz",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        ),
    ),
    env_var="CIFAR10_DIR",
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (FASHION_MNIST, MNIST, CIFAR10)}


def register(spec: DatasetSpec, *, replace: bool = False) -> DatasetSpec:
    """Add `spec` to DATASETS so fetch(spec.name) finds it; returns it for chaining."""
    if spec.name in DATASETS and not replace and DATASETS[spec.name] != spec:
        raise ValueError(f"a different dataset named {spec.name!r} is already registered")
    DATASETS[spec.name] = spec
    return spec


def get_spec(name: str | DatasetSpec) -> DatasetSpec:
    """The registered spec for `name` (a spec passes through unchanged)."""
    if isinstance(name, DatasetSpec):
        return name
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name!r}; known datasets: {known}") from None


def _default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "dl-course"


def data_dir() -> Path:
    """Where datasets are cached: $COURSE_DATA_DIR, else $XDG_CACHE_HOME/dl-course or ~/.cache/dl-course."""
    override = os.environ.get("COURSE_DATA_DIR")
    return Path(override).expanduser() if override else _default_cache_dir()


def candidate_dirs(spec: DatasetSpec) -> list[Path]:
    """Directories searched for `spec`'s files, in order, without duplicates.

    The spec's own env var, then <data_dir()>/<name> (which is $COURSE_DATA_DIR/<name>
    when that is set), then the default user cache, then the system directories.
    """
    dirs = []
    if spec.env_var and os.environ.get(spec.env_var):
        dirs.append(Path(os.environ[spec.env_var]).expanduser())
    dirs.append(data_dir() / spec.name)
    dirs.append(_default_cache_dir() / spec.name)
    dirs.extend(Path(d) for d in spec.system_dirs)
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


# Hashing 30 MB takes ~0.1 s; loaders call fetch() often, so remember results keyed by
# (path, size, mtime): any rewrite of the file changes the key and forces a re-hash.
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, cached in-process by (path, size, mtime)."""
    st = os.stat(path)
    key = (os.fspath(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def _check_file(path: Path, remote: RemoteFile) -> str | None:
    """None if `path` is a verified copy of `remote`, else a short reason."""
    if not path.is_file():
        return f"{remote.name} missing"
    try:
        actual = sha256_of(path)
    except OSError as exc:
        return f"{remote.name} unreadable ({exc})"
    if actual not in remote.digests:
        return f"{remote.name} has the wrong sha256 ({actual})"
    return None


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    digests: Iterable[str],
    *,
    timeout: float = 30.0,
    progress: bool = True,
    reporthook: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download `url` to `dest`, accepting it only if its SHA-256 is in `digests`.

    The bytes go to a hidden temporary file in dest's directory, renamed onto `dest`
    only once complete and verified. On any failure, Ctrl-C included, the temporary
    file is removed and `dest` is left untouched. `reporthook(done, total)` is called
    after each chunk (total is None when the server does not send a length).
    """
    import tempfile
    import urllib.request

    from tqdm.auto import tqdm

    dest = Path(dest)
    digests = tuple(digests)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=f"{dest.name} -> {dest.parent}",
                disable=not progress, leave=False,
            ) as bar:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    bar.update(len(chunk))
                    if reporthook is not None:
                        reporthook(done, total)
        # http.client returns a short body without complaint when the server hangs up.
        if total is not None and done != total:
            raise ConnectionError(f"download of {url} stopped after {done} of {total} bytes")
        actual = h.hexdigest()
        if actual not in digests:
            raise ChecksumError(dest.name, digests, actual)
        os.replace(tmp_name, dest)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    sha256_of(dest)  # prime the cache so the next fetch() does not re-hash
    return dest


def fetch(name: str | DatasetSpec, *, download: bool = True, progress: bool = True,
          files: Iterable[str] | None = None) -> Path:
    """Directory holding verified copies of all files of dataset `name` (or of those named in `files`).

    Looks in candidate_dirs(spec); a directory is used only if every file in it has
    a known SHA-256. Otherwise, when `download` is true, downloads the missing files
    into <data_dir()>/<name>, trying each URL in turn. Raises DatasetNotFoundError,
    listing every place looked and every URL tried, when all of that fails.
    """
    spec = get_spec(name)
    if files is not None:
        wanted = set(files)
        unknown = wanted - {f.name for f in spec.files}
        if unknown:
            raise ValueError(f"{spec.name} has no file(s) {', '.join(sorted(unknown))}")
        spec = replace(spec, files=tuple(f for f in spec.files if f.name in wanted))
    looked: list[str] = []
    for d in candidate_dirs(spec):
        problems = [p for f in spec.files if (p := _check_file(d / f.name, f))]
        if not problems:
            return d
        looked.append(f"{d}: {'; '.join(problems)}")

    target = data_dir() / spec.name
    tried: list[str] = []
    if download:
        complete = True
        for f in spec.files:
            if _check_file(target / f.name, f) is None:
                continue
            for url in f.urls:
                try:
                    download_file(url, target / f.name, f.digests, progress=progress)
                    break
                except Exception as exc:  # every failure is reported below
                    tried.append(f"{url}: {type(exc).__name__}: {exc}")
            else:
                # When one file fails on every mirror the others almost surely will
                # too; stop rather than make the student wait for more timeouts.
                complete = False
                break
        if complete:
            return target

    lines = [f"Could not find the {spec.name!r} dataset.", "Looked in:"]
    lines += [f"  - {entry}" for entry in looked]
    if download:
        lines.append("Tried to download:")
        lines += [f"  - {entry}" for entry in tried] or ["  - (no URLs known)"]
    else:
        lines.append("Downloading was turned off (download=False).")
    advice = [spec.how_to_get] if spec.how_to_get else []
    advice.append(f"set COURSE_DATA_DIR to a directory with a {spec.name}/ subdirectory holding the files")
    if spec.env_var:
        advice.append(f"set {spec.env_var} to a directory holding the files")
    urls = "\n".join(f"      {f.urls[0]}" for f in spec.files if f.urls)
    advice.append(f"download them by hand into {target}:\n{urls}")
    lines.append("How to get it (any one of these):")
    lines += [f"  - {item}" for item in advice]
    raise DatasetNotFoundError("\n".join(lines))
