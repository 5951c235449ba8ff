"""Take submissions in: find them, refuse what cannot be graded, repair what can.

Two layouts are read, and neither is ever written to:

- nbgrader's: ``<course>/submitted/<student>/<assignment>/<notebook>.ipynb``;
- an LMS export: one folder of ``<student>.ipynb`` or ``<student>.zip`` files (the
  student id is taken from the file name, by default its stem). Each accepted
  notebook is copied into the course's ``submitted/`` folder, so the rest of the
  pipeline sees nbgrader's layout.

Every refusal is a sentence a student can act on. Structural damage that the grader
can undo (an edited locked cell, a deleted or renamed test cell) is undone, and the
student is told so in the feedback.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.utils import is_grade, is_locked, is_solution

from ..course import Course

MAX_NOTEBOOK_BYTES = 64 << 20  # a course notebook with its plots is a few MB
MAX_ZIP_MEMBERS = 2000
MAX_ZIP_EXPANDED_BYTES = 256 << 20


@dataclass
class Submission:
    """One student's notebook for one assignment, ready to grade or refused with a reason."""

    student: str
    assignment: str
    path: Path | None  # the notebook in the course's submitted/ folder
    origin: str = ""  # where it came from, for the report
    sha256: str = ""
    problem: str | None = None  # why it cannot be graded
    notes: list[str] = field(default_factory=list)  # what the grader repaired, for the feedback


