"""The release is generated from solutions/, leaks nothing, and stale copies are caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import is_grade, is_solution

from autograde.build.release import StaleReleaseError, check_release
from autograde.build.source import REPO_ROOT, SolutionFormatError, load_solution, solution_paths
from autograde.mutants import load_mutants

from .conftest import built

NOTEBOOKS = REPO_ROOT / "notebooks"


def test_committed_release_is_up_to_date():
    check_release()


def test_a_hand_edited_release_is_reported_stale(tmp_path):
    copy = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, copy)
    target = copy / "01_linear_classifiers.ipynb"
    target.write_text(target.read_text().replace("Linear classifiers", "Linear classifierz", 1))
    (copy / "01_linear_classifiers.ipynb").touch()
    with pytest.raises(StaleReleaseError, match="01_linear_classifiers.ipynb"):
        check_release(copy)


def _solution_only_lines(source: str) -> set[str]:
    """Lines that appear only between ### BEGIN SOLUTION and ### END SOLUTION in a source cell."""
    inside, outside, in_region = set(), set(), False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == "### BEGIN SOLUTION":
            in_region = True
        elif stripped == "### END SOLUTION":
            in_region = False
        elif stripped and not stripped.startswith("#"):
            (inside if in_region else outside).add(stripped)
    return inside - outside


@pytest.mark.parametrize("solution", solution_paths(), ids=lambda p: p.stem)
def test_release_hides_solutions_and_hidden_tests_and_names_each_task(course, solution):
    release, _ = built(course, solution.stem)
    source = nbformat.read(course.source_notebook(solution.stem), as_version=4)
    text = nbformat.writes(release)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "autograde.probe" not in text
    secret = {c.metadata.nbgrader["grade_id"]: _solution_only_lines(c.source) for c in source.cells if is_solution(c)}
    for cell in release.cells:
        if is_solution(cell) and cell.cell_type == "markdown":  # a written answer: an empty box
            assert cell.source.strip() == "YOUR ANSWER HERE", cell.source
        elif is_solution(cell):
            grade_id = cell.metadata.nbgrader["grade_id"]
            released = {line.strip() for line in cell.source.splitlines()}
            leaked = secret[grade_id] & released
            assert not leaked, f"reference code leaked into the release: {leaked}"
            if grade_id.startswith("choice_"):  # the choice starts empty; its test says what to write
                assert "= None  # your answer: one letter in quotes" in cell.source, cell.source
            else:
                assert 'raise NotImplementedError("Implement ' in cell.source
    for cell in release.cells:
        assert not cell.get("outputs"), "the release must not carry outputs"
    assert "colab.research.google.com/github/" in release.cells[1].source
    assert "google.colab" in release.cells[2].source
    # Colab installs the helpers of this release, never whatever main holds that day.
    from autograde.build.source import release_tag

    assert f".git@{release_tag()}\"" in release.cells[2].source and "@main" not in release.cells[2].source


@pytest.mark.parametrize("solution", solution_paths(), ids=lambda p: p.stem)
def test_every_graded_function_has_at_least_three_mutants(solution):
    nb = load_solution(solution)
    cells = [c.metadata.nbgrader["grade_id"] for c in nb.cells if is_solution(c)]
    tests = {c.metadata.nbgrader["grade_id"] for c in nb.cells if is_grade(c)}
    mutants = load_mutants(solution.parent / "mutants" / f"{solution.stem}.toml")
    for cell in cells:
        if cell.startswith("explain_"):
            continue  # a written answer, marked by hand
        # A choice has one wrong letter to prove its check with; a function, at least three real bugs.
        wanted = 1 if cell.startswith("choice_") else 3
        assert sum(m.cell == cell for m in mutants) >= wanted, f"{solution.stem}: {cell} has fewer than {wanted} mutants"
    assert {m.test for m in mutants} <= tests


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "99_broken.py"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ('# %% solution="f"\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n', "first cell"),
    ('# %% [markdown]\n# # T\n\n# %% solution="f"\ndef f():\n    return 1\n', "BEGIN/END SOLUTION"),
    ('# %% [markdown]\n# # T\n\n# %% tests="t"\nassert True\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n', "points"),
    ('# %% [markdown]\n# # T\n\n# %% tests="t" points=1\nassert True\n', "no hidden tests"),
    ('# %% [markdown]\n# # T\n\n# %% tests="t" points=1\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n\n'
     '# %% tests="t" points=1\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n', "used twice"),
])
def test_malformed_solutions_are_refused_with_a_reason(tmp_path, text, message):
    with pytest.raises(SolutionFormatError, match=message):
        load_solution(_write(tmp_path, text))
