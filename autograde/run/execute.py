"""Run a notebook in a confined kernel, cell by cell, and say why it stopped if it did.

Each failure of the kernel (it died, hung, flooded its output, ran out of
memory, exited) ends that notebook's run with a reason in words; the cells
after it stay unexecuted and their hidden tests count as not run. The grader
itself never waits longer than the notebook's time limit nor holds more than
each cell's output limit.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode, from_dict

from ..course import KERNEL_ARGUMENTS
from .cells import execute_cell
from .sandbox import Cgroups, Policy, SandboxedKernelManager, kernel_environment, make_scratch

PROBE_MIME = "application/vnd.dl-course.probe+json"


@dataclass
class ExecutionReport:
    """How a run went: what the grader should tell the student and the instructor."""

    seconds: float = 0.0
    kernel_start_seconds: float = 0.0
    cells_run: int = 0
    stopped: str | None = None  # why the run ended early, in words for the student
    truncated_cells: int = 0
    peak_memory: int | None = None  # bytes, kernel and children (when cgroups are available)
    sandbox: str = "none"
    kernel_failed: bool = False  # no kernel came up: the grader's problem, never the student's


def _message_size(msg: dict) -> int:
    """Bytes a kernel message would add to the notebook: text, every MIME bundle's values, metadata, buffers."""
    content = msg.get("content", {})
    size = len(content.get("text", "") or "")
    for key in ("data", "metadata"):
        for value in (content.get(key) or {}).values():
            size += len(value) if isinstance(value, str) else len(json.dumps(value))
    size += sum(len(b) for b in msg.get("buffers") or [])
    return size


