"""Intake: every kind of bad file gets its own reason, LMS folders are only read, damage is undone."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograde.run.intake import (
    MAX_ZIP_EXPANDED_BYTES,
    check_notebook,
    import_folder,
    repair_structure,
)

from .conftest import built, submission


def tree_digest(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()}


GOOD = json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])).encode()


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "is empty"),
    (b"   \n", "is empty"),
    (b'{"cells": [', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b"[1, 2, 3]", "not an nbformat 4 notebook"),
    (json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}).encode(), "nbformat=3"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}).encode(), "has no cells"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "rocket"}]}).encode(),
     "not a valid notebook"),
])
def test_each_broken_notebook_gets_its_own_reason(raw, reason):
    assert reason in check_notebook(raw, "hw.ipynb")


def test_a_good_notebook_passes():
    assert check_notebook(GOOD, "hw.ipynb") is None


def _zip(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return path


def test_lms_folder_every_case_and_the_folder_is_never_modified(course, tmp_path):
    course.root.mkdir(parents=True)
    lms = tmp_path / "lms"
    lms.mkdir()
    (lms / "amy.ipynb").write_bytes(GOOD)
    _zip(lms / "ben.zip", {"ben/hw.ipynb": GOOD, "ben/notes.txt": b"hi"})
    _zip(lms / "cat.zip", {"../../escape.ipynb": GOOD})
    _zip(lms / "dan.zip", {"a.ipynb": GOOD, "b.ipynb": GOOD})
    _zip(lms / "eve.zip", {"readme.txt": b"no notebook"})
    _zip(lms / "fay.zip", {"hw.ipynb": b"\0" * (MAX_ZIP_EXPANDED_BYTES + 1)})  # a bomb: tiny zipped, huge expanded
    (lms / "gus.ipynb").write_bytes(GOOD)
    (lms / "gus.zip").write_bytes(_zip(tmp_path / "g.zip", {"hw.ipynb": GOOD}).read_bytes())
    (lms / "hal.zip").write_bytes(b"PK\x03\x04 truncated")
    _zip(lms / "ivy.zip", {"hw.ipynb": GOOD}, symlink="link.ipynb")
    (lms / "jo.ipynb").write_bytes(b"")
    (lms / ".DS_Store").write_bytes(b"junk")
    before = tree_digest(lms)

    subs = {s.student: s for s in import_folder(course, "hw", lms)}

    assert tree_digest(lms) == before
    assert subs["amy"].problem is None and subs["amy"].path.read_bytes() == GOOD
    assert subs["ben"].problem is None and subs["ben"].path.name == "hw.ipynb"
    assert "escapes its folder" in subs["cat"].problem
    assert "several notebooks" in subs["dan"].problem
    assert "no .ipynb notebook" in subs["eve"].problem
    assert "zip bomb" in subs["fay"].problem
    assert "two or more submissions" in subs["gus"].problem and "gus.zip" in subs["gus"].problem
    assert "not a readable zip" in subs["hal"].problem
    assert "symbolic link" in subs["ivy"].problem
    assert "is empty" in subs["jo"].problem
    assert not (tmp_path / "escape.ipynb").exists() and not (course.root / "escape.ipynb").exists()
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == ["amy", "ben"]


def test_canvas_style_names_with_a_pattern(course, tmp_path):
    lms = tmp_path / "lms"
    lms.mkdir()
    (lms / "smithjane_12345_67890_hw.ipynb").write_bytes(GOOD)
    (lms / "../lms/notastudent.ipynb").write_bytes(GOOD)
    subs = {s.student: s for s in import_folder(course, "hw", lms, r"(?P<student>[a-z]+)_\d+_\d+_.*")}
    assert subs["smithjane"].problem is None
    assert "cannot tell whose submission" in subs["notastudent"].problem


def test_deleted_renamed_and_edited_test_cells_are_repaired(course):
    release, answers = built(course, "00_setup")
    source = nbformat.read(course.source_notebook("00_setup"), as_version=4)

    def grade_ids(nb):
        return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]

    nb = nbformat.reads(submission(release, answers), as_version=4)
    del nb.cells[grade_ids(nb).index("test_standardize")]  # the student deleted the test cell
    nb.cells.append(nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade_id": "test_made_up", "grade": True, "points": 99, "solution": False, "locked": True}}))
    notes = " ".join(repair_structure(nb, source))
    assert grade_ids(nb).count("test_standardize") == 1 and "test_made_up" not in grade_ids(nb)
    assert grade_ids(nb).index("test_standardize") == grade_ids(nb).index("standardize") + 1
    assert "'test_standardize' was missing" in notes
    assert "'test_made_up' is not part of this assignment" in notes

    untouched = nbformat.reads(submission(release, answers), as_version=4)
    assert repair_structure(untouched, source) == []  # the release's test cell (hidden tests removed) is no edit
    edited = nbformat.reads(submission(release, answers), as_version=4)
    edited.cells[grade_ids(edited).index("test_standardize")].source = "print('All visible tests passed.')"
    assert "'test_standardize' had been edited" in " ".join(repair_structure(edited, source))
