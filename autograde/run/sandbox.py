"""Where a student's kernel runs: a bubblewrap sandbox, resource limits and a scrubbed environment.

Every submission gets a private scratch directory and a kernel that

- sees the file system read-only, with the course directory, the gradebook,
  the solutions, the submissions and the grader's home hidden behind empty
  directories, and writes only to its scratch directory and a private ``/tmp``;
- has no network (``--unshare-net``), its own process tree (``--unshare-pid``)
  and no capabilities, and dies with the grader;
- talks to the grader over IPC sockets in the scratch directory, so it needs no
  network namespace shared with the grader;
- gets a minimal environment: nothing in it says that it is being graded;
- runs under limits on memory, processes and file size (cgroups where the grader
  may create them, rlimits otherwise).

Without bubblewrap, ``mode="auto"`` falls back to the limits, the scratch
directory and the scrubbed environment alone, and warns that the kernel can
read and write whatever the grader can.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from ..build.source import REPO_ROOT

GiB = 1 << 30
MiB = 1 << 20


class SandboxUnavailable(RuntimeError):
    """``--sandbox bwrap`` was asked for and bubblewrap cannot run here."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Times in seconds, sizes in bytes."""

    cell_timeout: int = 240
    notebook_timeout: int = 1800
    memory: int = 6 * GiB
    processes: int = 128
    file_size: int = 256 * MiB
    cell_output: int = 2 * MiB  # text and images a cell may print; the rest is dropped
    threads: int = 0  # BLAS/OpenMP threads per kernel; 0: leave the libraries' default


@dataclass(frozen=True)
class Policy:
    """How to confine a kernel: the sandbox mode, the limits and the paths to hide."""

    mode: str = "auto"  # "auto", "bwrap" or "none"
    limits: Limits = field(default_factory=Limits)
    hidden: tuple[str, ...] = ()  # directories the kernel must not see (course, submissions, ...)
    gpu: bool = False

    def resolved_mode(self) -> str:
        """'bwrap' or 'none' (with a warning when bubblewrap was wanted but cannot run)."""
        if self.mode == "none":
            return "none"
        problem = bwrap_problem()
        if problem is None:
            return "bwrap"
        if self.mode == "bwrap":
            raise SandboxUnavailable(f"bubblewrap cannot sandbox kernels here: {problem}")
        warnings.warn(
            f"grading WITHOUT a sandbox ({problem}): student code can read and write whatever "
            "the grader can. Install bubblewrap (apt install bubblewrap) or pass --sandbox none "
            "to silence this warning.", RuntimeWarning, stacklevel=2)
        return "none"


@cache
def bwrap_problem() -> str | None:
    """None if bubblewrap runs here with the namespaces we need, else why not."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bwrap is not installed"
    trial = [exe, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--die-with-parent", "true"]
    try:
        run = subprocess.run(trial, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start ({exc})"
    return None if run.returncode == 0 else f"bwrap cannot create namespaces ({run.stderr.strip()[:200]})"


def default_hidden(*extra: Path | str | None) -> tuple[str, ...]:
    """Paths no kernel may see: the solutions, the build tree, the grader's home, and ``extra``."""
    paths = [REPO_ROOT / "solutions", REPO_ROOT / "build", Path.home(), *[p for p in extra if p]]
    return tuple(dict.fromkeys(str(Path(p).resolve()) for p in paths))


def _needed_paths() -> list[Path]:
    """What a kernel must read: the interpreter, its packages and the datasets."""
    import course_utils

    paths = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent,
             Path(course_utils.__file__).resolve().parent.parent]
    paths += [Path(p) for p in sys.path if p and Path(p).is_dir()]
    for spec in course_utils.DATASETS.values():
        paths += [Path(p) for p in course_utils.candidate_dirs(spec) if Path(p).is_dir()]
    return [p.resolve() for p in paths]


