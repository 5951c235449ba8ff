"""Decide, in the grader's process, whether a student's results match the reference."""

from .checks import CheckResult, judge_check
from .codec import DecodeError, decode
from .collect import Probe, collect_probes

__all__ = ["CheckResult", "DecodeError", "Probe", "collect_probes", "decode", "judge_check"]
