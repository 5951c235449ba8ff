"""The guides in docs/ work as written: every command in a ```bash block runs here.

The instructor and the student share one term, in a throwaway copy of the repository (the venv
linked in, the copy's own `autograde` imported) and an nbgrader exchange in a temporary folder:
the instructor's set-up, adaptation, build and release (guide sections 0-3), then the student's
guide (fetch, validate, submit) in a folder of their own, then the instructor's collection,
grading, reports and feedback (sections 4-7).

A block preceded by `<!-- docs: slow -->` executes notebooks: it runs only in the slow test.
A block preceded by `<!-- docs: not run: REASON -->` needs what this machine lacks (GitHub, a
cluster, a browser); the test only checks that the reason is given and such blocks stay few.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = ["instructor-guide.md", "student-guide.md"]

_BLOCK = re.compile(r"(?:<!-- docs: (?P<mark>[^>]*?) -->\s*\n)?```(?P<lang>[\w-]*)\n(?P<body>.*?)```", re.S)


@dataclass
class Block:
    doc: str
    section: int  # the number of the "## N." heading it sits under
    mark: str  # "", "slow" or "not run: reason"
    body: str


def blocks(doc: str) -> list[Block]:
    text = (DOCS / doc).read_text()
    found = []
    for match in _BLOCK.finditer(text):
        if match.group("lang") != "bash":
            continue
        headings = re.findall(r"^## (\d+)\.", text[: match.start()], re.M)
        found.append(Block(doc, int(headings[-1]) if headings else 0, (match.group("mark") or "").strip(),
                           match.group("body")))
    return found


def test_the_guides_exist_and_every_block_is_marked_sensibly():
    for doc in GUIDES:
        found = blocks(doc)
        assert len(found) >= 4, f"{doc} has {len(found)} bash blocks"
        for block in found:
            assert block.mark in ("", "slow") or re.fullmatch(r"not run: \S.{10,}", block.mark), block.mark
        not_run = [b for b in found if b.mark.startswith("not run")]
        assert len(not_run) <= 2, f"{doc}: too many commands that are never run: {not_run}"
        assert sum(b.mark == "" for b in found) >= 2, f"{doc}: almost nothing runs in the fast test"
    # Other shell fences would escape this test: every shell command is in a bash block.
    for doc in GUIDES:
        langs = set(re.findall(r"^```(\w+)", (DOCS / doc).read_text(), re.M))
        assert langs <= {"bash", "python", "text"}, f"{doc} uses fences {langs}"


def _copy_of_the_repository(dest: Path) -> Path:
    top_level = {".git", ".venv", "build", "work", ".pytest_cache", ".ruff_cache", ".hypothesis"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        # build/ and work/ only at the top: autograde/build is the package that builds the release
        skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        return skip | (top_level & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, dest, symlinks=True, ignore=ignore)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    # What a graded kernel imports stays this checkout's (linked): the venv's editable install
    # points kernels there, and the sandbox binds exactly the files the grader imported, resolved.
    # The rest of autograde (build, grading) is the copy's, so it writes into the copy.
    shutil.rmtree(dest / "course_utils")
    (dest / "course_utils").symlink_to(ROOT / "course_utils")
    for name in ("__init__.py", "probe.py"):
        (dest / "autograde" / name).unlink()
        (dest / "autograde" / name).symlink_to(ROOT / "autograde" / name)
    return dest


def _run_block(block: Block, cwd: Path, env: dict[str, str]) -> None:
    script = "set -euo pipefail\n" + block.body
    run = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, (f"{block.doc}, section {block.section}: this block failed "
                                 f"(status {run.returncode}):\n{block.body}\n--- output:\n{run.stdout[-4000:]}"
                                 f"\n--- errors:\n{run.stderr[-4000:]}")


def _term(tmp_path: Path, slow: bool) -> None:
    repo = _copy_of_the_repository(tmp_path / "course-repo")
    started = time.time()
    student = tmp_path / "student"
    student.mkdir()
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    venv_bin = str(ROOT / ".venv" / "bin")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=venv_bin + os.pathsep + env.get("PATH", ""), PYTHONPATH=str(repo), EXCHANGE=str(exchange),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def wanted(block: Block) -> bool:
        return block.mark == "" or (slow and block.mark == "slow")

    instructor = [b for b in blocks("instructor-guide.md") if wanted(b)]
    for block in [b for b in instructor if b.section <= 3]:
        _run_block(block, repo, env)
    assert (exchange / "dl-course" / "outbound" / "00_setup" / "00_setup.ipynb").exists()
    # The copy's own autograde was used: the build wrote into the copy, not into this checkout.
    assert (repo / "term1" / "release" / "00_setup" / "00_setup.ipynb").exists()
    assert (repo / "notebooks" / "00_setup.ipynb").stat().st_mtime > started
    assert (ROOT / "notebooks" / "00_setup.ipynb").stat().st_mtime < started

    for block in [b for b in blocks("student-guide.md") if wanted(b)]:
        _run_block(block, student, env)
    assert list((exchange / "dl-course" / "inbound").iterdir()), "the student's submission is not in the exchange"

    for block in [b for b in instructor if b.section > 3]:
        _run_block(block, repo, env)
    assert list((repo / "term1" / "submitted").glob("*/00_setup/00_setup.ipynb"))
    if slow:
        assert (repo / "term1" / "grades.csv").exists()
        assert list((repo / "term1" / "feedback").glob("*/00_setup/00_setup.html"))


def test_a_term_by_the_guides_fast_commands(tmp_path):
    _term(tmp_path, slow=False)


@pytest.mark.slow
def test_a_term_by_the_guides_every_command(tmp_path):
    _term(tmp_path, slow=True)
