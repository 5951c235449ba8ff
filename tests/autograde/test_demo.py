"""`autograde demo` (what `make demo` runs): real nbgrader, real SQLite gradebook, feedback, CSV."""

from __future__ import annotations

import csv

import pytest
from nbgrader.api import Gradebook

from autograde.cli import main
from autograde.course import COURSE_ID, Course


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a safety net: two test lanes share the cores (see tests/conftest.py)
def test_demo_grades_sample_submissions_into_a_real_gradebook(tmp_path, capsys):
    root = tmp_path / "demo"
    # Two notebooks keep CI short; `make demo` grades them all. Naming mistakes runs every mutant of
    # each notebook on this course's draw (a selfcheck's worth of kernels), so these are the two
    # with the fewest and cheapest: the selfchecks already grade every notebook's reference in full.
    assignments = ["00_setup", "01b_knn"]
    assert main(["demo", *assignments, "--course", str(root), "--profile", "cpu"]) == 0
    table = capsys.readouterr().out
    assert "ada" in table and "blaise" in table and "total" in table

    course = Course(root)
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        assert sorted(s.id for s in gb.students) == ["ada", "blaise", "carl", "dorothy"]
        for assignment in assignments:
            full = gb.find_submission(assignment, "ada")
            # Written answers wait for a person; everything else is full marks.
            by_hand = sum(g.max_score for nb in full.notebooks for g in nb.grades if g.cell.cell_type == "markdown")
            assert full.score == full.max_score - by_hand > 0
            assert gb.find_submission(assignment, "blaise").score == 0
            for buggy in ("carl", "dorothy"):
                assert gb.find_submission(assignment, buggy).score < full.max_score
    from autograde.run.grade import read_profile

    assert read_profile(course, assignments[0], "ada") == "cpu"  # the profile is stored with the grade
    import json
    from html import unescape

    from autograde.mutants import load_mutants
    from autograde.run.mistakes import mutants_file

    for assignment in assignments:
        html = unescape(course.feedback_html("carl", assignment).read_text())
        assert "Hidden tests for" in html and "FAIL" in html
        # carl hands in the notebook's first mutant: his feedback names that mistake, in its own words,
        # and the class view counts it.
        first = load_mutants(mutants_file(assignment))[0]
        assert "a known mistake gives" in html and first.why.split("(")[0].strip()[:40] in html, assignment
        summary = json.loads((root / "reports" / assignment / "summary.json").read_text())
        assert any(k["mistake"] == first.name for k in summary["mistakes"]["known"]), assignment
        assert "a known mistake gives" not in course.feedback_html("ada", assignment).read_text()
    rows = list(csv.DictReader((root / "grades.csv").open()))
    assert len(rows) == 4 * len(assignments)
