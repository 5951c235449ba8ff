"""Grade submissions: the coordinator of intake, sandboxed workers, the judge and the gradebook.

``grade_assignment`` takes the submissions (nbgrader's layout or an LMS folder),
refuses what cannot be graded with a reason, restores locked cells and hidden
tests with nbgrader's own sanitizing preprocessors, sends each notebook to a
worker that executes it in a sandbox and judges it, and stores each result as
it arrives. Only this process writes the gradebook, and it skips work already
done unless asked (a rerun after an interruption resumes).
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ..course import COURSE_ID, PROFILES, Course, detect_profile, nbgrader_config
from .intake import Submission, import_folder, read_notebook, read_submission, repair_structure
from .job import Job
from .mistakes import ensure_mistakes
from .parallel import cpu_count, run_jobs
from .reference import ensure_reference
from .sandbox import Limits, Policy, default_hidden
from .store import is_current, read_ledger, save_result, write_refusal

# nbgrader 0.9.6 warns about its own SQLAlchemy session use on every submission; not actionable.
warnings.filterwarnings("ignore", message="Object of type <Submitted", module="nbgrader")

@dataclass
class Grade:
    """One student's result on one assignment, as read back from the gradebook."""

    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    tests: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id -> (score, max), autograded
    # Written answers graded by hand in formgrader: grade_id -> (score, or None until marked, max).
    manual: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    profile: str = "cpu"
    error: str | None = None  # why it was not graded (refused, or grading failed)
    notes: list[str] = field(default_factory=list)  # what the grader repaired or why the run stopped
    skipped: bool = False  # unchanged since it was last graded, so not graded again
    stats: dict = field(default_factory=dict)  # execution figures: seconds, kernel start, peak memory

    @property
    def auto_max_score(self) -> float:
        """The points the autograder can give: every cell but the written answers marked by hand."""
        return sum(m for _, m in self.tests.values())

    @property
    def manual_pending(self) -> float:
        """Points of written answers nobody has marked yet (formgrader's manual grading)."""
        return sum(m for s, m in self.manual.values() if s is None)


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
                if cell_grade.cell.cell_type == "markdown":
                    marked = cell_grade.manual_score
                    grade.manual[cell_grade.name] = (None if marked is None else float(marked), float(cell_grade.max_score))
                else:
                    grade.tests[cell_grade.name] = (float(cell_grade.score), float(cell_grade.max_score))
    return grade


def read_profile(course: Course, assignment: str, student: str) -> str | None:
    """The profile stored with the grade (an automatic comment formgrader shows), or None."""
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        submission = gb.find_submission(assignment, student)
        for notebook in submission.notebooks:
            for comment in notebook.comments:
                for profile in ("cpu", "gpu"):
                    if f"under the {profile} profile" in (comment.auto_comment or ""):
                        return profile
    return None


