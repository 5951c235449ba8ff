"""The reference run: the trusted half of every comparison, and clear errors when it breaks."""

from __future__ import annotations

import nbformat
import pytest

from autograde.run.reference import ReferenceError, compute_reference


def _source(tmp_path, *cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    return path


def _test_cell(source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_f", "points": 1, "solution": False,
                                 "locked": True, "schema_version": 3}
    return cell


@pytest.mark.slow
def test_the_first_failing_cell_is_named_not_a_later_name_error(tmp_path):
    path = _source(
        tmp_path,
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell("# load the data\nX = np.load('/nonexistent/dataset.npy')"),
        nbformat.v4.new_code_cell("Y = X * 2"),
        _test_cell("from autograde.probe import report\nreport('y', lambda: Y)"),
    )
    with pytest.raises(ReferenceError) as info:
        compute_reference(path)
    message = str(info.value)
    assert "cell 2" in message and "# load the data" in message
    assert "FileNotFoundError" in message and "/nonexistent/dataset.npy" in message
    assert "NameError" not in message
