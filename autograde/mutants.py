"""Mutants: real student bugs, kept beside the solutions, that the hidden tests must catch.

``solutions/mutants/NN_name.toml`` holds a list of::

    [[mutant]]
    name = "forgets-bias"          # short, unique within the notebook
    cell = "linear_scores"         # the solution cell it edits
    test = "test_linear_scores"    # the test cell that must lose points
    find = "X @ W.T + b"           # text that occurs exactly once in that cell
    replace = "X @ W.T"
    why = "forgets to add the bias"

and a list of correct-but-different answers that must keep FULL marks (another
vectorisation, another order of operations, float32 where the notebook allows it)::

    [[variant]]
    name = "einsum-scores"         # short, unique within the notebook (mutants included)
    cell = "linear_scores"
    find = "X @ W.T + b"           # text that occurs exactly once in that cell
    replace = "np.einsum('nd,cd->nc', X, W) + b"
    note = "another vectorisation of the same product"
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.utils import is_solution

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


class MutantError(ValueError):
    """A mutant that no longer applies to the solution it was written for."""


@dataclass(frozen=True)
class Mutant:
    name: str
    cell: str
    test: str
    find: str
    replace: str
    why: str
    # Text the visible test's failure message must contain for this mistake: proves that the
    # hint a student reads is the one for the mistake they made (checked by selfcheck).
    hint: str | None = None


@dataclass(frozen=True)
class Variant:
    """A correct answer written differently from the reference: it must keep full marks."""
    name: str
    cell: str
    find: str
    replace: str
    note: str


def _load_entries(path: Path) -> dict:
    entries = tomllib.loads(path.read_text()) if path.exists() else {}
    names = [e["name"] for kind in ("mutant", "variant") for e in entries.get(kind, [])]
    if len(set(names)) != len(names):
        raise MutantError(f"{path}: mutant and variant names must be unique")
    return entries


def load_mutants(path: Path) -> list[Mutant]:
    return [Mutant(**entry) for entry in _load_entries(path).get("mutant", [])]


def load_variants(path: Path) -> list[Variant]:
    return [Variant(**entry) for entry in _load_entries(path).get("variant", [])]


def reference_answers(source: NotebookNode) -> dict[str, str]:
    """The reference code of every solution cell, markers stripped, by grade_id."""
    return {
        cell.metadata.nbgrader["grade_id"]: _SOLUTION_MARKERS.sub("", cell.source)
        for cell in source.cells
        if cell.cell_type == "code" and is_solution(cell)
    }


def reference_namespace(path: Path, before: tuple[str, ...] = (), after: tuple[str, ...] = (),
                        namespace: dict | None = None) -> dict:
    """Run a solution file's reference answers in one namespace, as a benchmark needs them.

    ``before`` and ``after``: for each marker, the first code cell containing it runs before
    the answers (the notebook's imports) or after them (cells that use them), printing silenced.
    """
    import contextlib
    import io

    from .build.source import load_solution

    source = load_solution(path)
    code_cells = [cell.source for cell in source.cells if cell.cell_type == "code"]

    def run_cells(markers: tuple[str, ...]) -> None:
        for marker in markers:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(next(src for src in code_cells if marker in src), ns)

    ns = {"__name__": path.stem, **(namespace or {})}
    run_cells(before)
    for grade_id, code in reference_answers(source).items():
        try:
            exec(compile(code, f"{path.name}:{grade_id}", "exec"), ns)
        except Exception as exc:
            raise RuntimeError(f"reference cell {grade_id!r} of {path.name} failed") from exc
    run_cells(after)
    return ns


def fill_release(release: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    """A copy of the student release with the given solution cells filled in, as a student would."""
    nb = nbformat.from_dict(release)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            grade_id = cell.metadata.nbgrader["grade_id"]
            if grade_id in answers:
                cell.source = answers[grade_id]
    return nb


def load_assignment(course, solution: Path) -> tuple[NotebookNode, dict[str, str], list[Mutant]]:
    """Build ``solution`` into ``course``; return its release, reference answers and mutants."""
    from .build.release import build_assignment

    release = nbformat.read(build_assignment(course, solution), as_version=4)
    answers = reference_answers(nbformat.read(course.source_notebook(solution.stem), as_version=4))
    return release, answers, load_mutants(solution.parent / "mutants" / f"{solution.stem}.toml")


def apply_mutant(answers: dict[str, str], mutant: Mutant | Variant) -> dict[str, str]:
    """The reference answers with ``mutant`` (or a variant) applied to its cell."""
    if mutant.cell not in answers:
        raise MutantError(f"{type(mutant).__name__.lower()} {mutant.name!r}: no solution cell {mutant.cell!r}")
    code = answers[mutant.cell]
    if code.count(mutant.find) != 1:
        raise MutantError(
            f"{type(mutant).__name__.lower()} {mutant.name!r}: {mutant.find!r} occurs {code.count(mutant.find)} times in "
            f"solution cell {mutant.cell!r}; it must occur exactly once"
        )
    return {**answers, mutant.cell: code.replace(mutant.find, mutant.replace)}
