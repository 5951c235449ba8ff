"""Prove a notebook's hidden tests: the reference gets full marks, the blank release zero,
every mutant loses points on the test of the function it breaks, and every variant (a
correct answer written differently) keeps full marks."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .build.source import REPO_ROOT
from .course import Course
from .mutants import apply_mutant, fill_release, load_assignment, load_variants
from .run.grade import Grade, grade_assignment, write_submission
from .run.parallel import default_workers


@dataclass
class Expectation:
    student: str
    rule: str  # "full", "zero" or the grade_id that must lose points
    why: str = ""


@dataclass
class SelfcheckResult:
    notebook: str
    grades: list[Grade]
    failures: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures


def prepare_submissions(course: Course, solution: Path) -> list[Expectation]:
    """Build the assignment and write the reference, blank and mutant submissions."""
    name = solution.stem
    release, answers, mutants = load_assignment(course, solution)
    write_submission(course, "reference", name, nbformat.writes(fill_release(release, answers)))
    write_submission(course, "blank", name, nbformat.writes(release))
    expectations = [Expectation("reference", "full"), Expectation("blank", "zero")]
    for mutant in mutants:
        mutated = fill_release(release, apply_mutant(answers, mutant))
        student = f"mutant-{mutant.name}"
        write_submission(course, student, name, nbformat.writes(mutated))
        expectations.append(Expectation(student, mutant.test, mutant.why))
    for variant in load_variants(solution.parent / "mutants" / f"{name}.toml"):
        student = f"variant-{variant.name}"
        write_submission(course, student, name, nbformat.writes(fill_release(release, apply_mutant(answers, variant))))
        expectations.append(Expectation(student, "full", variant.note))
    return expectations


def _failure(expectation: Expectation, grade: Grade) -> str | None:
    if grade.error:
        return f"{grade.student}: not graded ({grade.error})"
    if expectation.rule == "full" and grade.score < grade.max_score:
        lost = [t for t, (s, m) in grade.tests.items() if s < m]
        who = "reference solution" if grade.student == "reference" else f"{grade.student} ({expectation.why})"
        return f"{who} lost points on {lost}"
    if expectation.rule == "zero" and grade.score > 0:
        won = [t for t, (s, _) in grade.tests.items() if s > 0]
        return f"the untouched release earned points on {won}"
    if expectation.rule not in ("full", "zero"):
        score, max_score = grade.tests.get(expectation.rule, (None, None))
        if score is None:
            return f"{grade.student}: no test cell {expectation.rule!r}"
        if score >= max_score:
            return f"{grade.student} ({expectation.why}) kept full marks on {expectation.rule}"
    return None


def selfcheck(solution: Path, course_root: Path | None = None, profile: str = "cpu",
              workers: int | None = None) -> SelfcheckResult:
    """Grade the reference, the blank release and every mutant; list what broke the rules.

    A mutant's notebook runs only up to the test cell it must fail: later cells cannot
    change that cell's verdict, and skipping them (a CNN's training, say) keeps this fast.
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autograde-selfcheck-") as tmp:
        course = Course(course_root or Path(tmp))
        expectations = prepare_submissions(course, solution)
        stop_after = {e.student: e.rule for e in expectations if e.rule not in ("full", "zero")}
        grades = grade_assignment(course, solution.stem, [e.student for e in expectations], profile, feedback=False,
                                  workers=workers or default_workers(), stop_after=stop_after)
    failures = [f for e, g in zip(expectations, grades) if (f := _failure(e, g))]
    return SelfcheckResult(solution.stem, grades, failures, time.perf_counter() - start)


def solution_for(name: str) -> Path:
    path = REPO_ROOT / "solutions" / f"{name.removesuffix('.py')}.py"
    if not path.exists():
        raise FileNotFoundError(f"no solution named {name!r} in {path.parent}")
    return path
