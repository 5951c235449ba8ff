"""Named mistakes: signatures of known bugs, naming in feedback, the class view, re-judging without kernels."""

from __future__ import annotations

import json
import re
import time

import nbformat
import numpy as np
import pytest
from nbgrader.api import Gradebook

from autograde.course import COURSE_ID
from autograde.judge.mistakes import describe, known_mistakes
from autograde.probe import encode
from autograde.report import summary_data
from autograde.run import mistakes as mistakes_module
from autograde.run.grade import grade_assignment, write_submission
from autograde.run.rejudge import rejudge_assignment

from .conftest import built, submission


def _signature(name: str, value, why: str = "a bug") -> dict:
    return {"mutant": name, "why": why, "value": json.loads(json.dumps(encode(value)))}


REF = np.array([1.0, 2.0, 3.0])


def test_a_failed_result_is_matched_under_the_checks_own_comparison_and_the_closer_wins():
    spec = {"rtol": 1e-6}
    sigs = [_signature("doubles", REF * 2, "doubles it"), _signature("halves", REF / 2, "halves it"),
            _signature("near-double", REF * 2 + 1e-3, "almost doubles it")]
    [match] = known_mistakes(spec, REF * 2 * (1 + 1e-9), sigs)
    assert match["mutant"] == "doubles"
    assert known_mistakes(spec, REF * 3, sigs) == []  # no match: nothing is said
    # A looser check matches both; the closer one is named.
    both = known_mistakes({"rtol": 1e-2}, REF * 2 + 2e-4, sigs)
    assert [m["mutant"] for m in both] == ["doubles"]


def test_two_mistakes_with_identical_results_are_named_together():
    sigs = [_signature("a", REF * 2, "sums instead of averaging"), _signature("b", REF * 2, "forgets to divide by N")]
    matched = known_mistakes({"rtol": 1e-9}, REF * 2, sigs)
    assert {m["mutant"] for m in matched} == {"a", "b"}
    sentence = describe(matched)
    assert "sums instead of averaging" in sentence and "forgets to divide by N" in sentence


def test_metrics_and_policies_never_name_a_mistake():
    sigs = [_signature("x", REF)]
    assert known_mistakes({"metric": "accuracy", "labels": "l"}, REF, sigs) == []
    assert known_mistakes({"kind": "policy"}, REF, sigs) == []


def test_the_gradient_kind_matches_on_the_analytic_gradient():
    sig = _signature("no-factor-2", (REF, np.arange(3), REF, REF, np.float64(1e-6)))
    student = (REF.copy(), np.arange(3), REF + 5, REF - 5, np.float64(1e-6))
    assert known_mistakes({"kind": "gradient", "rtol": 1e-7}, student, [sig])
    assert not known_mistakes({"kind": "gradient", "rtol": 1e-7}, (REF * 1.5, *student[1:]), [sig])


