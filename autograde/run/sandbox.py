"""Where a student's kernel runs: a bubblewrap sandbox, resource limits and a scrubbed environment.

Every submission gets a kernel that

- sees an **allow-list** of the file system, read-only: the interpreter and its packages,
  ``course_utils`` and ``autograde/probe.py`` (not the rest of the repository: no ``.git``,
  no ``solutions/``, no ``build/``), the system libraries under ``/usr`` and the few files
  of ``/etc`` they read, and the dataset files a kernel may read (never evaluation labels,
  see ``DatasetSpec.kernel_hidden``). Nothing else exists in its world: no course
  directory, gradebook, submissions, other checkouts, homes or shared ``/tmp``;
- runs as an unprivileged user (a uid of its own when the grader is root, the grader's
  own uid otherwise), with no capabilities, ``no_new_privs`` and ``/proc/sys`` read-only;
- writes only to its home ``/home/student`` and ``/tmp`` (one tmpfs capped at
  ``Limits.scratch`` bytes, also charged to its memory limit) and a small ``/dev/shm``;
- has no network (``--unshare-net``), its own process tree (``--unshare-pid``), and dies
  with the grader;
- talks to the grader over IPC sockets in a private socket directory, which it can no
  longer write once the kernel is up (when the grader is root);
- gets a minimal environment: nothing in it says that it is being graded;
- runs under limits on memory, processes and file size (cgroups where the grader may
  create them, rlimits otherwise).

Without bubblewrap, ``mode="auto"`` falls back to the limits, a scratch directory and the
scrubbed environment alone, and warns that the kernel can read and write whatever the
grader can.
"""

from __future__ import annotations

import itertools
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
from . import confine

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
    cell_output: int = 2 * MiB  # what a cell may output by any route (print, display, updates); the rest is dropped
    probe_output: int = 8 * MiB  # hidden-test results one cell may hand out; the rest is refused
    notebook_output: int = 32 * MiB  # all cells together
    scratch: int = 1 * GiB  # home and /tmp together (a tmpfs: it counts against the memory limit too)
    shared_memory: int = 64 * MiB  # /dev/shm (multiprocessing, DataLoader workers)
    threads: int = 0  # BLAS/OpenMP threads per kernel; 0: leave the libraries' default


@dataclass(frozen=True)
class Policy:
    """How to confine a kernel: the sandbox mode, the limits and the paths to hide."""

    mode: str = "auto"  # "auto", "bwrap" or "none"
    limits: Limits = field(default_factory=Limits)
    # Paths that must never be readable (course, submissions, gradebook). The sandbox shows only
    # its allow-list, so these are only checked: one inside an allowed path is refused.
    hidden: tuple[str, ...] = ()
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
    """None if bubblewrap runs here with the namespaces and the allow-list we need, else why not.

    The trial starts the interpreter in the real sandbox, as the user kernels run as: a path
    that user cannot read (a venv in a private home, say) shows up here, not as a dead kernel.
    """
    exe = shutil.which("bwrap")
    if exe is None:
        return "bwrap is not installed"
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        trial = [*bwrap_arguments(Path(scratch), Policy(mode="bwrap")), "--",
                 *_drop_command(Limits()), sys.executable, "-I", "-c", "import os, encodings"]
        try:
            run = subprocess.run(trial, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap failed to start ({exc})"
    if run.returncode == 0:
        return None
    advice = ("" if os.geteuid() == 0 else
              "; as a non-root user bubblewrap needs unprivileged user namespaces "
              "(sysctl kernel.unprivileged_userns_clone=1, or an AppArmor profile for bwrap)")
    return f"bwrap cannot start a sandboxed interpreter ({run.stderr.strip()[:300]}){advice}"


def default_hidden(*extra: Path | str | None) -> tuple[str, ...]:
    """Paths no kernel may see: the solutions, the build tree, the grader's home, and ``extra``."""
    paths = [REPO_ROOT / "solutions", REPO_ROOT / "build", Path.home(), *[p for p in extra if p]]
    return tuple(dict.fromkeys(str(Path(p).resolve()) for p in paths))


KERNEL_HOME = "/home/student"  # the kernel's home and working directory: nothing in the name says grading
KERNEL_USER = "student"
DATA_ROOT = "/usr/share/datasets"  # where the kernel finds the dataset files it may read
KERNEL_UID_BASE = 1 << 30  # kernels of a root grader run as uids from here on: no user of this machine has one
# What the interpreter and its libraries read in /etc (dynamic loader, time zone, fonts, MIME types).
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone", "fonts",
             "mime.types", "nsswitch.conf", "os-release", "matplotlibrc")
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")

_kernel_count = itertools.count()


def kernel_uid() -> int:
    """A uid for the next kernel of this process: one per live kernel, so rlimits are per kernel."""
    return KERNEL_UID_BASE + (os.getpid() << 4) + next(_kernel_count) % 16


