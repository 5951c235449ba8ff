"""Training on a device with the whole dataset held there as tensors.

A per-sample ``DataLoader`` calls Python once per image and copies every batch to the
device again each epoch. For datasets that fit in device memory (MNIST, Fashion-MNIST,
CIFAR-10: tens to hundreds of megabytes) it is far faster to move the data once, as
tensors, and cut each minibatch out of them with a random permutation drawn every epoch:
no worker processes, no per-sample Python, no host-to-device copies after the first.
The fastest published MNIST and CIFAR-10 training scripts work this way.

* :func:`images_to_tensor` turns uint8 images into float (N, C, H, W) on the device;
* :class:`TensorBatches` iterates over minibatches sliced from such tensors;
* :class:`Deadline` is a time limit a training loop checks between batches: a safety net
  for a run whose amount of work (steps, epochs) is fixed in advance;
* :func:`predict` and :func:`accuracy` evaluate a model in batches, without gradients.

torch is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - only for type checkers
    import torch

__all__ = ["images_to_tensor", "TensorBatches", "Deadline", "predict", "accuracy"]


def images_to_tensor(images: Any, device: Any = None) -> torch.Tensor:
    """uint8 images (N, H, W) or (N, H, W, C) -> float32 (N, C, H, W) in [0, 1] on ``device``.

    The uint8 array travels to the device first (a quarter of the bytes of float32) and is
    converted there. ``device=None`` keeps it on the CPU.
    """
    import torch

    if not isinstance(images, torch.Tensor):
        images = np.asarray(images)
        if not images.flags.writeable:  # torch warns about read-only arrays; a copy is cheap
            images = images.copy()
    X = torch.as_tensor(images)
    if X.dtype != torch.uint8:
        raise TypeError(f"expected uint8 images with values 0..255, got dtype {X.dtype}")
    if X.ndim == 3:
        X = X.unsqueeze(-1)  # (N, H, W) -> (N, H, W, 1)
    if X.ndim != 4:
        raise ValueError(f"expected images of shape (N, H, W) or (N, H, W, C), got {tuple(X.shape)}")
    X = X.to(device) if device is not None else X
    return X.permute(0, 3, 1, 2).float().div_(255).contiguous()  # (N, C, H, W)


class TensorBatches:
    """Minibatches sliced from tensors that already live on the device.

    Every tensor is indexed along its first axis by the same indices, so
    ``for xb, yb in TensorBatches(X, y, batch_size=128)`` keeps inputs and labels
    together. With ``shuffle`` the order is a new random permutation each epoch (each
    ``iter``), drawn from a generator seeded once, so a run is reproducible. The last,
    smaller batch is kept unless ``drop_last``.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int = 128, shuffle: bool = True,
                 drop_last: bool = False, seed: int = 0):
        import torch

        if not tensors:
            raise ValueError("TensorBatches needs at least one tensor")
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError(f"all tensors need the same length; got {[len(t) for t in tensors]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.tensors, self.n = tensors, n
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        # The permutation is drawn on the CPU (the same on every device) and then moved.
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        """The number of minibatches per epoch."""
        return self.n // self.batch_size if self.drop_last else math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        import torch

        device = self.tensors[0].device
        if self.shuffle:
            order = torch.randperm(self.n, generator=self.generator).to(device)
        else:
            order = torch.arange(self.n, device=device)
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            yield tuple(t[idx] for t in self.tensors)


class Deadline:
    """A time limit, started when created: check ``expired()`` between batches.

    Use it as a safety net, well above the time the planned work needs: a result that
    depended on where the clock stopped would depend on how busy the machine was.

    GPU work is queued and runs later, so on CUDA or MPS the clock would run ahead of the
    work actually done; ``expired()`` waits for the queued work first (pass the device).
    ``fraction`` is the share of the limit used so far.
    """

    def __init__(self, seconds: float, device: Any = None):
        self.seconds = float(seconds)
        self.device_type = getattr(device, "type", str(device) if device is not None else "cpu")
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def remaining(self) -> float:
        return self.seconds - self.elapsed

    @property
    def fraction(self) -> float:
        """The share of the budget used so far (1.0 or more once it has run out)."""
        return self.elapsed / self.seconds if self.seconds > 0 else math.inf

    def synchronize(self) -> None:
        """Wait until the device has finished the work queued so far."""
        import torch

        if self.device_type == "cuda":
            torch.cuda.synchronize()
        elif self.device_type == "mps":
            torch.mps.synchronize()

    def expired(self) -> bool:
        self.synchronize()
        return self.elapsed >= self.seconds

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.elapsed:.1f} s used)"


def _model_device(model: torch.nn.Module) -> torch.device:
    import torch

    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def predict(model: torch.nn.Module, X: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Predicted classes, int64 (N,), for inputs X (N, ...): argmax of the model's outputs.

    Runs in eval mode (dropout off, batch norm on its running statistics) without
    gradients, in batches on the model's device; restores the model's mode afterwards.
    """
    import torch

    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            chunks = [model(X[i:i + batch_size].to(device)).argmax(dim=1).cpu() for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(chunks).numpy().astype(np.int64) if chunks else np.zeros(0, dtype=np.int64)


def accuracy(model: torch.nn.Module, X: torch.Tensor, y: Any, batch_size: int = 1000) -> float:
    """The fraction of X that ``model`` classifies as y (labels as a tensor or an array)."""
    from ._arrays import as_numpy

    labels = as_numpy(y).reshape(-1)
    if len(labels) != len(X):
        raise ValueError(f"{len(X)} inputs but {len(labels)} labels")
    return float(np.mean(predict(model, X, batch_size) == labels))
