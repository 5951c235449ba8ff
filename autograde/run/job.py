"""One unit of grading work, as a worker sees it: execute, judge, hand back.

A :class:`Job` carries everything a worker needs (the sanitized notebook, the
reference results, the profile and the sandbox policy) as plain data, so a
worker on another machine of a Dask cluster needs no access to the course
directory. It returns a :class:`JobResult` and writes nothing anywhere: only
the coordinator stores grades.
"""

from __future__ import annotations

import logging
import os
import platform
import resource
import time
from dataclasses import asdict, dataclass, field

import nbformat
from nbgrader.preprocessors import LimitOutput

from ..judge.preprocessor import JudgeHiddenTests
from .execute import ExecutionReport, execute_notebook
from .sandbox import Policy


@dataclass
class Job:
    student: str
    assignment: str
    notebook: str  # notebook name without .ipynb
    notebook_json: str  # sanitized by the coordinator (locked cells and hidden tests restored)
    reference: dict
    profile: str
    policy: Policy
    submission_sha256: str = ""
    stop_after: str | None = None
    mistakes: dict | None = None  # known mistakes' results on this course's checks, to name them

    @property
    def key(self) -> str:
        return f"grade-{self.assignment}-{self.student}-{self.submission_sha256[:12]}"


@dataclass
class JobResult:
    student: str
    assignment: str
    notebook: str
    notebook_json: str | None  # the executed, judged notebook; None when grading itself failed
    execution: dict = field(default_factory=dict)
    error: str | None = None  # a grader-side failure: the submission is not stored
    worker: str = ""
    worker_peak_rss: int = 0  # bytes: the worker process itself
    seconds: float = 0.0


def run_job(job: Job) -> JobResult:
    """Grade one submission; any failure of the student's code is part of the result, not an exception."""
    started = time.perf_counter()
    result = JobResult(job.student, job.assignment, job.notebook, None,
                       worker=f"{platform.node()}:{os.getpid()}")
    try:
        nb = nbformat.reads(job.notebook_json, as_version=4)
        report: ExecutionReport = execute_notebook(nb, job.policy, stop_after=job.stop_after)
        if report.kernel_failed:
            raise RuntimeError(f"no kernel: {report.stopped}; check the grading machine (bubblewrap, the venv)")
        resources = {
            "nbgrader": {"student": job.student, "assignment": job.assignment, "notebook": job.notebook},
            "autograde": {"reference": job.reference, "mistakes": job.mistakes},
        }
        log = logging.getLogger("autograde.worker")
        nb, resources = JudgeHiddenTests(profile=job.profile, log=log).preprocess(nb, resources)
        nb, resources = LimitOutput(log=log).preprocess(nb, resources)
        result.notebook_json = nbformat.writes(nb)
        result.execution = asdict(report)
    except Exception as exc:  # noqa: BLE001 -- reported to the coordinator, which keeps going
        result.error = f"the grader failed on this submission: {type(exc).__name__}: {exc}"
    result.worker_peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result.seconds = time.perf_counter() - started
    return result
