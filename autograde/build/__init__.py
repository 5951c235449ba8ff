"""Build stage: solutions/*.py -> nbgrader source notebooks -> the student release in notebooks/."""

from .release import build, check_release
from .source import load_solution, solution_paths

__all__ = ["build", "check_release", "load_solution", "solution_paths"]
