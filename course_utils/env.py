"""Where am I running? Device choice, seeding and a one-glance environment summary.

torch is imported inside each function: importing course_utils must stay fast, and
torch alone takes more than a second to import.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import platform
import random
import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    import torch

__all__ = [
    "best_device",
    "in_colab",
    "seed_everything",
    "describe_environment",
    "print_environment",
]


def best_device() -> torch.device:
    """The fastest available device: CUDA, then Apple MPS, then CPU."""
    import torch

    # Call is_available(): the bare attribute is always truthy, a classic course bug.
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def in_colab() -> bool:
    """True inside Google Colab (its runtime pre-imports the google.colab package)."""
    return "google.colab" in sys.modules


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's legacy global RNG and torch (CPU and every GPU).

    This makes a notebook re-runnable; it does not make GPU kernels deterministic
    (see torch.use_deterministic_algorithms for that). torch is seeded now if it is
    already imported, otherwise the moment it is first imported: a NumPy-only notebook
    does not pay the second torch takes to import.
    """
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        _seed_torch(sys.modules["torch"], seed)
    else:
        _SEED_ON_IMPORT.seed = seed
        if _SEED_ON_IMPORT not in sys.meta_path:
            sys.meta_path.insert(0, _SEED_ON_IMPORT)


def _seed_torch(torch, seed: int) -> None:
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


class _SeedTorchWhenImported(importlib.abc.MetaPathFinder):
    """An import hook that seeds torch as soon as its first import finishes, then removes itself."""

    seed = 0

    def find_spec(self, name, path, target=None):  # noqa: ARG002 -- the finder protocol
        if name != "torch":
            return None
        sys.meta_path.remove(self)  # the other finders locate the real torch
        spec = importlib.util.find_spec("torch")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load, seed = spec.loader.exec_module, self.seed

        def exec_module(module):
            load(module)
            _seed_torch(module, seed)

        spec.loader.exec_module = exec_module  # this spec's own loader object, nobody else's
        return spec


_SEED_ON_IMPORT = _SeedTorchWhenImported()


def describe_environment() -> dict[str, str]:
    """Versions, device, runtime and data directory as strings, ready to print or log."""
    from .data import data_dir

    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        import torch
    except ImportError:
        info["torch"] = "not installed"
        info["device"] = "cpu"
        info["torch threads"] = "n/a"
    else:
        info["torch"] = torch.__version__
        device = best_device()
        if device.type == "cuda":
            info["device"] = f"cuda ({torch.cuda.get_device_name(0)})"
        else:
            info["device"] = device.type
        info["torch threads"] = str(torch.get_num_threads())
    info["runtime"] = "colab" if in_colab() else "local"
    info["data dir"] = str(data_dir())
    info["cpu count"] = str(os.cpu_count() or 1)
    return info


def print_environment() -> None:
    """Print describe_environment() as a two-column table with aligned values."""
    info = describe_environment()
    width = max(len(key) for key in info)
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
