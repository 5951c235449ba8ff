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
    KERNEL_HOME,
    Cgroups,
    Limits,
    Policy,
    allowed_paths,
    bwrap_arguments,
    default_hidden,
)

from .conftest import needs_bwrap


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
        f"import os\nprint(os.path.exists({str(secret_course)!r}) and os.listdir({str(secret_course)!r}))",
        f"print(os.path.exists({str(REPO_ROOT / 'solutions' / '00_setup.py')!r}))",
        f"print(os.path.exists({str(Path.home())!r}) and os.listdir({str(Path.home())!r}))",
        "print(len([p for p in os.listdir('/proc') if p.isdigit()]))",  # only its own processes
        "import course_utils, autograde.probe, numpy; print('imports ok')",
    ], strict(secret_course))
    assert report.sandbox == "bwrap" and report.stopped is None
    assert out[0].strip() in ("[]", "False")  # hidden behind an empty folder, or not there at all
    assert out[1].strip() == "False"
    # The grader's home is empty but for what the kernel needs to run (an interpreter under ~/.pyenv, say).
    needed_in_home = {p.relative_to(Path.home()).parts[0] for p, _ in allowed_paths() if p.is_relative_to(Path.home())}
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


@pytest.mark.parametrize("mode", ["auto", "none"])
def test_nothing_in_the_environment_says_grading(secret_course, monkeypatch, mode):
    """With or without bubblewrap: no grader variable, and no value that names the grader."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    _, out = run(["import os; print(sorted(os.environ.items()))"],
                 Policy(mode=mode, hidden=default_hidden(secret_course)))
    for leaked in ("NBGRADER", "GRADER_SECRET", "JPY_PARENT_PID", "PYTEST", "autograde", "s3cret"):
        assert leaked not in out[0], leaked
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


def test_the_sandbox_binds_an_allow_list_never_the_root_or_the_repository(tmp_path):
    """Nothing is bound wholesale: not /, not the repository; a path to hide inside an allowed one is refused."""
    import sys

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    args = bwrap_arguments(scratch, Policy(hidden=default_hidden(tmp_path / "course")))
    binds = [args[i + 1] for i in range(len(args) - 1) if args[i] in ("--ro-bind", "--bind", "--dev-bind")]
    assert "/" not in binds and str(REPO_ROOT) not in binds
    assert str(REPO_ROOT / "course_utils") in binds and str(REPO_ROOT / "autograde" / "probe.py") in binds
    assert not any(b.startswith(str(REPO_ROOT / ".git")) or b.startswith(str(REPO_ROOT / "solutions")) for b in binds)
    assert "--unshare-net" in args and "--clearenv" in args and "--remount-ro" in args
    with pytest.raises(ValueError, match="must stay hidden"):
        bwrap_arguments(scratch, Policy(hidden=(str(Path(sys.prefix) / "course"),)))


# ---- what a kernel can read: an allow-list, not a list of things to hide -----------------------------

def _readable_under(root: Path, skip: Path | None = None) -> str:
    """Kernel code that prints every file under ``root`` it can open (not under ``skip``), relative to ``root``."""
    return (f"import os\nfound = []\nfor top, dirs, files in os.walk({str(root)!r}):\n"
            f"    dirs[:] = [d for d in dirs if os.path.join(top, d) != {str(skip)!r}]\n"
            "    for name in files:\n        path = os.path.join(top, name)\n"
            "        try:\n            open(path, 'rb').close()\n"
            f"            found.append(os.path.relpath(path, {str(root)!r}))\n"
            "        except OSError:\n            pass\nprint(sorted(found))")


@needs_bwrap
def test_only_the_allowed_files_of_the_repository_are_readable(secret_course):
    """Not .git (whose history holds the solutions), not build/, not solutions/: course_utils and the probe."""
    import sys

    git_show = ("import subprocess\ntry:\n"
                f"    r = subprocess.run(['git', '-C', {str(REPO_ROOT)!r}, 'show', 'HEAD:solutions/00_setup.py'],"
                " capture_output=True, text=True)\n    print(r.returncode, len(r.stdout))\n"
                "except OSError as exc:\n    print('no-git', 0)")
    venv = Path(sys.prefix).resolve()  # the interpreter's packages may live in the repository: allowed
    report, out = run([_readable_under(REPO_ROOT, skip=venv), git_show], strict(secret_course))
    assert report.stopped is None, report.stopped
    readable = eval(out[0])

    def allowed(path: str) -> bool:
        return path.startswith("course_utils/") or path in ("autograde/__init__.py", "autograde/probe.py")

    assert "course_utils/__init__.py" in readable and "autograde/probe.py" in readable
    assert [p for p in readable if not allowed(p)] == []
    status, length = out[1].split()
    assert status != "0" and length == "0", "git show printed the reference solution"


@pytest.fixture
def elsewhere_on_the_machine():
    """Another checkout's solutions under /srv and a Dask spill directory in /tmp, as on a shared machine."""
    import shutil
    import tempfile

    Path("/srv").mkdir(exist_ok=True)
    checkout = Path(tempfile.mkdtemp(prefix="other-checkout-", dir="/srv"))
    (checkout / "solutions").mkdir()
    (checkout / "solutions" / "00_setup.py").write_text("def standardize(X): ...\n")
    dask = Path("/tmp/dask-scratch-space")
    dask.mkdir(exist_ok=True)
    spilled = dask / f"spilled-{checkout.name}"
    spilled.write_text("another student's result")
    yield [checkout / "solutions" / "00_setup.py", spilled, Path("/root"), Path("/work"), Path("/home")]
    shutil.rmtree(checkout, ignore_errors=True)
    spilled.unlink(missing_ok=True)


