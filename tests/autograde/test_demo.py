"""`autograde demo` (what `make demo` runs): real nbgrader, real SQLite gradebook, feedback, CSV."""

from __future__ import annotations

import csv

import pytest
from nbgrader.api import Gradebook

from autograde.cli import main
from autograde.course import COURSE_ID, Course


@pytest.mark.slow
def test_demo_grades_sample_submissions_into_a_real_gradebook(tmp_path, capsys):
    root = tmp_path / "demo"
    # Three notebooks keep CI short; `make demo` grades them all.
    assignments = ["00_setup", "01_linear_classifiers", "04_optimization"]
    assert main(["demo", *assignments, "--course", str(root), "--profile", "cpu"]) == 0
    table = capsys.readouterr().out
    assert "ada" in table and "blaise" in table and "total" in table

    course = Course(root)
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        assert sorted(s.id for s in gb.students) == ["ada", "blaise", "carl", "dorothy"]
        for assignment in assignments:
            full = gb.find_submission(assignment, "ada")
            assert full.score == full.max_score > 0
            assert gb.find_submission(assignment, "blaise").score == 0
            for buggy in ("carl", "dorothy"):
                assert gb.find_submission(assignment, buggy).score < full.max_score
    from autograde.run.grade import read_profile

    assert read_profile(course, assignments[0], "ada") == "cpu"  # the profile is stored with the grade
    for assignment in assignments:
        html = course.feedback_html("carl", assignment).read_text()
        assert "Hidden tests for" in html and "FAIL" in html
    rows = list(csv.DictReader((root / "grades.csv").open()))
    assert len(rows) == 4 * len(assignments)
