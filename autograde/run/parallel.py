"""Run grading jobs on Dask workers (or in this process) and yield results as they finish.

- ``workers=N`` (default: as many kernels as the cores and the memory allow, see
  :func:`worker_count`) starts a ``LocalCluster`` of N single-threaded
  worker processes; a worker that dies is restarted by its nanny and its job runs again.
- ``scheduler="tcp://host:8786"`` uses an existing cluster instead: one started by
  dask-jobqueue on Slurm or by dask-kubernetes, whose workers have this package installed
  (see README, "Grading on a cluster").
- ``workers=1`` without a scheduler runs the jobs here, one after the other: no Dask at all.

Workers only return results; the caller stores them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .job import Job, JobResult, run_job


def cpu_count() -> int:
    """Cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes the kernel says can be used without swapping (MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def worker_count(cores: int, available_memory: int | None, kernel_memory: int) -> int:
    """One worker per core, but no more kernels than fit in memory at ``kernel_memory`` bytes each."""
    fit = cores if available_memory is None or kernel_memory <= 0 else available_memory // kernel_memory
    return max(1, min(cores, fit))


def default_workers(kernel_memory: int | None = None) -> int:
    """Workers for this machine: min(cores, available memory // the per-kernel memory limit)."""
    if kernel_memory is None:
        from .sandbox import Limits

        kernel_memory = Limits().memory
    return worker_count(cpu_count(), available_memory(), kernel_memory)


def run_jobs(jobs: list[Job], workers: int | None = None, scheduler: str | None = None) -> Iterator[JobResult]:
    """Yield one result per job, in completion order. A job Dask gives up on yields an error result."""
    if not jobs:
        return
    workers = workers or default_workers()
    if scheduler is None and workers == 1:
        for job in jobs:
            yield run_job(job)
        return
    yield from _run_on_dask(jobs, workers, scheduler)


def _run_on_dask(jobs: list[Job], workers: int, scheduler: str | None) -> Iterator[JobResult]:
    import dask
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    with dask.config.set({"distributed.scheduler.allowed-failures": 2, "logging.distributed": "error"}):
        if scheduler is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=50)  # shutdown chatter; job errors come back as results
            client = Client(cluster)
        else:
            client = Client(scheduler)
        try:
            futures = {client.submit(run_job, job, key=job.key, pure=False): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except Exception as exc:  # noqa: BLE001 -- e.g. KilledWorker: reported, not fatal
                    yield JobResult(job.student, job.assignment, job.notebook, None,
                                    error=f"grading did not finish ({type(exc).__name__}: {exc}); run the "
                                          "same command again to grade it")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
