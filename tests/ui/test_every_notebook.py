"""Every solved notebook in a real JupyterLab, as a student who has done the work sees it.

For each notebook (01 has its own, deeper test in test_jupyterlab.py):

- Run All goes top to bottom with no error output and every code cell runs;
- every figure decodes in the browser;
- every widget renders (no "Error displaying widget", nothing stuck at "Loading widget"),
  and moving the first slider of the notebook changes what its widget shows: the kernel
  answered;
- a screenshot of the widget (or of the last figure) is kept in ``build/ui/`` (or
  ``$UI_SCREENSHOTS``) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from autograde.build.source import REPO_ROOT, solution_paths

from .lab import error_texts, open_notebook, run_all, text_of, wait_for_run_all

pytestmark = [pytest.mark.browser, pytest.mark.timeout(720)]

RUN_ALL_TIMEOUT_S = 600
WIDGET_TIMEOUT_MS = 60_000
NOTEBOOKS = [p.stem for p in solution_paths() if p.stem != "01_linear_classifiers"]
SCREENSHOTS = Path(os.environ.get("UI_SCREENSHOTS", REPO_ROOT / "build" / "ui"))

# What a widget shows: its pictures and its text. A change means the kernel answered.
_WIDGET_VIEW = """
el => {
  const box = el.closest('.widget-interact') || el.closest('.widget-vbox') || el.parentElement;
  const imgs = Array.from(box.querySelectorAll('img')).map(i => i.getAttribute('src') || '');
  return box.textContent + '|' + imgs.map(s => s.length + ':' + s.slice(-64)).join(',');
}
"""


def solved(name: str, tmp: Path) -> nbformat.NotebookNode:
    """The release of ``name`` with every solution cell filled in from the reference, no outputs."""
    from autograde.build.release import build_assignment
    from autograde.course import Course
    from autograde.mutants import fill_release, reference_answers

    course = Course(tmp / "course")
    release = nbformat.read(build_assignment(course, REPO_ROOT / "solutions" / f"{name}.py"), as_version=4)
    filled = fill_release(release, reference_answers(nbformat.read(course.source_notebook(name), as_version=4)))
    for cell in filled.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return filled


def _move_first_slider(page) -> tuple[str, str] | None:
    """Press End, then Home, on the first slider's handle; the widget's view before and after."""
    sliders = page.locator(".jupyter-widgets.widget-slider")
    if sliders.count() == 0:
        return None
    slider = sliders.first
    slider.scroll_into_view_if_needed()
    before = slider.evaluate(_WIDGET_VIEW)
    handle = slider.locator(".noUi-handle, .ui-slider-handle").first
    for key in ("End", "Home"):  # one of the two moves it, wherever it starts
        handle.focus()
        page.keyboard.press(key)
        try:
            page.wait_for_function(f"([el, before]) => ({_WIDGET_VIEW})(el) !== before",
                                   arg=[slider.element_handle(), before], timeout=WIDGET_TIMEOUT_MS // 2)
            return before, slider.evaluate(_WIDGET_VIEW)
        except Exception:  # noqa: BLE001 - the value may already have been at that end
            continue
    return before, slider.evaluate(_WIDGET_VIEW)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solved_notebook_runs_in_jupyterlab_with_live_widgets(name, page, lab_server, tmp_path: Path) -> None:
    target = lab_server.root / "solved" / f"{name}.ipynb"
    target.parent.mkdir(exist_ok=True)
    nbformat.write(solved(name, tmp_path), target)
    path = f"solved/{name}.ipynb"
    open_notebook(page, lab_server, path, f"solved-{name}")
    run_all(page)
    state = wait_for_run_all(page, RUN_ALL_TIMEOUT_S)

    errors = error_texts(page)
    assert not errors, f"error output in solved {name}:\n" + "\n---\n".join(e[:1500] for e in errors)
    unrun = [c["index"] for c in state["cells"] if c["type"] == "code" and c["count"] is None]
    assert not unrun, f"code cells that never ran: {unrun}"

    widths = page.eval_on_selector_all(".jp-OutputArea-output.jp-RenderedImage img",
                                       "imgs => imgs.map(i => i.naturalWidth)")
    assert all(w > 0 for w in widths), f"figures that did not decode (naturalWidth 0): {widths}"

    widget_count = page.locator(".jupyter-widgets").count()
    page_text = text_of(page.locator(".jp-NotebookPanel"))
    for bad in ("Error displaying widget", "Loading widget", "Error rendering"):
        assert bad not in page_text, f"a widget did not render in {name}: {bad!r} on the page"

    moved = _move_first_slider(page)
    if moved is not None:
        before, after = moved
        assert after != before, f"the first slider of {name} moved but its widget did not change"
        assert not error_texts(page), "error output appeared while moving the slider"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name}.png"
    page.mouse.move(700, 500)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shot))
    print(f"{name}: {len(widths)} figures, {widget_count} widget parts, slider moved: {moved is not None}; {shot}")
