"""Walk a released notebook as a student first meets it: every cell, continuing past errors.

A student who has written nothing yet should see errors only where there is work to do:
in the stubs (``NotImplementedError``) and in the test cells that check them. Any other
error (a plot cell that crashes because a function above is unwritten, a cell that needs a
variable only a graded test cell creates) is a defect of the release; demo cells wrap the
student's calls in ``cu.needs_your_code()`` instead. ``autograde walk`` lists such defects.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .source import REPO_ROOT


@dataclass
class CellError:
    index: int  # position in the notebook
    kind: str  # "stub", "test" (expected) or "other" (a defect)
    first_line: str  # the cell's first line of code, to find it
    error: str  # "NameError: name 'x' is not defined"


@dataclass
class Walk:
    notebook: str
    errors: list[CellError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unexpected(self) -> list[CellError]:
        return [e for e in self.errors if e.kind == "other"]

    def counts(self) -> dict[str, int]:
        return {kind: sum(e.kind == kind for e in self.errors) for kind in ("stub", "test", "other")}


def _kind(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("solution"):
        return "stub"
    if meta.get("grade"):
        return "test"
    return "other"


def walk_release(path: Path, cell_timeout: int = 600) -> Walk:
    """Run ``path`` top to bottom in a fresh kernel, in a scratch copy, and sort its errors."""
    import time

    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="autograde-walk-") as tmp:
        shutil.copy(path, Path(tmp) / path.name)  # relative paths resolve as they do for a student
        env_before = os.environ.get("MPLBACKEND")
        os.environ["MPLBACKEND"] = "Agg"
        try:
            NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": tmp}}).execute()
        finally:
            if env_before is None:
                os.environ.pop("MPLBACKEND", None)
            else:
                os.environ["MPLBACKEND"] = env_before
    walk = Walk(path.stem, seconds=time.perf_counter() - start)
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
                walk.errors.append(CellError(index, _kind(cell), first[:80], f"{out.ename}: {out.evalue}"[:200]))
    return walk


def walk_notebooks(names: list[str] | None = None, notebooks_dir: Path | None = None) -> list[Walk]:
    folder = notebooks_dir or REPO_ROOT / "notebooks"
    paths = sorted(folder.glob("*.ipynb"))
    if names:
        paths = [p for p in paths if p.stem in names]
        missing = set(names) - {p.stem for p in paths}
        if missing:
            raise FileNotFoundError(f"no released notebook named {sorted(missing)} in {folder}")
    return [walk_release(p) for p in paths]