class _CappedClient(NotebookClient):
    """nbclient with caps on what a cell may output, whatever the route.

    Every message that carries output counts: streams, display_data, execute_result,
    update_display_data (which nbclient applies outside ``output()``), widget messages,
    and outputs a clear_output later removes. Past a cell's limit the rest is dropped with a
    note; past its probe budget a hidden-test result is refused (the judge then finds that
    check missing). Errors are always kept, their tracebacks shortened, so a failing test
    cell still fails.
    """

    COUNTED = {"stream", "display_data", "execute_result", "update_display_data", "comm_open", "comm_msg"}
    TRACEBACK = 64 * 1024

    def __init__(self, *args, cell_output: int, probe_output: int, notebook_output: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell_output, self.probe_output, self.notebook_output = cell_output, probe_output, notebook_output
        self._used: dict[int, int] = {}
        self._probes: dict[int, int] = {}
        self._total = 0
        self.truncated: set[int] = set()

    def process_message(self, msg, cell, cell_index):
        msg_type = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        if msg_type == "error":
            _shorten_traceback(msg.get("content", {}), self.TRACEBACK)
        elif msg_type in self.COUNTED:
            size = _message_size(msg)
            if PROBE_MIME in (msg.get("content", {}).get("data") or {}):
                self._probes[cell_index] = used = self._probes.get(cell_index, 0) + size
                over = used > self.probe_output
                what = f"hidden-test results (more than {self.probe_output // 1024} KiB): refused"
            else:
                self._used[cell_index] = used = self._used.get(cell_index, 0) + size
                over = used > self.cell_output or self._total + size > self.notebook_output
                what = (f"output (more than {self.cell_output // 1024} KiB in this cell, or "
                        f"{self.notebook_output >> 20} MiB in the notebook)")
            if over:
                if cell_index not in self.truncated:
                    self.truncated.add(cell_index)
                    cell.outputs.append(from_dict({
                        "output_type": "stream", "name": "stdout",
                        "text": f"\n[the grader dropped the rest of this cell's {what}]\n"}))
                return None
            self._total += size  # what the notebook keeps
        return super().process_message(msg, cell, cell_index)


def _shorten_traceback(content: dict, limit: int) -> None:
    """Keep an error's last frames within ``limit`` characters (and its message within a tenth of it)."""
    content["evalue"] = str(content.get("evalue", ""))[: limit // 10]
    frames, kept, size = list(content.get("traceback") or []), [], 0
    for frame in reversed(frames):
        frame = str(frame)[:limit]
        if size + len(frame) > limit:
            kept.append("[... earlier frames dropped by the grader ...]")
            break
        kept.append(frame)
        size += len(frame)
    content["traceback"] = kept[::-1]


def _stop_index(nb: NotebookNode, stop_after: str | None) -> int:
    if stop_after is None:
        return len(nb.cells)
    for index, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == stop_after:
            return index + 1
    return len(nb.cells)


async def _execute(nb: NotebookNode, policy: Policy, mode: str, scratch: Path, report: ExecutionReport,
                   stop_after: str | None) -> None:
    limits = policy.limits
    cgroups = Cgroups(limits)
    km = SandboxedKernelManager(scratch, policy, mode, cgroups)
    client = _CappedClient(
        nb, km=km, timeout=limits.cell_timeout, allow_errors=True, interrupt_on_timeout=False,
        startup_timeout=120, extra_arguments=KERNEL_ARGUMENTS, record_timing=False,
        resources={"metadata": {"path": str(scratch)}}, cell_output=limits.cell_output,
        probe_output=limits.probe_output, notebook_output=limits.notebook_output,
    )
    deadline = time.monotonic() + limits.notebook_timeout
    try:
        started = time.perf_counter()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # kernel chatter is not ours
        async with client.async_setup_kernel(env=kernel_environment(scratch, policy), cwd=str(scratch), **quiet):
            km.seal_scratch()
            report.kernel_start_seconds = time.perf_counter() - started
            for index in range(_stop_index(nb, stop_after)):
                cell = nb.cells[index]
                if cell.cell_type != "code":
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    report.stopped = (f"the notebook ran longer than the {limits.notebook_timeout} s the grader "
                                      f"allows; cells from number {index + 1} on were not run")
                    break
                task = asyncio.ensure_future(execute_cell(client, cell, index))
                done, _ = await asyncio.wait({task}, timeout=remaining)
                if not done:  # nbclient reports a cancelled cell as a dead kernel: say what happened
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    report.stopped = (f"the notebook ran longer than the {limits.notebook_timeout} s the grader "
                                      f"allows, in cell {index + 1}; the cells after it were not run")
                    break
                try:
                    task.result()
                    report.cells_run += 1
                except CellTimeoutError:
                    report.stopped = (f"cell {index + 1} ran longer than {limits.cell_timeout} s and was "
                                      "stopped; the cells after it were not run")
                    break
                except DeadKernelError:
                    why = ("it ran out of memory" if cgroups.oom_killed() else
                           "it exited, crashed or ran out of memory")
                    report.stopped = (f"the Python kernel died while running cell {index + 1} ({why}); "
                                      "the cells after it were not run")
                    break
    except Exception as exc:  # noqa: BLE001 -- sorted into "no kernel" (grader) and "kernel died" (student)
        if report.kernel_start_seconds == 0:  # no student code has run yet
            report.kernel_failed = True
            report.stopped = f"the Python kernel did not start ({type(exc).__name__}: {exc})"
        elif isinstance(exc, DeadKernelError):
            report.stopped = report.stopped or "the Python kernel died before the notebook finished"
        else:
            raise
    finally:
        report.truncated_cells = len(client.truncated)
        report.peak_memory = cgroups.peak_memory()
        try:
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 -- a kernel already gone must not hide the result
            pass
        cgroups.close()


def execute_notebook(nb: NotebookNode, policy: Policy, stop_after: str | None = None,
                     scratch_base: Path | None = None) -> ExecutionReport:
    """Execute ``nb`` in place in a fresh confined kernel; never raises for what the student did.

    ``stop_after``: a test cell's grade id; cells after it are left unexecuted (selfcheck
    uses it: later cells cannot change whether that test passed).
    """
    mode = policy.resolved_mode()
    report = ExecutionReport(sandbox=mode)
    scratch = make_scratch(scratch_base)
    started = time.perf_counter()
    try:
        asyncio.run(_execute(nb, policy, mode, scratch, report, stop_after))
    finally:
        report.seconds = time.perf_counter() - started
        shutil.rmtree(scratch, ignore_errors=True)
    return report
