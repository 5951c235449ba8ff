"""Keep hidden tests out of what students see: an nbgrader preprocessor for feedback.

nbgrader's feedback is the autograded notebook rendered to HTML, hidden tests
included (nbgrader issue 917). :class:`RedactHiddenTests` runs first in
``GenerateFeedback``: it replaces each hidden-test block with one line saying
that the grader ran it, and removes every line of hidden-test source that shows
up in any output -- a traceback through a hidden cell, or a student's later cell
printing IPython's input history (``In``, ``_ih``). The judge's verdict, which
names each check and how it failed, stays.

What this cannot stop is source that a kernel re-encodes before printing it; that
is why hidden inputs are drawn from a per-course secret (``autograde.probe.hidden_rng``):
hidden source that leaks tells a later cohort nothing about its own inputs.
"""

from __future__ import annotations

import re

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade

from ..build.source import HIDDEN_BEGIN

HIDDEN_END = "### END HIDDEN TESTS"
PLACEHOLDER = "# [hidden tests: run by the grader; their verdict is below]"
REMOVED = "[hidden test code removed]"
_BLOCK = re.compile(re.escape(HIDDEN_BEGIN) + r".*?(" + re.escape(HIDDEN_END) + r"|\Z)", re.S)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Lines shorter than this ("else:", "))") say nothing and occur in every program.
MIN_LINE = 12


def hidden_lines(nb: NotebookNode) -> list[str]:
    """Every distinctive line of hidden-test source in ``nb``, longest first."""
    lines: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_grade(cell):
            continue
        for block in _BLOCK.finditer(cell.source):
            lines.update(s for line in block.group(0).splitlines() if len(s := line.strip()) >= MIN_LINE)
    lines -= {HIDDEN_BEGIN, HIDDEN_END}
    return sorted(lines, key=len, reverse=True)


def redact_text(text: str, lines: list[str]) -> str:
    """``text`` with every occurrence of a hidden line replaced (ANSI colours removed first)."""
    if not lines:
        return text
    plain = _ANSI.sub("", text)
    for line in lines:
        if line in plain:
            plain = plain.replace(line, REMOVED)
    return plain if plain != _ANSI.sub("", text) else text


def _redact_output(output: NotebookNode, lines: list[str]) -> None:
    if "text" in output:
        text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
        output["text"] = redact_text(text, lines)
    if "traceback" in output:
        output["traceback"] = [redact_text(t, lines) for t in output["traceback"]]
    if "evalue" in output:
        output["evalue"] = redact_text(str(output["evalue"]), lines)
    for mime, value in list(output.get("data", {}).items()):
        if isinstance(value, list):
            value = "".join(value)
        if isinstance(value, str) and not mime.startswith("image/"):
            output["data"][mime] = redact_text(value, lines)


class RedactHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test source from test cells and from every output (for feedback)."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        lines = hidden_lines(nb)
        for cell in nb.cells:
            if cell.cell_type == "code" and is_grade(cell):
                cell.source = _BLOCK.sub(PLACEHOLDER, cell.source)
            for output in cell.get("outputs", []):
                _redact_output(output, lines)
        return nb, resources
