"""Where am I running? Device choice, seeding and a one-glance environment summary.

torch is imported inside each function: importing course_utils must stay fast, and
torch alone takes more than a second to import.
"""

from __future__ import annotations

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
    (see torch.use_deterministic_algorithms for that).
    """
    random.seed(seed)
    np.random.seed(seed)
    import torch

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


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
