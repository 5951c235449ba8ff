"""The set-up files: torch's build chosen by the machine, system packages, environment.yml and Binder.

These run the real scripts (bash) with a PATH and an environment made for each case; nothing is
downloaded: the torch script is run with --dry-run, which prints the pip command it would run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TORCH = ROOT / "scripts" / "install-torch.sh"
SYSTEM_DEPS = ROOT / "scripts" / "system-deps.sh"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# What the scripts may call; nothing else is on the PATH they see (no nvidia-smi, no apt-get).
TOOLS = ["bash", "sh", "grep", "uname", "id", "env", "cat", "printf", "dirname", "ls", "true"]


def _path_with(tmp_path: Path, extra: dict[str, str] | None = None, tools: list[str] = TOOLS) -> str:
    """A folder holding links to ``tools`` and the fake programs in ``extra`` (name -> shell body)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for tool in tools:
        real = shutil.which(tool)
        if real and not (folder / tool).exists():
            (folder / tool).symlink_to(real)
    for name, body in (extra or {}).items():
        fake = folder / name
        fake.write_text("#!/bin/sh\n" + body + "\n")
        fake.chmod(0o755)
    return str(folder)


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """The interpreter of a fresh venv without torch (what `make` has just created)."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return str(venv / "bin" / "python")


def _torch_plan(python: str, path: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("PIP_CONSTRAINT", "TORCH_INDEX_URL")}
    return subprocess.run(["bash", str(INSTALL_TORCH), "--dry-run", python], capture_output=True, text=True,
                          env={**clean, "PATH": path, **env}, timeout=60)


NVIDIA_SMI_GPU = 'echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5e1c0a52-0000-0000-0000-000000000000)"'
# What nvidia-smi says on a machine whose driver is not loaded (a VM without the card, say).
NVIDIA_SMI_BROKEN = ('echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. '
                     'Make sure that the latest NVIDIA driver is installed and running."; exit 9')


def test_no_gpu_gets_the_cpu_build(tmp_path, bare_python):
    plan = _torch_plan(bare_python, _path_with(tmp_path))
    assert plan.returncode == 0, plan.stderr
    command = plan.stdout.strip()
    assert command.startswith(f"{bare_python} -m pip install torch") and command.endswith(f"--index-url {CPU_INDEX}")
    assert "no NVIDIA GPU" in plan.stderr


def test_an_nvidia_smi_that_fails_counts_as_no_gpu(tmp_path, bare_python):
    plan = _torch_plan(bare_python, _path_with(tmp_path, {"nvidia-smi": NVIDIA_SMI_BROKEN}))
    assert plan.stdout.strip().endswith(f"--index-url {CPU_INDEX}"), plan.stdout + plan.stderr


def test_a_gpu_gets_pypis_default_cuda_build(tmp_path, bare_python):
    plan = _torch_plan(bare_python, _path_with(tmp_path, {"nvidia-smi": NVIDIA_SMI_GPU}))
    assert plan.returncode == 0, plan.stderr
    command = plan.stdout.strip()
    assert command.startswith(f"{bare_python} -m pip install torch") and "--index-url" not in command, command
    assert "NVIDIA GPU answers" in plan.stderr


def test_ci_constraint_pins_torch_and_the_script_stays_out_of_the_way(tmp_path, bare_python):
    """CI sets PIP_CONSTRAINT=.ci/constraints-cpu.txt: the course install takes torch from it, no CPU index."""
    plan = _torch_plan(bare_python, _path_with(tmp_path), PIP_CONSTRAINT=str(ROOT / ".ci" / "constraints-cpu.txt"))
    assert plan.returncode == 0 and plan.stdout.strip() == "", plan.stdout + plan.stderr
    # A constraint that does not name torch leaves the choice to the machine.
    other = tmp_path / "other.txt"
    other.write_text("numpy<3\ntorchvision<1\n")
    plan = _torch_plan(bare_python, _path_with(tmp_path), PIP_CONSTRAINT=str(other))
    assert plan.stdout.strip().endswith(f"--index-url {CPU_INDEX}"), plan.stdout + plan.stderr


def test_override_and_an_installed_torch_is_kept(tmp_path, bare_python):
    path = _path_with(tmp_path)
    plan = _torch_plan(bare_python, path, TORCH_INDEX_URL="")
    assert "--index-url" not in plan.stdout and "pip install torch" in plan.stdout, plan.stdout
    plan = _torch_plan(bare_python, path, TORCH_INDEX_URL="https://example.org/whl/cu126")
    assert plan.stdout.strip().endswith("--index-url https://example.org/whl/cu126")
    # This suite's own interpreter has torch: a re-run of make never replaces it.
    plan = _torch_plan(sys.executable, path)
    assert plan.stdout.strip() == "" and "keeping torch" in plan.stderr, plan.stdout + plan.stderr


def test_the_torch_requirement_matches_pyproject():
    script = re.search(r'^REQUIREMENT="([^"]+)"', INSTALL_TORCH.read_text(), re.M).group(1)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert script in project, f"scripts/install-torch.sh installs {script!r}; pyproject.toml says {project}"


def test_make_installs_torch_before_the_course():
    """`make -n` on a fresh venv path: the torch step comes first, then `pip install -e .[dev]`."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    plan = subprocess.run(["make", "-n", "-B", "VENV=/nonexistent/venv", "/nonexistent/venv/.installed"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    torch_step = next(i for i, line in enumerate(lines) if "scripts/install-torch.sh" in line)
    course_step = next(i for i, line in enumerate(lines) if 'pip install -e ".[dev]"' in line)
    assert torch_step < course_step, plan.stdout


