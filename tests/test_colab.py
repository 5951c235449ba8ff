"""Colab, simulated: the release's own setup cell must install the course helpers without replacing
what Colab preinstalls (its torch, ipywidgets 7.x), and the notebooks must then run there.

A fresh venv holds only what Colab ships that matters here: numpy, torch (the local CPU wheel,
the version this suite runs), matplotlib, ipywidgets 7.x and ipykernel. The release notebook's
setup cell is run verbatim except for the GitHub URL, replaced by a copy of this checkout, in a
kernel of that venv where `google.colab` is importable and imported at start-up (a stand-in
module, for this test only), as on Colab. Then 00_setup and 01_linear_classifiers (whose boundary
widget is built from ipywidgets), filled with the reference answers, run top to bottom in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograde.build.release import build_assignment
from autograde.build.source import release_tag, repository
from autograde.course import Course
from autograde.mutants import fill_release, reference_answers

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PRE_INSTALLED = ["numpy", "matplotlib", "ipywidgets>=7.6,<8", "ipykernel"]


def _pip(python: Path, *args: str) -> None:
    run = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def _versions(python: Path) -> dict[str, str]:
    code = "import json, torch, ipywidgets; print(json.dumps({'torch': torch.__version__, 'ipywidgets': ipywidgets.__version__}))"
    return json.loads(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout)


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """(the venv's python, the kernel name, a folder of notebooks) for a simulated Colab runtime."""
    import torch

    home = tmp_path_factory.mktemp("colab")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    _pip(python, f"torch=={torch.__version__.split('+')[0]}", *PRE_INSTALLED)

    # A copy of this checkout stands in for github.com/<repo>@<tag> (pip builds a local path in place).
    checkout = home / "checkout"
    top_level = {".git", ".venv", "build", "work", "notebooks", "tests", "benchmarks", "solutions",
                 ".pytest_cache", ".ruff_cache", ".hypothesis"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        # build/ only at the top: autograde/build is part of the package
        skip = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        return skip | (top_level & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, checkout, ignore=ignore)

    # google.colab exists and is imported when the kernel starts, as on Colab.
    fake = home / "fake-colab"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s module (tests only)."""\n')
    ipython_dir = home / "ipython"
    (ipython_dir / "profile_default" / "startup").mkdir(parents=True)
    (ipython_dir / "profile_default" / "startup" / "00-colab.py").write_text("import google.colab  # noqa\n")
    spec = home / "jupyter" / "kernels" / "colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab (simulated)", "language": "python",
        "env": {"PYTHONPATH": str(fake), "IPYTHONDIR": str(ipython_dir), "MPLBACKEND": "agg",
                "MPLCONFIGDIR": str(home / "mpl")},
    }))
    return python, checkout, home


def _run(nb, home: Path, timeout: int = 300):
    from nbclient import NotebookClient

    from autograde.course import KERNEL_ARGUMENTS

    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(home / "jupyter")
    try:
        client = NotebookClient(nb, kernel_name="colab", timeout=timeout, extra_arguments=KERNEL_ARGUMENTS,
                                resources={"metadata": {"path": str(home)}})
        return client.execute()
    finally:
        if previous is None:
            os.environ.pop("JUPYTER_PATH")
        else:
            os.environ["JUPYTER_PATH"] = previous


def _setup_cell(nb) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "google.colab" in cell.source:
            return i
    raise AssertionError("no Colab setup cell in the release")


def test_setup_cell_keeps_colabs_torch_and_ipywidgets_and_the_notebooks_run(colab, tmp_path):
    python, checkout, home = colab
    before = _versions(python)
    assert before["ipywidgets"].startswith("7."), before

    course = Course(tmp_path / "course")
    notebooks = {}
    for name in ("00_setup", "01_linear_classifiers"):
        release = nbformat.read(build_assignment(course, ROOT / "solutions" / f"{name}.py"), as_version=4)
        answers = reference_answers(nbformat.read(course.source_notebook(name), as_version=4))
        notebooks[name] = fill_release(release, answers)

    # The release's setup cell, verbatim but for the URL it installs from.
    nb = notebooks["00_setup"]
    cell = nb.cells[_setup_cell(nb)]
    url = f"git+https://github.com/{repository()}.git@{release_tag()}"
    assert url in cell.source, cell.source
    cell.source = cell.source.replace(url, str(checkout))
    probe = nbformat.v4.new_code_cell("import course_utils, sys\nprint('installed:', course_utils.__file__)\n"
                                      "print('colab:', 'google.colab' in sys.modules)")
    nb.cells.insert(_setup_cell(nb) + 1, probe)

    ran = _run(nb, home)
    printed = "".join(o.get("text", "") for o in ran.cells[_setup_cell(nb) + 1].outputs)
    assert "colab: True" in printed and str(python.parent.parent) in printed, printed
    after = _versions(python)
    assert after == before, f"the setup cell replaced Colab's packages: {before} -> {after}"
    errors = [o for c in ran.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors

    # A notebook with a widget, in the same runtime: the widget is built by Colab's ipywidgets 7.
    nb = notebooks["01_linear_classifiers"]
    nb.cells.append(nbformat.v4.new_code_cell("import ipywidgets\nprint('ipywidgets', ipywidgets.__version__)"))
    ran = _run(nb, home, timeout=600)
    errors = [o for c in ran.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    views = [o for c in ran.cells for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, "the boundary widget was not displayed"
    assert re.search(r"ipywidgets 7\.", ran.cells[-1].outputs[0]["text"]), ran.cells[-1].outputs
    assert _versions(python) == before
