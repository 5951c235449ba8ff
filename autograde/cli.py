"""``autograde``: build the release, grade submissions, judge them again, prove the tests, run the demo."""

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
    from .report import export_csv, write_summary
    from .run.grade import format_table, grade_assignment
    from .run.parallel import default_workers

    course = Course(Path(args.course), database=args.db_url)
    if args.submissions and len(args.assignment or []) != 1:
        print("--from needs exactly one --assignment: the folder holds one assignment's files", file=sys.stderr)
        return 2
    source = course.root / "source"
    assignments = args.assignment or sorted(p.name for p in source.iterdir()) if source.is_dir() else []
    missing = [a for a in assignments if not course.source_notebook(a).exists()]
    if missing or not assignments:
        print(f"no assignment {missing or ''} in {source}; run 'autograde build --course {course.root}' first",
              file=sys.stderr)
        return 2
    grades = []
    for assignment in assignments:
        graded = grade_assignment(
            course, assignment, args.student or None, args.profile, feedback=not args.no_feedback,
            workers=args.workers or default_workers(), scheduler=args.scheduler, sandbox=args.sandbox,
            force=args.force, submissions_from=args.submissions, student_pattern=args.student_pattern,
            progress=not args.quiet, name_mistakes=not args.no_mistakes)
        grades += graded
        print(f"summary: {write_summary(course, assignment, graded)}")
    print(f"grades CSV: {export_csv(course)}")
    print(format_table(grades))
    skipped = sum(g.skipped for g in grades)
    if skipped:
        print(f"{skipped} submission(s) unchanged since they were last graded were kept (use --force to regrade)")
    return 1 if any(g.error for g in grades) else 0


def _cmd_rejudge(args: argparse.Namespace) -> int:
    from .course import Course
    from .report import write_summary
    from .run.grade import format_table
    from .run.rejudge import rejudge_assignment

    course = Course(Path(args.course), database=args.db_url)
    if not course.source_notebook(args.assignment).exists():
        print(f"no assignment {args.assignment!r} in {course.root / 'source'}", file=sys.stderr)
        return 2
    run = rejudge_assignment(course, args.assignment, args.student or None, feedback=not args.no_feedback,
                             name_mistakes=not args.no_mistakes)
    print(format_table(run.grades))
    print(f"re-judged {len(run.grades)} submission(s) in {run.seconds:.1f} s; "
          f"scores changed for {len(run.changed)}: {', '.join(run.changed) or 'none'}")
    for student, why in run.stale.items():
        print(f"not re-judged: {student}: {why}")
    if run.grades:
        print(f"summary: {write_summary(course, args.assignment, run.grades)}")
    return 0


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


def _cmd_walk(args: argparse.Namespace) -> int:
    from .build.walk import walk_notebooks

    ok = True
    for walk in walk_notebooks(args.notebooks or None):
        counts = walk.counts()
        print(f"{walk.notebook}: {counts['stub']} stub and {counts['test']} test errors (expected), "
              f"{counts['other']} elsewhere; {walk.seconds:.0f} s")
        for error in walk.unexpected:
            print(f"  cell {error.index} ({error.first_line}): {error.error}")
        ok &= not walk.unexpected
    return 0 if ok else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.course), profile=args.profile, names=args.notebooks or None)


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

    p = sub.add_parser("grade", help="autograde submissions into the course's gradebook, in sandboxed workers")
    p.add_argument("--course", default=DEFAULT_COURSE, help="nbgrader course directory (default: build/course)")
    p.add_argument("--assignment", action="append", help="assignment to grade (repeatable; default all)")
    p.add_argument("--student", action="append", help="grade only this student (repeatable; default all)")
    p.add_argument("--from", dest="submissions", type=Path,
                   help="a folder of <student>.ipynb or <student>.zip files, as an LMS exports them (read only)")
    p.add_argument("--student-pattern", help="regex with a group 'student', matched against each file name "
                   "stem in --from (e.g. '(?P<student>[^_]+)_.*'); default: the whole stem")
    p.add_argument("--profile", choices=["cpu", "gpu"], help="grading profile (default: gpu if CUDA is present)")
    p.add_argument("--workers", type=int, help="parallel grading processes on this machine (default: its cores, fewer if memory for one 6 GiB kernel each runs out)")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (e.g. tcp://10.0.0.5:8786)")
    p.add_argument("--db-url", help="gradebook as a SQLAlchemy URL (default: sqlite in the course directory)")
    p.add_argument("--sandbox", choices=["auto", "bwrap", "none"], default="auto",
                   help="bwrap: require bubblewrap; auto: use it if it works, else warn (default)")
    p.add_argument("--force", action="store_true", help="regrade submissions unchanged since their last grading")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-mistakes", action="store_true",
                   help="do not run the mutants to name known mistakes in feedback")
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("rejudge", help="judge graded submissions again from their stored results (no kernels): "
                       "new judge, new mutants, new feedback and reports")
    p.add_argument("--course", default=DEFAULT_COURSE, help="nbgrader course directory (default: build/course)")
    p.add_argument("--assignment", required=True, help="assignment to re-judge")
    p.add_argument("--student", action="append", help="only this student (repeatable; default all)")
    p.add_argument("--db-url", help="gradebook as a SQLAlchemy URL (default: sqlite in the course directory)")
    p.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    p.add_argument("--no-mistakes", action="store_true", help="do not name known mistakes")
    p.set_defaults(func=_cmd_rejudge)

    p = sub.add_parser("selfcheck", help="prove the hidden tests on the reference, blank release and mutants")
    p.add_argument("notebooks", nargs="*", help="notebooks to check (default all)")
    p.add_argument("--profile", choices=["cpu", "gpu"], default="cpu")
    p.set_defaults(func=_cmd_selfcheck)

    p = sub.add_parser("walk", help="run released notebooks as a student who has written nothing yet, "
                       "and list errors outside the stubs and their tests")
    p.add_argument("notebooks", nargs="*", help="only these (default all)")
    p.set_defaults(func=_cmd_walk)

    p = sub.add_parser("demo", help="build the course and grade sample submissions into a SQLite gradebook")
    p.add_argument("notebooks", nargs="*", help="only these notebooks (default all)")
    p.add_argument("--course", default=REPO_ROOT / "build" / "demo", help="where to put the demo course")
    p.add_argument("--profile", choices=["cpu", "gpu"], default=None)
    p.set_defaults(func=_cmd_demo)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
