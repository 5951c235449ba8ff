"""Named mistakes, measured: does every mutant, handed in as a student, hear its own `why`?

    python benchmarks/named_mistakes.py [NOTEBOOK ...] [--workers N]

For each notebook (default: all), in a fresh course:
1. the mutants' signatures are computed on the course's draw (timed);
2. the reference, every mutant and every variant (correct answers written differently)
   are graded as students through the real grader, each mutant up to the test it breaks
   (timed);
3. per mutant: is its own mistake named on its test (alone, or with mutants that give
   identical results there)? Per variant and the reference: is any mistake named (must
   be none)?
4. ``rejudge`` of all those submissions from their stored results, without kernels
   (timed), against the grading time.

Prints a row per notebook and lists every mutant that was not named, with what it was
told instead. No pass/fail: these are figures for the README and the closing note.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from autograde.build.source import solution_paths
from autograde.course import Course
from autograde.run.grade import grade_assignment
from autograde.run.mistakes import ensure_mistakes
from autograde.run.parallel import default_workers
from autograde.run.rejudge import rejudge_assignment
from autograde.selfcheck import prepare_submissions


def _named(course: Course, student: str, assignment: str) -> dict[str, dict[str, list[str]]]:
    """test id -> check -> mutants named there, from the autograded notebook."""
    path = course.root / "autograded" / student / assignment / f"{assignment}.ipynb"
    named = {}
    for cell in json.loads(path.read_text())["cells"]:
        meta = cell.get("metadata", {})
        if "autograde" in meta and meta.get("nbgrader", {}).get("grade_id"):
            named[meta["nbgrader"]["grade_id"]] = meta["autograde"].get("mistakes", {})
    return named


def measure(solution: Path, workers: int) -> dict:
    name = solution.stem
    with tempfile.TemporaryDirectory(prefix="bench-mistakes-") as tmp:
        course = Course(Path(tmp) / "course")
        expectations = prepare_submissions(course, solution)
        started = time.perf_counter()
        store = ensure_mistakes(course, name, "cpu", workers=workers)
        signature_s = time.perf_counter() - started
        stop_after = {e.student: e.rule for e in expectations if e.rule not in ("full", "zero")}
        students = [e.student for e in expectations if e.student != "blank"]
        started = time.perf_counter()
        grade_assignment(course, name, students, "cpu", feedback=False, workers=workers, stop_after=stop_after,
                         name_mistakes=True)
        grading_s = time.perf_counter() - started
        missed, false_named = [], []
        for e in expectations:
            if e.student == "blank":
                continue
            named = _named(course, e.student, name)
            if e.student.startswith("mutant-"):
                mutant = e.student.removeprefix("mutant-")
                if not any(mutant in mutants for mutants in named.get(e.rule, {}).values()):
                    told = sorted({m for checks in named.values() for ms in checks.values() for m in ms})
                    missed.append(f"{mutant} ({e.why}); named instead: {told or 'nothing'}")
            elif any(ms for checks in named.values() for ms in checks.values()):
                false_named.append(e.student)
        run = rejudge_assignment(course, name, students, feedback=False)
        mutants = [e for e in expectations if e.student.startswith("mutant-")]
    return {"notebook": name, "mutants": len(mutants), "named": len(mutants) - len(missed),
            "variants_and_reference": len(expectations) - len(mutants) - 1, "false_named": false_named,
            "signature_s": signature_s, "grading_s": grading_s, "rejudge_s": run.seconds, "missed": missed,
            "problems": (store or {}).get("problems", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args(argv)
    rows = [measure(p, args.workers) for p in solution_paths() if not args.notebooks or p.stem in args.notebooks]
    print(f"\n{'notebook':24} {'named':>10} {'false':>6} {'signatures':>11} {'grading':>9} {'rejudge':>8} {'ratio':>7}")
    for r in rows:
        print(f"{r['notebook']:24} {r['named']:>4}/{r['mutants']:<4} ({r['named'] / max(1, r['mutants']):4.0%})"
              f" {len(r['false_named']):>3}/{r['variants_and_reference']:<3}"
              f" {r['signature_s']:>9.1f} s {r['grading_s']:>7.1f} s {r['rejudge_s']:>6.2f} s"
              f" {r['grading_s'] / max(r['rejudge_s'], 1e-9):>6.0f}x")
    for r in rows:
        for line in r["missed"]:
            print(f"  not named in {r['notebook']}: {line}")
        for student in r["false_named"]:
            print(f"  FALSE NAMING in {r['notebook']}: {student}")
        for problem in r["problems"]:
            print(f"  signature problem in {r['notebook']}: {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
