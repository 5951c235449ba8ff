"""A per-course copy of an evaluation set: a real model barely notices it, a lookup does not survive it.

Public test sets are public: a "model" that memorised the test images' bytes (with
labels from anywhere) scores 100 % on them without learning anything. The grader
therefore scores predictions on a copy of the test images drawn from a seed (one per
course run): a random subset in a random order, each image given a few grey levels of
noise. A trained network does not notice (the 05 reference CNN: 0.899 on the clean test
set, 0.897-0.900 on such copies); a table from image bytes to labels finds nothing.

Shifting each image by a pixel (``shift=1``) would defeat a lookup too, but networks
trained without shifted images lose several points on it (the same CNN: 0.865-0.872),
so the graders use noise only.

Both sides call the same pure functions of the seed: the hidden test builds the images
with :func:`perturbed_images`, and the grader, in its own process, orders the labels
with :func:`evaluation_order`. Nothing here reads a label.
"""

from __future__ import annotations

import numpy as np

__all__ = ["evaluation_order", "perturbed_images"]


def _check(n: int, size: int | None) -> int:
    size = n if size is None else int(size)
    if not 0 < size <= n:
        raise ValueError(f"size must be between 1 and the number of images ({n}); got {size}")
    return size


def evaluation_order(n: int, seed: int, size: int | None = None) -> np.ndarray:
    """Which of n images the copy holds, in its order: int64 (size,), a function of the seed only."""
    size = _check(n, size)
    return np.random.default_rng(int(seed)).permutation(n)[:size].astype(np.int64)


def perturbed_images(images: np.ndarray, seed: int, size: int | None = None, *, noise: int = 3,
                     shift: int = 0) -> np.ndarray:
    """uint8 images (N, H, W) -> the perturbed copy (size, H, W): images[evaluation_order(N, seed, size)],
    each moved by up to ``shift`` pixels along each axis (zeros come in at the border) and given
    integer noise in [-noise, noise] per pixel, clipped to 0..255.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W), got {images.dtype} {images.shape}")
    order = evaluation_order(len(images), seed, size)
    # The order takes the generator's first draws (as in evaluation_order), the perturbation the next ones.
    rng = np.random.default_rng(int(seed))
    rng.permutation(len(images))
    moves = rng.integers(-shift, shift + 1, size=(len(order), 2))  # (size, 2): rows, columns
    grain = rng.integers(-noise, noise + 1, size=(len(order), *images.shape[1:]))
    H, W = images.shape[1:]
    padded = np.pad(images[order], ((0, 0), (shift, shift), (shift, shift)))  # (size, H + 2s, W + 2s)
    moved = np.empty((len(order), H, W), dtype=np.int16)
    for dr in range(-shift, shift + 1):
        for dc in range(-shift, shift + 1):
            which = (moves[:, 0] == dr) & (moves[:, 1] == dc)
            # Moving the picture down by dr reads the padded image dr rows higher up.
            moved[which] = padded[which, shift - dr:shift - dr + H, shift - dc:shift - dc + W]
    return np.clip(moved + grain, 0, 255).astype(np.uint8)
