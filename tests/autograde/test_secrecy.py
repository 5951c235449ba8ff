"""Hidden tests stay hidden: per-course draws, feedback without hidden source, secret seeds for the judge."""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pytest

from autograde.build.source import HIDDEN_BEGIN
from autograde.judge.preprocessor import judge_cell
from autograde.judge.redact import REMOVED, RedactHiddenTests, hidden_lines
from autograde.run.grade import grade_assignment, write_submission
from autograde.run.reference import ensure_reference

from .conftest import built, probe_output, submission

SALT = re.compile(r"_set_course_salt\((\d+)\)")


def _salts(course, name: str) -> list[int]:
    nb = nbformat.read(course.source_notebook(name), as_version=4)
    return [int(s) for cell in nb.cells for s in SALT.findall(cell.source)]


def test_every_hidden_block_of_a_course_is_salted_and_each_course_draws_anew(tmp_path):
    from autograde.course import Course

    first, second = Course(tmp_path / "a"), Course(tmp_path / "b")
    release_a, _ = built(first, "02_losses")
    release_b, _ = built(second, "02_losses")
    source = nbformat.read(first.source_notebook("02_losses"), as_version=4)
    blocks = sum(cell.source.count(HIDDEN_BEGIN) for cell in source.cells)
    salts_a, salts_b = _salts(first, "02_losses"), _salts(second, "02_losses")
    assert len(salts_a) == blocks > 3 and len(set(salts_a)) == 1
    assert set(salts_a) != set(salts_b)  # a new course directory, a new draw
    assert nbformat.writes(release_a) == nbformat.writes(release_b)  # students get the same release
    assert all("set_course_salt" not in cell.source for cell in release_a.cells)
    assert first.derived_seed("salt", "02_losses") != first.derived_seed("grader", "02_losses")
    assert (first.secret_file.stat().st_mode & 0o777) == 0o600


@pytest.mark.slow
def test_the_reference_is_computed_on_the_course_draw(tmp_path):
    from autograde.course import Course

    values = []
    for name in ("a", "b"):
        course = Course(tmp_path / name)
        built(course, "00_setup")
        reference = json.loads(ensure_reference(course, "00_setup").read_text())
        assert reference["grader_seed"] == course.derived_seed("grader", "00_setup")
        values.append(reference["tests"]["test_standardize"]["checks"]["random features"]["value"]["data"])
    assert values[0] != values[1]


def test_the_judge_hands_its_secret_seed_to_checks_but_never_takes_one_from_the_kernel(monkeypatch):
    from autograde.judge import checks

    seen = []
    monkeypatch.setitem(checks._KINDS, "spy", lambda student, ref, spec, profile: (seen.append(spec), (True, "ok"))[1])
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [probe_output("c", 1.0, spec={"kind": "spy", "grader_seed": 1})]  # a kernel's forgery
    reference = {"checks": {"c": {"spec": {"kind": "spy"}, "value": json.loads(json.dumps(1.0))}}}
    [result] = judge_cell(cell, reference, "cpu", grader_seed=424242)
    assert result.passed and seen[0]["grader_seed"] == 424242


def test_a_result_far_larger_than_the_reference_is_refused_unread():
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [probe_output("scores", np.zeros(200_000))]
    reference = {"checks": {"scores": {"spec": {}, "value": json.loads(json.dumps(
        probe_output("x", np.zeros(3))["data"]["application/vnd.dl-course.probe+json"]["value"]))}}}
    [result] = judge_cell(cell, reference, "cpu")
    assert not result.passed and "far more data" in result.message


def test_an_implausible_accuracy_passes_but_is_flagged(monkeypatch):
    from autograde.judge import checks, labels

    monkeypatch.setitem(labels.LABEL_SOURCES, "toy_labels", lambda: np.arange(100) % 10)
    labels.load_labels.cache_clear()
    spec = {"metric": "accuracy", "labels": "toy_labels", "min": 0.5, "plausible_max": {"cpu": 0.95}}
    perfect = checks.judge_check("acc", {"spec": spec, "value": None}, np.arange(100) % 10, "cpu")
    assert perfect.passed and perfect.flag and "0.95" in perfect.flag
    honest = np.where(np.arange(100) < 90, np.arange(100) % 10, 0)
    ordinary = checks.judge_check("acc", {"spec": spec, "value": None}, honest, "cpu")
    assert ordinary.passed and ordinary.flag is None
    labels.load_labels.cache_clear()


def test_redaction_removes_hidden_source_from_cells_and_every_output():
    cell = nbformat.v4.new_code_cell(
        "check(1)\n### BEGIN HIDDEN TESTS\n_X = secret_inputs(2026, size=40)\nreport('x', lambda: f(_X))\n"
        "### END HIDDEN TESTS\n")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "solution": False, "locked": True}
    later = nbformat.v4.new_code_cell("print(In)")
    later.outputs = [
        nbformat.v4.new_output("stream", text="['', \"_X = secret_inputs(2026, size=40)\"]\n"),
        nbformat.v4.new_output("error", ename="E", evalue="x",
                               traceback=["----> 3 \x1b[0;32m_X\x1b[0m = secret_inputs(2026, size=40)"]),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>report('x', lambda: f(_X))</p>"}),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell, later])
    assert "_X = secret_inputs(2026, size=40)" in hidden_lines(nb)
    nb, _ = RedactHiddenTests().preprocess(nb, {})
    text = json.dumps(nb)
    assert "secret_inputs" not in text and "lambda: f(_X)" not in text
    assert "check(1)" in nb.cells[0].source and text.count(REMOVED) == 3


@pytest.mark.slow
def test_feedback_never_shows_hidden_source_even_when_a_submission_prints_it(course):
    release, answers = built(course, "00_setup")
    nb = nbformat.reads(submission(release, answers), as_version=4)
    # A student's own cells after the test: print the input history, and raise through it.
    nb.cells.append(nbformat.v4.new_code_cell("print('\\n'.join(In))"))
    nb.cells.append(nbformat.v4.new_code_cell("exec(compile(In[-2] + '\\nraise ValueError(1)', 'leak', 'exec'))"))
    write_submission(course, "leaker", "00_setup", nbformat.writes(nb))
    [grade] = grade_assignment(course, "00_setup", ["leaker"], "cpu", feedback=True)
    assert grade.score == grade.auto_max_score > 0
    source = nbformat.read(course.source_notebook("00_setup"), as_version=4)
    secret = hidden_lines(source)
    assert any("_set_course_salt" in line for line in secret)
    autograded = (course.root / "autograded" / "leaker" / "00_setup" / "00_setup.ipynb").read_text()
    printed = "".join(json.loads(autograded)["cells"][-2]["outputs"][0]["text"])
    assert any(line in printed for line in secret)  # the kernel did print hidden source
    feedback = course.feedback_html("leaker", "00_setup").read_text()
    assert "Hidden tests for test_standardize" in feedback
    import html

    page = html.unescape(re.sub(r"<[^>]+>", "", feedback))
    leaked = [line for line in secret if line in page]
    assert not leaked, f"hidden source in the feedback: {leaked}"