def _is_under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _package_files() -> list[Path]:
    """The course's own files a kernel imports: course_utils and the probe (and the package inits above it)."""
    import autograde
    import autograde.probe
    import course_utils

    return [Path(course_utils.__file__).resolve().parent, Path(autograde.__file__).resolve(),
            Path(autograde.probe.__file__).resolve()]


def allowed_paths() -> list[tuple[Path, Path]]:
    """(source, target) of every read-only bind a kernel gets, datasets excepted."""
    interpreter = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent]
    binds = [(p.resolve(), p.resolve()) for p in interpreter]
    binds += [(p, p) for p in _package_files()]
    root = Path("/")
    binds += [(root / d, root / d) for d in SYSTEM_DIRS if (root / d).is_dir() and not (root / d).is_symlink()]
    binds += [(root / "etc" / f, root / "etc" / f) for f in ETC_FILES if (root / "etc" / f).exists()]
    binds += [(Path("/sys/devices/system/cpu"), Path("/sys/devices/system/cpu"))]
    unique: list[tuple[Path, Path]] = []
    for source, target in binds:
        # A path inside another bind is already there (a venv inside the repository is not: only itself).
        if not any(_is_under(source, other) and source != other for other, _ in binds) and (source, target) not in unique:
            unique.append((source, target))
    return unique


