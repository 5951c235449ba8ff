"""Helpers for the course_utils tests (not fixtures; those live in conftest.py).

Named uniquely rather than living in a package: an __init__.py here would make
pytest import this directory as a package called `course_utils`, shadowing the
real one.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format, independently of course_utils.read_idx."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path: Path, payload: bytes) -> str:
    path.write_bytes(gzip.compress(payload, mtime=0))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class LocalServer:
    """A threaded HTTP server on 127.0.0.1 serving `root`, recording every request path."""

    root: Path
    truncate: set[str] = field(default_factory=set)  # paths answered with half the body
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"
