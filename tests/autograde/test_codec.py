"""The kernel -> grader channel carries plain data only, and the grader trusts none of it."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograde.judge.codec import DecodeError, decode
from autograde.probe import encode

dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_])


@given(hnp.arrays(dtype=dtypes, shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5)))
def test_arrays_round_trip_through_json(array):
    back = decode(json.loads(json.dumps(encode(array))))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_tuples_and_scalars_round_trip():
    value = (np.arange(3.0), 2.5, np.int64(4), True)
    back = decode(json.loads(json.dumps(encode(value))))
    assert isinstance(back, tuple) and len(back) == 4
    np.testing.assert_array_equal(back[0], [0, 1, 2])
    assert back[1] == 2.5 and back[1].shape == () and back[2] == 4 and back[3] is True


class Liar:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [Liar(), np.array([Liar()], dtype=object), {"a": 1}, np.array(["x"])])
def test_encode_refuses_what_is_not_numbers(value):
    with pytest.raises(TypeError):
        encode(value)


def _array(**overrides):
    good = {"__ndarray__": True, "dtype": "<f8", "shape": [2], "data": base64.b64encode(np.zeros(2).tobytes()).decode()}
    return {**good, **overrides}


@pytest.mark.parametrize("payload", [
    _array(dtype="|O"),  # object arrays would mean pickles
    _array(dtype="<U3"),
    _array(shape=[3]),  # bytes do not match the shape
    _array(shape=[-1]),
    _array(shape=[10**9, 10**9]),
    _array(data="not base64!"),
    {"__ndarray__": False},
    {"something": "else"},
    [1, 2, 3],
    {"__tuple__": "not a list"},
])
def test_decode_rejects_malformed_or_dangerous_payloads(payload):
    with pytest.raises(DecodeError):
        decode(payload)


def test_decode_rejects_deep_nesting():
    payload = 1.0
    for _ in range(20):
        payload = {"__tuple__": [payload]}
    with pytest.raises(DecodeError):
        decode(payload)
