"""Grading at class scale: 200 submissions on two workers, a worker killed mid-run, an interrupted run resumed.

A one-function assignment keeps each submission around a second, so the test
measures the grader and not the notebook.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from autograde.build.release import build_assignment
from autograde.course import Course
from autograde.mutants import fill_release, reference_answers
from autograde.run.grade import grade_assignment, write_submission
from autograde.run.store import LEDGER

pytestmark = pytest.mark.slow

TINY = '''\
# %% [markdown]
# # Tiny: double a vector

# %%
import numpy as np

# %% solution="double"
def double(x):
    """2x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


# %% tests="test_double" points=1
print(double(np.arange(3.0)))
### BEGIN HIDDEN TESTS
from autograde.probe import report

report("double of a vector", lambda: double(np.linspace(-1, 1, 7)), rtol=1e-12)
### END HIDDEN TESTS
'''

WRONG = "def double(x):\n    return x + x + 1\n"


def tiny_course(root: Path, students: int) -> tuple[Course, dict[str, float]]:
    """A course with ``students`` submissions of the tiny assignment; returns the expected scores."""
    course = Course(root / "course")
    source = root / "tiny.py"
    source.write_text(TINY)
    release = nbformat.read(build_assignment(course, source), as_version=4)
    right = reference_answers(nbformat.read(course.source_notebook("tiny"), as_version=4))
    expected = {}
    for i in range(students):
        student = f"s{i:03d}"
        correct = i % 3 != 0
        write_submission(course, student, "tiny", nbformat.writes(fill_release(release, right if correct else {"double": WRONG})))
        expected[student] = 1.0 if correct else 0.0
    return course, expected


def _graded_count(course: Course) -> int:
    return len(list((course.root / "autograded").glob(f"*/tiny/{LEDGER}")))


def _worker_processes() -> list[psutil.Process]:
    me = psutil.Process()
    # Dask's nannies live in this process and spawn one process per worker.
    return [p for p in me.children(recursive=False) if "spawn_main" in " ".join(p.cmdline())
            and "resource_tracker" not in " ".join(p.cmdline())]


def test_200_submissions_two_workers_one_killed_mid_run(tmp_path):
    course, expected = tiny_course(tmp_path, 200)
    killed = []

    def kill_a_worker_when_a_quarter_is_done():
        deadline = time.monotonic() + 600
        while _graded_count(course) < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _worker_processes()
        if workers:
            workers[0].send_signal(signal.SIGKILL)
            killed.append(workers[0].pid)

    assassin = threading.Thread(target=kill_a_worker_when_a_quarter_is_done, daemon=True)
    assassin.start()
    started = time.perf_counter()
    grades = grade_assignment(course, "tiny", None, "cpu", feedback=False, workers=2)
    seconds = time.perf_counter() - started
    assassin.join(5)
    print(f"\n200 submissions on 2 workers in {seconds:.1f} s ({200 * 60 / seconds:.0f}/min), killed worker {killed}")

    assert killed, "no worker process was found to kill"
    assert len(grades) == 200
    errors = [(g.student, g.error) for g in grades if g.error]
    # A job on the killed worker is rerun by Dask; none may be lost.
    assert errors == []
    assert {g.student: g.score for g in grades} == expected
    assert _graded_count(course) == 200

    again = grade_assignment(course, "tiny", None, "cpu", feedback=False, workers=1)
    assert all(g.skipped for g in again) and {g.student: g.score for g in again} == expected


def test_an_interrupted_run_resumes_without_regrading(tmp_path):
    course, expected = tiny_course(tmp_path, 30)
    command = [sys.executable, "-m", "autograde.cli", "grade", "--course", str(course.root), "--assignment", "tiny",
               "--workers", "2", "--profile", "cpu", "--quiet"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while _graded_count(course) < 8 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)  # the coordinator, its workers and their kernels
    first.wait()
    done_before = _graded_count(course)
    assert 8 <= done_before < 30, done_before

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _graded_count(course) == 30
    kept = int(rerun.stdout.split(" submission(s) unchanged")[0].rsplit("\n", 1)[-1])
    assert kept >= done_before  # what was finished was not graded again
    table = rerun.stdout
    for student, score in expected.items():
        assert f"{student}  " in table and (f"{score:g}/1" in table.split(student, 1)[1].splitlines()[0])


def test_an_existing_dask_cluster_and_a_gradebook_elsewhere(tmp_path):
    """--scheduler ADDRESS and --db-url: workers of a cluster we did not start; the gradebook outside the course."""
    from distributed import LocalCluster

    database = f"sqlite:///{tmp_path / 'elsewhere' / 'grades.sqlite'}"
    (tmp_path / "elsewhere").mkdir()
    plain, expected = tiny_course(tmp_path, 6)
    course = Course(plain.root, database=database)
    build_assignment(course, tmp_path / "tiny.py")  # registers the assignment in that gradebook
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        grades = grade_assignment(course, "tiny", None, "cpu", feedback=False, scheduler=cluster.scheduler_address)
    assert {g.student: g.score for g in grades} == expected
    assert len({g.stats["worker"] for g in grades}) >= 1 and all(g.error is None for g in grades)
    assert (tmp_path / "elsewhere" / "grades.sqlite").stat().st_size > 0
