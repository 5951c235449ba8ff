"""Notebook 01 in a real JupyterLab, driven through headless Chromium, as a student sees it.

- a solved notebook runs top to bottom with no error output, shows its plots, and its
  slider widget renders and talks to the kernel;
- the untouched release fails its first visible test with a message that names the task;
- the nbgrader extension's menu and Validate button show, and Validate reports the failing
  visible test of the release.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from .lab import ERROR_OUTPUT, error_texts, open_notebook, run_all, text_of, wait_for_run_all

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "01_linear_classifiers"
RELEASE = REPO_ROOT / "notebooks" / f"{NOTEBOOK}.ipynb"
RUN_ALL_TIMEOUT_S = 150
WIDGET_TIMEOUT_MS = 30_000
VALIDATE_TIMEOUT_MS = 90_000

def _copy_to(lab_server, folder: str, notebook: nbformat.NotebookNode | Path) -> str:
    """Put a notebook in lab_server.root/folder/ and return its path relative to the root."""
    target = lab_server.root / folder / f"{NOTEBOOK}.ipynb"
    target.parent.mkdir()
    if isinstance(notebook, Path):
        shutil.copyfile(notebook, target)
    else:
        nbformat.write(notebook, target)
    return f"{folder}/{NOTEBOOK}.ipynb"


@pytest.fixture(scope="module")
def solved_notebook(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The student release with every solution cell filled in from the reference solutions."""
    from autograde.build.release import build_assignment
    from autograde.course import Course
    from autograde.mutants import fill_release, reference_answers

    course = Course(tmp_path_factory.mktemp("course") / "course")
    release = nbformat.read(
        build_assignment(course, REPO_ROOT / "solutions" / f"{NOTEBOOK}.py"), as_version=4
    )
    answers = reference_answers(nbformat.read(course.source_notebook(NOTEBOOK), as_version=4))
    filled = fill_release(release, answers)
    for cell in filled.cells:  # start from a clean slate, as a fresh download would
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return filled


def test_solved_notebook_runs_with_plots_and_a_live_widget(
    page, lab_server, solved_notebook, tmp_path: Path
) -> None:
    path = _copy_to(lab_server, "solved", solved_notebook)
    open_notebook(page, lab_server, path, "solved")
    run_all(page)
    state = wait_for_run_all(page, RUN_ALL_TIMEOUT_S)

    errors = error_texts(page)
    assert not errors, "error output in the solved notebook:\n" + "\n---\n".join(errors)
    assert state["errors"] == 0
    unrun = [c["index"] for c in state["cells"] if c["type"] == "code" and c["count"] is None]
    assert not unrun, f"code cells that never ran: {unrun}"

    # matplotlib figures arrive as PNG outputs; each must really decode in the browser.
    widths = page.eval_on_selector_all(
        ".jp-OutputArea-output.jp-RenderedImage img", "imgs => imgs.map(i => i.naturalWidth)"
    )
    assert widths, "no image output rendered"
    assert all(w > 0 for w in widths), f"images that did not decode (naturalWidth 0): {widths}"

    # The decision-boundary widget: three sliders, an accuracy label and a picture.
    sliders = page.locator(".jupyter-widgets.widget-slider")
    sliders.first.wait_for(state="attached", timeout=WIDGET_TIMEOUT_MS)
    assert sliders.count() == 3, f"expected sliders w1, w2, b; found {sliders.count()}"
    notebook_text = text_of(page.locator(".jp-NotebookPanel"))
    for bad in ("Error displaying widget", "Loading widget", "Error rendering"):
        assert bad not in notebook_text, f"widget did not render: {bad!r} on the page"
    box = page.locator(".widget-vbox").filter(has=sliders.first)
    accuracy = box.locator(".widget-label").filter(has_text="accuracy:")
    picture = box.locator(".widget-image")
    assert accuracy.count() == 1, "no accuracy label in the widget"
    assert picture.count() == 1, "no picture in the widget"
    box.scroll_into_view_if_needed()
    before_text = text_of(accuracy)
    before_src = picture.get_attribute("src")
    assert before_src, "the widget's picture has no image data"

    # Type a new w1 into the slider's readout, as a student can; the kernel recomputes.
    w1 = sliders.filter(has=page.locator(".widget-label", has_text="w1"))
    readout = w1.locator(".widget-readout")
    assert text_of(readout) == "1.00", "w1 does not start at 1.00"
    readout.evaluate("el => el.scrollIntoView({block: 'center'})")
    readout.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("-3")
    page.keyboard.press("Enter")
    try:
        page.wait_for_function(
            "([el, before]) => el.textContent.trim() !== before",
            arg=[accuracy.element_handle(), before_text],
            timeout=WIDGET_TIMEOUT_MS,
        )
    except Exception:  # noqa: BLE001 - report what the page shows instead
        pytest.fail(
            f"accuracy label did not change after setting w1 = -3 (readout now "
            f"{text_of(readout)!r}, label {text_of(accuracy)!r})"
        )
    assert text_of(readout) == "-3.00", "the readout did not take the typed value"
    after_text = text_of(accuracy)
    assert after_text != before_text
    page.wait_for_function(
        "([el, before]) => el.getAttribute('src') !== before",
        arg=[picture.element_handle(), before_src],
        timeout=WIDGET_TIMEOUT_MS,
    )

    # Leave a picture of what the student sees: sliders, accuracy and plot.
    shot = tmp_path / "solved_notebook.png"
    box.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.mouse.move(700, 500)
    page.mouse.wheel(0, -80)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shot))
    print(f"accuracy {before_text!r} -> {after_text!r}; screenshot: {shot}")
    assert not error_texts(page), "error output appeared while moving the slider"


