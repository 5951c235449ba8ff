"""Grade submissions with real nbgrader, judged by :mod:`autograde.judge`."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ..course import COURSE_ID, Course, detect_profile
from .reference import ensure_reference


@dataclass
class Grade:
    """One student's result on one assignment, as read back from the gradebook."""

    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    tests: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id -> (score, max)
    profile: str = "cpu"
    error: str | None = None  # why nbgrader could not grade it


def check_submission(path: Path) -> str | None:
    """Why ``path`` cannot be graded (in words for the student), or None if it is a readable notebook."""
    if not path.exists():
        return f"no {path.name} in the submission (was the notebook renamed?)"
    raw = path.read_bytes()
    if not raw.strip():
        return f"{path.name} is empty"
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return f"{path.name} is not a notebook: it is not valid JSON ({exc}); re-download it from Jupyter"
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        return f"{path.name} is not an nbformat 4 notebook (found nbformat={data.get('nbformat') if isinstance(data, dict) else None})"
    try:
        with warnings.catch_warnings():  # nbformat nags about missing cell ids, which nbgrader adds
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(data))
    except nbformat.ValidationError as exc:
        return f"{path.name} is not a valid notebook: {str(exc).splitlines()[0]}"
    return None


def submitted_students(course: Course, assignment: str) -> list[str]:
    folder = course.root / "submitted"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / assignment).is_dir())


def read_grade(course: Course, assignment: str, student: str, profile: str) -> Grade:
    """Scores as nbgrader stored them (the single source of truth for results)."""
    grade = Grade(student, assignment, profile=profile)
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            grade.error = "no submission in the gradebook"
            return grade
        grade.score, grade.max_score = float(submission.score), float(submission.max_score)
        for notebook in submission.notebooks:
            for cell_grade in notebook.grades:
                grade.tests[cell_grade.name] = (float(cell_grade.score), float(cell_grade.max_score))
    return grade


def record_profile(course: Course, assignment: str, student: str, profile: str) -> None:
    """Store the grading profile with the grade, as an automatic comment nbgrader's formgrader shows."""
    note = f"Autograded under the {profile} profile."
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        submission = gb.find_submission(assignment, student)
        for notebook in submission.notebooks:
            for comment in notebook.comments:
                if note not in (comment.auto_comment or ""):
                    comment.auto_comment = f"{comment.auto_comment}\n{note}" if comment.auto_comment else note
        gb.db.commit()


def read_profile(course: Course, assignment: str, student: str) -> str | None:
    """The profile recorded by :func:`record_profile`, or None."""
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        submission = gb.find_submission(assignment, student)
        for notebook in submission.notebooks:
            for comment in notebook.comments:
                for profile in ("cpu", "gpu"):
                    if f"under the {profile} profile" in (comment.auto_comment or ""):
                        return profile
    return None


def grade_assignment(
    course: Course,
    assignment: str,
    students: list[str] | None = None,
    profile: str | None = None,
    feedback: bool = True,
) -> list[Grade]:
    """Autograde ``students`` (default: every submission) and return their grades."""
    profile = profile or detect_profile()
    ensure_reference(course, assignment, profile)
    api = course.api(profile)
    results = []
    for student in students or submitted_students(course, assignment):
        problem = check_submission(course.submitted_dir(student, assignment) / f"{assignment}.ipynb")
        if problem:  # refused before nbgrader sees it, so nothing is half-written to the gradebook
            results.append(Grade(student, assignment, profile=profile, error=problem))
            continue
        outcome = api.autograde(assignment, student, force=True, create=True)
        if not outcome["success"]:
            grade = Grade(student, assignment, profile=profile, error=_last_error(outcome))
        else:
            record_profile(course, assignment, student, profile)
            grade = read_grade(course, assignment, student, profile)
            if feedback:
                api.generate_feedback(assignment, student, force=True)
        results.append(grade)
    return results


def _last_error(outcome: dict) -> str:
    text = (outcome.get("log") or "") + (outcome.get("error") or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "nbgrader failed without a message"


def format_table(grades: list[Grade]) -> str:
    """Plain-text tables, one per assignment: a row per submission, a column per test cell."""
    assignments = list(dict.fromkeys(g.assignment for g in grades))
    return "\n\n".join(_assignment_table([g for g in grades if g.assignment == a]) for a in assignments)


def _assignment_table(grades: list[Grade]) -> str:
    tests: list[str] = []
    for g in grades:
        tests += [t for t in g.tests if t not in tests]
    header = ["student", *tests, "total", "profile"]
    rows = []
    for g in grades:
        cells = [f"{g.tests[t][0]:g}/{g.tests[t][1]:g}" if t in g.tests else "-" for t in tests]
        total = f"{g.score:g}/{g.max_score:g}" if g.error is None else f"error: {g.error}"
        rows.append([g.student, *cells, total, g.profile])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip()
    title = f"{grades[0].assignment}" if grades else ""
    return "\n".join([title, line(header), line(["-" * w for w in widths]), *map(line, rows)])


def write_submission(course: Course, student: str, assignment: str, notebook_text: str) -> Path:
    """Place a submission in nbgrader's layout: submitted/<student>/<assignment>/<assignment>.ipynb."""
    folder = course.submitted_dir(student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    path.write_text(notebook_text)
    return path
