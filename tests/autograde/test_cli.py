"""The CLI as an instructor runs it: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys

from autograde.build.source import REPO_ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograde.cli", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def test_build_check_succeeds_on_the_committed_release():
    result = run("build", "--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_selfcheck_of_an_unknown_notebook_fails_clearly():
    result = run("selfcheck", "42_nothing")
    assert result.returncode != 0
    assert "no solution named '42_nothing'" in result.stderr


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("build", "grade", "selfcheck", "demo"):
        assert command in result.stdout
