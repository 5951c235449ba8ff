"""The instructor's main job on the embedded defaults, end to end.

Builds every assignment into a fresh course directory, writes sample
submissions for four students (one hands in the reference solution, one the
untouched release, two hand in real bugs from the mutant files), grades them
with real nbgrader into the course's SQLite gradebook, writes each student's
feedback HTML, exports the grades to CSV with nbgrader's exporter, and prints
the table.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat

from .build.source import solution_paths
from .course import Course
from .mutants import apply_mutant, fill_release, load_assignment
from .report import export_csv, write_summary
from .run.grade import format_table, grade_assignment, write_submission
from .run.parallel import default_workers


def write_sample_submissions(course: Course, solution: Path) -> None:
    name = solution.stem
    release, answers, mutants = load_assignment(course, solution)
    samples = {"ada": answers, "blaise": {}}
    # Two students with bugs: the first and the last mutant of the notebook.
    for student, mutant in zip(["carl", "dorothy"], [mutants[0], mutants[-1]] if mutants else []):
        samples[student] = apply_mutant(answers, mutant)
    for student, filled in samples.items():
        write_submission(course, student, name, nbformat.writes(fill_release(release, filled)))


def run_demo(root: Path, profile: str | None = None, names: list[str] | None = None) -> int:
    start = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    course = Course(root)
    course.write_config()
    grades = []
    for solution in [p for p in solution_paths() if not names or p.stem in names]:
        write_sample_submissions(course, solution)
        graded = grade_assignment(course, solution.stem, profile=profile, workers=default_workers(),
                                  name_mistakes=True)
        write_summary(course, solution.stem, graded)
        grades += graded
    csv_path = export_csv(course)
    print(format_table(grades))
    print(f"\ngradebook: {course.gradebook}")
    print(f"grades CSV: {csv_path}")
    print(f"feedback:   {root / 'feedback'}/<student>/<assignment>/<assignment>.html")
    print(f"summaries:  {root / 'reports'}/<assignment>/summary.html")
    print(f"graded {len(grades)} submissions in {time.perf_counter() - start:.1f} s")
    return 1 if any(g.error for g in grades) else 0