def _is_under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def bwrap_arguments(scratch: Path, policy: Policy) -> list[str]:
    """The bubblewrap command line that wraps one kernel (everything before ``--``)."""
    # A path that does not exist has nothing to hide (and bwrap cannot mount over it on a
    # read-only tree); /tmp becomes a private tmpfs in any case.
    hidden = [Path(p) for p in policy.hidden if Path(p).exists() and not _is_under(scratch, Path(p))]
    hidden.append(Path("/tmp"))
    # Paths the kernel needs, where they lie under a hidden one, are bound back after it; a
    # hidden path inside a needed one (solutions/ inside the repository) is hidden after that.
    needed = [p for p in _needed_paths() if any(_is_under(p, h) for h in hidden)]
    mounts: list[tuple[Path, list[str]]] = []
    for path in hidden:
        mounts.append((path, ["--tmpfs", str(path)] if path.is_dir() else
                       ["--ro-bind", "/dev/null", str(path)]))
    for path in needed:
        mounts.append((path, ["--ro-bind", str(path), str(path)]))
    mounts.append((scratch, ["--bind", str(scratch), str(scratch)]))
    mounts.sort(key=lambda item: len(item[0].parts))
    args = [shutil.which("bwrap") or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    if policy.gpu:
        for device in sorted(Path("/dev").glob("nvidia*")):
            args += ["--dev-bind", str(device), str(device)]
    for _, mount in mounts:
        args += mount
    args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--chdir", str(scratch), "--clearenv"]
    for key, value in kernel_environment(scratch, policy).items():
        args += ["--setenv", key, value]
    return args


def kernel_environment(scratch: Path, policy: Policy) -> dict[str, str]:
    """A minimal environment: where things are, and nothing that says 'you are being graded'."""
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(scratch),
        "TMPDIR": str(scratch / "tmp"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "agg",
        "IPYTHONDIR": str(scratch / ".ipython"),
        "MPLCONFIGDIR": str(scratch / ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    import course_utils

    # The kernel's home is its scratch directory: point it at the grader's datasets instead.
    env["COURSE_DATA_DIR"] = str(course_utils.data_dir().expanduser().resolve())
    passed = ["CUDA_VISIBLE_DEVICES", *(spec.env_var for spec in course_utils.DATASETS.values() if spec.env_var)]
    for key in passed:
        if key in os.environ:
            env[key] = os.environ[key]
    if policy.limits.threads:
        for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[key] = str(policy.limits.threads)
    return env


class Cgroups:
    """Per-kernel cgroups (v1 pids and memory, or v2) when this process may create them.

    They cap the number of processes (a fork bomb) and the memory of the kernel and its
    children together, report the peak memory, and kill every leftover process at the end.
    """

    V1 = Path("/sys/fs/cgroup")

    def __init__(self, limits: Limits):
        self.limits = limits
        self.dirs: list[Path] = []
        name = f"autograde-{uuid.uuid4().hex[:12]}"
        try:
            if (self.V1 / "cgroup.controllers").exists():
                self._make(self.V1 / name, {"pids.max": limits.processes, "memory.max": limits.memory})
            else:
                self._make(self.V1 / "pids" / name, {"pids.max": limits.processes})
                self._make(self.V1 / "memory" / name, {"memory.limit_in_bytes": limits.memory})
        except OSError:
            self.close()  # no permission (or no such controller): rlimits only

    def _make(self, path: Path, settings: dict[str, int]) -> None:
        path.mkdir()
        self.dirs.append(path)
        for key, value in settings.items():
            if value:
                (path / key).write_text(str(value))

    @property
    def active(self) -> bool:
        return bool(self.dirs)

    @property
    def limits_memory(self) -> bool:
        return any((d / "memory.max").exists() or (d / "memory.limit_in_bytes").exists() for d in self.dirs)

    def peak_memory(self) -> int | None:
        for d in self.dirs:
            for key in ("memory.max_usage_in_bytes", "memory.peak"):
                if (d / key).exists():
                    try:
                        return int((d / key).read_text())
                    except (OSError, ValueError):
                        return None
        return None

    def oom_killed(self) -> bool:
        """Whether the memory limit was hit (v1: failcnt; v2: an oom_kill event)."""
        for d in self.dirs:
            try:
                if (d / "memory.failcnt").exists() and int((d / "memory.failcnt").read_text()) > 0:
                    return True
                if (d / "memory.events").exists() and "oom_kill 0" not in (d / "memory.events").read_text():
                    return True
            except (OSError, ValueError):
                pass
        return False

    def close(self) -> None:
        """Kill whatever is left in the groups and remove them."""
        import signal
        import time

        for d in self.dirs:
            for _ in range(50):
                try:
                    pids = [int(p) for p in (d / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)
            try:
                d.rmdir()
            except OSError:
                pass
        self.dirs = []


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start confined, over IPC sockets in the scratch directory."""

    def __init__(self, scratch: Path, policy: Policy, mode: str, cgroups: Cgroups | None = None, **kwargs):
        scratch = Path(scratch)
        super().__init__(kernel_name="python3", transport="ipc", ip=str(scratch / "ipc"),
                         connection_file=str(scratch / "kernel.json"), **kwargs)
        self.scratch, self.policy, self.mode, self.cgroups = scratch, policy, mode, cgroups
        # bubblewrap does not pass SIGINT on to the kernel; ask the kernel itself to interrupt.
        self.kernel_spec.interrupt_mode = "message"

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        kernel = super().format_kernel_cmd(extra_arguments)
        limits = self.policy.limits
        rlimit_memory = 0 if (self.cgroups and self.cgroups.limits_memory) or self.policy.gpu else limits.memory
        confine = [sys.executable, "-m", "autograde.run.confine", "--memory", str(rlimit_memory),
                   "--file-size", str(limits.file_size), "--processes", str(limits.processes)]
        for d in self.cgroups.dirs if self.cgroups else []:
            confine += ["--cgroup", str(d)]
        if self.mode == "bwrap":
            return [*confine, "--", *bwrap_arguments(self.scratch, self.policy), "--", *kernel]
        return [*confine, "--", *kernel]


def make_scratch(base: Path | None = None) -> Path:
    """A fresh private directory for one kernel, with the folders its environment names."""
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="autograde-kernel-", dir=base)).resolve()
    for sub in ("tmp", ".ipython", ".matplotlib"):
        (scratch / sub).mkdir()
    return scratch
