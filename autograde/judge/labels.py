"""Labels for evaluation sets, loaded only in the grader's process.

A hidden test hands the kernel the inputs of an evaluation set and takes back
predictions; the labels live here, so they never enter a student's kernel and
the grader computes accuracy or error itself.

A source may take arguments, written after its name and separated by colons:
``"fashion_mnist_test_perturbed:SEED:SIZE"`` are the test labels in the order of the
per-course perturbed copy of the test images (:mod:`course_utils.perturb`) that the
hidden test built from the same seed and size, both taken from the reference's spec.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

import course_utils as cu
from course_utils.perturb import evaluation_order


def _line_eval() -> np.ndarray:
    return cu.line_targets(cu.line_inputs(500, seed=7001), seed=7002)


def _fashion_mnist_test() -> np.ndarray:
    return cu.load_fashion_mnist("test")[1]


def _fashion_mnist_test_perturbed(seed: str, size: str) -> np.ndarray:
    labels = _fashion_mnist_test()
    return labels[evaluation_order(len(labels), int(seed), int(size))]


def _names_val_next_chars() -> np.ndarray:
    # 06_rnns: the character after every prefix of every validation name, (P,) tokens.
    return cu.next_char_targets(cu.names_split()[1])


LABEL_SOURCES: dict[str, Callable[..., np.ndarray]] = {
    "line_eval": _line_eval,
    "fashion_mnist_test": _fashion_mnist_test,
    "fashion_mnist_test_perturbed": _fashion_mnist_test_perturbed,
    "names_val_next_chars": _names_val_next_chars,
}


@cache
def load_labels(name: str) -> np.ndarray:
    """The labels of evaluation set ``name`` ("source" or "source:arg:..."); KeyError names the known sets."""
    source, *args = name.split(":")
    if source not in LABEL_SOURCES:
        raise KeyError(f"unknown evaluation set {name!r}; known: {sorted(LABEL_SOURCES)}")
    labels = np.asarray(LABEL_SOURCES[source](*args))
    labels.setflags(write=False)
    return labels
