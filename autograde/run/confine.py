"""Start a command under resource limits: ``python -m autograde.run.confine [limits] -- CMD...``.

The grader puts this in front of every student kernel (and of bubblewrap, when
there is one). It sets the limits, moves itself into the given cgroups, then
replaces itself with CMD, so the limits bind the kernel and everything it starts.
Kept free of imports beyond the standard library: it runs before every kernel.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="confine")
    parser.add_argument("--memory", type=int, default=0, help="address-space limit in bytes (0: none)")
    parser.add_argument("--file-size", type=int, default=0, help="largest file the command may write, bytes")
    parser.add_argument("--processes", type=int, default=0, help="process limit for a non-root user")
    parser.add_argument("--cgroup", action="append", default=[], help="cgroup directory to join (repeatable)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")
    for group in args.cgroup:
        with open(os.path.join(group, "cgroup.procs"), "w") as procs:
            procs.write(str(os.getpid()))
    apply_limits(args.memory, args.file_size, args.processes)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