# ---- scripts/system-deps.sh -------------------------------------------------------------------

ALL_PARTS = {
    "dataset-fashion-mnist": "sudo apt-get install dataset-fashion-mnist",
    "bubblewrap": "sudo apt-get install bubblewrap",
    "chromium": "sudo apt-get install chromium",
    "postgresql": "sudo apt-get install postgresql",
}


def _system_deps(path: str, tmp_path: Path, as_user: int | None = None) -> subprocess.CompletedProcess:
    """Run system-deps.sh seeing an empty file system (SYSTEM_DEPS_ROOT) and only ``path``."""
    empty = tmp_path / "empty-root"
    empty.mkdir(exist_ok=True)
    env = {"PATH": path, "SYSTEM_DEPS_ROOT": str(empty), "HOME": str(tmp_path)}
    command = ["bash", str(SYSTEM_DEPS)]
    if as_user is not None:
        command = [shutil.which("setpriv"), f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)


def _assert_names_every_part(run: subprocess.CompletedProcess, why: str) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    message = run.stderr
    assert why in message, message
    for part, command in ALL_PARTS.items():
        assert command in message, f"{part} is not named with its install command:\n{message}"
    assert f"All at once: sudo apt-get install {' '.join(ALL_PARTS)}" in message
    assert run.stdout == ""


def test_system_deps_without_apt_get_stops_at_once_naming_each_part(tmp_path):
    run = _system_deps(_path_with(tmp_path), tmp_path)
    _assert_names_every_part(run, "there is no apt-get here")


