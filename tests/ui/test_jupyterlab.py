"""Notebook 01 in a real JupyterLab, driven through headless Chromium, as a student sees it.

- a solved notebook runs top to bottom with no error output, shows its plots, and its
  slider widget renders and talks to the kernel;
- the untouched release fails its first visible test with a message that names the task;
- the nbgrader extension's menu and Validate button show, and Validate reports the failing
  visible test of the release.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "01_linear_classifiers"
RELEASE = REPO_ROOT / "notebooks" / f"{NOTEBOOK}.ipynb"
OPEN_TIMEOUT_S = 60
RUN_ALL_TIMEOUT_S = 150
WIDGET_TIMEOUT_MS = 30_000
VALIDATE_TIMEOUT_MS = 90_000
ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"

# State of the current notebook, read through the app object that
# --LabApp.expose_app_in_browser puts on window.
_NOTEBOOK_STATE = """
() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext || !panel.context) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.map((cell, index) => {
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    return {
      index,
      type: cell.model.type,
      count: cell.model.type === 'code' ? cell.model.executionCount : null,
      prompt: prompt ? prompt.textContent.trim() : '',
      source: cell.model.sharedModel.getSource().slice(0, 120),
    };
  });
  return {
    path: panel.context.path,
    ready: panel.context.isReady,
    kernel: kernel ? kernel.status : null,
    dialog: !!document.querySelector('.jp-Dialog'),
    errors: document.querySelectorAll(ERROR_OUTPUT).length,
    cells,
  };
}
""".replace("ERROR_OUTPUT", json.dumps(ERROR_OUTPUT))


def _state(page) -> dict | None:
    return page.evaluate(_NOTEBOOK_STATE)


def _open_notebook(page, lab_server, path: str, workspace: str) -> None:
    """Open `path` in a fresh workspace and wait until its kernel is idle."""
    page.goto(lab_server.lab_url(path, workspace), wait_until="domcontentloaded")
    deadline = time.monotonic() + OPEN_TIMEOUT_S
    state = None
    while time.monotonic() < deadline:
        state = _state(page)
        if state and state["dialog"]:
            # A notebook without a kernelspec asks which kernel to use: take the default.
            page.locator(".jp-Dialog button.jp-mod-accept").click()
        elif state and state["path"] == path and state["ready"] and state["kernel"] == "idle":
            return
        time.sleep(0.3)
    pytest.fail(
        f"{path} did not open with an idle kernel within {OPEN_TIMEOUT_S} s; last state: "
        f"{_summary(state)}\nserver log:\n{lab_server.log_tail()}"
    )


def _run_all(page) -> None:
    # Not awaited on purpose: the command's promise hangs while a dialog is open.
    page.evaluate(
        "() => { const app = window.jupyterapp;"
        " app.shell.activateById(app.shell.currentWidget.id);"
        " app.commands.execute('notebook:run-all-cells'); }"
    )


def _summary(state: dict | None) -> str:
    if not state:
        return "no notebook panel"
    unfinished = [
        f"#{c['index']} {c['prompt']!r} {c['source'][:50]!r}"
        for c in state["cells"]
        if c["type"] == "code" and (c["count"] is None or "*" in c["prompt"])
    ]
    return (
        f"path={state['path']} kernel={state['kernel']} errors={state['errors']} "
        f"dialog={state['dialog']} unfinished code cells: {unfinished}"
    )


def _wait_for_run_all(page) -> dict:
    """Wait until run-all is over: kernel idle, no cell running or queued ([*]), and either every
    code cell has run or an error output stopped the run. Returns the final state."""
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    state = None
    started = False
    while time.monotonic() < deadline:
        time.sleep(0.5)
        state = _state(page)
        if state is None:
            continue
        code = [c for c in state["cells"] if c["type"] == "code"]
        busy = any("*" in c["prompt"] for c in code)
        started = started or busy
        all_done = all(c["count"] is not None for c in code)
        if busy or state["kernel"] != "idle" or not (started or all_done):
            continue
        if all_done or state["errors"]:
            # Idle can flicker between two queued cells: confirm a moment later.
            time.sleep(1.0)
            again = _state(page)
            if again and again["kernel"] == "idle" and again["errors"] == state["errors"]:
                if not any("*" in c["prompt"] for c in again["cells"] if c["type"] == "code"):
                    return again
    pytest.fail(f"run-all did not finish within {RUN_ALL_TIMEOUT_S} s; {_summary(state)}")


def _error_texts(page) -> list[str]:
    return page.locator(ERROR_OUTPUT).all_text_contents()


def _text(locator) -> str:
    # textContent, not innerText: Chromium gives "" for innerText of some widget parts.
    # The minus sign in slider readouts is U+2212.
    return (locator.text_content() or "").replace("\u2212", "-").strip()


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
    _open_notebook(page, lab_server, path, "solved")
    _run_all(page)
    state = _wait_for_run_all(page)

    errors = _error_texts(page)
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
    notebook_text = _text(page.locator(".jp-NotebookPanel"))
    for bad in ("Error displaying widget", "Loading widget", "Error rendering"):
        assert bad not in notebook_text, f"widget did not render: {bad!r} on the page"
    box = page.locator(".widget-vbox").filter(has=sliders.first)
    accuracy = box.locator(".widget-label").filter(has_text="accuracy:")
    picture = box.locator(".widget-image")
    assert accuracy.count() == 1, "no accuracy label in the widget"
    assert picture.count() == 1, "no picture in the widget"
    box.scroll_into_view_if_needed()
    before_text = _text(accuracy)
    before_src = picture.get_attribute("src")
    assert before_src, "the widget's picture has no image data"

    # Type a new w1 into the slider's readout, as a student can; the kernel recomputes.
    w1 = sliders.filter(has=page.locator(".widget-label", has_text="w1"))
    readout = w1.locator(".widget-readout")
    assert _text(readout) == "1.00", "w1 does not start at 1.00"
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
            f"{_text(readout)!r}, label {_text(accuracy)!r})"
        )
    assert _text(readout) == "-3.00", "the readout did not take the typed value"
    after_text = _text(accuracy)
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
    assert not _error_texts(page), "error output appeared while moving the slider"


def test_release_stub_names_the_task(page, lab_server) -> None:
    path = _copy_to(lab_server, "release", RELEASE)
    _open_notebook(page, lab_server, path, "release")
    _run_all(page)
    state = _wait_for_run_all(page)
    assert state["errors"] > 0, "the untouched release ran without any error output"

    first = page.locator(ERROR_OUTPUT).first
    text = _text(first)
    assert "NotImplementedError" in text, text
    assert "Implement mse_loss_and_grad" in text, text
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
    _open_notebook(page, lab_server, path, "validate")
    menu = page.locator(".lm-MenuBar-item").filter(has_text="Nbgrader")
    try:
        menu.first.wait_for(state="visible", timeout=15_000)
    except Exception:  # noqa: BLE001 - say what is missing instead
        pytest.fail("no Nbgrader menu in the menu bar")
    assert menu.count() == 1, "more than one Nbgrader menu in the menu bar"
    button = page.locator(".jp-NotebookPanel-toolbar .validate-button")
    button.wait_for(state="visible", timeout=15_000)
    assert "Validate" in _text(button)

    # Clicking it runs nbgrader's validator on the server; the release must fail, naming the stub.
    button.click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(state="visible", timeout=VALIDATE_TIMEOUT_MS)
    report = _text(dialog)
    assert "failed" in report, report[:2000]
    assert "NotImplementedError: Implement mse_loss_and_grad" in report, report[:2000]
