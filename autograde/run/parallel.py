"""Run grading jobs on Dask workers (or in this process) and yield results as they finish.

- ``workers=N`` (default: the machine's cores) starts a ``LocalCluster`` of N single-threaded
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


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


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
