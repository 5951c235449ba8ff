"""probe.report_call: a function that writes into its arguments or its cache is caught by the judge."""

from __future__ import annotations

import numpy as np
import pytest

import autograde.probe as probe
from autograde.judge.checks import judge_check
from autograde.judge.codec import decode


def _reports(monkeypatch, fn, *args, **kwargs) -> dict:
    emitted = {}
    monkeypatch.setattr(probe, "_emit", lambda payload: emitted.setdefault(payload["check"], payload))
    probe.report_call("c", fn, *args, **kwargs)
    return emitted


def _verdicts(reference: dict, student: dict) -> dict[str, bool]:
    return {name: judge_check(name, {"spec": ref["spec"], "value": decode(ref["value"])},
                              decode(student[name]["value"]), "cpu").passed
            for name, ref in reference.items()}


def _sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def _sigmoid_backward_in_place(dout, cache):
    cache *= 1 - cache  # overwrites the cache: the second call sees another one
    return dout * cache


@pytest.mark.parametrize("own_inputs", [False, True])
def test_a_backward_pass_that_overwrites_its_cache_fails_both_checks(monkeypatch, own_inputs):
    dout, cache = np.linspace(-1, 1, 5), np.linspace(0.1, 0.9, 5)
    reference = _reports(monkeypatch, _sigmoid_backward, dout.copy(), cache.copy(), own_inputs=own_inputs, rtol=1e-9)
    student = _reports(monkeypatch, _sigmoid_backward_in_place, dout.copy(), cache.copy(), own_inputs=own_inputs,
                       rtol=1e-9)
    assert _verdicts(reference, student) == {"c": True, "c (called again)": False, "c: inputs unchanged": False}


def test_own_inputs_accepts_a_cache_that_differs_from_the_reference_by_rounding(monkeypatch):
    dout, cache = np.linspace(-1, 1, 5), np.linspace(0.1, 0.9, 5)
    reference = _reports(monkeypatch, _sigmoid_backward, dout.copy(), cache.copy(), own_inputs=True, rtol=1e-9)
    rounded = cache * (1 + 1e-15)  # the student's forward pass rounded differently
    student = _reports(monkeypatch, _sigmoid_backward, dout.copy(), rounded, own_inputs=True, rtol=1e-9)
    assert all(_verdicts(reference, student).values())
    strict = _reports(monkeypatch, _sigmoid_backward, dout.copy(), cache.copy(), rtol=1e-9)
    student_strict = _reports(monkeypatch, _sigmoid_backward, dout.copy(), rounded, rtol=1e-9)
    assert not _verdicts(strict, student_strict)["c: inputs unchanged"]  # why own_inputs exists
