"""Driving JupyterLab from a test: open a notebook, run it all, wait, read what the page shows.

Commands go through the app object that ``--LabApp.expose_app_in_browser`` puts on
``window`` (see shared/NOTES.md: awaiting a command's promise hangs while a dialog is open).
"""

from __future__ import annotations

import json
import time

import pytest

OPEN_TIMEOUT_S = 60
ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"

# State of the current notebook, read through the app object that
# --LabApp.expose_app_in_browser puts on window.
NOTEBOOK_STATE = """
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


def notebook_state(page) -> dict | None:
    return page.evaluate(NOTEBOOK_STATE)


def open_notebook(page, lab_server, path: str, workspace: str) -> None:
    """Open `path` in a fresh workspace and wait until its kernel is idle."""
    page.goto(lab_server.lab_url(path, workspace), wait_until="domcontentloaded")
    deadline = time.monotonic() + OPEN_TIMEOUT_S
    state = None
    while time.monotonic() < deadline:
        state = notebook_state(page)
        if state and state["dialog"]:
            # A notebook without a kernelspec asks which kernel to use: take the default.
            page.locator(".jp-Dialog button.jp-mod-accept").click()
        elif state and state["path"] == path and state["ready"] and state["kernel"] == "idle":
            return
        time.sleep(0.3)
    pytest.fail(
        f"{path} did not open with an idle kernel within {OPEN_TIMEOUT_S} s; last state: "
        f"{summary(state)}\nserver log:\n{lab_server.log_tail()}"
    )


def run_all(page) -> None:
    # Not awaited on purpose: the command's promise hangs while a dialog is open.
    page.evaluate(
        "() => { const app = window.jupyterapp;"
        " app.shell.activateById(app.shell.currentWidget.id);"
        " app.commands.execute('notebook:run-all-cells'); }"
    )


def summary(state: dict | None) -> str:
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


def wait_for_run_all(page, timeout_s: float) -> dict:
    """Wait until run-all is over: kernel idle, no cell running or queued ([*]), and either every
    code cell has run or an error output stopped the run. Returns the final state."""
    deadline = time.monotonic() + timeout_s
    state = None
    started = False
    while time.monotonic() < deadline:
        time.sleep(0.5)
        state = notebook_state(page)
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
            again = notebook_state(page)
            if again and again["kernel"] == "idle" and again["errors"] == state["errors"]:
                if not any("*" in c["prompt"] for c in again["cells"] if c["type"] == "code"):
                    return again
    pytest.fail(f"run-all did not finish within {timeout_s:.0f} s; {summary(state)}")


def error_texts(page) -> list[str]:
    return page.locator(ERROR_OUTPUT).all_text_contents()


def text_of(locator) -> str:
    # textContent, not innerText: Chromium gives "" for innerText of some widget parts.
    # The minus sign in slider readouts is U+2212.
    return (locator.text_content() or "").replace("\u2212", "-").strip()