def _sanitize(course: Course, sub: Submission, source, profile: str):
    """nbgrader's sanitizing preprocessors: clear outputs, restore locked cells and hidden tests."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    nb = read_notebook(sub.path.read_bytes())
    notes = repair_structure(nb, source)
    config = nbgrader_config(course.root, profile, db_url=course.db_url)
    resources = {"nbgrader": {"student": sub.student, "assignment": sub.assignment, "notebook": sub.assignment,
                              "db_url": course.db_url}}
    log = logging.getLogger("autograde.sanitize")
    log.setLevel(logging.ERROR)
    for preprocessor in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata):
        nb, resources = preprocessor(config=config, log=log).preprocess(nb, resources)
    return nb, notes


def _ensure_registered(course: Course, assignment: str, source) -> None:
    """Teach a gradebook the course was not built into (``grade --db-url``) the assignment's cells.

    ``autograde build`` registers each assignment in the course's own gradebook. Grading into
    another one (a new PostgreSQL database, say) would otherwise refuse every submission as
    damaged, since nbgrader finds no such notebook there. The cells are registered from the
    course's source notebook exactly as nbgrader's generate_assignment registers them.
    """
    import copy

    from nbgrader.preprocessors import (
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
        SaveCells,
    )

    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        try:
            gb.find_notebook(assignment, assignment)
            return
        except MissingEntry:
            gb.update_or_create_assignment(assignment)
    config = nbgrader_config(course.root, db_url=course.db_url)
    resources = {"nbgrader": {"db_url": course.db_url, "assignment": assignment, "notebook": assignment}}
    nb = copy.deepcopy(source)
    log = logging.getLogger("autograde.register")
    for preprocessor in (LockCells, ClearSolutions, ClearOutput, ComputeChecksums, SaveCells):
        nb, resources = preprocessor(config=config, log=log).preprocess(nb, resources)


def grade_assignment(
    course: Course,
    assignment: str,
    students: list[str] | None = None,
    profile: str | None = None,
    feedback: bool = True,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    sandbox: str = "auto",
    force: bool = False,
    submissions_from: Path | None = None,
    student_pattern: str | None = None,
    stop_after: dict[str, str] | None = None,
    limits: Limits | None = None,
    progress: bool = False,
    name_mistakes: bool = False,
) -> list[Grade]:
    """Grade ``students`` (default: every submission) and return their grades, in student order.

    ``workers``/``scheduler``: see :mod:`autograde.run.parallel`. ``force``: grade again even
    what is unchanged since the last run. ``submissions_from``: an LMS folder to import first.
    ``stop_after``: student -> grade id after which that student's notebook stops (selfcheck).
    ``name_mistakes``: compute (or reuse) the mutants' signatures on this course's draw, so
    feedback names a known mistake when a result matches one.
    """
    profile = profile or detect_profile()
    reference = json.loads(ensure_reference(course, assignment, profile).read_text())
    mistakes = ensure_mistakes(course, assignment, profile, workers=workers) if name_mistakes else None
    source = read_notebook(course.source_notebook(assignment).read_bytes())
    _ensure_registered(course, assignment, source)
    if submissions_from is not None:
        imported = import_folder(course, assignment, Path(submissions_from), student_pattern or r"(?P<student>.+)")
        subs = [s for s in imported if students is None or s.student in students]
    else:
        subs = [read_submission(course, st, assignment) for st in students or submitted_students(course, assignment)]
    cores = cpu_count()
    limits = limits or Limits(cell_timeout=PROFILES[profile].cell_timeout,
                              threads=max(1, cores // max(1, workers)) if workers > 1 else 0)
    policy = Policy(mode=sandbox, limits=limits, gpu=profile == "gpu",
                    hidden=default_hidden(course.root, submissions_from, _sqlite_file(course.db_url)))
    grades: dict[str, Grade] = {}
    jobs, notes = [], {}
    for sub in subs:
        if sub.problem:
            write_refusal(course, sub.student, assignment, sub.problem, sub.origin)
            grades[sub.student] = Grade(sub.student, assignment, profile=profile, error=sub.problem)
            continue
        if not force and is_current(course, sub.student, assignment, sub.sha256, profile, reference["source_sha256"]):
            grade = read_grade(course, assignment, sub.student, profile)
            if grade.error is None:
                grade.skipped = True
                grade.notes = (read_ledger(course, sub.student, assignment) or {}).get("notes", [])
                grades[sub.student] = grade
                continue
        try:
            nb, notes[sub.student] = _sanitize(course, sub, source, profile)
        except Exception as exc:  # noqa: BLE001 -- nbgrader refuses damaged grading metadata
            problem = f"the notebook's grading cells are damaged beyond repair ({exc}); start again from the release"
            write_refusal(course, sub.student, assignment, problem, sub.origin)
            grades[sub.student] = Grade(sub.student, assignment, profile=profile, error=problem)
            continue
        jobs.append((sub, Job(sub.student, assignment, assignment, nbformat.writes(nb), reference, profile, policy,
                              sub.sha256, (stop_after or {}).get(sub.student), mistakes)))
    by_student = {job.student: sub for sub, job in jobs}
    timestamps = _timestamps(course, assignment, [s.student for s in by_student.values()])
    api = course.api(profile) if feedback else None
    results = run_jobs([job for _, job in jobs], workers=workers, scheduler=scheduler)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(jobs), desc=f"grading {assignment}", unit="submission", file=sys.stderr)
    for result in results:
        sub = by_student[result.student]
        if result.error or result.notebook_json is None:
            grades[sub.student] = Grade(sub.student, assignment, profile=profile, error=result.error)
            continue
        nb = read_notebook(result.notebook_json)
        run_notes = notes[sub.student] + ([f"Grading stopped early: {result.execution['stopped']}."]
                                          if result.execution.get("stopped") else [])
        if result.execution.get("sandbox") == "none" and sandbox != "none":
            run_notes.append("Graded without a sandbox (bubblewrap was not available).")
        save_result(course, sub.student, assignment, nb, profile=profile, submission_sha256=sub.sha256,
                    reference_sha256=reference["source_sha256"], notes=run_notes,
                    timestamp=timestamps.get(sub.student), execution=result.execution)
        grade = read_grade(course, assignment, sub.student, profile)
        grade.notes = run_notes
        grade.stats = {**result.execution, "worker": result.worker, "worker_peak_rss": result.worker_peak_rss,
                       "job_seconds": result.seconds}
        grades[sub.student] = grade
        if api is not None:
            api.generate_feedback(assignment, sub.student, force=True)
    return [grades[s.student] for s in subs if s.student in grades]


def _sqlite_file(db_url: str) -> str | None:
    return db_url[len("sqlite:///"):] if db_url.startswith("sqlite:///") else None


def _timestamps(course: Course, assignment: str, students: list[str]) -> dict:
    """Submission times from nbgrader's timestamp.txt, parsed as nbgrader does."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(root=str(course.root))
    found = {}
    for student in students:
        stamp = coursedir.get_existing_timestamp(str(course.submitted_dir(student, assignment)))
        if stamp:
            found[student] = stamp
    return found


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
        if g.error is None and (pending := g.manual_pending):
            total += f" ({pending:g} to mark by hand)"
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
