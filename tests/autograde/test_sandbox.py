"""The kernel a submission runs in: what it can see, reach and use, and how it may fail.

Each test runs a real ipykernel through the grader's executor and reads what the
kernel printed; the bubblewrap tests skip (saying why) where bwrap cannot run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograde.build.source import REPO_ROOT
from autograde.run.execute import execute_notebook
from autograde.run.sandbox import (
    Cgroups,
    Limits,
    Policy,
    _needed_paths,
    bwrap_arguments,
    bwrap_problem,
    default_hidden,
)

needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason=f"bubblewrap unusable: {bwrap_problem()}")


def run(cells: list[str], policy: Policy):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    report = execute_notebook(nb, policy)
    texts = []
    for cell in nb.cells:
        parts = []
        for out in cell.get("outputs", []):
            parts.append(out.get("text") or out.get("evalue") or str(out.get("data", {}).get("text/plain", "")))
        texts.append("".join(parts))
    return report, texts


@pytest.fixture
def secret_course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "reference").mkdir(parents=True)
    (course / "gradebook.db").write_text("grades")
    (course / "reference" / "answers.json").write_text("{}")
    return course


def strict(course: Path, **limits) -> Policy:
    return Policy(mode="bwrap", hidden=default_hidden(course), limits=Limits(**limits))


@needs_bwrap
def test_the_kernel_cannot_see_the_course_the_solutions_or_the_grader(secret_course):
    report, out = run([
        f"import os\nprint(os.listdir({str(secret_course)!r}))",
        f"print(os.path.exists({str(REPO_ROOT / 'solutions' / '00_setup.py')!r}))",
        f"print(os.path.exists({str(Path.home())!r}) and os.listdir({str(Path.home())!r}))",
        "print(len([p for p in os.listdir('/proc') if p.isdigit()]))",  # only its own processes
        "import course_utils, autograde.probe, numpy; print('imports ok')",
    ], strict(secret_course))
    assert report.sandbox == "bwrap" and report.stopped is None
    assert out[0].strip() == "[]"
    assert out[1].strip() == "False"
    # The grader's home is empty but for what the kernel needs to run (an interpreter under ~/.pyenv, say).
    needed_in_home = {p.relative_to(Path.home()).parts[0] for p in _needed_paths() if p.is_relative_to(Path.home())}
    assert out[2].strip() == "False" or set(eval(out[2])) <= needed_in_home
    assert int(out[3]) < 10
    assert out[4].strip() == "imports ok"


@needs_bwrap
def test_the_kernel_writes_only_its_scratch_directory(secret_course, tmp_path):
    target = tmp_path / "outside.txt"
    report, out = run([
        f"open({str(target)!r}, 'w').write('x')",
        f"open({str(REPO_ROOT / 'planted.py')!r}, 'w').write('x')",
        "open('mine.txt', 'w').write('fine'); print(open('mine.txt').read())",
    ], strict(secret_course))
    assert not target.exists() and not (REPO_ROOT / "planted.py").exists()
    assert "Read-only" in out[1] or "No such file" in out[0] or "Read-only" in out[0]
    assert out[2].strip() == "fine"


@needs_bwrap
def test_the_kernel_has_no_network(secret_course, listening_server):
    port, hits = listening_server
    _, out = run([
        "import urllib.request\ntry:\n"
        f"    urllib.request.urlopen('http://127.0.0.1:{port}/leak', timeout=3); print('reached')\n"
        "except Exception as exc:\n    print('refused', type(exc).__name__)",
    ], strict(secret_course))
    assert out[0].startswith("refused") and hits == []


def test_nothing_in_the_environment_says_grading(secret_course, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    _, out = run(["import os; print(sorted(os.environ))"], Policy(mode="auto", hidden=default_hidden(secret_course)))
    for leaked in ("NBGRADER", "GRADER_SECRET", "JPY_PARENT_PID", "PYTEST"):
        assert leaked not in out[0]
    assert "HOME" in out[0]


def test_a_kernel_that_dies_costs_the_rest_of_the_notebook_with_a_reason(secret_course):
    report, out = run(["print('before')", "import os; os._exit(3)", "print('never')"],
                      Policy(hidden=default_hidden(secret_course)))
    assert out[0].strip() == "before" and out[2] == ""
    assert "kernel died while running cell 2" in report.stopped


def test_a_hanging_cell_is_stopped_after_the_cell_timeout(secret_course):
    report, out = run(["while True:\n    pass", "print('never')"],
                      Policy(hidden=default_hidden(secret_course), limits=Limits(cell_timeout=3)))
    assert "cell 1 ran longer than 3 s" in report.stopped and out[1] == ""
    assert report.seconds < 30


def test_the_whole_notebook_has_a_deadline(secret_course):
    report, _ = run(["import time; time.sleep(2)"] * 5,
                    Policy(hidden=default_hidden(secret_course), limits=Limits(cell_timeout=10, notebook_timeout=5)))
    assert "notebook ran longer than the 5 s" in report.stopped
    assert report.seconds < 20


def test_output_floods_are_cut_and_later_cells_still_run(secret_course):
    report, out = run(["for _ in range(200):\n    print('x' * 100_000)", "print('after')"],
                      Policy(hidden=default_hidden(secret_course), limits=Limits(cell_output=256 * 1024)))
    assert report.truncated_cells == 1
    assert len(out[0]) < 400 * 1024 and "dropped the rest" in out[0]
    assert out[1].strip() == "after"


def test_memory_is_capped(secret_course):
    report, out = run([
        "import numpy as np\ntry:\n    x = np.ones(3 * 2**30 // 8); x[::4096] = 2; print('allocated', x.sum() > 0)\n"
        "except MemoryError:\n    print('MemoryError')",
        "print('after')",
    ], Policy(hidden=default_hidden(secret_course), limits=Limits(memory=1 << 30)))
    # Either the allocation fails inside the kernel (rlimit) or the kernel is killed (cgroup).
    assert "MemoryError" in out[0] or (report.stopped and "kernel died" in report.stopped)
    assert "allocated" not in out[0]


def test_fork_bombs_hit_the_process_limit(secret_course):
    if os.geteuid() == 0 and not Cgroups(Limits()).active:
        pytest.skip("running as root without a writable pids cgroup: no process limit can bind")
    report, out = run([
        "import os, time\nkids = 0\ntry:\n    for _ in range(500):\n        if os.fork() == 0:\n"
        "            time.sleep(30); os._exit(0)\n        kids += 1\nexcept OSError:\n    pass\nprint('forked', kids)",
    ], Policy(hidden=default_hidden(secret_course), limits=Limits(processes=48)))
    forked = int(out[0].split()[-1])
    assert forked < 48


def test_big_files_hit_the_file_size_limit(secret_course):
    _, out = run([
        "try:\n    with open('big.bin', 'wb') as f:\n        f.write(b'0' * (8 << 20))\n    print('wrote')\n"
        "except OSError as exc:\n    print('refused', exc.errno)",
    ], Policy(hidden=default_hidden(secret_course), limits=Limits(file_size=1 << 20)))
    assert out[0].startswith("refused")


def test_hidden_paths_inside_needed_ones_stay_hidden(tmp_path):
    """solutions/ lies inside the repository the kernel imports from: it is hidden after it is bound."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    args = bwrap_arguments(scratch, Policy(hidden=(str(Path.home()), str(REPO_ROOT / "solutions"))))
    mounts = [(args[i], args[i + 1]) for i in range(len(args) - 1) if args[i] in ("--tmpfs", "--ro-bind", "--bind")]
    order = [target for _, target in mounts]
    assert ("--tmpfs", str(REPO_ROOT / "solutions")) in mounts
    if REPO_ROOT.is_relative_to(Path.home()):
        assert order.index(str(REPO_ROOT / "solutions")) > max(i for i, t in enumerate(order) if str(REPO_ROOT).startswith(t))
    assert ("--bind", str(scratch)) in [(a, b) for a, b in mounts] or any(b == str(scratch) for _, b in mounts)
    assert "--unshare-net" in args and "--clearenv" in args
