"""``autograde``: build the release, grade submissions, prove the tests, run the demo."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .build.source import REPO_ROOT

DEFAULT_COURSE = REPO_ROOT / "build" / "course"


def _cmd_build(args: argparse.Namespace) -> int:
    from .build import build, check_release
    from .build.release import StaleReleaseError

    if args.check:
        try:
            check_release()
        except StaleReleaseError as exc:
            print(exc, file=sys.stderr)
            return 1
        print("notebooks/ is up to date with solutions/")
        return 0
    for path in build(Path(args.course), names=args.notebooks or None):
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from .course import Course
    from .run.grade import format_table, grade_assignment

    course = Course(Path(args.course))
    assignments = args.assignment or sorted(p.name for p in (course.root / "source").iterdir())
    grades = []
    for assignment in assignments:
        grades += grade_assignment(course, assignment, args.student or None, args.profile)
    print(format_table(grades))
    return 1 if any(g.error for g in grades) else 0


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    from .build.source import solution_paths
    from .run.grade import format_table
    from .selfcheck import selfcheck, solution_for

    solutions = [solution_for(n) for n in args.notebooks] if args.notebooks else solution_paths()
    ok = True
    for solution in solutions:
        result = selfcheck(solution, profile=args.profile)
        print(f"\n== selfcheck {result.notebook}: {len(result.grades)} submissions in {result.seconds:.1f} s")
        print(format_table(result.grades))
        for failure in result.failures:
            print(f"FAIL {failure}")
        print("OK" if result.ok else f"{len(result.failures)} problem(s)")
        ok &= result.ok
    return 0 if ok else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.course), profile=args.profile)


def main(argv: list[str] | None = None) -> int:
    # nbgrader 0.9.6 warns about its own SQLAlchemy session use on every autograde; not actionable.
    warnings.filterwarnings("ignore", message="Object of type <Submitted", module="nbgrader")
    parser = argparse.ArgumentParser(prog="autograde", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="generate the nbgrader source and the student release in notebooks/")
    p.add_argument("notebooks", nargs="*", help="only these (e.g. 01_linear_classifiers)")
    p.add_argument("--check", action="store_true", help="fail if notebooks/ is stale; changes nothing")
    p.add_argument("--course", default=DEFAULT_COURSE, help="nbgrader course directory (default: build/course)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("grade", help="autograde the submissions in a course directory into its gradebook")
    p.add_argument("--course", default=DEFAULT_COURSE, help="nbgrader course directory (default: build/course)")
    p.add_argument("--assignment", action="append", help="assignment to grade (repeatable; default all)")
    p.add_argument("--student", action="append", help="student to grade (repeatable; default all)")
    p.add_argument("--profile", choices=["cpu", "gpu"], help="grading profile (default: gpu if CUDA is present)")
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("selfcheck", help="prove the hidden tests on the reference, blank release and mutants")
    p.add_argument("notebooks", nargs="*", help="notebooks to check (default all)")
    p.add_argument("--profile", choices=["cpu", "gpu"], default="cpu")
    p.set_defaults(func=_cmd_selfcheck)

    p = sub.add_parser("demo", help="build the course and grade sample submissions into a SQLite gradebook")
    p.add_argument("--course", default=REPO_ROOT / "build" / "demo", help="where to put the demo course")
    p.add_argument("--profile", choices=["cpu", "gpu"], default=None)
    p.set_defaults(func=_cmd_demo)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
