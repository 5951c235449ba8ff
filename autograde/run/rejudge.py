"""Judge graded submissions again from the results they already handed in: no kernel runs.

Every autograded notebook keeps, in each test cell's metadata, the results the
student's kernel displayed (grader-side: the judge wrote them there). ``rejudge``
reads them back, applies the current judge and the current mistake signatures,
and refreshes scores (only those that changed, one transaction per submission),
the autograded notebook, the feedback and the summary report. An instructor who
adds a mutant sees it named in everyone's feedback within seconds.

A submission graded against other hidden tests (the source notebook changed since)
cannot be judged again from its results: it is listed, to be regraded with
``autograde grade --force``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import nbformat
from nbgrader.utils import is_grade, is_solution

from ..course import Course
from ..judge.preprocessor import JudgeHiddenTests
from .grade import Grade, read_grade, submitted_students
from .mistakes import ensure_mistakes
from .reference import ensure_reference
from .store import save_rejudged


@dataclass
class RejudgeRun:
    grades: list[Grade] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # students whose score changed
    stale: dict[str, str] = field(default_factory=dict)  # student -> why they must be regraded
    seconds: float = 0.0


def _autograded(course: Course, student: str, assignment: str):
    return course.root / "autograded" / student / assignment / f"{assignment}.ipynb"


def _why_stale(nb, reference: dict) -> str | None:
    meta = nb.metadata.get("autograde", {})
    if meta.get("reference_sha256") != reference["source_sha256"]:
        return "graded against another version of the hidden tests"
    tests = [c for c in nb.cells if c.cell_type == "code" and is_grade(c) and not is_solution(c)]
    if any("outputs" not in c.metadata.get("autograde", {}) for c in tests):
        return "graded before results were kept for re-judging"
    return None


def rejudge_assignment(course: Course, assignment: str, students: list[str] | None = None,
                       feedback: bool = True, name_mistakes: bool = True) -> RejudgeRun:
    """Re-judge every (or the named) graded submission of ``assignment``; see the module docstring."""
    started = time.perf_counter()
    run = RejudgeRun()
    log = logging.getLogger("autograde.rejudge")
    api = None
    cache: dict[str, tuple[dict, dict | None]] = {}
    for student in students or submitted_students(course, assignment):
        path = _autograded(course, student, assignment)
        if not path.exists():
            continue
        nb = nbformat.read(path, as_version=4)
        profile = nb.metadata.get("autograde", {}).get("profile", "cpu")
        if profile not in cache:
            reference = json.loads(ensure_reference(course, assignment, profile).read_text())
            mistakes = ensure_mistakes(course, assignment, profile) if name_mistakes else None
            cache[profile] = (reference, mistakes)
        reference, mistakes = cache[profile]
        if why := _why_stale(nb, reference):
            run.stale[student] = f"{why}; regrade with: autograde grade --assignment {assignment} --student {student} --force"
            continue
        resources = {"nbgrader": {"student": student, "assignment": assignment, "notebook": assignment},
                     "autograde": {"reference": reference, "mistakes": mistakes}}
        nb, _ = JudgeHiddenTests(profile=profile, from_stored=True, log=log).preprocess(nb, resources)
        if save_rejudged(course, student, assignment, nb):
            run.changed.append(student)
        if feedback:
            api = api or course.api(profile)
            api.generate_feedback(assignment, student, force=True)
        run.grades.append(read_grade(course, assignment, student, profile))
    run.seconds = time.perf_counter() - started
    return run
