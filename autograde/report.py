"""Reports for the instructor: grades CSV (nbgrader's exporter) and a one-page summary per assignment.

The summary shows the score distribution, the pass rate of every test cell, the
most common failure messages of the hidden checks (taken from the judge's verdicts
in the autograded notebooks), the submissions that were refused and why, and the
notes the grader left (repairs, early stops).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import Counter
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin

from .course import COURSE_ID, Course
from .run.grade import Grade

_FAIL = re.compile(r"^\s+FAIL\s+(?P<check>[^:]+): (?P<message>.*)$")
_FLAG = re.compile(r"^\s+FLAG\s+(?P<check>[^:]+): (?P<message>.*)$")


def export_csv(course: Course, path: Path | None = None) -> Path:
    """Every grade in the gradebook as CSV, written by nbgrader's own exporter."""
    path = path or course.root / "grades.csv"
    with Gradebook(course.db_url, course_id=COURSE_ID) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    return path


def _test_cells(course: Course, grades: list[Grade]):
    """(student, test id, cell) for every judged test cell of the autograded notebooks."""
    for g in grades:
        path = course.root / "autograded" / g.student / g.assignment / f"{g.assignment}.ipynb"
        if g.error or not path.exists():
            continue
        for cell in json.loads(path.read_text())["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id and "autograde" in cell.get("metadata", {}):
                yield g.student, grade_id, cell


def _verdict_lines(course: Course, grades: list[Grade]):
    """(student, test, verdict line) for every line of the judge's verdicts in the autograded notebooks."""
    for student, grade_id, cell in _test_cells(course, grades):
        for output in cell.get("outputs", []):
            if output.get("output_type") != "stream":
                continue
            text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
            for line in text.splitlines():
                yield student, grade_id, line


def _normalise(message: str) -> str:
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", message)


def class_mistakes(course: Course, assignment: str, grades: list[Grade], examples: int = 3) -> dict:
    """Per test: how many students made each known mistake, and the failures no mistake explains.

    Unexplained failures are grouped by message (numbers as #) with a few student ids each: what
    to teach again, and which new mutant to write.
    """
    whys: dict[str, str] = {}
    store = course.reference_file(assignment).with_name("mistakes.json")
    if store.exists():
        for checks in json.loads(store.read_text()).get("tests", {}).values():
            whys.update({s["mutant"]: s["why"] for sigs in checks.values() for s in sigs})
    known: dict[str, dict[str, set[str]]] = {}
    unexplained: dict[tuple[str, str, str], list[str]] = {}
    for student, grade_id, cell in _test_cells(course, grades):
        named = cell["metadata"]["autograde"].get("mistakes", {})
        for mutants in named.values():
            for mutant in mutants:
                known.setdefault(grade_id, {}).setdefault(mutant, set()).add(student)
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            for line in (text if isinstance(text, str) else "".join(text)).splitlines():
                if (m := _FAIL.match(line)) and m["check"].strip() not in named:
                    unexplained.setdefault((grade_id, m["check"].strip(), _normalise(m["message"])), []).append(student)
    return {
        "known": [{"test": test, "mistake": mutant, "why": whys.get(mutant, ""), "students": len(who)}
                  for test, by_mutant in known.items()
                  for mutant, who in sorted(by_mutant.items(), key=lambda kv: -len(kv[1]))],
        "unexplained": [{"test": t, "check": c, "message": m, "students": len(who), "examples": sorted(who)[:examples]}
                        for (t, c, m), who in sorted(unexplained.items(), key=lambda kv: -len(kv[1]))],
    }


def _mistakes_png(known: list[dict]) -> str | None:
    """A horizontal bar chart: students per known mistake."""
    if not known:
        return None
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    rows = sorted(known, key=lambda k: k["students"])[-20:]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1), dpi=100)
    ax.barh([f"{r['test']}: {r['mistake']}" for r in rows], [r["students"] for r in rows], color="#c0504d")
    ax.set_xlabel("students")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def failure_messages(course: Course, grades: list[Grade]) -> Counter:
    """(test, check, message) -> how many students got it, from the autograded notebooks."""
    counts: Counter = Counter()
    for _, grade_id, line in _verdict_lines(course, grades):
        if m := _FAIL.match(line):
            # Numbers differ per student; the shape of the message is what recurs.
            message = _normalise(m["message"])
            counts[(grade_id, m["check"].strip(), message)] += 1
    return counts


def flagged_results(course: Course, grades: list[Grade]) -> list[dict]:
    """Results that passed but look implausible (e.g. an accuracy no honest model reaches)."""
    return [{"student": student, "test": grade_id, "check": m["check"].strip(), "message": m["message"]}
            for student, grade_id, line in _verdict_lines(course, grades) if (m := _FLAG.match(line))]


