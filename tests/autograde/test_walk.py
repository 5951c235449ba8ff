"""`autograde walk`: a released notebook run by a student who has written nothing yet shows
errors only in the stubs and the test cells below them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograde.build.source import REPO_ROOT
from autograde.build.walk import walk_release

RELEASED = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))


def _cell(source: str, **nbgrader) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def test_walk_sorts_expected_errors_from_defects(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("import course_utils as cu"),
        _cell("def f(x):\n    raise NotImplementedError('Implement f')", solution=True, grade_id="f"),
        _cell("assert f(1) == 2", grade=True, solution=False, grade_id="test_f", points=1),
        _cell("with cu.needs_your_code():\n    y = f(3)\n    print(y)"),  # waits quietly
        _cell("print(f(4))"),  # a demo cell that crashes: a defect
        _cell("with cu.needs_your_code():\n    print(y)"),  # y was never made: waits quietly
        _cell("with cu.needs_your_code():\n    1 / 0"),  # a real bug still shows
    ]
    path = tmp_path / "99_demo.ipynb"
    nbformat.write(nb, path)
    walk = walk_release(path)
    assert [(e.index, e.kind) for e in walk.errors] == [(2, "test"), (4, "other"), (6, "other")]
    assert "Implement f" in walk.errors[1].error and "ZeroDivisionError" in walk.errors[2].error
    assert walk.counts() == {"stub": 0, "test": 1, "other": 2}


@pytest.mark.slow
@pytest.mark.parametrize("name", RELEASED)
def test_release_errors_only_in_stubs_and_their_tests(name: str):
    walk = walk_release(REPO_ROOT / "notebooks" / f"{name}.ipynb")
    defects = [f"cell {e.index} ({e.first_line}): {e.error}" for e in walk.unexpected]
    assert not defects, (
        f"{name}: run cell by cell before any exercise is written, these cells fail outside the stubs "
        "and their tests (wrap demo cells in `with cu.needs_your_code():`, and create nothing a later "
        "cell needs inside a test cell):\n" + "\n".join(defects)
    )
