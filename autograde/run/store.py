"""The coordinator's side: the only code that writes grades, autograded notebooks and feedback.

A result is stored in one go: the autograded notebook is written to a temporary
file, every score and comment goes into the gradebook in a single transaction,
then the notebook is moved into place and a ledger entry records what was
graded. A crash at any point leaves either the old grade or the new one, never
a mixture, and the missing ledger entry makes the next run grade it again.
"""

from __future__ import annotations

import html
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_solution, is_task

from ..course import COURSE_ID, Course

LEDGER = ".autograde.json"
_log = logging.getLogger("autograde.store")


def ledger_path(course: Course, student: str, assignment: str) -> Path:
    return course.root / "autograded" / student / assignment / LEDGER


def read_ledger(course: Course, student: str, assignment: str) -> dict | None:
    try:
        return json.loads(ledger_path(course, student, assignment).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_current(course: Course, student: str, assignment: str, sha256: str, profile: str, reference_sha: str) -> bool:
    """Whether this exact submission was already graded under this profile and reference."""
    entry = read_ledger(course, student, assignment)
    return bool(entry) and entry.get("submission_sha256") == sha256 and entry.get("profile") == profile \
        and entry.get("reference_sha256") == reference_sha


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def grader_notes_cell(notes: list[str]) -> NotebookNode:
    """A markdown cell at the top of the autograded notebook, so the feedback shows the notes."""
    text = "**Notes from the autograder**\n\n" + "\n".join(f"- {n}" for n in notes)
    return nbformat.v4.new_markdown_cell(text, metadata={"autograde": {"notes": True}})


# nbgrader's own files beside a submission: its exchange needs both in autograded/ (and so in
# feedback/) for `nbgrader release_feedback` to name each student's feedback by hash.
_EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


def _carry_exchange_files(course: Course, student: str, assignment: str) -> None:
    """Copy nbgrader's timestamp and submission secret from submitted/ to autograded/, as its autograde does.

    Only these two small regular files: everything else in a submission folder is the student's.
    """
    source, target = course.submitted_dir(student, assignment), course.root / "autograded" / student / assignment
    for name in _EXCHANGE_FILES:
        path = source / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= 4096:
            _atomic_write(target / name, path.read_text(errors="replace"))


def save_result(course: Course, student: str, assignment: str, nb: NotebookNode, *, profile: str,
                submission_sha256: str, reference_sha256: str, notes: list[str], timestamp: datetime | None,
                execution: dict) -> None:
    """Store one graded notebook: gradebook (one transaction), autograded copy, ledger."""
    notebook_id = assignment
    final = course.root / "autograded" / student / assignment / f"{notebook_id}.ipynb"
    staged = final.with_name(f".{final.name}.staged")
    if notes:
        nb.cells.insert(0, grader_notes_cell(notes))
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_text(nbformat.writes(nb))
    profile_note = f"Autograded under the {profile} profile."
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, **({"timestamp": timestamp} if timestamp else {}))
        for cell in nb.cells:
            info = cell.get("metadata", {}).get("nbgrader")
            if not info or "grade_id" not in info:
                continue
            if is_grade(cell):
                grade = gb.find_grade(info["grade_id"], notebook_id, assignment, student)
                grade.auto_score, _ = determine_grade(cell, _log)
                grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            if is_solution(cell) or is_task(cell):
                comment = gb.find_comment(info["grade_id"], notebook_id, assignment, student)
                unanswered = info.get("checksum") == compute_checksum(cell) and not is_task(cell)
                comment.auto_comment = "\n".join(filter(None, ["No response." if unanswered else None, profile_note]))
        gb.db.commit()  # every score of this submission at once
    os.replace(staged, final)
    _carry_exchange_files(course, student, assignment)
    _atomic_write(ledger_path(course, student, assignment), json.dumps({
        "submission_sha256": submission_sha256, "profile": profile, "reference_sha256": reference_sha256,
        "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "notes": notes,
        "execution": execution,
    }, indent=1))


def write_refusal(course: Course, student: str, assignment: str, reason: str, origin: str) -> Path:
    """Feedback for a submission that could not be graded: the reason, and what to do."""
    path = course.feedback_html(student, assignment)
    _atomic_write(path, f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(assignment)}: not graded</title></head>
<body style="font-family: sans-serif; max-width: 45em; margin: 2em auto">
<h1>{html.escape(assignment)}: your submission could not be graded</h1>
<p><strong>Why:</strong> {html.escape(reason)}</p>
<p>Received: <code>{html.escape(Path(origin).name if origin else "nothing")}</code>.
Fix the problem and submit again, or ask your instructor. No grade was recorded for this file.</p>
</body></html>
""")
    return path


def save_rejudged(course: Course, student: str, assignment: str, nb: NotebookNode) -> bool:
    """Store a notebook judged again from its stored results; True if any score changed.

    Scores go into the gradebook only when one changed, all of them in one transaction;
    then the autograded notebook (new verdicts and named mistakes) replaces the old one.
    """
    final = course.root / "autograded" / student / assignment / f"{assignment}.ipynb"
    changed = False
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        for cell in nb.cells:
            info = cell.get("metadata", {}).get("nbgrader")
            if not info or "grade_id" not in info or not is_grade(cell):
                continue
            grade = gb.find_grade(info["grade_id"], assignment, assignment, student)
            score, _ = determine_grade(cell, _log)
            if grade.auto_score != score:
                grade.auto_score, changed = score, True
        if changed:
            gb.db.commit()
        else:
            gb.db.rollback()
    _atomic_write(final, nbformat.writes(nb))
    return changed