def test_system_deps_as_an_ordinary_user_never_runs_apt_get(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root (to become an ordinary user with setpriv)")
    # pytest's tmp_path sits in a folder only root may enter: use one that nobody can read.
    shared = Path(tempfile.mkdtemp(prefix="system-deps-"))
    try:
        shared.chmod(0o777)
        called = shared / "apt-get-was-called"
        path = _path_with(shared, {"apt-get": f"touch {called}; exit 0", "sudo": "exit 1"})
        run = _system_deps(path, shared, as_user=65534)  # nobody
        _assert_names_every_part(run, "you are not root and sudo asks for a password")
        assert not called.exists()
    finally:
        shutil.rmtree(shared)


def test_system_deps_as_root_with_apt_get_installs_what_is_missing(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    log = tmp_path / "apt-get.log"
    path = _path_with(tmp_path, {"apt-get": f'echo "$*" >> {log}'})
    run = _system_deps(path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert log.read_text().splitlines() == ["update -qq", f"install -y -qq {' '.join(ALL_PARTS)}"]


# ---- environment.yml (conda and Binder) agrees with pyproject.toml -----------------------------

# conda-forge's name for a PyPI package, where they differ.
CONDA_NAME = {"torch": "pytorch"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _conda_and_pip(env: dict) -> tuple[dict[str, str], list[str]]:
    conda, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep)
        conda[match.group(1).lower()] = match.group(2).replace(" ", "")
    return conda, pip


def _repo2docker_sees_local(line: str) -> bool:
    """repo2docker's rule (utils.is_local_pip_requirement): after a short flag, a path starting with '.'.
    Only then does it copy the repository before installing environment.yml, so `-e .` can work."""
    line = line.split("#", 1)[0].strip()
    if line.startswith("-"):
        parts = line.split(None, 1)
        line = parts[1] if len(parts) > 1 else ""
    return line.startswith(".") or "file://" in line


def test_environment_yml_lists_exactly_pyprojects_dependencies_with_the_same_bounds():
    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["lab"]]
    conda, pip = _conda_and_pip(_environment())
    pip_reqs = {Requirement(line).name.lower(): Requirement(line) for line in pip if not line.startswith("-")}
    problems = []
    for req in wanted:
        name = req.name.lower()
        if name in pip_reqs:
            if str(pip_reqs[name]) != str(req):
                problems.append(f"pip section has {pip_reqs.pop(name)}, pyproject.toml {req}")
            else:
                pip_reqs.pop(name)
        elif CONDA_NAME.get(name, name) in conda:
            if req.extras:
                problems.append(f"{req} has extras conda cannot install: put it in the pip section")
            spec = conda.pop(CONDA_NAME.get(name, name))
            if spec != str(req.specifier):
                problems.append(f"conda has {CONDA_NAME.get(name, name)}{spec}, pyproject.toml {req}")
        else:
            problems.append(f"{req} (pyproject.toml) is missing from environment.yml")
    conda.pop("python")
    conda.pop("pip")
    problems += [f"environment.yml has {n}{s}, which pyproject.toml does not list" for n, s in conda.items()]
    problems += [f"pip section has {r}, which pyproject.toml does not list" for r in pip_reqs.values()]
    assert not problems, "\n".join(problems)


def test_environment_yml_installs_this_checkout_with_the_grader_and_a_supported_python():
    from packaging.specifiers import SpecifierSet

    env = _environment()
    conda, pip = _conda_and_pip(env)
    assert conda["python"].lstrip("=") in SpecifierSet(_pyproject()["project"]["requires-python"])
    local = [line for line in pip if line.startswith("-")]
    assert local == ["-e .[grader]"], local
    assert _repo2docker_sees_local(local[0])
    assert not _repo2docker_sees_local('-e ".[grader]"'), "the rule above is repo2docker's: quotes hide the '.'"
    assert env["channels"] == ["conda-forge"]


def test_binder_builds_from_the_root_environment_yml():
    """repo2docker reads binder/ (or .binder/) instead of the root when either exists: none may shadow it."""
    for folder in ("binder", ".binder"):
        assert not (ROOT / folder).exists(), f"{folder}/ would make Binder ignore the root environment.yml"
    # Another environment file at the root would be read before or beside environment.yml.
    for other in ("requirements.txt", "Pipfile", "setup.py", "runtime.txt", "Dockerfile"):
        assert not (ROOT / other).exists(), f"{other} changes what repo2docker builds"
    postbuild = ROOT / "postBuild"
    if postbuild.exists():
        assert os.access(postbuild, os.X_OK) or postbuild.read_text().startswith("#!")


def test_every_release_notebook_has_a_binder_badge_that_opens_itself():
    import json

    repo = _pyproject()["tool"]["autograde"]["repository"]
    tag = "v" + _pyproject()["project"]["version"]
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"][:3])
        links = re.findall(r"\(https://mybinder\.org/v2/gh/([^/]+/[^/]+)/([^?]+)\?urlpath=lab/tree/([^)]+)\)", text)
        assert links, f"{path.name} has no Binder badge"
        assert links[0] == (repo, tag, f"notebooks/{path.name}"), (path.name, links[0])
        assert (ROOT / links[0][2]).exists()
