"""The package surface: explicit re-exports, version and a fast, light import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import course_utils
from course_utils import checks, data, datasets, env, gradcheck, toy, viz, widgets

MODULES = [checks, data, datasets, env, gradcheck, toy, viz, widgets]


def test_every_module_export_is_re_exported() -> None:
    for module in MODULES:
        for name in module.__all__:
            assert name in course_utils.__all__, f"{module.__name__}.{name} missing from __all__"
            assert getattr(course_utils, name) is getattr(module, name)
    for name in course_utils.__all__:
        assert hasattr(course_utils, name), name
    assert len(set(course_utils.__all__)) == len(course_utils.__all__)


def test_version_matches_pyproject() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    match = re.search(r'^version = "([^"]+)"', pyproject.read_text(), re.MULTILINE)
    assert match and course_utils.__version__ == match.group(1)


def test_import_is_light() -> None:
    # torch alone takes over a second to import; notebooks import course_utils first.
    code = (
        "import sys, time; t = time.perf_counter(); import course_utils; "
        "dt = time.perf_counter() - t; "
        "heavy = [m for m in ('torch', 'matplotlib', 'ipywidgets', 'sklearn', 'tqdm') if m in sys.modules]; "
        "print(heavy, dt)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, seconds = out.stdout.rsplit(" ", 1)
    assert heavy == "[]"
    assert float(seconds) < 1.0  # ~0.1 s in practice; generous for slow CI machines
