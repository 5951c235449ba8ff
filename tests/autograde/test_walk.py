"""`autograde walk`: a released notebook run by a student who has written nothing yet shows
errors only in the stubs and the test cells below them. Every release is held to it in the
browser (tests/ui/test_release_in_lab.py); here, the walk's own sorting of errors."""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograde.build.walk import walk_release


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
