"""cu.python_lines and cu.check_vectorised: machine-independent proof that code is vectorised."""

import sys

import numpy as np
import pytest

import course_utils as cu


def _loop_sum(x):
    total = 0.0
    for value in x:
        total += value
    return total


def _vectorised_sum(x):
    return float(np.sum(x))


def _calls_a_helper(x):
    return _loop_sum(x) + 1


def test_counts_the_lines_a_loop_runs_and_none_inside_numpy():
    result, lines = cu.python_lines(_loop_sum, np.arange(10.0))
    assert result == 45.0
    # 1 (total = 0) + 11 loop headers + 10 bodies + 1 return
    assert lines == 23
    _, lines_vec = cu.python_lines(_vectorised_sum, np.arange(10_000.0))
    assert lines_vec == 1


def test_counts_the_helpers_a_function_calls_and_passes_keyword_arguments():
    _, direct = cu.python_lines(_loop_sum, np.arange(4.0))
    _, through = cu.python_lines(_calls_a_helper, x=np.arange(4.0))
    assert through == direct + 1


def test_the_same_count_on_every_call():
    counts = {cu.python_lines(_loop_sum, np.arange(7.0))[1] for _ in range(5)}
    assert len(counts) == 1


def test_check_vectorised_passes_numpy_and_names_the_loop():
    assert cu.check_vectorised(_vectorised_sum, (np.ones(3),), (np.ones(300),), "total") == (1, 1)
    with pytest.raises(AssertionError, match=r"total is not vectorised: it ran 9 lines .* 603 once the array grew"
                                             r"(.|\n)*Hint: np.sum"):
        cu.check_vectorised(_loop_sum, (np.ones(3),), (np.ones(300),), "total", grew="the array", hint="np.sum")


def test_an_installed_tracer_is_put_back_even_when_the_function_raises():
    seen = []

    def tracer(frame, event, arg):
        seen.append(event)
        return None

    sys.settrace(tracer)
    try:
        with pytest.raises(ZeroDivisionError):
            cu.python_lines(lambda: 1 / 0)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)


def test_is_vectorised_is_the_rule_check_vectorised_enforces():
    assert cu.is_vectorised(_vectorised_sum, (np.ones(3),), (np.ones(300),))
    assert not cu.is_vectorised(_loop_sum, (np.ones(3),), (np.ones(300),))
    assert cu.lines_stay_flat(10, 13) and not cu.lines_stay_flat(10, 14)


def test_best_time_calls_the_function_repeats_times_and_keeps_the_fastest():
    calls = []
    seconds = cu.best_time(lambda: calls.append(1), repeats=4)
    assert len(calls) == 4 and 0 <= seconds < 1
