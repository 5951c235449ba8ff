"""Regrade under load: does the reference solution get full marks however busy the grader is?

    python benchmarks/regrade_under_load.py [--repeats 10] [--workers N] [--notebooks 05_cnns ...]

For each notebook, the reference solution is handed in ``--repeats`` times (as students
ref-00, ref-01, ...) and graded once, all together, by the real grader
(``grade_assignment``: sandboxed kernels on a local Dask cluster, the judge, the gradebook)
with ``--workers`` workers, by default four per core, so that every kernel competes with
three others for its core. A grade that depended on the machine's load (a training run cut
by a clock, a timing check with no margin) shows up here as a run without full marks.

Prints one row per notebook: runs with full marks, the score range, the tests that lost
points and the wall time. No pass/fail: the figures are for the README and for review.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograde.build.source import solution_paths  # noqa: E402
from autograde.course import Course, detect_profile  # noqa: E402
from autograde.mutants import fill_release, load_assignment  # noqa: E402
from autograde.run.grade import grade_assignment, write_submission  # noqa: E402


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def regrade(course: Course, solution: Path, repeats: int, workers: int, profile: str) -> dict:
    """Grade `repeats` copies of the reference submission of `solution` in one run; summarise."""
    release, answers, _ = load_assignment(course, solution)
    text = nbformat.writes(fill_release(release, answers))
    students = [f"ref-{i:02d}" for i in range(repeats)]
    for student in students:
        write_submission(course, student, solution.stem, text)
    start = time.perf_counter()
    grades = grade_assignment(course, solution.stem, students, profile, feedback=False, workers=workers)
    seconds = time.perf_counter() - start
    scores = [g.score for g in grades if not g.error]
    lost = sorted({t for g in grades for t, (s, m) in g.tests.items() if s < m})
    return {
        "notebook": solution.stem,
        "full": sum(1 for g in grades if not g.error and g.score >= g.max_score),
        "runs": len(grades),
        "errors": [f"{g.student}: {g.error}" for g in grades if g.error],
        "low": min(scores) if scores else float("nan"),
        "high": max(scores) if scores else float("nan"),
        "max": grades[0].max_score if grades else float("nan"),
        "lost": lost,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="copies of the reference graded per notebook")
    parser.add_argument("--workers", type=int, default=4 * cores(), help="grading workers (default: 4 per core)")
    parser.add_argument("--notebooks", nargs="*", help="only these (default: every solution)")
    parser.add_argument("--profile", choices=["cpu", "gpu"], default=None, help="default: this machine's")
    args = parser.parse_args(argv)
    profile = args.profile or detect_profile()
    solutions = [p for p in solution_paths() if not args.notebooks or p.stem in args.notebooks]
    print(f"{cores()} cores, {args.workers} workers, {args.repeats} copies of each reference, {profile} profile",
          flush=True)
    print(f"{'notebook':24} {'full marks':>11} {'scores':>15} {'wall s':>8}  tests that lost points", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="autograde-regrade-") as tmp:
        course = Course(Path(tmp))
        course.write_config()
        for solution in solutions:
            row = regrade(course, solution, args.repeats, args.workers, profile)
            rows.append(row)
            print(f"{row['notebook']:24} {row['full']:>5} of {row['runs']:<3} "
                  f"{row['low']:>6g}–{row['high']:<g} / {row['max']:<g} {row['seconds']:>8.0f}  "
                  f"{', '.join(row['lost']) or '-'}", flush=True)
            for error in row["errors"]:
                print(f"    not graded: {error}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