def sha256_bytes(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def check_notebook(raw: bytes, name: str) -> str | None:
    """Why ``raw`` is not a gradable notebook (in words for the student), or None."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        return f"{name} is {len(raw) >> 20} MB, more than the {MAX_NOTEBOOK_BYTES >> 20} MB a notebook may be; clear its outputs and submit again"
    if not raw.strip():
        return f"{name} is empty (0 bytes of notebook); save the notebook in Jupyter and submit it again"
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return f"{name} is not a notebook: it is not valid JSON ({exc}); download it again from Jupyter (File > Download)"
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        found = data.get("nbformat") if isinstance(data, dict) else type(data).__name__
        return f"{name} is not an nbformat 4 notebook (found nbformat={found}); open it in a current Jupyter and save it again"
    if not isinstance(data.get("cells"), list) or not data["cells"]:
        return f"{name} has no cells; did you submit an empty notebook instead of your work?"
    try:
        with warnings.catch_warnings():  # nbformat nags about missing cell ids, which nbgrader adds
            warnings.simplefilter("ignore")
            nbformat.validate(nbformat.from_dict(data))
    except nbformat.ValidationError as exc:
        return f"{name} is not a valid notebook: {str(exc).splitlines()[0]}"
    return None


def read_submission(course: Course, student: str, assignment: str) -> Submission:
    """A submission in nbgrader's layout, checked; nothing on disk changes."""
    path = course.submitted_dir(student, assignment) / f"{assignment}.ipynb"
    sub = Submission(student, assignment, path, origin=str(path))
    if not path.exists():
        sub.problem = f"no {path.name} in the submission (was the notebook renamed? it must be called {path.name})"
        return sub
    raw = path.read_bytes()
    sub.sha256 = sha256_bytes(raw)
    sub.problem = check_notebook(raw, path.name)
    return sub


# --- LMS exports -----------------------------------------------------------------------------

def _notebook_from_zip(path: Path, assignment: str) -> tuple[bytes | None, str | None]:
    """The notebook inside a zip, or why there is none we may take."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return None, f"{path.name} is not a readable zip file ({exc}); zip the notebook again"
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            return None, f"{path.name} holds {len(members)} files, more than {MAX_ZIP_MEMBERS}; submit just the notebook"
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or re.match(r"^[A-Za-z]:", member.filename):
                return None, (f"{path.name} contains a path that escapes its folder ({member.filename!r}); "
                              "zip the notebook again from its own folder")
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                return None, f"{path.name} contains a symbolic link ({member.filename!r}); submit the notebook itself"
        expanded = sum(m.file_size for m in members)
        if expanded > MAX_ZIP_EXPANDED_BYTES:
            return None, (f"{path.name} expands to {expanded >> 20} MB, more than the {MAX_ZIP_EXPANDED_BYTES >> 20} MB "
                          "allowed (a zip bomb?); submit just the notebook")
        notebooks = [m for m in members if m.filename.endswith(".ipynb") and not m.is_dir()
                     and ".ipynb_checkpoints" not in m.filename and not PurePosixPath(m.filename).name.startswith("._")]
        named = [m for m in notebooks if PurePosixPath(m.filename).name == f"{assignment}.ipynb"]
        chosen = named if named else notebooks
        if not chosen:
            return None, f"{path.name} contains no .ipynb notebook; it must contain {assignment}.ipynb"
        if len(chosen) > 1:
            names = ", ".join(sorted(m.filename for m in chosen))
            return None, f"{path.name} contains several notebooks ({names}); it must contain exactly one {assignment}.ipynb"
        member = chosen[0]
        if member.file_size > MAX_NOTEBOOK_BYTES:
            return None, f"{member.filename} in {path.name} is {member.file_size >> 20} MB, more than {MAX_NOTEBOOK_BYTES >> 20} MB"
        # Read at most the declared size plus one byte: a member that lies about its size is caught.
        with archive.open(member) as handle:
            raw = handle.read(member.file_size + 1)
        if len(raw) > member.file_size:
            return None, f"{member.filename} in {path.name} is larger than the zip says (a zip bomb?)"
        return raw, None


def import_folder(course: Course, assignment: str, folder: Path,
                  student_pattern: str = r"(?P<student>[^/]+)") -> list[Submission]:
    """Copy the notebooks of an LMS export into the course; the folder itself is only read.

    ``student_pattern`` is matched against each file's stem and must have a group
    named ``student`` (e.g. ``(?P<student>[^_]+)_.*`` for Canvas's ``name_123_456_file``).
    """
    pattern = re.compile(student_pattern)
    by_student: dict[str, list[Path]] = {}
    refused: list[Submission] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file() or path.suffix.lower() not in (".ipynb", ".zip"):
            continue
        match = pattern.fullmatch(path.stem)
        if not match or not match.group("student"):
            refused.append(Submission(path.stem, assignment, None, origin=str(path),
                                      problem=f"cannot tell whose submission {path.name} is (pattern {student_pattern!r})"))
            continue
        by_student.setdefault(match.group("student"), []).append(path)
    submissions = refused
    for student, paths in sorted(by_student.items()):
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            submissions.append(Submission(student, assignment, None, origin=names, problem=(
                f"two or more submissions arrived for this student ({names}); the grader will not guess "
                "which one counts: keep one and grade again")))
            continue
        submissions.append(_import_one(course, assignment, student, paths[0]))
    return submissions


def _safe_student_id(student: str) -> str | None:
    return None if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}", student) or ".." in student else student


def _import_one(course: Course, assignment: str, student: str, path: Path) -> Submission:
    sub = Submission(student, assignment, None, origin=str(path))
    if _safe_student_id(student) is None:
        sub.problem = f"{path.name}: {student!r} is not a usable student id (letters, digits and ._@+- only)"
        return sub
    if path.suffix.lower() == ".zip":
        raw, sub.problem = _notebook_from_zip(path, assignment)
    else:
        raw = path.read_bytes() if path.stat().st_size <= MAX_NOTEBOOK_BYTES else b"x" * (MAX_NOTEBOOK_BYTES + 1)
    if sub.problem is None:
        sub.problem = check_notebook(raw, path.name)
    if raw is not None:
        sub.sha256 = sha256_bytes(raw)
    if sub.problem is None:
        target_dir = course.submitted_dir(student, assignment)
        if target_dir.exists():
            shutil.rmtree(target_dir)
        target_dir.mkdir(parents=True)
        sub.path = target_dir / f"{assignment}.ipynb"
        sub.path.write_bytes(raw)
        stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
        (target_dir / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    return sub


# --- structure ---------------------------------------------------------------------------------

def repair_structure(nb: NotebookNode, source: NotebookNode) -> list[str]:
    """Undo damage to the graded structure, in place; returns what was undone, for the student.

    Cells with grade ids the assignment does not know lose their grading metadata;
    deleted (or renamed) test cells are put back after the cell that precedes them in
    the source. Edited locked cells are reported here and restored by nbgrader's
    ``OverwriteCells``.
    """
    notes = []
    source_cells = {c.metadata.nbgrader["grade_id"]: c for c in source.cells if "nbgrader" in c.get("metadata", {})}
    seen = set()
    for cell in nb.cells:
        info = cell.get("metadata", {}).get("nbgrader")
        if not info:
            continue
        grade_id = info.get("grade_id")
        if grade_id not in source_cells or grade_id in seen:
            why = "appears twice" if grade_id in seen else "is not part of this assignment"
            notes.append(f"A cell marked {grade_id!r} {why}; it was run as an ordinary cell.")
            del cell.metadata["nbgrader"]
            continue
        seen.add(grade_id)
        original = source_cells[grade_id]
        if is_locked(original) and not is_solution(original) and _visible(cell.source) != _visible(original.source):
            notes.append(f"The read-only cell {grade_id!r} had been edited; it was graded as released.")
    order = [c.metadata.nbgrader["grade_id"] for c in source.cells if "nbgrader" in c.get("metadata", {})]
    for position, grade_id in enumerate(order):
        if grade_id in seen or not is_grade(source_cells[grade_id]) or is_solution(source_cells[grade_id]):
            continue
        anchor = next((i for i in range(position - 1, -1, -1) if order[i] in seen), None)
        index = len(nb.cells) if anchor is None else 1 + next(
            i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == order[anchor])
        restored = nbformat.from_dict(json.loads(json.dumps(source_cells[grade_id])))
        restored["id"] = uuid.uuid4().hex[:12]  # never the id of a cell the student still has
        nb.cells.insert(index, restored)
        seen.add(grade_id)
        notes.append(f"The test cell {grade_id!r} was missing (deleted or renamed); the grader put it back.")
    return notes


def _visible(text: str) -> str:
    """A cell's text as the release shows it: hidden tests removed, surrounding blank space ignored."""
    text = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "", text, flags=re.S)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def read_notebook(raw: bytes | str) -> NotebookNode:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.reads(raw if isinstance(raw, str) else raw.decode("utf-8"), as_version=4)

