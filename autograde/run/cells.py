"""Run a graded test cell so that its hidden checks report even when a visible test fails.

A test cell is visible tests, then hidden tests. Run as one block, a failing visible
assert stops it before any hidden check reports, so the judge learns nothing about
*what* is wrong. The grader runs the two parts one after the other, in the same
kernel and into the same cell: the cell still scores zero when a visible test failed
(as nbgrader would score it), but the hidden results are there to name the mistake.
"""

from __future__ import annotations

from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode
from nbgrader.utils import is_grade, is_solution

from ..build.source import HIDDEN_BEGIN
from ..judge.preprocessor import VISIBLE_FAILED


def split_test_source(source: str) -> tuple[str, str] | None:
    """(visible tests, hidden tests) of a test cell's source, or None without hidden tests."""
    at = source.find(HIDDEN_BEGIN)
    return None if at < 0 else (source[:at], source[at:])


async def execute_cell(client: NotebookClient, cell: NotebookNode, index: int) -> NotebookNode:
    """``client.async_execute_cell``, with a graded test cell's two parts run one after the other."""
    parts = split_test_source(cell.source) if cell.cell_type == "code" and is_grade(cell) \
        and not is_solution(cell) else None
    if parts is None:
        return await client.async_execute_cell(cell, index)
    original = cell.source
    try:
        cell.source = parts[0]
        await client.async_execute_cell(cell, index)
        visible = list(cell.outputs)
        cell.source = parts[1]
        await client.async_execute_cell(cell, index)
        cell.outputs = visible + list(cell.outputs)
    finally:
        cell.source = original
    cell.metadata[VISIBLE_FAILED] = any(o.get("output_type") == "error" for o in visible)
    return cell
