"""Device choice, seeding and the environment summary (course_utils.env)."""

from __future__ import annotations

import platform
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from course_utils import data_dir
from course_utils.env import (
    best_device,
    describe_environment,
    in_colab,
    print_environment,
    seed_everything,
)


def test_in_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert in_colab() is False
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert in_colab() is True


def test_best_device_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert best_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert best_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert best_device() == torch.device("cuda")


def test_best_device_is_usable() -> None:
    assert (torch.ones(2, device=best_device()) * 2).sum().item() == 4.0


def _draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_seed_everything_makes_all_generators_repeat() -> None:
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    assert _draws() == first
    seed_everything(124)
    other = _draws()
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_describe_environment() -> None:
    info = describe_environment()
    assert info["python"] == platform.python_version()
    assert info["numpy"] == np.__version__
    assert info["torch"] == torch.__version__
    assert info["device"].split(" ")[0] == best_device().type
    assert info["runtime"] == "local"
    assert info["data dir"] == str(data_dir())
    assert info["torch threads"] == str(torch.get_num_threads())
    assert all(isinstance(v, str) for v in info.values())


def test_print_environment_aligns_values(capsys: pytest.CaptureFixture[str]) -> None:
    print_environment()
    lines = capsys.readouterr().out.splitlines()
    info = describe_environment()
    assert len(lines) == len(info)
    column = max(map(len, info)) + 2
    for line, (key, value) in zip(lines, info.items(), strict=True):
        assert line.startswith(key)
        assert line[column:] == value and line[column - 1] == " "


def test_seed_everything_before_torch_is_imported_seeds_it_on_import() -> None:
    # A fresh interpreter: torch must not be imported by seeding (a second saved in every
    # NumPy-only notebook), yet draw exactly what torch.manual_seed(7) gives once imported.
    code = (
        "import sys, course_utils as cu\n"
        "cu.seed_everything(3); cu.seed_everything(7)\n"
        "assert 'torch' not in sys.modules\n"
        "import torch\n"
        "seeded = torch.rand(4).tolist()\n"
        "torch.manual_seed(7)\n"
        "assert seeded == torch.rand(4).tolist(), seeded\n"
        "assert not any(type(f).__name__ == '_SeedTorchWhenImported' for f in sys.meta_path)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr
