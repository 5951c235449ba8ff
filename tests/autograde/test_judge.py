"""The judge decides from data alone, and nbgrader's own scoring rule reads its verdict."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
from nbgrader.utils import determine_grade

from autograde.judge.checks import CheckResult, judge_check
from autograde.judge.codec import decode
from autograde.judge.preprocessor import judge_cell, verdict_outputs
from autograde.probe import encode

from .conftest import probe_output

REF = np.array([[-96.8, 437.9, 60.75]])


def ref_entry(value, **spec):
    return {"spec": spec, "value": json.loads(json.dumps(encode(value)))}


def test_close_values_pass_and_wrong_values_fail_without_revealing_the_reference():
    ok = judge_check("scores", {"spec": {"rtol": 1e-9}, "value": REF}, REF.copy(), "cpu")
    assert ok.passed
    bad = judge_check("scores", {"spec": {"rtol": 1e-9}, "value": REF}, REF + [[0, 0, 1.2]], "cpu")
    assert not bad.passed and "index (0, 2)" in bad.message
    for number in ("96.8", "437.9", "60.75"):
        assert number not in bad.message


@pytest.mark.parametrize("student, fragment", [
    (REF.T, "shape (3, 1)"),
    (REF.astype(int), None),  # integers where floats are expected just fail on values
    (np.array([[np.nan, 437.9, 60.75]]), "NaN"),
    ((REF,), "tuple"),
    (np.float64(1.0), "a scalar"),
])
def test_wrong_shapes_types_and_nans_fail(student, fragment):
    result = judge_check("scores", {"spec": {"rtol": 1e-9}, "value": REF}, student, "cpu")
    assert not result.passed
    if fragment:
        assert fragment in result.message


def test_equal_kind_is_exact_and_rejects_float_labels():
    labels = np.array([1, 0, 2])
    assert judge_check("labels", {"spec": {"kind": "equal"}, "value": labels}, labels.copy(), "cpu").passed
    assert not judge_check("labels", {"spec": {"kind": "equal"}, "value": labels}, np.array([1, 0, 1]), "cpu").passed
    floats = judge_check("labels", {"spec": {"kind": "equal"}, "value": labels}, labels.astype(float), "cpu")
    assert not floats.passed and "floats" in floats.message


def test_metric_uses_labels_only_the_grader_has_and_profile_thresholds():
    from autograde.judge.labels import load_labels

    y = load_labels("line_eval")
    spec = {"metric": "mse", "labels": "line_eval", "max": {"cpu": 0.3, "gpu": 0.1}}
    perfect = judge_check("fit", {"spec": spec, "value": None}, y.copy(), "cpu")
    assert perfect.passed
    off = judge_check("fit", {"spec": spec, "value": None}, y + 0.5, "cpu")  # mse 0.25: passes cpu, fails gpu
    assert off.passed
    assert not judge_check("fit", {"spec": spec, "value": None}, y + 0.5, "gpu").passed
    assert not judge_check("fit", {"spec": spec, "value": None}, y[:-1], "cpu").passed


def _gradient_value(grad, f, x, h=1e-6):
    idx = np.arange(x.size)
    plus = [f(x + h * np.eye(x.size)[i]) for i in idx]
    minus = [f(x - h * np.eye(x.size)[i]) for i in idx]
    return (grad, idx, np.array(plus), np.array(minus), np.float64(h))


def test_gradient_check_needs_both_the_reference_and_the_numerical_gradient():
    f = lambda t: float(np.sum(t**3))
    x = np.array([0.5, -1.0, 2.0])
    reference = _gradient_value(3 * x**2, f, x)
    spec = {"kind": "gradient", "rtol": 1e-7, "numeric_tol": 1e-6}
    assert judge_check("g", {"spec": spec, "value": reference}, reference, "cpu").passed
    # Right gradient of a different loss: matches the reference, not the numerical gradient of its own loss.
    forged = _gradient_value(3 * x**2, lambda t: float(np.sum(t**2)), x)
    result = judge_check("g", {"spec": spec, "value": reference}, forged, "cpu")
    assert not result.passed and "numerical" in result.message
    wrong = _gradient_value(2 * x, f, x)
    assert not judge_check("g", {"spec": spec, "value": reference}, wrong, "cpu").passed


def test_gradient_check_tolerates_rounding_noise_only_where_the_gradient_is_tiny():
    f = lambda t: float(np.sum(t**3))
    x = np.array([1e-5, 1.0])  # the first gradient entry is 3e-10: rounding noise dominates there
    value = _gradient_value(3 * x**2, f, x)
    spec = {"kind": "gradient", "rtol": 1e-7, "numeric_tol": 1e-7}
    assert judge_check("g", {"spec": spec, "value": value}, value, "cpu").passed
    off = _gradient_value(3 * x**2 + [0.0, 1e-4], f, x)  # a real error on the large entry is still caught
    assert not judge_check("g", {"spec": {**spec, "rtol": 1.0}, "value": value}, off, "cpu").passed


def _cell(outputs, points=2):
    cell = nbformat.v4.new_code_cell("")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": points,
                                 "grade_id": "test_x", "schema_version": 3}
    cell.outputs = outputs
    return cell


REFERENCE_TEST = {"points": 2, "checks": {
    "a": ref_entry(np.arange(3.0), rtol=1e-9),
    "b": ref_entry(np.ones((2, 2)), rtol=1e-9),
}}


def _score(cell_outputs, points=2):
    cell = _cell(cell_outputs, points)
    results = judge_cell(cell, REFERENCE_TEST, "cpu")
    cell.outputs, score = verdict_outputs("test_x", results, points, "cpu")
    graded, max_points = determine_grade(cell)  # nbgrader's own rule, as SaveAutoGrades applies it
    assert graded == pytest.approx(score) and max_points == points
    return graded, cell


def test_all_checks_passing_gives_full_marks_through_nbgrader():
    graded, _ = _score([probe_output("a", np.arange(3.0)), probe_output("b", np.ones((2, 2)))])
    assert graded == 2


def test_partial_credit_and_feedback_name_the_failed_check():
    graded, cell = _score([probe_output("a", np.arange(3.0)), probe_output("b", np.zeros((2, 2)))])
    assert graded == 1
    text = cell.outputs[0]["text"]
    assert "FAIL  b" in text and "PASS  a" in text


def test_errors_missing_and_duplicated_results_score_zero():
    error = nbformat.from_dict({"output_type": "error", "ename": "AssertionError", "evalue": "shape", "traceback": []})
    graded, cell = _score([error])
    assert graded == 0 and "did not run: the cell stopped before it with AssertionError" in cell.outputs[0]["text"]
    graded, _ = _score([probe_output("a", error="ValueError: boom"), probe_output("b", error="ValueError: boom")])
    assert graded == 0
    # A forged second copy of a correct result makes that check untrustworthy.
    graded, cell = _score([probe_output("a", np.arange(3.0)), probe_output("a", np.arange(3.0)),
                           probe_output("b", np.ones((2, 2)))])
    assert graded == 1 and "more than once" in cell.outputs[0]["text"]


def test_student_outputs_cannot_smuggle_a_score():
    # A fake "full marks" result and a stderr-free cell with no probes: the judge still gives zero.
    fake = nbformat.from_dict({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                               "data": {"text/plain": "2"}})
    graded, _ = _score([fake])
    assert graded == 0


def test_malformed_student_data_fails_the_check_not_the_grader():
    broken = probe_output("a", np.arange(3.0))
    broken["data"]["application/vnd.dl-course.probe+json"]["value"]["dtype"] = "|O"
    graded, cell = _score([broken, probe_output("b", np.ones((2, 2)))])
    assert graded == 1 and "not a number or array" in cell.outputs[0]["text"]


def test_decoded_reference_values_are_independent_copies():
    entry = ref_entry(np.arange(3.0))
    a, b = decode(entry["value"]), decode(entry["value"])
    a[0] = 99
    assert b[0] == 0


def test_perturbed_test_labels_follow_the_order_of_the_perturbed_images():
    import course_utils as cu
    from autograde.judge.labels import load_labels
    from course_utils.perturb import evaluation_order

    y = cu.load_fashion_mnist("test")[1]
    labels = load_labels("fashion_mnist_test_perturbed:12345:500")
    np.testing.assert_array_equal(labels, y[evaluation_order(len(y), 12345, 500)])
    assert not np.array_equal(labels, load_labels("fashion_mnist_test_perturbed:12346:500"))
    spec = {"metric": "accuracy", "labels": "fashion_mnist_test_perturbed:12345:500", "min": {"cpu": 0.9}}
    assert judge_check("acc", {"spec": spec, "value": None}, labels.copy(), "cpu").passed
    # Predictions in the original test order (a lookup of the public test set) score at chance.
    assert not judge_check("acc", {"spec": spec, "value": None}, y[:500].copy(), "cpu").passed
    with pytest.raises(KeyError, match="known"):
        load_labels("no_such_set:1")


def test_a_gate_check_costs_when_failed_and_earns_nothing_when_passed():
    wrong_but_pure = [CheckResult("value", False, "x"), CheckResult("inputs unchanged", True, "ok", gate=True)]
    _, score = verdict_outputs("t", wrong_but_pure, 2.0, "cpu")
    assert score == 0
    right_but_mutating = [CheckResult("value", True, "ok"), CheckResult("inputs unchanged", False, "x", gate=True)]
    _, score = verdict_outputs("t", right_but_mutating, 2.0, "cpu")
    assert score == 1.0
    _, score = verdict_outputs("t", [CheckResult("value", True, "ok"), CheckResult("u", True, "ok", gate=True)], 2.0, "cpu")
    assert score == 2.0


def test_a_failed_visible_test_scores_zero_even_when_the_hidden_checks_pass():
    outputs, score = verdict_outputs("t", [CheckResult("value", True, "ok")], 2.0, "cpu", "AssertionError: x",
                                     visible_failed=True)
    assert score == 0 and determine_grade(nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {
        "nbgrader": {"grade": True, "points": 2, "grade_id": "t", "solution": False}}, "outputs": outputs}))[0] == 0
    assert "visible test failed" in outputs[0]["text"]


def test_an_infinite_expected_value_is_matched_only_by_the_same_infinity():
    ref = np.array([1.0, np.inf, np.nan])
    spec = {"spec": {"rtol": 1e-6}, "value": ref}
    assert judge_check("x", spec, ref.copy(), "cpu").passed
    for wrong in ([1.0, 5.0, np.nan], [1.0, -np.inf, np.nan], [1.0, np.inf, 3.0], [2.0, np.inf, np.nan]):
        assert not judge_check("x", spec, np.array(wrong), "cpu").passed, wrong
