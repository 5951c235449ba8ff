"""Start a command under resource limits: ``python -m autograde.run.confine [limits] -- CMD...``.

The grader puts this in front of every student kernel (and of bubblewrap, when
there is one). It sets the limits, moves itself into the given cgroups, then
replaces itself with CMD, so the limits bind the kernel and everything it starts.
Kept free of imports beyond the standard library: it runs before every kernel.

:data:`DROP_PRIVILEGES` is the first thing that runs inside the sandbox: it turns a
root grader's kernel into an unprivileged user before the kernel starts.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys

# Run as ``python -I -S -c DROP_PRIVILEGES [--user UID --processes N] -- CMD...`` inside the sandbox,
# where only the interpreter is readable (so no module of ours). With --user: leave root for UID
# (supplementary groups, gid and uid; setuid also clears every capability) and cap the processes of
# that uid, which belongs to this kernel alone. Then exec CMD.
DROP_PRIVILEGES = """
import os, resource, sys
args = sys.argv[1:]
split = args.index('--')
options, command = dict(zip(args[:split:2], args[1:split:2])), args[split + 1:]
if '--user' in options:
    uid = int(options['--user'])
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if 0 in os.getresuid() or 0 in os.getresgid():
        raise SystemExit('the kernel could not leave the root user')
    limit = int(options.get('--processes', 0))
    if limit:
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
os.execv(command[0], command)
"""


def apply_limits(memory: int, file_size: int, processes: int) -> None:
    """Address space, largest writable file, no core dumps and, for a non-root user, processes."""
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if file_size > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # RLIMIT_NPROC counts every process of the user and root is exempt from it, so it is
    # only a backstop; the pids cgroup (when the grader may create one) is the real limit.
    if processes > 0 and os.geteuid() != 0:
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        limit = processes if hard == resource.RLIM_INFINITY else min(processes, hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))


def share_with(uid: int, folder: str) -> None:
    """Let ``uid`` (as group) read the files in ``folder`` and create its sockets there; nobody else."""
    os.chown(folder, 0, uid)
    os.chmod(folder, 0o770)
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            os.chown(path, 0, uid)
            os.chmod(path, 0o640)


def die_with_parent() -> None:
    """SIGKILL when the grader goes (bubblewrap does this itself when there is one)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="confine")
    parser.add_argument("--memory", type=int, default=0, help="address-space limit in bytes (0: none)")
    parser.add_argument("--file-size", type=int, default=0, help="largest file the command may write, bytes")
    parser.add_argument("--processes", type=int, default=0, help="process limit for a non-root user")
    parser.add_argument("--cgroup", action="append", default=[], help="cgroup directory to join (repeatable)")
    parser.add_argument("--keep-env", help="comma-separated variables to keep; every other one is removed")
    parser.add_argument("--share-with", help="UID:FOLDER: the kernel's user may read FOLDER and create sockets in it")
    parser.add_argument("--die-with-parent", action="store_true", help="be killed when the grader exits")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")
    for group in args.cgroup:
        with open(os.path.join(group, "cgroup.procs"), "w") as procs:
            procs.write(str(os.getpid()))
    apply_limits(args.memory, args.file_size, args.processes)
    if args.share_with:
        uid, folder = args.share_with.split(":", 1)
        share_with(int(uid), folder)
    if args.keep_env is not None:
        keep = set(args.keep_env.split(","))
        for key in [k for k in os.environ if k not in keep]:
            del os.environ[key]
    if args.die_with_parent:
        die_with_parent()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
