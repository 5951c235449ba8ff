"""A real JupyterLab server and a headless Chromium, shared by the browser tests of one module.

The server runs from this interpreter (so its "python3" kernel sees course_utils), with every
Jupyter, IPython and matplotlib config dir pointed into a temp dir: nothing from the user's
home directory leaks in and nothing is written there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60


def _browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _browser_missing()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class LabServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    root: Path  # the server's root_dir: put notebooks here
    log: Path  # the server's stdout and stderr

    def lab_url(self, notebook: str, workspace: str) -> str:
        # A workspace of its own per test, reset, so no test reopens another test's tabs.
        return f"{self.url}/lab/workspaces/{workspace}/tree/{notebook}?reset"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    # No news or update checks (there is no internet here, and their toasts cover the page).
    path = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    _write_lab_settings(home / "lab-settings")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.pop("MPLBACKEND", None)  # the kernel must use its inline backend, not e.g. Agg from CI
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "matplotlib"),
        PYTHONUNBUFFERED="1",
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "server.log"
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = LabServer(url=url, root=root, log=log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{url}/lab", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jupyter lab did not answer on {url}/lab within {SERVER_START_TIMEOUT_S} s:\n"
                    f"{server.log_tail()}"
                )
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser tab; on failure its screenshot is left in tmp_path/failure.png."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1200})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        try:
            tab.screenshot(path=str(tmp_path / "failure.png"))
            print(f"screenshot of the failing page: {tmp_path / 'failure.png'}")
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the failure
            print(f"could not take a failure screenshot: {exc}")
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
