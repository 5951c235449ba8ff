"""An nbgrader preprocessor that replaces each test cell's outcome with the judge's verdict.

It runs after nbgrader has executed the submission and before
``SaveAutoGrades``. For every graded test cell it reads the results the
hidden tests displayed, judges them against the reference file, and rewrites
the cell's outputs so that nbgrader's own scoring rule reads the verdict:
an error output for zero, otherwise the score as the cell's result (partial
credit). Whatever the student's code printed, raised or patched inside the
kernel has no say.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Unicode

from ..probe import MIME_TYPE as PROBE_MIME
from .checks import CheckResult, judge_check
from .codec import DecodeError, decode
from .collect import collect_probes
from .mistakes import describe, known_mistakes

FAILED = "HiddenTestsFailed"
# Cell metadata the grader sets on a test cell it ran in two parts (autograde.run.cells):
# whether the visible tests raised. Such a cell scores zero, whatever the hidden checks say.
VISIBLE_FAILED = "autograde_visible_failed"


def reference_path(reference_dir: str | Path, assignment: str, notebook: str) -> Path:
    return Path(reference_dir) / assignment / f"{notebook}.json"


def first_error(cell: NotebookNode, limit: int = 1500) -> str | None:
    """The first error the cell raised (the student's own visible-test message), shortened."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {str(output.get('evalue', '')).strip()}"
            return text if len(text) <= limit else text[:limit] + " ..."
    return None


# A result may be this many times larger than the reference's (plus some slack) before it is
# refused unread: nothing a correct function returns is orders of magnitude bigger.
OVERSIZE_FACTOR = 8
OVERSIZE_SLACK = 64 * 1024


def _oversized(student: Any, reference: Any) -> bool:
    size = len(json.dumps(student))
    return size > OVERSIZE_FACTOR * len(json.dumps(reference)) + OVERSIZE_SLACK


def judge_cell(cell: NotebookNode, reference_test: dict, profile: str, grader_seed: int = 0,
               signatures: dict[str, list[dict]] | None = None) -> list[CheckResult]:
    """Judge every check the reference declares for one test cell.

    ``grader_seed``: the course's secret seed for checks that draw their own randomness
    (evaluation episodes); it reaches them as ``spec["grader_seed"]`` and no kernel sees it.
    ``signatures``: check name -> known mistakes' results on it (:mod:`autograde.run.mistakes`);
    a failed result that matches one is told which mistake it is.
    """
    probes, duplicated = collect_probes(cell)
    stopped = first_error(cell)
    results = []
    for name, reference in reference_test["checks"].items():
        weight = float(reference["spec"].get("weight", 1.0))
        probe = probes.get(name)
        if name in duplicated:
            results.append(CheckResult(name, False, "was reported more than once, so it cannot be trusted", weight))
        elif probe is None:
            why = f": the cell stopped before it with {stopped.split(':')[0]} (shown above)" if stopped else ""
            results.append(CheckResult(name, False, f"did not run{why}", weight))
        elif probe.error is not None:
            results.append(CheckResult(name, False, f"your code raised {probe.error}", weight))
        elif _oversized(probe.value, reference["value"]):
            results.append(CheckResult(name, False, "returned far more data than the task asks for; not read", weight))
        else:
            try:
                value = decode(probe.value)
                trusted = {"spec": {**reference["spec"], "grader_seed": grader_seed}, "value": decode(reference["value"])}
                result = judge_check(name, trusted, value, profile)
                if not result.passed and (matched := known_mistakes(trusted["spec"], value, (signatures or {}).get(name))):
                    result = replace(result, mistakes=tuple(s["mutant"] for s in matched), mistake=describe(matched))
                results.append(result)
            except DecodeError as exc:
                results.append(CheckResult(name, False, f"returned something that is not a number or array ({exc})", weight))
            except Exception as exc:  # a judge bug must cost a point, never crash the whole run
                results.append(CheckResult(name, False, f"could not be judged ({type(exc).__name__}: {exc})", weight))
    return [replace(r, gate=bool(reference_test["checks"][r.name]["spec"].get("gate"))) for r in results]


def verdict_outputs(grade_id: str, results: list[CheckResult], points: float, profile: str,
                    stopped: str | None = None, visible_failed: bool = False) -> tuple[list, float]:
    """The outputs that carry a verdict to nbgrader, and the score they encode."""
    # A gate (inputs left unchanged, say) only costs: a wrong function that happens not to
    # modify its inputs earns nothing for that.
    total = sum(r.weight for r in results if not r.gate or not r.passed) or 1.0
    earned = sum(r.weight for r in results if r.passed and not r.gate)
    score = 0.0 if visible_failed else round(points * earned / total, 4)
    lines = [f"The test cell stopped with an error:\n{stopped}\n"] if stopped else []
    if visible_failed:
        lines += ["A visible test failed, so this cell scores 0. The hidden checks ran anyway, to tell you more:"]
    lines += [f"Hidden tests for {grade_id}: {sum(r.passed for r in results)} of {len(results)} checks passed "
             f"({score:g} of {points:g} points, {profile} profile)"]
    for r in results:
        lines.append(f"  {'PASS' if r.passed else 'FAIL'}  {r.name}: {r.message}")
        if r.mistake:
            lines.append(f"        {r.mistake}")
    lines += [f"  FLAG  {r.name}: {r.flag}" for r in results if r.flag]
    outputs: list[dict[str, Any]] = [{"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}]
    if score <= 0:
        failed = [r.name for r in results if not r.passed]
        outputs.append({
            "output_type": "error", "ename": FAILED,
            "evalue": f"failed: {', '.join(failed)}",
            "traceback": [f"\x1b[0;31m{FAILED}\x1b[0m: failed: {', '.join(failed)}"],
        })
    else:
        outputs.append({"output_type": "execute_result", "execution_count": None, "metadata": {},
                        "data": {"text/plain": repr(score)}})
    return [from_dict(o) for o in outputs], score


class JudgeHiddenTests(NbGraderPreprocessor):
    """Judge hidden-test results outside the kernel and encode the verdicts for nbgrader."""

    reference_dir = Unicode(
        "", help="Directory of reference results, one <assignment>/<notebook>.json per notebook."
    ).tag(config=True)
    profile = Unicode(
        "cpu", help="Grading profile ('cpu' or 'gpu'); selects thresholds and is recorded with the grade."
    ).tag(config=True)
    from_stored = Bool(
        False, help="Judge the results stored in an autograded notebook (autograde rejudge) instead of its outputs."
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        info = resources["nbgrader"]
        mistakes = resources.get("autograde", {}).get("mistakes") or {}
        # A grading worker gets the reference with its job (it may not see the course
        # directory); nbgrader's own CLI reads it from the course's reference directory.
        reference = resources.get("autograde", {}).get("reference")
        if reference is None:
            path = reference_path(self.reference_dir, info["assignment"], info["notebook"])
            try:
                reference = json.loads(path.read_text())
            except FileNotFoundError:
                raise RuntimeError(
                    f"No reference results at {path}. Run 'autograde grade', which computes them "
                    "from the source notebook before grading."
                ) from None
        tests = reference["tests"]
        for cell in nb.cells:
            if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
                continue
            grade_id = cell.metadata.nbgrader["grade_id"]
            points = float(cell.metadata.nbgrader["points"])
            stored = cell.metadata.get("autograde", {}) if self.from_stored else {}
            visible_failed = bool(stored.get("visible_failed") if self.from_stored
                                  else cell.metadata.pop(VISIBLE_FAILED, False))
            if self.from_stored:
                cell.outputs = [from_dict(o) for o in stored.get("outputs", [])]
            # What the kernel handed out, kept (grader-side) so the cell can be judged again later.
            evidence = [o for o in cell.outputs if o.get("output_type") == "error"][:1] + [
                o for o in cell.outputs if isinstance(o.get("data"), dict) and PROBE_MIME in o["data"]]
            if grade_id not in tests:
                results = [CheckResult("reference", False, "this test has no reference results; tell your instructor")]
            else:
                results = judge_cell(cell, tests[grade_id], self.profile, int(reference.get("grader_seed", 0)),
                                     mistakes.get("tests", {}).get(grade_id))
            cell.outputs, _ = verdict_outputs(grade_id, results, points, self.profile, first_error(cell),
                                              visible_failed)
            cell.metadata["autograde"] = {
                "outputs": evidence,
                "visible_failed": visible_failed,
                "mistakes": {r.name: list(r.mistakes) for r in results if r.mistakes},
            }
        nb.metadata["autograde"] = {"profile": self.profile, "reference_sha256": reference.get("source_sha256"),
                                    "mistakes_computed": bool(mistakes)}
        return nb, resources
