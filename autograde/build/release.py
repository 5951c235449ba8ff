"""Generate the nbgrader source and the student release, and check the committed release."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum, is_solution

from ..course import Course
from .source import REPO_ROOT, load_solution, salt_hidden_tests, solution_paths

_STUB = re.compile(r"^([ \t]*)raise NotImplementedError\(\)[ \t]*$", re.MULTILINE)
_DEF = re.compile(r"^([ \t]*)(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
_CLASS = re.compile(r"^class\s+([A-Za-z_]\w*)", re.MULTILINE)
_TOP_LEVEL_DEF = re.compile(r"(\S)\n((?:def|class) )")


class BuildError(RuntimeError):
    """nbgrader could not generate an assignment."""


class StaleReleaseError(RuntimeError):
    """notebooks/ does not match what the solutions generate."""


def _name_the_task(cell) -> None:
    """Turn nbgrader's bare stubs into ones that name the function to implement.

    Also restores the two blank lines between top-level functions, which nbgrader
    drops together with the solution.
    """
    source = _TOP_LEVEL_DEF.sub(r"\1\n\n\n\2", cell.source)

    def named(match: re.Match) -> str:
        defs = list(_DEF.finditer(source, 0, match.start()))
        task = "()"
        if defs:
            indent, name = defs[-1].groups()
            classes = _CLASS.findall(source, 0, defs[-1].start())
            # A method names its class too: "Implement EarlyStopping.step".
            task = f'("Implement {classes[-1]}.{name}")' if indent and classes else f'("Implement {name}")'

        return f"{match.group(1)}raise NotImplementedError{task}"

    cell.source = _STUB.sub(named, source)
    if "checksum" in cell.metadata.get("nbgrader", {}):
        cell.metadata.nbgrader["checksum"] = compute_checksum(cell)


_CHOICE_VARIABLE = re.compile(r"### BEGIN SOLUTION\s*\n\s*([A-Za-z_]\w*)\s*=")


def _choice_variables(nb) -> dict[str, str]:
    """grade_id -> the variable a ``choice_`` cell sets (its solution is one assignment)."""
    found = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and grade_id.startswith("choice_"):
            match = _CHOICE_VARIABLE.search(cell.source)
            if not match:
                raise BuildError(f"choice cell {grade_id!r} must set one variable between BEGIN and END SOLUTION")
            found[grade_id] = match.group(1)
    return found


def _blank_the_choice(cell, variable: str) -> None:
    """A choice's stub sets the variable to None (its test then says what to write), not a raise."""
    cell.source = _STUB.sub(lambda m: f"{m.group(1)}{variable} = None  # your answer: one letter in quotes", cell.source)
    if "checksum" in cell.metadata.get("nbgrader", {}):
        cell.metadata.nbgrader["checksum"] = compute_checksum(cell)


def _render(nb) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build_assignment(course: Course, solution: Path) -> Path:
    """Write the source notebook for ``solution``, run nbgrader, return the release notebook."""
    name = solution.stem
    source = course.source_notebook(name)
    source.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(source_nb := load_solution(solution))
    salt_hidden_tests(source_nb, course.derived_seed("salt", name))
    source.write_text(_render(source_nb))
    result = course.api().generate_assignment(name, force=True, create=True)
    if not result["success"]:
        raise BuildError(f"nbgrader generate_assignment failed for {name}:\n{result.get('log', '')}{result.get('error', '')}")
    release = course.release_notebook(name)
    choices = _choice_variables(source_nb)
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in choices:
                _blank_the_choice(cell, choices[grade_id])
            else:
                _name_the_task(cell)
    release.write_text(_render(nb))
    return release


def build(course_root: Path, notebooks_dir: Path | None = None, names: list[str] | None = None) -> list[Path]:
    """Build every (or the named) assignment into ``course_root`` and copy releases to notebooks/."""
    course = Course(Path(course_root))
    course.write_config()
    out_dir = notebooks_dir or REPO_ROOT / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for solution in solution_paths():
        if names and solution.stem not in names:
            continue
        release = build_assignment(course, solution)
        target = out_dir / release.name
        shutil.copyfile(release, target)
        written.append(target)
    return written


def check_release(notebooks_dir: Path | None = None) -> None:
    """Raise StaleReleaseError, with a diff, if notebooks/ differs from a fresh build."""
    committed_dir = notebooks_dir or REPO_ROOT / "notebooks"
    with tempfile.TemporaryDirectory(prefix="autograde-check-") as tmp:
        fresh_dir = Path(tmp) / "notebooks"
        build(Path(tmp) / "course", fresh_dir)
        problems = []
        fresh = {p.name: p for p in fresh_dir.glob("*.ipynb")}
        committed = {p.name: p for p in committed_dir.glob("*.ipynb")}
        for name in sorted(fresh.keys() | committed.keys()):
            if name not in committed:
                problems.append(f"notebooks/{name} is missing")
            elif name not in fresh:
                problems.append(f"notebooks/{name} has no solution in solutions/")
            elif fresh[name].read_text() != committed[name].read_text():
                diff = difflib.unified_diff(
                    committed[name].read_text().splitlines(), fresh[name].read_text().splitlines(),
                    f"notebooks/{name} (committed)", f"notebooks/{name} (from solutions/)", lineterm="", n=1,
                )
                problems.append("\n".join(list(diff)[:40]))
        if problems:
            raise StaleReleaseError(
                "notebooks/ is out of date with solutions/. Run `autograde build` and commit the result.\n"
                + "\n".join(problems)
            )