def _histogram_png(scores: list[float], max_score: float) -> str:
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=100)
    bins = min(20, max(5, int(max_score) + 1)) if max_score else 5
    ax.hist(scores, bins=bins, range=(0, max_score or 1), color="#3b6ea8", edgecolor="white")
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("students")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def summary_data(course: Course, assignment: str, grades: list[Grade]) -> dict:
    graded = [g for g in grades if g.error is None]
    tests: dict[str, list[float]] = {}
    for g in graded:
        for test, (score, max_score) in g.tests.items():
            tests.setdefault(test, []).append(1.0 if max_score and score >= max_score else 0.0)
    failures = failure_messages(course, graded)
    return {
        "assignment": assignment,
        "graded": len(graded),
        "refused": [{"student": g.student, "reason": g.error} for g in grades if g.error],
        "max_score": max((g.max_score for g in graded), default=0.0),
        "scores": {g.student: g.score for g in graded},
        "pass_rate": {t: sum(v) / len(v) for t, v in tests.items()},
        "common_failures": [{"test": t, "check": c, "message": m, "students": n}
                            for (t, c, m), n in failures.most_common(15)],
        "notes": {g.student: g.notes for g in grades if g.notes},
        "flagged": flagged_results(course, graded),
        "mistakes": class_mistakes(course, assignment, graded),
        # Written answers await a person in formgrader; until then they count 0 in "scores".
        "manual": {"answers": sorted({a for g in graded for a in g.manual}),
                   "unmarked": sum(1 for g in graded for s, _ in g.manual.values() if s is None),
                   "points_unmarked": sum(g.manual_pending for g in graded)},
    }


def _manual_note(manual: dict) -> str:
    if not manual["unmarked"]:
        return ""
    return (f"<p><b>{manual['unmarked']} written answers ({manual['points_unmarked']:g} points) await marking</b> "
            f"in formgrader ({html.escape(', '.join(manual['answers']))}); until then they count 0 in the scores "
            "below. Each answer cell of the source notebook holds a model answer to mark against.</p>")


def write_summary(course: Course, assignment: str, grades: list[Grade]) -> Path:
    """``<course>/reports/<assignment>/summary.html`` (and ``summary.json`` beside it)."""
    data = summary_data(course, assignment, grades)
    folder = course.root / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(data, indent=1))
    e = html.escape
    scores = list(data["scores"].values())
    mean = sum(scores) / len(scores) if scores else 0.0
    plot = (f'<img alt="score distribution" src="data:image/png;base64,{_histogram_png(scores, data["max_score"])}">'
            if scores else "<p>No graded submissions.</p>")
    rows = "".join(f"<tr><td>{e(t)}</td><td>{r:.0%}</td></tr>" for t, r in data["pass_rate"].items())
    fails = "".join(f"<tr><td>{f['students']}</td><td>{e(f['test'] or '')}</td><td>{e(f['check'])}</td>"
                    f"<td>{e(f['message'])}</td></tr>" for f in data["common_failures"])
    refused = "".join(f"<li><b>{e(r['student'])}</b>: {e(r['reason'] or '')}</li>" for r in data["refused"])
    notes = "".join(f"<li><b>{e(s)}</b>: {e(' '.join(n))}</li>" for s, n in data["notes"].items())
    known = data["mistakes"]["known"]
    chart = _mistakes_png(known)
    known_rows = "".join(f"<tr><td>{k['students']}</td><td>{e(k['test'])}</td><td>{e(k['mistake'])}</td>"
                         f"<td>{e(k['why'])}</td></tr>" for k in known)
    unexplained_rows = "".join(
        f"<tr><td>{u['students']}</td><td>{e(u['test'] or '')}</td><td>{e(u['check'])}</td><td>{e(u['message'])}</td>"
        f"<td>{e(', '.join(u['examples']))}</td></tr>" for u in data["mistakes"]["unexplained"])
    flagged = "".join(f"<li><b>{e(f['student'])}</b>, {e(f['test'] or '')}, {e(f['check'])}: {e(f['message'])}</li>"
                      for f in data["flagged"])
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{e(assignment)}: grading summary</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}} td,th{{padding:2px 10px;text-align:left}}
tr:nth-child(even){{background:#f3f3f3}}</style></head><body>
<h1>{e(assignment)}: grading summary</h1>
<p>{data['graded']} graded, {len(data['refused'])} refused; mean score {mean:.2f} of {data['max_score']:g}.</p>
{_manual_note(data["manual"])}
<h2>Score distribution</h2>{plot}
<h2>Pass rate per test</h2><table><tr><th>test</th><th>full marks</th></tr>{rows}</table>
<h2>Most common failures of hidden checks</h2>
<table><tr><th>students</th><th>test</th><th>check</th><th>message (numbers as #)</th></tr>{fails}</table>
<h2>Known mistakes in this class</h2>
{f'<img alt="students per known mistake" src="data:image/png;base64,{chart}">' if chart else ''}
<table><tr><th>students</th><th>test</th><th>mistake</th><th>what it does</th></tr>{known_rows or '<tr><td colspan=4>none named</td></tr>'}</table>
<h2>Failures no known mistake explains</h2>
<p>Candidates for teaching again, and for new mutants.</p>
<table><tr><th>students</th><th>test</th><th>check</th><th>message (numbers as #)</th><th>for example</th></tr>{unexplained_rows or '<tr><td colspan=5>none</td></tr>'}</table>
<h2>Flagged for review</h2><ul>{flagged or '<li>none</li>'}</ul>
<h2>Refused submissions</h2><ul>{refused or '<li>none</li>'}</ul>
<h2>Notes from the grader</h2><ul>{notes or '<li>none</li>'}</ul>
</body></html>
"""
    path = folder / "summary.html"
    path.write_text(page)
    return path
