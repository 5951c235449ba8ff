"""Turn whatever a student hands us (list, number, NumPy array, torch tensor) into NumPy.

Private: the public modules call this so that none of them has to import torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def is_tensor(value: Any) -> bool:
    """True for a torch.Tensor, decided without importing torch (it costs over a second)."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def as_numpy(value: Any, dtype: Any = None) -> np.ndarray:
    """Return `value` as a NumPy array; tensors go through .detach().cpu().numpy()."""
    if is_tensor(value):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def type_name(value: Any) -> str:
    """A short, student-readable name for the type of `value` (numpy.ndarray, torch.Tensor, ...)."""
    cls = type(value)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    return f"{module.split('.')[0]}.{cls.__qualname__}"
