"""Grading benchmarks: print a table of figures (no pass/fail; timings flake on shared machines).

    python benchmarks/run.py [--submissions 3] [--kernels 5] [--notebooks 00_setup ...]

Rows:
- kernel start: a fresh ipykernel, from launch to ready (what every submission pays);
- kernel imports: `import numpy, course_utils` and `import torch` inside that kernel;
- reference run: executing the solution notebook to collect the trusted results;
- grade per submission: nbgrader autograde + judge + gradebook write, per notebook,
  averaged over N copies of the reference submission (the full notebook runs each time).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager

from autograde.build.release import build_assignment
from autograde.build.source import solution_paths
from autograde.course import KERNEL_ARGUMENTS, Course, detect_profile
from autograde.mutants import fill_release, reference_answers
from autograde.run.grade import grade_assignment, write_submission
from autograde.run.reference import compute_reference


def _timed_execute(client, code: str) -> float:
    start = time.perf_counter()
    reply = client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"benchmark code failed in the kernel: {code}")
    return time.perf_counter() - start


def kernel_overhead(repeats: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"kernel start": [], "import numpy, course_utils": [], "import torch": []}
    for _ in range(repeats):
        km = KernelManager(kernel_name="python3")
        start = time.perf_counter()
        km.start_kernel(extra_arguments=KERNEL_ARGUMENTS)
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        figures["kernel start"].append(time.perf_counter() - start)
        figures["import numpy, course_utils"].append(_timed_execute(client, "import numpy, course_utils"))
        figures["import torch"].append(_timed_execute(client, "import torch"))
        client.stop_channels()
        km.shutdown_kernel(now=True)
    return figures


def grading_times(names: list[str], submissions: int, profile: str) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="autograde-bench-") as tmp:
        course = Course(Path(tmp))
        for solution in solution_paths():
            name = solution.stem
            if names and name not in names:
                continue
            release = nbformat.read(build_assignment(course, solution), as_version=4)
            source = course.source_notebook(name)
            start = time.perf_counter()
            compute_reference(source, profile)
            figures[f"reference run {name}"] = [time.perf_counter() - start]
            text = nbformat.writes(fill_release(release, reference_answers(nbformat.read(source, as_version=4))))
            students = [f"student{i:03d}" for i in range(submissions)]
            for student in students:
                write_submission(course, student, name, text)
            grade_assignment(course, name, students[:1], profile, feedback=False)  # computes the reference
            per = []
            for student in students:
                start = time.perf_counter()
                grade = grade_assignment(course, name, [student], profile, feedback=False)[0]
                per.append(time.perf_counter() - start)
                if grade.error or grade.score != grade.max_score:
                    raise RuntimeError(f"reference submission not graded full marks: {grade}")
            figures[f"grade per submission {name}"] = per
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=3, help="submissions graded per notebook")
    parser.add_argument("--kernels", type=int, default=5, help="kernels started for the overhead rows")
    parser.add_argument("--notebooks", nargs="*", default=[], help="only these notebooks")
    args = parser.parse_args()
    profile = detect_profile()
    figures = grading_times(args.notebooks, args.submissions, profile)
    figures.update(kernel_overhead(args.kernels))
    order = [k for k in figures if k.startswith("grade per")] + ["kernel start", "import numpy, course_utils",
                                                                 "import torch"]
    order += [k for k in figures if k not in order]
    print(f"\nprofile: {profile}")
    print(f"{'benchmark':45s} {'mean s':>8s} {'min s':>8s} {'max s':>8s} {'n':>3s}")
    for key in order:
        values = figures[key]
        print(f"{key:45s} {statistics.mean(values):8.2f} {min(values):8.2f} {max(values):8.2f} {len(values):3d}")


if __name__ == "__main__":
    main()
