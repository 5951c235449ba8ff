"""Grading benchmarks: print a table of figures (no pass/fail; timings flake on shared machines).

    python benchmarks/run.py [--submissions 4] [--kernels 5] [--workers 1 2] [--notebooks 00_setup ...]

Rows:
- kernel start, plain and sandboxed: a fresh ipykernel from launch to ready, without and
  with the grader's confinement (bubblewrap + limits); their difference is the sandbox's cost;
- kernel imports: `import numpy, course_utils` and `import torch` inside a sandboxed kernel;
- reference run: executing the solution notebook to collect the trusted results;
- per notebook and number of workers: wall seconds per submission and submissions per
  minute for N copies of the reference submission (sanitize, sandboxed run, judge,
  gradebook write; no feedback HTML), and the peak memory of a kernel and of a worker.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager

from autograde.build.release import build_assignment
from autograde.build.source import solution_paths
from autograde.course import KERNEL_ARGUMENTS, Course, detect_profile
from autograde.mutants import fill_release, reference_answers
from autograde.run.grade import grade_assignment, write_submission
from autograde.run.reference import compute_reference
from autograde.run.sandbox import (
    Cgroups,
    Policy,
    SandboxedKernelManager,
    default_hidden,
    kernel_environment,
    make_scratch,
)


async def _timed_execute(client, code: str) -> float:
    start = time.perf_counter()
    reply = await client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"benchmark code failed in the kernel: {code}")
    return time.perf_counter() - start


async def _one_kernel(sandboxed: bool, figures: dict[str, list[float]]) -> None:
    policy = Policy(hidden=default_hidden())
    scratch = make_scratch()
    cgroups = Cgroups(policy.limits) if sandboxed else None
    km = (SandboxedKernelManager(scratch, policy, policy.resolved_mode(), cgroups) if sandboxed
          else AsyncKernelManager(kernel_name="python3"))
    label = f"kernel start, {'sandboxed (' + km.mode + ')' if sandboxed else 'plain'}"
    start = time.perf_counter()
    await km.start_kernel(extra_arguments=KERNEL_ARGUMENTS, env=kernel_environment(scratch, policy), cwd=str(scratch),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    figures.setdefault(label, []).append(time.perf_counter() - start)
    if sandboxed:
        figures.setdefault("import numpy, course_utils (sandboxed)", []).append(
            await _timed_execute(client, "import numpy, course_utils"))
        figures.setdefault("import torch (sandboxed)", []).append(await _timed_execute(client, "import torch"))
    client.stop_channels()
    await km.shutdown_kernel(now=True)
    if cgroups:
        cgroups.close()
    shutil.rmtree(scratch, ignore_errors=True)


def kernel_overhead(repeats: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {}
    for _ in range(repeats):
        asyncio.run(_one_kernel(False, figures))
        asyncio.run(_one_kernel(True, figures))
    return figures


def grading_times(names: list[str], submissions: int, workers: list[int], profile: str) -> dict[str, list[float]]:
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
            grade_assignment(course, name, students[:1], profile, feedback=False)  # caches the reference
            for w in workers:
                start = time.perf_counter()
                grades = grade_assignment(course, name, students, profile, feedback=False, workers=w, force=True)
                wall = time.perf_counter() - start
                bad = [g for g in grades if g.error or g.score != g.max_score]
                if bad:
                    raise RuntimeError(f"reference submission not graded full marks: {bad[0]}")
                figures[f"{name}, {w} worker(s): s per submission"] = [wall / len(students)]
                figures[f"{name}, {w} worker(s): submissions per minute"] = [60 * len(students) / wall]
                kernel_peak = [g.stats["peak_memory"] / 2**20 for g in grades if g.stats.get("peak_memory")]
                if kernel_peak:
                    figures[f"{name}, {w} worker(s): kernel peak MiB"] = kernel_peak
                figures[f"{name}, {w} worker(s): worker peak RSS MiB"] = [
                    g.stats["worker_peak_rss"] / 2**20 for g in grades]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=4, help="submissions graded per notebook and worker count")
    parser.add_argument("--kernels", type=int, default=5, help="kernels started for the overhead rows")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare")
    parser.add_argument("--notebooks", nargs="*", default=[], help="only these notebooks")
    args = parser.parse_args()
    profile = detect_profile()
    figures = kernel_overhead(args.kernels)
    figures.update(grading_times(args.notebooks, args.submissions, args.workers, profile))
    print(f"\nprofile: {profile}")
    print(f"{'benchmark':55s} {'mean':>8s} {'min':>8s} {'max':>8s} {'n':>3s}")
    for key, values in figures.items():
        print(f"{key:55s} {statistics.mean(values):8.2f} {min(values):8.2f} {max(values):8.2f} {len(values):3d}")


if __name__ == "__main__":
    main()
