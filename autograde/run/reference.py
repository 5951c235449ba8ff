"""Compute the reference results: the source notebook's hidden checks, run on the solution.

The output is the trusted half of every comparison: the expected value and the
spec (tolerance, metric, threshold) of each check. It is recomputed whenever the
source notebook changes, and it never leaves the grader's side.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import is_grade, is_solution

from ..course import KERNEL_ARGUMENTS, PROFILES, Course
from ..judge.collect import collect_probes


class ReferenceError(RuntimeError):
    """The reference solution itself fails or does not report a hidden check."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compute_reference(source: Path, profile: str = "cpu") -> dict:
    """Execute ``source`` in a fresh kernel and collect every test cell's hidden results."""
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb, timeout=PROFILES[profile].cell_timeout, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(source.parent)}},
        extra_arguments=KERNEL_ARGUMENTS,
    )
    client.execute(env={**os.environ, "MPLBACKEND": "agg"})
    tests: dict[str, dict] = {}
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            # The first failing cell is the cause: later ones only fail for want of its results
            # (a missing dataset here shows up as a NameError three cells on).
            what = f"test cell {cell.metadata.nbgrader['grade_id']!r}" if is_grade(cell) else f"cell {index + 1}"
            first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
            raise ReferenceError(
                f"{source.name}: the reference solution fails in {what} (starting {first_line[:80]!r}): "
                f"{errors[0].ename}: {errors[0].evalue}"
            )
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        probes, duplicated = collect_probes(cell)
        if duplicated or not probes:
            raise ReferenceError(f"{source.name}: test cell {grade_id!r} reports no hidden checks, or one twice")
        checks = {}
        for name, probe in probes.items():
            if probe.error is not None:
                raise ReferenceError(f"{source.name}: reference fails hidden check {name!r} of {grade_id!r}: {probe.error}")
            checks[name] = {"spec": probe.spec, "value": probe.value}
        tests[grade_id] = {"points": float(cell.metadata.nbgrader["points"]), "checks": checks}
    return {"notebook": source.stem, "source_sha256": _sha256(source), "profile": profile, "tests": tests}


def ensure_reference(course: Course, assignment: str, profile: str = "cpu") -> Path:
    """Return the reference file for ``assignment``, computing it if missing or stale."""
    source = course.source_notebook(assignment)
    target = course.reference_file(assignment)
    if target.exists():
        try:
            current = json.loads(target.read_text())
            if current.get("source_sha256") == _sha256(source) and current.get("profile") == profile \
                    and current.get("grader_seed") == course.derived_seed("grader", assignment):
                return target
        except (json.JSONDecodeError, OSError):
            pass  # rebuilt below
    reference = compute_reference(source, profile)
    # Seeds the kernel never sees (e.g. the episodes a policy is evaluated on): the judge
    # hands this to checks that need randomness of their own.
    reference["grader_seed"] = course.derived_seed("grader", assignment)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(reference))
    os.replace(tmp, target)  # never a half-written reference
    return target
