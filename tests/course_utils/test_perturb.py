"""The per-course perturbed copy of an evaluation set (course_utils.perturb)."""

import numpy as np
import pytest

from course_utils.perturb import evaluation_order, perturbed_images


def _images(n=50, seed=0):
    # Fashion-MNIST-like: a dark border, bright content inside.
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 12, 10), dtype=np.uint8)
    images[:, 2:-2, 2:-2] = rng.integers(0, 256, size=(n, 8, 6))
    return images


def test_the_order_is_a_function_of_the_seed_only():
    a, b = evaluation_order(1000, 7, 300), evaluation_order(1000, 7, 300)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and len(set(a.tolist())) == 300 and a.min() >= 0 and a.max() < 1000
    assert not np.array_equal(a, evaluation_order(1000, 8, 300))
    np.testing.assert_array_equal(evaluation_order(1000, 7, 300), evaluation_order(1000, 7)[:300])


def test_the_images_follow_that_order_and_stay_close_to_the_originals():
    images = _images()
    copy = perturbed_images(images, 3, 20, noise=3, shift=1)
    order = evaluation_order(len(images), 3, 20)
    assert copy.shape == (20, 12, 10) and copy.dtype == np.uint8
    padded = np.pad(images[order].astype(int), ((0, 0), (1, 1), (1, 1)))
    for k in range(20):
        # Some shift by at most one pixel, plus noise of at most 3 grey levels, explains every pixel.
        gaps = [np.abs(copy[k].astype(int) - padded[k, 1 - dr:13 - dr, 1 - dc:11 - dc]).max()
                for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
        assert min(gaps) <= 3
    np.testing.assert_array_equal(copy, perturbed_images(images, 3, 20, noise=3, shift=1))


def test_no_perturbed_image_is_a_byte_copy_of_any_original():
    images = _images(200)
    table = {image.tobytes() for image in images}
    copy = perturbed_images(images, 11)
    assert len(copy) == 200
    assert not any(image.tobytes() in table for image in copy)


def test_without_shift_only_noise_is_added():
    images = _images()
    copy = perturbed_images(images, 5, 30, noise=2, shift=0)
    diff = copy.astype(int) - images[evaluation_order(len(images), 5, 30)].astype(int)
    assert np.abs(diff).max() <= 2 and (diff != 0).mean() > 0.3


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="uint8"):
        perturbed_images(np.zeros((3, 4, 4)), 0)
    with pytest.raises(ValueError, match="size"):
        evaluation_order(10, 0, 11)
