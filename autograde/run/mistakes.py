"""Mistake signatures: what each known student bug returns on a course's hidden checks.

Every mutant in ``solutions/mutants/<assignment>.toml`` is a real mistake with a
``why`` written for students. This module runs each one as the reference is run
(the instructor's own code, in a plain kernel, on the course's source notebook,
so on the very hidden inputs this course's students get) up to the test cell it
breaks, judges its results against the reference, and keeps the plain-data
results of the checks it fails. The judge then names a student's mistake when the
student's result on a failed check matches one of these (see
:mod:`autograde.judge.mistakes`).

The store, ``reference/<assignment>/mistakes.json``, says which reference and
which mutant file it was computed from; a stale store is recomputed whole, never
half-used.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import is_solution

from ..build.source import REPO_ROOT
from ..course import KERNEL_ARGUMENTS, PROFILES, Course
from ..judge.codec import decode
from ..judge.collect import collect_probes
from ..judge.preprocessor import judge_cell
from ..mutants import MutantError, apply_mutant, load_mutants, reference_answers
from .cells import execute_cell
from .parallel import default_workers
from .reference import ensure_reference


def mutants_file(assignment: str, solutions_dir: Path | None = None) -> Path:
    return (solutions_dir or REPO_ROOT / "solutions") / "mutants" / f"{assignment}.toml"


def mistakes_file(course: Course, assignment: str) -> Path:
    return course.reference_file(assignment).with_name("mistakes.json")


def _mutated_source(source: nbformat.NotebookNode, answers: dict[str, str], mutant) -> nbformat.NotebookNode:
    """The course's source notebook (hidden tests and salt kept) with one mutant's solution cells."""
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    mutated = apply_mutant(answers, mutant)
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            cell.source = mutated[cell.metadata.nbgrader["grade_id"]]
    return nb


def _run_mutant(source_path: Path, nb: nbformat.NotebookNode, test: str, profile: str, threads: int) -> dict:
    """Run ``nb`` up to test cell ``test``; return that cell (with its outputs) or an error in words."""
    stop = next((i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == test),
                None)
    if stop is None:
        return {"error": f"no test cell {test!r}"}
    nb.cells = nb.cells[: stop + 1]
    env = {**os.environ, "MPLBACKEND": "agg", **{k: str(threads) for k in
                                                  ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    client = NotebookClient(nb, timeout=PROFILES[profile].cell_timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(source_path.parent)}},
                            extra_arguments=KERNEL_ARGUMENTS)

    async def run() -> None:
        async with client.async_setup_kernel(env=env, cwd=str(source_path.parent)):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    await execute_cell(client, cell, index)  # hidden checks report past a failed visible test

    try:
        asyncio.run(run())
    except Exception as exc:  # noqa: BLE001 -- one mutant that cannot run must not stop the rest
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"cell": nb.cells[stop]}


def compute_mistakes(course: Course, assignment: str, profile: str = "cpu", workers: int | None = None,
                     solutions_dir: Path | None = None) -> dict:
    """Run every mutant of ``assignment`` on this course's draw and collect its failing results."""
    reference = json.loads(ensure_reference(course, assignment, profile).read_text())
    source_path = course.source_notebook(assignment)
    source = nbformat.read(source_path, as_version=4)
    answers = reference_answers(source)
    path = mutants_file(assignment, solutions_dir)
    mutants = load_mutants(path)
    workers = workers or default_workers()
    threads = max(1, (os.cpu_count() or 1) // workers)

    def one(mutant):
        try:
            nb = _mutated_source(source, answers, mutant)
        except MutantError as exc:
            return mutant, {"error": str(exc)}
        return mutant, _run_mutant(source_path, nb, mutant.test, profile, threads)

    signatures: dict[str, dict[str, list[dict]]] = {}
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for mutant, outcome in pool.map(one, mutants):
            if "error" in outcome:
                problems.append(f"{mutant.name}: {outcome['error']}")
                continue
            cell = outcome["cell"]
            results = judge_cell(cell, reference["tests"][mutant.test], profile, int(reference.get("grader_seed", 0)))
            probes, _ = collect_probes(cell)
            for result in results:
                probe = probes.get(result.name)
                if result.passed or probe is None or probe.error is not None:
                    continue  # only a wrong *value* is a signature; a crash names itself already
                decode(probe.value)  # stored only if the judge could read it
                signatures.setdefault(mutant.test, {}).setdefault(result.name, []).append(
                    {"mutant": mutant.name, "why": mutant.why, "value": probe.value})
    return {
        "assignment": assignment,
        "reference_sha256": reference["source_sha256"],
        "grader_seed": reference.get("grader_seed", 0),
        "profile": profile,
        "mutants_sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None,
        "mutants": len(mutants),
        "problems": problems,
        "tests": signatures,
    }


def _is_fresh(store: dict, reference: dict, path: Path, profile: str) -> bool:
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    return (store.get("reference_sha256") == reference["source_sha256"] and store.get("profile") == profile
            and store.get("grader_seed") == reference.get("grader_seed", 0) and store.get("mutants_sha256") == digest)


def ensure_mistakes(course: Course, assignment: str, profile: str = "cpu", workers: int | None = None,
                    solutions_dir: Path | None = None) -> dict | None:
    """The course's mistake signatures for ``assignment``, recomputed if stale; None without mutants."""
    path = mutants_file(assignment, solutions_dir)
    if not path.exists():
        return None
    reference = json.loads(ensure_reference(course, assignment, profile).read_text())
    target = mistakes_file(course, assignment)
    try:
        store = json.loads(target.read_text())
        if _is_fresh(store, reference, path, profile):
            return store
    except (OSError, json.JSONDecodeError):
        pass
    store = compute_mistakes(course, assignment, profile, workers, solutions_dir)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(store))
    os.replace(tmp, target)  # all or nothing
    return store


def signature_counts(store: dict) -> dict[str, int]:
    """How many mutants left a signature, per test: for reports and benchmarks."""
    return {test: len({s["mutant"] for sigs in checks.values() for s in sigs})
            for test, checks in store.get("tests", {}).items()}
