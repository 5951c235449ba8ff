"""Submissions that try to trick the tests gain nothing, and honest grades are untouched.

Each attacker passes the visible tests by patching the helpers they call, and then
tries something else on top. All of them go through real nbgrader into one gradebook.
"""

from __future__ import annotations

import json

import pytest

from autograde.run.grade import grade_assignment, write_submission

from .conftest import built, submission

PATCH_VISIBLE_CHECKS = """
import numpy as np
import course_utils as cu
cu.check_close = cu.check_shape = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
"""

ATTACKS = {
    # Returns an object that claims to equal anything.
    "liar": PATCH_VISIBLE_CHECKS + """
class AlwaysEqual:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

def standardize(X):
    return AlwaysEqual()
""",
    # Wrong answer, and every exception swallowed so no error output ever appears.
    "swallows-errors": PATCH_VISIBLE_CHECKS + """
get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)

def standardize(X):
    return X - X.mean(axis=0)
""",
    # Right answer, plus a hook that displays forged hidden-test results after every cell.
    "forges-results": PATCH_VISIBLE_CHECKS + """
from IPython.display import display

def _forge(result):
    for name in FORGED_NAMES:
        display({"application/vnd.dl-course.probe+json": {"check": name, "spec": {"rtol": 1e9}, "value": 0.0},
                 "text/plain": "2"}, raw=True)

get_ipython().events.register("post_run_cell", _forge)

def standardize(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)
""",
    # Prints a number as the cell's result, hoping nbgrader reads it as partial credit.
    "fakes-partial-credit": PATCH_VISIBLE_CHECKS + """
def standardize(X):
    return X
get_ipython().events.register("post_run_cell", lambda result: display(1))
""",
}


@pytest.mark.slow
def test_cheaters_get_nothing_and_honest_students_keep_full_marks(course):
    release, answers = built(course, "00_setup")
    write_submission(course, "honest", "00_setup", submission(release, answers))
    # The forger knows every check's name (they are in everyone's feedback).
    from autograde.run.reference import ensure_reference

    reference = json.loads(ensure_reference(course, "00_setup").read_text())
    names = list(reference["tests"]["test_standardize"]["checks"])
    for name, code in ATTACKS.items():
        code = code.replace("FORGED_NAMES", repr(names))
        write_submission(course, name, "00_setup", submission(release, {"standardize": code}))
    write_submission(course, "broken", "00_setup", '{"cells": [')
    grades = {g.student: g for g in grade_assignment(course, "00_setup", feedback=False)}
    assert grades["honest"].score == grades["honest"].auto_max_score > 0
    assert "not valid JSON" in grades["broken"].error
    for name in ATTACKS:
        assert grades[name].error is None, grades[name].error
        assert grades[name].tests["test_standardize"][0] == 0, f"{name} earned points"
