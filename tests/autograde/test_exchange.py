"""nbgrader's exchange after `autograde grade`: `nbgrader release_feedback` finds what it needs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograde.run.grade import grade_assignment, write_submission

from .conftest import built, submission


@pytest.mark.slow
def test_release_feedback_through_the_exchange(course, tmp_path: Path):
    release, answers = built(course, "00_setup")
    write_submission(course, "ada", "00_setup", submission(release, answers))
    # What `nbgrader collect` leaves beside a submission; the exchange names feedback by these.
    folder = course.submitted_dir("ada", "00_setup")
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text("a-secret-the-student-holds")
    (folder / "notes.txt").write_text("the student's own file")
    (grade,) = grade_assignment(course, "00_setup", ["ada"], "cpu", feedback=True, workers=1)
    assert grade.error is None and grade.score > 0
    autograded = course.root / "autograded" / "ada" / "00_setup"
    assert (autograded / "timestamp.txt").read_text() == "2026-12-01 10:00:00.000000 UTC"
    assert not (autograded / "notes.txt").exists()  # only nbgrader's two files are carried over

    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # as on a hub: every student writes into it
    api = course.api()
    api.config.Exchange.root = str(exchange)
    result = api.release_feedback("00_setup", "ada")
    assert result["success"], result.get("log", "") + result.get("error", "")
    released = list(exchange.rglob("feedback/*.html"))
    assert len(released) == 1 and "Hidden tests for" in released[0].read_text()
    assert nbformat.read(autograded / "00_setup.ipynb", as_version=4).cells  # the graded notebook is intact
