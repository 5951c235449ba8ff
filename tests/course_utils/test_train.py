"""Device-resident training helpers (course_utils.train), on the CPU."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.train import Deadline, TensorBatches, accuracy, images_to_tensor, predict


def test_images_to_tensor_grey_and_colour() -> None:
    grey = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    X = images_to_tensor(grey)
    assert X.shape == (2, 1, 3, 4) and X.dtype == torch.float32
    np.testing.assert_allclose(X[:, 0].numpy(), grey / 255.0, rtol=1e-6)
    colour = np.random.RandomState(0).randint(0, 256, size=(5, 4, 6, 3)).astype(np.uint8)
    Xc = images_to_tensor(colour, device="cpu")
    assert Xc.shape == (5, 3, 4, 6) and Xc.is_contiguous()
    np.testing.assert_allclose(Xc.numpy(), colour.transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    assert X.min() >= 0 and Xc.max() <= 1


def test_images_to_tensor_accepts_read_only_arrays_and_tensors_quietly() -> None:
    frozen = np.full((2, 5, 5), 255, dtype=np.uint8)
    frozen.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about non-writable arrays; the helper must not
        X = images_to_tensor(frozen)
    assert torch.all(X == 1.0)
    assert images_to_tensor(torch.zeros(3, 2, 2, dtype=torch.uint8)).shape == (3, 1, 2, 2)


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros((2, 3, 3), dtype=np.float32), TypeError, "uint8"),
    (np.zeros((3, 3), dtype=np.uint8), ValueError, r"\(N, H, W\)"),
])
def test_images_to_tensor_refuses_what_it_cannot_scale(bad, error, match) -> None:
    with pytest.raises(error, match=match):
        images_to_tensor(bad)


def test_batches_cover_every_example_once_per_epoch_and_keep_pairs_together() -> None:
    X = torch.arange(10).float().reshape(10, 1) * 10
    y = torch.arange(10)
    batches = TensorBatches(X, y, batch_size=4, seed=3)
    assert len(batches) == 3
    epochs = []
    for _ in range(2):
        seen = []
        for xb, yb in batches:
            assert len(xb) == len(yb) <= 4
            assert torch.equal(xb[:, 0], yb.float() * 10)  # inputs and labels sliced by the same indices
            seen += yb.tolist()
        assert sorted(seen) == list(range(10))
        epochs.append(seen)
    assert epochs[0] != epochs[1], "a new permutation every epoch"
    again = [yb.tolist() for _, yb in TensorBatches(X, y, batch_size=4, seed=3)]
    assert sum(again, []) == epochs[0], "the same seed gives the same first epoch"


def test_batches_in_order_and_drop_last() -> None:
    y = torch.arange(10)
    assert [b[0].tolist() for b in TensorBatches(y, batch_size=4, shuffle=False)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dropped = TensorBatches(y, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and all(len(b[0]) == 4 for b in dropped)


def test_batches_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="same length"):
        TensorBatches(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        TensorBatches(torch.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="at least one"):
        TensorBatches()


def test_deadline() -> None:
    assert Deadline(0).expired() and Deadline(0).fraction == float("inf")
    long = Deadline(3600, torch.device("cpu"))
    assert not long.expired() and 0 <= long.fraction < 0.01 and long.remaining > 3599
    short = Deadline(0.02)
    time.sleep(0.03)
    assert short.expired() and short.fraction >= 1 and short.elapsed >= 0.02
    assert "0.02 s" in repr(short)


def test_predict_uses_eval_mode_batches_and_restores_the_mode() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.9), nn.Linear(16, 3))
    X = torch.randn(50, 4)
    with torch.no_grad():
        expected = model.eval()(X).argmax(dim=1).numpy()
    model.train()
    pred = predict(model, X, batch_size=7)
    assert pred.dtype == np.int64 and pred.shape == (50,)
    np.testing.assert_array_equal(pred, expected)  # dropout off, and batching changes nothing
    assert model.training, "predict restores training mode"
    assert predict(model.eval(), X[:0]).shape == (0,)
    assert not model.training


def test_accuracy_against_tensor_or_array_labels() -> None:
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))  # predicts the larger coordinate
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    assert accuracy(model, X, np.array([0, 1, 1, 1])) == 0.75
    assert accuracy(model, X, torch.tensor([0, 1, 0, 1])) == 1.0
    with pytest.raises(ValueError, match="4 inputs but 3 labels"):
        accuracy(model, X, [0, 1, 0])


def test_a_training_loop_on_sliced_batches_learns() -> None:
    torch.manual_seed(0)
    X = torch.randn(512, 2)
    y = (X[:, 0] + X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    deadline = Deadline(60)
    for _ in range(5):
        for xb, yb in TensorBatches(X, y, batch_size=64):
            assert not deadline.expired()
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert accuracy(model, X, y) > 0.95
