"""A "model" that memorised the public test set earns nothing, or is flagged for a person to look at.

Fashion-MNIST's test labels are public, so a submission can carry them in its source.
The 05 attack: a lookup from image bytes to label. The grader scores predictions on a
per-course perturbed copy of the test images (course_utils.perturb), where no byte
pattern survives; a lookup by nearest image does survive small noise, and its accuracy,
far above what a 90-second CNN reaches, is flagged in the summary report.
"""

from __future__ import annotations

import numpy as np
import pytest

import course_utils as cu
from autograde.judge import labels as label_sources
from autograde.judge.checks import judge_check
from course_utils.perturb import evaluation_order, perturbed_images

SEED, SIZE = 20261202, 400
SPEC = {"metric": "accuracy", "labels": f"fashion_mnist_test_perturbed:{SEED}:{SIZE}",
        "min": {"cpu": 0.87}, "plausible_max": {"cpu": 0.95}}


@pytest.fixture(scope="module")
def test_set():
    try:
        images, labels = cu.load_fashion_mnist_images("test"), cu.load_fashion_mnist("test")[1]
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Fashion-MNIST unavailable: {exc}")
    return images, labels


def _judge(predictions):
    label_sources.load_labels.cache_clear()
    return judge_check("test accuracy", {"spec": SPEC, "value": None}, np.asarray(predictions, dtype=np.int64), "cpu")


def test_an_exact_lookup_of_the_public_test_set_scores_nothing(test_set):
    images, labels = test_set
    table = {image.tobytes(): int(label) for image, label in zip(images, labels)}
    assert np.mean([table[i.tobytes()] == y for i, y in zip(images[:500], labels[:500])]) == 1.0  # it works on the clean set
    shown = perturbed_images(images, SEED, SIZE)
    result = _judge([table.get(image.tobytes(), 0) for image in shown])
    assert not result.passed and "below the required" in result.message


def test_a_nearest_image_lookup_survives_the_noise_but_is_flagged(test_set):
    images, labels = test_set
    shown = perturbed_images(images, SEED, SIZE).reshape(SIZE, -1).astype(np.int32)
    flat = images.reshape(len(images), -1).astype(np.int32)
    nearest = [int(labels[np.abs(flat - image).sum(axis=1).argmin()]) for image in shown]
    result = _judge(nearest)
    assert result.passed and result.flag and "look at how this submission got it" in result.flag


def test_an_honest_accuracy_is_not_flagged(test_set):
    _, labels = test_set
    truth = labels[evaluation_order(len(labels), SEED, SIZE)]
    honest = np.where(np.arange(SIZE) % 10 == 0, (truth + 1) % 10, truth)  # 90 % right
    result = _judge(honest)
    assert result.passed and result.flag is None
