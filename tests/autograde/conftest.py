from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograde.build.release import build_assignment
from autograde.build.source import REPO_ROOT
from autograde.course import Course
from autograde.mutants import fill_release, reference_answers
from autograde.probe import MIME_TYPE, encode

SOLUTIONS = REPO_ROOT / "solutions"


def probe_output(check: str, value=None, error: str | None = None, spec: dict | None = None) -> dict:
    """A display_data output exactly as autograde.probe.report would produce it."""
    payload = {"check": check, "spec": spec or {}}
    if error is None:
        payload["value"] = json.loads(json.dumps(encode(value)))
    else:
        payload["error"] = error
    return nbformat.from_dict({"output_type": "display_data", "metadata": {},
                               "data": {MIME_TYPE: payload, "text/plain": "probe"}})


@pytest.fixture
def course(tmp_path: Path) -> Course:
    return Course(tmp_path / "course")


def built(course: Course, name: str):
    """Build ``name`` into ``course``; return (release notebook, reference answers)."""
    release = nbformat.read(build_assignment(course, SOLUTIONS / f"{name}.py"), as_version=4)
    answers = reference_answers(nbformat.read(course.source_notebook(name), as_version=4))
    return release, answers


def submission(release, answers: dict[str, str]) -> str:
    return nbformat.writes(fill_release(release, answers))


@pytest.fixture
def listening_server():
    """An HTTP server on 127.0.0.1 that records every request: (port, list of paths requested)."""
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, hits
    server.shutdown()


def _needs_bwrap() -> pytest.MarkDecorator:
    """Skip without a usable bubblewrap, except in CI (CI=true), where the sandbox must work:
    a skip there would hide that every sandbox and attack test stopped running."""
    import os

    from autograde.run.sandbox import bwrap_problem

    problem = bwrap_problem()
    return pytest.mark.skipif(problem is not None and not os.environ.get("CI"), reason=f"bubblewrap unusable: {problem}")


needs_bwrap = _needs_bwrap()