def _feedback_text(course, student: str, assignment: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", course.feedback_html(student, assignment).read_text()))


@pytest.mark.slow
def test_feedback_names_the_mistake_the_class_view_counts_it_and_rejudge_names_new_ones(course, tmp_path, monkeypatch):
    release, answers = built(course, "00_setup")
    code = answers["standardize"]
    students = {
        "ref": code,
        # The "divides-by-variance" mutant's bug, written in the student's own way.
        "var": code.replace("return (X - mu) / sigma", "variance = ((X - mu) ** 2).mean(axis=0)\n    return (X - mu) / variance"),
        # The "forgets-to-centre" bug, which the trimmed mutant file below does not know yet.
        "no-centre": code.replace("return (X - mu) / sigma", "return X / X.std(axis=0)"),
        # A bug no mutant knows: centring only.
        "centre-only": code.replace("return (X - mu) / sigma", "return X - mu"),
        # Correct, written differently: never told it made a mistake.
        "other-way": code.replace("return (X - mu) / sigma", "return (X - X.mean(0)) / np.sqrt(X.var(0))"),
    }
    for student, answer in students.items():
        write_submission(course, student, "00_setup", submission(release, {**answers, "standardize": answer}))

    # Start with a mutant file that lacks the forgets-to-centre mistake.
    full = mistakes_module.mutants_file("00_setup").read_text()
    entries = full.split("[[mutant]]")
    trimmed = tmp_path / "mutants" / "00_setup.toml"
    trimmed.parent.mkdir()
    trimmed.write_text("[[mutant]]".join(e for e in entries if 'name = "forgets-to-centre"' not in e))
    monkeypatch.setattr(mistakes_module, "mutants_file", lambda assignment, solutions_dir=None: trimmed)

    started = time.perf_counter()
    grades = {g.student: g for g in grade_assignment(course, "00_setup", profile="cpu", workers=2, name_mistakes=True)}
    grading_seconds = time.perf_counter() - started
    assert grades["ref"].score == grades["ref"].auto_max_score == grades["other-way"].score
    for buggy in ("var", "no-centre", "centre-only"):
        assert grades[buggy].score < grades[buggy].max_score, buggy

    store = json.loads(mistakes_module.mistakes_file(course, "00_setup").read_text())
    assert store["problems"] == [] and store["reference_sha256"]
    assert "divides by the variance instead of the standard deviation" in _feedback_text(course, "var", "00_setup")
    for student in ("ref", "other-way", "no-centre", "centre-only"):
        assert "known mistake" not in _feedback_text(course, student, "00_setup"), student

    view = summary_data(course, "00_setup", list(grades.values()))["mistakes"]
    assert {"test": "test_standardize", "mistake": "divides-by-variance", "students": 1} == \
        {k: v for k, v in view["known"][0].items() if k != "why"}
    assert any("centre-only" in u["examples"] for u in view["unexplained"])
    assert any("no-centre" in u["examples"] for u in view["unexplained"])
    assert not any("var" in u["examples"] for u in view["unexplained"])

    # The instructor adds the missing mutant; re-judging names it without running a kernel.
    trimmed.write_text(full)
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        before = {s: gb.find_submission("00_setup", s).score for s in students}
    run = rejudge_assignment(course, "00_setup")
    assert not run.stale and run.changed == []  # scores did not change, so the gradebook was not written
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        assert before == {s: gb.find_submission("00_setup", s).score for s in students}
    assert "known mistake" not in _feedback_text(course, "ref", "00_setup")
    assert "known mistake" not in _feedback_text(course, "centre-only", "00_setup")
    assert "scales without subtracting the mean" in _feedback_text(course, "no-centre", "00_setup")
    view = summary_data(course, "00_setup", run.grades)["mistakes"]
    assert {k["mistake"] for k in view["known"]} == {"divides-by-variance", "forgets-to-centre"}
    print(f"graded 5 in {grading_seconds:.1f} s (signatures included); re-judged in {run.seconds:.2f} s")


@pytest.mark.slow
def test_rejudge_applies_a_changed_judge_and_refuses_results_from_other_hidden_tests(course):
    release, answers = built(course, "00_setup")
    write_submission(course, "ada", "00_setup", submission(release, answers))
    [graded] = grade_assignment(course, "00_setup", profile="cpu", workers=1)
    # A stricter judge (here: the reference's tolerance tightened to nothing) changes the score.
    ref_path = course.reference_file("00_setup")
    reference = json.loads(ref_path.read_text())
    for check in reference["tests"]["test_standardize"]["checks"].values():
        check["value"] = json.loads(json.dumps(encode(np.zeros(1))))  # as if the expected values changed
    ref_path.write_text(json.dumps(reference))
    run = rejudge_assignment(course, "00_setup", feedback=False, name_mistakes=False)
    assert run.changed == ["ada"] and run.grades[0].score < graded.score
    # Other hidden tests (the source changed): the stored results cannot be judged again.
    source = course.source_notebook("00_setup")
    nb = nbformat.read(source, as_version=4)
    nb.cells[-1].source += "\n"
    nbformat.write(nb, source)
    run = rejudge_assignment(course, "00_setup", feedback=False, name_mistakes=False)
    assert "ada" in run.stale and "--force" in run.stale["ada"]