def test_release_stub_names_the_task(page, lab_server) -> None:
    path = _copy_to(lab_server, "release", RELEASE)
    open_notebook(page, lab_server, path, "release")
    run_all(page)
    state = wait_for_run_all(page, RUN_ALL_TIMEOUT_S)
    assert state["errors"] > 0, "the untouched release ran without any error output"

    first = page.locator(ERROR_OUTPUT).first
    message = text_of(first)
    assert "NotImplementedError" in message, message
    assert "Implement mse_loss_and_grad" in message, message
    # The error belongs to the first exercise's visible-test cell, not to some earlier cell.
    cell_source = first.evaluate(
        "(el) => { const nb = window.jupyterapp.shell.currentWidget.content;"
        " const node = el.closest('.jp-CodeCell');"
        " const cell = nb.widgets.find(w => w.node === node);"
        " return cell ? cell.model.sharedModel.getSource() : null; }"
    )
    assert cell_source is not None, "the error output is not inside a code cell"
    assert "mse_loss_and_grad(" in cell_source and "def mse_loss_and_grad" not in cell_source, (
        f"the first error is not in the visible test of mse_loss_and_grad:\n{cell_source}"
    )


def test_nbgrader_validate_button(page, lab_server) -> None:
    path = _copy_to(lab_server, "validate", RELEASE)
    open_notebook(page, lab_server, path, "validate")
    menu = page.locator(".lm-MenuBar-item").filter(has_text="Nbgrader")
    try:
        menu.first.wait_for(state="visible", timeout=15_000)
    except Exception:  # noqa: BLE001 - say what is missing instead
        pytest.fail("no Nbgrader menu in the menu bar")
    assert menu.count() == 1, "more than one Nbgrader menu in the menu bar"
    button = page.locator(".jp-NotebookPanel-toolbar .validate-button")
    button.wait_for(state="visible", timeout=15_000)
    assert "Validate" in text_of(button)

    # Clicking it runs nbgrader's validator on the server; the release must fail, naming the stub.
    button.click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(state="visible", timeout=VALIDATE_TIMEOUT_MS)
    report = text_of(dialog)
    assert "failed" in report, report[:2000]
    assert "NotImplementedError: Implement mse_loss_and_grad" in report, report[:2000]
