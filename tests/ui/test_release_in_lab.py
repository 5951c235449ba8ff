"""Every released notebook in a real JupyterLab, as a student who has written nothing yet meets it.

The student runs the cells one by one and carries on past errors (Run All would stop at
the first). The only errors they may see are in the stubs and the test cells below them:
a demo cell waiting for a function prints one line (``cu.needs_your_code``), no widget
fails to render. ``autograde walk`` checks the same outside the browser, for authors.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from autograde.build.source import REPO_ROOT

from .lab import open_notebook, text_of

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

RELEASED = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))
SCREENSHOTS = Path(os.environ.get("UI_SCREENSHOTS", REPO_ROOT / "build" / "ui"))
CELL_TIMEOUT_MS = 300_000

_CODE_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .map((cell, i) => [cell.model.type, i]).filter(([t]) => t === 'code').map(([, i]) => i)"""

# Run one cell and wait for it to finish (the command's promise settles when the reply comes).
_RUN_CELL = """async (i) => {
  const app = window.jupyterapp, panel = app.shell.currentWidget;
  panel.content.activeCellIndex = i;
  await app.commands.execute('notebook:run-cell');
  return panel.content.widgets[i].model.executionCount;
}"""

_CELL_ERRORS = """() => window.jupyterapp.shell.currentWidget.content.widgets.map((cell, index) => {
  const meta = cell.model.getMetadata('nbgrader') || {};
  const outs = cell.model.type === 'code' ? cell.model.outputs.toJSON() : [];
  return {index, solution: !!meta.solution, grade: !!meta.grade,
          source: cell.model.sharedModel.getSource().split('\\n')[0].slice(0, 80),
          errors: outs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`.slice(0, 200))};
})"""


@pytest.mark.parametrize("name", RELEASED)
def test_release_shows_errors_only_in_stubs_and_their_tests(name, page, lab_server) -> None:
    target = lab_server.root / "release" / f"{name}.ipynb"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(REPO_ROOT / "notebooks" / f"{name}.ipynb", target)
    open_notebook(page, lab_server, f"release/{name}.ipynb", f"release-{name}")
    # A fresh download has no outputs; clear any, so only this run's errors are read.
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")

    unrun = []
    for index in page.evaluate(_CODE_CELLS):
        count = page.evaluate(_RUN_CELL, index)
        if count is None:
            unrun.append(index)
    cells = page.evaluate(_CELL_ERRORS)
    expected = [c for c in cells if c["errors"] and (c["solution"] or c["grade"])]
    defects = [f"cell {c['index']} ({c['source']}): {c['errors'][0]}"
               for c in cells if c["errors"] and not (c["solution"] or c["grade"])]
    assert not defects, (f"released {name}, run cell by cell with nothing written: errors outside the stubs "
                         "and their tests:\n" + "\n".join(defects))
    assert not unrun, f"code cells that did not run: {unrun}"
    page_text = text_of(page.locator(".jp-NotebookPanel"))
    for bad in ("Error displaying widget", "Error rendering"):
        assert bad not in page_text, f"a widget did not render in the release of {name}: {bad!r} on the page"
    assert expected or name == "00_setup" or not any(c["grade"] for c in cells), \
        f"the release of {name} has test cells but none failed with nothing written"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"release-{name}.png"))
    print(f"release {name}: {len(expected)} expected errors (stubs and tests), none elsewhere")
