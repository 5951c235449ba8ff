"""Prove a notebook's hidden tests: the reference gets full marks, the blank release zero,
every mutant loses points on the test of the function it breaks, and every variant (a
correct answer written differently) keeps full marks.

Variants of different cells are handed in together, one submission per group (all correct
answers together must still earn full marks); only a group that loses points is graded
again one variant at a time, to name the variant at fault. A notebook's variants thus cost
as many full runs as the most variants any one cell has, not one run each.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .build.source import REPO_ROOT
from .course import Course
from .mutants import (
    Variant,
    apply_mutant,
    fill_release,
    load_assignment,
    load_variants,
    reference_answers,
)
from .run.grade import Grade, grade_assignment, write_submission
from .run.parallel import default_workers


@dataclass
class Expectation:
    student: str
    rule: str  # "full", "zero" or the grade_id that must lose points
    why: str = ""
    hint: str | None = None  # text the visible test must show for this mistake
    variants: tuple[Variant, ...] = ()  # the correct answers handed in together by this student


@dataclass
class SelfcheckResult:
    notebook: str
    grades: list[Grade]
    failures: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures


def group_variants(variants: list[Variant]) -> list[list[Variant]]:
    """As few groups as possible, none with two variants of one cell (they could not be combined)."""
    groups: list[list[Variant]] = []
    for variant in variants:
        group = next((g for g in groups if all(v.cell != variant.cell for v in g)), None)
        if group is None:
            groups.append([variant])
        else:
            group.append(variant)
    return groups


def _write_variants(course: Course, name: str, release, answers: dict[str, str], student: str,
                    variants: list[Variant]) -> Expectation:
    for variant in variants:
        answers = apply_mutant(answers, variant)
    write_submission(course, student, name, nbformat.writes(fill_release(release, answers)))
    why = "; ".join(f"{v.name}: {v.note}" for v in variants)
    return Expectation(student, "full", why, variants=tuple(variants))


def prepare_submissions(course: Course, solution: Path) -> list[Expectation]:
    """Build the assignment and write the reference, blank, mutant and variant submissions."""
    name = solution.stem
    release, answers, mutants = load_assignment(course, solution)
    write_submission(course, "reference", name, nbformat.writes(fill_release(release, answers)))
    write_submission(course, "blank", name, nbformat.writes(release))
    expectations = [Expectation("reference", "full"), Expectation("blank", "zero")]
    for mutant in mutants:
        mutated = fill_release(release, apply_mutant(answers, mutant))
        student = f"mutant-{mutant.name}"
        write_submission(course, student, name, nbformat.writes(mutated))
        expectations.append(Expectation(student, mutant.test, mutant.why, mutant.hint))
    groups = group_variants(load_variants(solution.parent / "mutants" / f"{name}.toml"))
    for number, group in enumerate(groups, 1):
        student = f"variant-{group[0].name}" if len(group) == 1 else f"variants-{number}-of-{len(groups)}"
        expectations.append(_write_variants(course, name, release, answers, student, group))
    return expectations


def _failure(expectation: Expectation, grade: Grade) -> str | None:
    if grade.error:
        return f"{grade.student}: not graded ({grade.error})"
    # Written answers (grade.manual) await a person's marks, so "full" means every autograded cell.
    lost = [t for t, (s, m) in grade.tests.items() if s < m]
    if expectation.rule == "full" and lost:
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


def _cell_text(cell) -> str:
    """Everything a student reads under a cell: printed text and error messages."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts += [out.get("ename", ""), out.get("evalue", "")]
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _hint_missing(course: Course, name: str, expectation: Expectation) -> str | None:
    """The visible test's message for a mutant must contain the hint written for that mistake."""
    graded = course.root / "autograded" / expectation.student / name / f"{name}.ipynb"
    if not graded.exists():
        return f"{expectation.student}: no graded notebook to read its hint from"
    nb = nbformat.read(graded, as_version=4)
    cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == expectation.rule]
    shown = _cell_text(cells[0]) if cells else ""
    if expectation.hint.lower() in shown.lower():
        return None
    lines = [line.strip() for line in shown.splitlines() if line.strip()]
    hints = [line for line in lines if line.startswith("Hint")] or lines[-2:] or ["nothing"]
    return (f"{expectation.student} ({expectation.why}): its visible test should name the mistake with "
            f"{expectation.hint!r}, but it shows: {' / '.join(hints)[:300]!r}")


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
        workers = workers or default_workers()
        grades = grade_assignment(course, solution.stem, [e.student for e in expectations], profile, feedback=False,
                                  workers=workers, stop_after=stop_after)
        failures = [f for e, g in zip(expectations, grades) if (f := _failure(e, g))]
        failures += [f for e in expectations if e.hint and (f := _hint_missing(course, solution.stem, e))]
        # A group of variants that lost points: hand each in alone to name the one at fault.
        failed_groups = [e for e, g in zip(expectations, grades) if len(e.variants) > 1 and _failure(e, g)]
        if failed_groups:
            release = nbformat.read(course.release_notebook(solution.stem), as_version=4)
            answers = reference_answers(nbformat.read(course.source_notebook(solution.stem), as_version=4))
            alone = [_write_variants(course, solution.stem, release, answers, f"variant-{v.name}", [v])
                     for e in failed_groups for v in e.variants]
            regraded = grade_assignment(course, solution.stem, [e.student for e in alone], profile, feedback=False,
                                        workers=workers)
            failures += [f for e, g in zip(alone, regraded) if (f := _failure(e, g))]
            grades += regraded
    return SelfcheckResult(solution.stem, grades, failures, time.perf_counter() - start)


def solution_for(name: str) -> Path:
    path = REPO_ROOT / "solutions" / f"{name.removesuffix('.py')}.py"
    if not path.exists():
        raise FileNotFoundError(f"no solution named {name!r} in {path.parent}")
    return path