def dataset_files() -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(binds, hidden dirs): each dataset file a kernel may read, under DATA_ROOT, and dataset folders to mask.

    Files are bound one by one, so a dataset's evaluation labels (``kernel_hidden``) never
    appear; a dataset folder that lies inside an allowed path (Debian's under /usr) is
    covered first, so its label file does not show through.
    """
    import course_utils

    binds: list[tuple[Path, Path]] = []
    masked: list[Path] = []
    allowed = [source for source, _ in allowed_paths()]
    for spec in course_utils.DATASETS.values():
        dirs = [Path(d) for d in course_utils.candidate_dirs(spec)]
        masked += [d for d in dirs if d.is_dir() and any(_is_under(d.resolve(), a) for a in allowed)]
        for remote in spec.files:
            if remote.name in spec.kernel_hidden:
                continue
            found = next((d / remote.name for d in dirs if (d / remote.name).is_file()), None)
            if found is not None:
                binds.append((found.resolve(), Path(DATA_ROOT) / spec.name / remote.name))
    if Path(DATA_ROOT).is_dir():
        masked.append(Path(DATA_ROOT))
    masked = [m for m in dict.fromkeys(masked) if not any(_is_under(m, o) and m != o for o in masked)]
    return binds, masked


def _drop_command(limits: Limits, uid: int | None = None) -> list[str]:
    """What runs first inside the sandbox: become ``uid`` (when the grader is root), then the kernel."""
    command = [sys.executable, "-I", "-S", "-c", confine.DROP_PRIVILEGES]
    if uid is not None:
        command += ["--user", str(uid), "--processes", str(limits.processes)]
    return [*command, "--"]


def bwrap_arguments(scratch: Path, policy: Policy, uid: int | None = None) -> list[str]:
    """The bubblewrap command line that wraps one kernel (everything before ``--``).

    ``scratch`` holds the connection file and the IPC sockets; it is bound at its own path.
    ``uid``: the user the kernel becomes (a root grader); None runs it as the grader's user,
    which bubblewrap then maps through an unprivileged user namespace.
    """
    allowed = [source for source, _ in allowed_paths()]
    for hidden in map(Path, policy.hidden):  # the allow-list never names them; make sure none lies inside it
        inside = [a for a in allowed if _is_under(hidden.resolve(), a)]
        if inside:
            raise ValueError(f"{hidden} must stay hidden from student kernels but lies inside {inside[0]}, which "
                             "they read; move it elsewhere")
    limits = policy.limits
    args = [shutil.which("bwrap") or "bwrap"]
    made: set[Path] = {Path("/")}

    def parents(target: Path) -> list[str]:
        """bubblewrap makes missing parents mode 0700; the kernel's user must be able to pass through them."""
        out = []
        for parent in reversed(target.parents):
            if parent not in made:
                made.add(parent)
                out += ["--perms", "0755", "--dir", str(parent)]
        return out

    binds, masked = dataset_files()
    # When the interpreter (a venv in a checkout under /tmp, say) or a dataset lives under
    # /tmp, /tmp must be a real directory holding those binds: a capped tmpfs of its own,
    # mounted before them. Otherwise /tmp is a link into the kernel's home (one tmpfs).
    tmp = Path("/tmp")
    tmp_holds_binds = any(_is_under(target, tmp) for _, target in [*allowed_paths(), *binds])
    if tmp_holds_binds:
        args += ["--perms", "1777", "--size", str(limits.scratch), "--tmpfs", str(tmp)]
        made.add(tmp)
    for source, target in allowed_paths():
        args += [*parents(target), "--ro-bind", str(source), str(target)]
    for name in SYSTEM_DIRS:  # merged /usr: /bin -> usr/bin and so on
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
    for folder in masked:
        args += ["--tmpfs", str(folder)]
    for source, target in binds:
        args += [*parents(target), "--ro-bind", str(source), str(target)]
    for folder in masked:
        args += ["--remount-ro", str(folder)]
    args += ["--dev", "/dev", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"]
    if policy.gpu:
        for device in sorted(Path("/dev").glob("nvidia*")):
            args += ["--dev-bind", str(device), str(device)]
        for part in ("/sys/bus", "/sys/devices", "/sys/module", "/proc/driver/nvidia"):
            if Path(part).exists():
                args += ["--ro-bind", part, part]
    # Home and /tmp share one capped tmpfs; /dev/shm has its own small one.
    args += ["--perms", "1777", "--size", str(limits.scratch), "--tmpfs", KERNEL_HOME,
             "--perms", "1777", "--dir", f"{KERNEL_HOME}/.tmp"]
    if not tmp_holds_binds:
        args += ["--symlink", f"{KERNEL_HOME.lstrip('/')}/.tmp", "/tmp"]
    args += ["--perms", "1777", "--size", str(limits.shared_memory), "--tmpfs", "/dev/shm"]
    made.update([Path(KERNEL_HOME), Path(KERNEL_HOME) / ".tmp", Path("/tmp")])
    args += [*parents(scratch), "--bind", str(scratch), str(scratch)]
    for name in ("passwd", "group"):
        if (scratch / name).exists():
            args += ["--ro-bind", str(scratch / name), f"/etc/{name}"]
    args += ["--remount-ro", "/"]
    args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--chdir", KERNEL_HOME, "--clearenv"]
    if uid is not None:  # only to become the kernel's user; setuid clears them again
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for key, value in kernel_environment(scratch, policy, "bwrap").items():
        args += ["--setenv", key, value]
    return args


def kernel_environment(scratch: Path, policy: Policy, mode: str = "none") -> dict[str, str]:
    """A minimal environment: where things are, and nothing that says 'you are being graded'.

    ``mode="bwrap"``: the paths inside the sandbox (home ``/home/student``); ``"none"``: the
    scratch directory itself, whose name (``tmpXXXXXXXX``) says nothing either.
    """
    import course_utils

    sandboxed = mode == "bwrap"
    home = KERNEL_HOME if sandboxed else str(scratch)
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": home,
        "USER": KERNEL_USER,
        "LOGNAME": KERNEL_USER,
        "TMPDIR": "/tmp" if sandboxed else str(scratch / "tmp"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "agg",
        "IPYTHONDIR": f"{home}/.ipython",
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Inside the sandbox the dataset files the kernel may read are bound under DATA_ROOT.
        "COURSE_DATA_DIR": DATA_ROOT if sandboxed else str(course_utils.data_dir().expanduser().resolve()),
    }
    passed = ["CUDA_VISIBLE_DEVICES"]
    if not sandboxed:
        passed += [spec.env_var for spec in course_utils.DATASETS.values() if spec.env_var]
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
        # A root grader runs each kernel as a uid of its own; otherwise it is the grader's (unprivileged) user.
        self.uid = kernel_uid() if mode == "bwrap" and os.geteuid() == 0 else None
        # bubblewrap does not pass SIGINT on to the kernel; ask the kernel itself to interrupt.
        self.kernel_spec.interrupt_mode = "message"

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        kernel = super().format_kernel_cmd(extra_arguments)
        limits = self.policy.limits
        rlimit_memory = 0 if (self.cgroups and self.cgroups.limits_memory) or self.policy.gpu else limits.memory
        command = [sys.executable, "-m", "autograde.run.confine", "--memory", str(rlimit_memory),
                   "--file-size", str(limits.file_size), "--processes", str(limits.processes)]
        for d in self.cgroups.dirs if self.cgroups else []:
            command += ["--cgroup", str(d)]
        if self.mode != "bwrap":
            keep = ",".join(kernel_environment(self.scratch, self.policy, "none"))
            return [*command, "--keep-env", keep, "--die-with-parent", "--", *kernel]
        if self.uid is not None:
            # The kernel's user may read the connection file and create its sockets here, nothing more.
            command += ["--share-with", f"{self.uid}:{self.scratch}"]
            for name, line in (("passwd", f"{KERNEL_USER}:x:{self.uid}:{self.uid}:{KERNEL_USER}:{KERNEL_HOME}:/bin/sh"),
                               ("group", f"{KERNEL_USER}:x:{self.uid}:")):
                (self.scratch / name).write_text(line + "\n")
        return [*command, "--", *bwrap_arguments(self.scratch, self.policy, self.uid), "--",
                *_drop_command(limits, self.uid), *kernel]

    def seal_scratch(self) -> None:
        """Once the kernel is up (its sockets exist), its user may no longer add files to the socket folder."""
        if self.uid is not None:
            self.scratch.chmod(0o750)


def make_scratch(base: Path | None = None) -> Path:
    """A fresh private directory for one kernel's connection file and sockets (and, unsandboxed, its files)."""
    import tempfile

    scratch = Path(tempfile.mkdtemp(dir=base)).resolve()  # tmpXXXXXXXX: the name says nothing
    for sub in ("tmp", ".ipython", ".config"):
        (scratch / sub).mkdir()
    return scratch
