"""Read a solution file (jupytext percent format) into an nbgrader source notebook.

Solutions are written as ``# %%`` cells with a compact marker in the cell header:

- ``# %% solution="linear_scores"``: the student's cell; the code between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced by a stub in the release;
- ``# %% tests="test_linear_scores" points=2``: a locked, graded test cell: visible
  tests first, then ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``, which only
  run at grading;
- ``# %% [markdown] answer="explain_svm_loss_at_init" points=1``: a written answer,
  graded by hand; the cell holds the model answer, the release an empty answer box.

Every other cell is ordinary. This module expands the markers into nbgrader's
cell metadata, so the nbgrader schema lives in exactly one place.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext
import nbformat
from nbformat.notebooknode import NotebookNode

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
NAME_PATTERN = re.compile(r"^\d\d[a-z]?_[a-z0-9_]+$")  # 01b_knn sorts beside 01_linear_classifiers
GENERATED_NOTICE = "<!-- Generated from solutions/{name}.py by `autograde build`; edit that file, not this one. -->"


HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"


class SolutionFormatError(ValueError):
    """A solution file that does not follow the cell conventions above."""


def solution_paths(solutions_dir: Path | None = None) -> list[Path]:
    """The solution files in course order (``NN_name.py``)."""
    folder = solutions_dir or REPO_ROOT / "solutions"
    return sorted(p for p in folder.glob("*.py") if NAME_PATTERN.match(p.stem))


def repository() -> str:
    """The GitHub ``owner/name`` the Colab badges and the Colab install point at."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return config["tool"]["autograde"]["repository"]


def release_tag() -> str:
    """The git tag of this release of the course (``v`` + the project's version).

    Colab installs the course helpers from this tag, never from ``main``, so a commit made
    mid-term cannot change a student's helpers under their notebook. Tag each release.
    """
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return f"v{config['project']['version']}"


def _setup_cells(name: str) -> list[NotebookNode]:
    repo, tag = repository(), release_tag()
    # Both badges open the notebook of this release's tag, so a link in last term's syllabus
    # keeps opening last term's notebook. Binder builds the repo from environment.yml.
    badge = (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{repo}/blob/{tag}/notebooks/{name}.ipynb) "
        f"[![Binder](https://mybinder.org/badge_logo.svg)]"
        f"(https://mybinder.org/v2/gh/{repo}/{tag}?urlpath=lab/tree/notebooks/{name}.ipynb)"
    )
    setup = (
        f"# Setup. On Colab this installs the course helpers of release {tag} (Colab's own PyTorch is kept);\n"
        "# on your machine, where `make lab` installed them, it does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    get_ipython().run_line_magic("pip", "install -q git+https://github.com/{repo}.git@{tag}")'
    )
    return [
        nbformat.v4.new_markdown_cell(GENERATED_NOTICE.format(name=name) + "\n\n" + badge),
        nbformat.v4.new_code_cell(setup),
    ]


def _nbgrader_metadata(cell: NotebookNode, path: Path, index: int) -> dict | None:
    meta = cell.metadata
    solution, tests = meta.pop("solution", None), meta.pop("tests", None)
    answer, points = meta.pop("answer", None), meta.pop("points", None)
    if sum(map(bool, (solution, tests, answer))) > 1:
        raise SolutionFormatError(f"{path}: cell {index} has more than one of solution, tests and answer")
    if answer:
        # A written answer, graded by hand in formgrader: the source holds the model answer,
        # nbgrader's release replaces the whole cell with "YOUR ANSWER HERE".
        if cell.cell_type != "markdown" or not cell.source.strip():
            raise SolutionFormatError(f"{path}: answer cell {answer!r} must be a markdown cell holding the model answer")
        if points is None or float(points) <= 0:
            raise SolutionFormatError(f"{path}: answer cell {answer!r} needs points=N")
        return {"grade": True, "grade_id": answer, "locked": False, "points": points,
                "schema_version": 3, "solution": True}
    if solution:
        if cell.cell_type != "code" or "### BEGIN SOLUTION" not in cell.source:
            raise SolutionFormatError(f"{path}: solution cell {solution!r} needs ### BEGIN/END SOLUTION")
        return {"grade": False, "grade_id": solution, "locked": False, "schema_version": 3, "solution": True}
    if tests:
        if points is None or float(points) <= 0:
            raise SolutionFormatError(f"{path}: test cell {tests!r} needs points=N")
        if cell.source.count(HIDDEN_BEGIN) != 1:
            raise SolutionFormatError(f"{path}: test cell {tests!r} has no hidden tests block, or more than one; it needs exactly one")
        return {"grade": True, "grade_id": tests, "locked": True, "points": points,
                "schema_version": 3, "solution": False}
    if points is not None:
        raise SolutionFormatError(f"{path}: cell {index} has points but is not a test cell")
    return None


def load_solution(path: Path) -> NotebookNode:
    """Parse ``path`` and return the nbgrader source notebook (solutions and hidden tests kept)."""
    text = path.read_text()
    nb = jupytext.reads(text, fmt="py:percent")
    cells = []
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        nbgrader = _nbgrader_metadata(cell, path, index)
        cell.metadata.pop("lines_to_next_cell", None)
        if nbgrader:
            if nbgrader["grade_id"] in seen:
                raise SolutionFormatError(f"{path}: grade_id {nbgrader['grade_id']!r} is used twice")
            seen.add(nbgrader["grade_id"])
            cell.metadata["nbgrader"] = nbgrader
        cells.append(cell)
    if not cells or cells[0].cell_type != "markdown":
        raise SolutionFormatError(f"{path}: the first cell must be the notebook's markdown title")
    out = nbformat.v4.new_notebook()
    out.cells = [cells[0], *_setup_cells(path.stem), *cells[1:]]
    for i, cell in enumerate(out.cells):
        # Stable ids keep the release byte-for-byte reproducible (and `build --check` meaningful).
        cell["id"] = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell-{i:03d}")
    out.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    out.nbformat, out.nbformat_minor = 4, 5
    return out


def salt_hidden_tests(nb: NotebookNode, salt: int) -> None:
    """Open every hidden-test block with the course's salt, so its hidden inputs are drawn per course.

    Only the course's source notebook carries the salt: the release has no hidden tests,
    and the course directory it lives in is invisible to students' kernels.
    """
    line = f"from autograde.probe import set_course_salt as _set_course_salt; _set_course_salt({int(salt)})"
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = cell.source.replace(HIDDEN_BEGIN, f"{HIDDEN_BEGIN}\n{line}", 1)