@needs_bwrap
def test_other_checkouts_dask_spills_and_homes_are_invisible(secret_course, elsewhere_on_the_machine):
    secret, spilled, *homes = elsewhere_on_the_machine
    report, out = run([
        f"import os\nprint(os.path.exists({str(secret)!r}), os.path.exists({str(spilled)!r}))",
        f"print(os.path.exists('/tmp/dask-scratch-space'), os.path.exists({str(secret.parent.parent)!r}))",
        "import os\nfor home in " + repr([str(h) for h in homes]) + ":\n"
        "    print(home, sorted(os.listdir(home)) if os.path.isdir(home) else None)",
    ], strict(secret_course))
    assert out[0].split() == ["False", "False"]
    assert out[1].split() == ["False", "False"]
    # Grader homes and work trees show at most the directories on the way to what the kernel needs.
    for line in out[2].strip().splitlines():
        home, listing = line.split(" ", 1)
        shown = eval(listing) or []
        assert all(any(str(p).startswith(f"{home}/{name}") for p in _allowed_roots()) or f"{home}/{name}" == KERNEL_HOME
                   for name in shown), line


def _allowed_roots() -> list[Path]:
    from autograde.run.sandbox import allowed_paths

    return [source for source, _ in allowed_paths()]


# ---- who the kernel is ---------------------------------------------------------------------------

@needs_bwrap
def test_the_kernel_is_not_root_and_cannot_write_kernel_settings(secret_course):
    report, out = run([
        "import os\nprint(os.getuid(), os.geteuid(), os.getgid(), os.getegid())",
        "import os\nfor path in ('/proc/sys/kernel/core_pattern', '/proc/sys/vm/drop_caches'):\n"
        "    try:\n        os.close(os.open(path, os.O_WRONLY)); print('writable', path)\n"
        "    except OSError as exc:\n        print('refused', exc.errno)",
        "print(*[line.split()[1] for line in open('/proc/self/status') if line.startswith(('NoNewPrivs', 'CapEff'))])",
        "import os\nopen(os.path.expanduser('~/mine.txt'), 'w').write('ok'); open('/tmp/t.txt', 'w').write('ok');"
        " print('scratch writable')",
    ], strict(secret_course))
    assert report.stopped is None, report.stopped
    assert 0 not in [int(x) for x in out[0].split()], out[0]
    assert "writable" not in out[1] and out[1].count("refused") == 2, out[1]
    assert out[2].split() == ["0000000000000000", "1"], out[2]  # no capabilities, no_new_privs
    assert out[3].strip() == "scratch writable"


@needs_bwrap
def test_pid_1_and_the_kernel_s_own_view_name_no_grader_path(secret_course, tmp_path):
    """/proc/1/cmdline (bubblewrap's own command line) must not list the course, the LMS folder or the gradebook."""
    lms = tmp_path / "lms-export"
    lms.mkdir()
    policy = Policy(mode="bwrap", hidden=default_hidden(secret_course, lms, secret_course / "gradebook.db"))
    _, out = run([
        "import os\nseen = []\nfor pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    for part in ('cmdline', 'environ'):\n        try:\n"
        "            seen.append(open(f'/proc/{pid}/{part}', 'rb').read().decode(errors='replace'))\n"
        "        except OSError:\n            pass\n"
        "print('\\n'.join(seen + [os.getcwd(), repr(dict(os.environ))]))",
    ], policy)
    assert str(secret_course) not in out[0] and str(lms) not in out[0]
    assert str(tmp_path) not in out[0]
    assert "autograde-kernel" not in out[0] and "gradebook" not in out[0]


@needs_bwrap
def test_the_kernel_s_home_and_paths_say_nothing_about_grading(secret_course):
    _, out = run([
        "import os, sys, tempfile\nprint(os.environ['HOME'], os.getcwd(), tempfile.gettempdir(), ' '.join(sys.argv),"
        " open('/proc/self/cmdline').read())",
    ], strict(secret_course))
    assert "autograde" not in out[0] and "kernel-" not in out[0], out[0]
    assert out[0].split()[0] == "/home/student"


