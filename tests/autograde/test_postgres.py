"""A real PostgreSQL gradebook behind --db-url: grade a class, regrade, resume an interrupted run, export CSV.

The fixture starts a throwaway server of its own (Debian's `postgresql` package, installed by
scripts/system-deps.sh): initdb into a fresh folder as an unprivileged user (PostgreSQL refuses
to run as root), listening only on a unix socket in that folder, on a port the OS handed out,
stopped and deleted afterwards. The class is the tiny one-function assignment of test_scale.py,
so the test measures the gradebook, not the notebook; everything goes through the `autograde` CLI
as an instructor would type it.
"""

from __future__ import annotations

import csv
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from autograde.build.release import build_assignment
from autograde.course import COURSE_ID, Course
from autograde.mutants import fill_release, reference_answers
from autograde.run.grade import write_submission

from .test_scale import _graded_count, tiny_course

pytestmark = pytest.mark.slow


def _postgres_bin() -> Path | None:
    """The folder holding initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    """postgresql://grader@/course on a private server; yields the SQLAlchemy URL."""
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; scripts/system-deps.sh installs it (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    # SQLAlchemy 2.1 speaks to postgresql:// URLs through psycopg 3, which the grader extra declares.
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("psycopg is not installed: the grader extra declares psycopg[binary]; reinstall with .[dev]")
        pytest.skip("psycopg is not installed (pip install 'psycopg[binary]')")
    # Root cannot run postgres: hand the server to `nobody`, in a folder outside root's private tmp.
    as_root = os.geteuid() == 0
    user = {"user": 65534, "group": 65534, "extra_groups": []} if as_root else {}
    home = Path(tempfile.mkdtemp(prefix="autograde-pg-"))
    data, run = home / "data", home / "run"
    run.mkdir()
    if as_root:
        for path in (home, run):
            os.chown(path, 65534, 65534)
    port = _free_port()
    env = {"PATH": os.environ["PATH"], "LC_ALL": "C", "HOME": str(home), "TZ": "UTC"}

    def pg(*args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([str(bindir / args[0]), *args[1:]], env=env, capture_output=True, text=True,
                              timeout=120, cwd=home, **user, **kw)

    try:
        init = pg("initdb", "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8", "--no-sync")
        assert init.returncode == 0, init.stdout + init.stderr
        options = f"-c listen_addresses='' -c unix_socket_directories={run} -p {port} -c fsync=off"
        start = pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(home / "server.log"), "-w", "start")
        assert start.returncode == 0, start.stdout + start.stderr + (home / "server.log").read_text()
        made = pg("createdb", "-h", str(run), "-p", str(port), "-U", "grader", "course")
        assert made.returncode == 0, made.stderr
        yield f"postgresql://grader@/course?host={run}&port={port}"
    finally:
        if (data / "postmaster.pid").exists():
            pg("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _autograde(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograde.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def _scores(url: str) -> dict[str, float]:
    """Every tiny submission's score, read straight from PostgreSQL."""
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id=COURSE_ID) as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions("tiny")}


def test_a_class_graded_into_postgresql_regraded_resumed_and_exported(tmp_path, postgres_url):
    course, expected = tiny_course(tmp_path, 16)
    # The assignment's cells go into PostgreSQL when it is built for that gradebook.
    build_assignment(Course(course.root, database=postgres_url), tmp_path / "tiny.py")
    grade = ["grade", "--course", str(course.root), "--assignment", "tiny", "--db-url", postgres_url,
             "--workers", "2", "--profile", "cpu", "--quiet", "--no-mistakes"]

    # An interrupted first run: kill the coordinator, its workers and their kernels mid-class.
    first = subprocess.Popen([sys.executable, "-m", "autograde.cli", *grade], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while _graded_count(course) < 4 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = _graded_count(course)
    assert 4 <= done_before < 16, done_before
    stored = _scores(postgres_url)
    # Each stored grade is whole (one transaction per submission): the ones on disk, no more.
    assert stored.keys() <= expected.keys() and len(stored) >= done_before
    assert all(stored[s] == expected[s] for s in stored), stored

    # Resumed: what was finished is kept, the rest graded; every score is in PostgreSQL.
    resumed = _autograde(*grade)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    kept = int(resumed.stdout.split(" submission(s) unchanged")[0].rsplit("\n", 1)[-1])
    assert kept >= done_before
    assert _scores(postgres_url) == expected
    # Nothing went to the SQLite file beside the course (the build registered the assignment there only).
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course_id=COURSE_ID) as sqlite:
        assert sqlite.assignment_submissions("tiny") == []

    # CSV export, from PostgreSQL, by nbgrader's exporter.
    rows = list(csv.DictReader((course.root / "grades.csv").open()))
    assert {r["student_id"]: float(r["score"]) for r in rows if r["assignment"] == "tiny"} == expected

    # Regrade one student who fixed the bug: the new score replaces the old one in PostgreSQL.
    wrong = next(s for s, score in expected.items() if score == 0.0)
    release = nbformat.read(course.release_notebook("tiny"), as_version=4)
    right = reference_answers(nbformat.read(course.source_notebook("tiny"), as_version=4))
    write_submission(course, wrong, "tiny", nbformat.writes(fill_release(release, right)))
    regraded = _autograde(*grade, "--student", wrong, "--force")
    assert regraded.returncode == 0, regraded.stdout + regraded.stderr
    assert _scores(postgres_url) == {**expected, wrong: 1.0}

    # Re-judging from stored results reads and writes the same PostgreSQL gradebook.
    rejudged = _autograde("rejudge", "--course", str(course.root), "--assignment", "tiny", "--db-url", postgres_url,
                          "--no-mistakes", "--no-feedback")
    assert rejudged.returncode == 0, rejudged.stdout + rejudged.stderr
    assert "re-judged 16 submission(s)" in rejudged.stdout and "scores changed for 0" in rejudged.stdout


def test_grading_into_a_new_postgresql_database_needs_no_python(tmp_path, postgres_url):
    """The instructor's CLI path: `autograde build` (SQLite), then `autograde grade --db-url` into an empty database."""
    course, expected = tiny_course(tmp_path, 3)
    run = _autograde("grade", "--course", str(course.root), "--assignment", "tiny", "--db-url", postgres_url,
                     "--workers", "1", "--profile", "cpu", "--quiet", "--no-mistakes", "--no-feedback")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _scores(postgres_url) == expected