# ---- evaluation labels ---------------------------------------------------------------------------

def _fashion_mnist_present() -> bool:
    import course_utils as cu

    try:
        cu.fetch("fashion-mnist", download=False)
        return True
    except Exception:  # noqa: BLE001 -- any reason it cannot be found
        return False


@needs_bwrap
@pytest.mark.skipif(not _fashion_mnist_present(), reason="Fashion-MNIST is not installed (apt install dataset-fashion-mnist)")
def test_the_test_labels_are_unreadable_but_the_test_images_are_not(secret_course):
    report, out = run([
        "import course_utils as cu\nprint(cu.load_fashion_mnist_images('test').shape, "
        "cu.load_fashion_mnist('train')[1].shape, cu.load_fashion_mnist('val')[1].shape)",
        "try:\n    cu.load_fashion_mnist('test'); print('labels readable')\n"
        "except Exception as exc:\n    print('refused', type(exc).__name__)",
        "import os\nfound = []\nfor top, dirs, files in os.walk('/'):\n"
        "    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys', '/dev')]\n"
        "    found += [os.path.join(top, f) for f in files if 't10k-labels' in f]\nprint(found)",
    ], strict(secret_course))
    assert out[0].split(")")[0] == "(10000, 28, 28", out[0]
    assert out[1].startswith("refused"), out[1]
    assert out[2].strip() == "[]", out[2]


# ---- limits: output by every route, scratch size -------------------------------------------------

def test_output_by_every_route_counts_against_the_limits(secret_course):
    """48 MiB through the probe's MIME type, update_display and clear_output loops keep at most the limits."""
    import json
    import time

    from autograde.probe import MIME_TYPE

    limits = Limits(cell_output=1 << 20)
    started = time.perf_counter()
    nb_cells = [
        f"from IPython.display import display, clear_output\nfor i in range(48):\n"
        f"    display({{{MIME_TYPE!r}: {{'check': f'c{{i}}', 'value': 'x' * (1 << 20)}}}}, raw=True)",
        "h = display({'text/plain': 'small'}, raw=True, display_id=True)\nfor i in range(48):\n"
        "    h.update({'text/plain': str(i % 10) * (1 << 20)}, raw=True)",
        "for i in range(48):\n    clear_output(wait=True)\n    print('y' * (1 << 20))",
        "for i in range(48):\n    display({'text/plain': 'z' * (1 << 20)}, raw=True, display_id=f'd{i}')",
        "print('after')",
    ]
    nb = new_notebook(cells=[new_code_cell(c) for c in nb_cells])
    report = execute_notebook(nb, Policy(mode="auto", hidden=default_hidden(secret_course), limits=limits))
    seconds = time.perf_counter() - started
    sizes = [len(json.dumps(cell.outputs)) for cell in nb.cells]
    print(f"\n48 MiB per cell by four routes: outputs kept {sizes} bytes, run took {seconds:.1f} s")
    assert (4 << 20) < sizes[0] <= limits.probe_output + (64 << 10), sizes  # probes are kept, up to their budget
    for size in sizes[1:4]:
        assert size <= limits.cell_output + (64 << 10), sizes
    assert "after" in nb.cells[4].outputs[0]["text"]
    assert report.truncated_cells == 4


@needs_bwrap
def test_scratch_space_is_capped(secret_course):
    cap = 64 << 20
    report, out = run([
        "import os\ndef fill(folder):\n    n = 0\n    try:\n        for i in range(10_000):\n"
        "            with open(os.path.join(folder, f'fill-{len(folder)}-{i}.bin'), 'wb') as f:\n"
        "                f.write(b'x' * (1 << 20))\n            n += 1\n"
        "    except OSError as exc:\n        return n, exc.errno\n    return n, None\n"
        "print([fill(os.path.expanduser('~')), fill('/tmp'), fill(os.getcwd() + '/')])",
        "print('alive')",
    ], strict(secret_course, scratch=cap))
    home, tmp, cwd = eval(out[0])
    assert home[1] is not None and tmp[1] is not None and cwd[1] is not None, out[0]
    assert home[0] + tmp[0] + cwd[0] <= cap >> 20, out[0]
    assert out[1].strip() == "alive"


def test_default_workers_fit_memory_as_well_as_cores():
    from autograde.run.parallel import worker_count

    gib = 1 << 30
    assert worker_count(cores=16, available_memory=24 * gib, kernel_memory=6 * gib) == 4
    assert worker_count(cores=2, available_memory=24 * gib, kernel_memory=6 * gib) == 2
    assert worker_count(cores=8, available_memory=5 * gib, kernel_memory=6 * gib) == 1
    assert worker_count(cores=64, available_memory=512 * gib, kernel_memory=6 * gib) == 64
