"""Is a function vectorised? Count the lines of Python it runs, not the seconds it takes.

A stopwatch answers "is it fast?" differently on a laptop, on Colab and on a grading
machine busy with other kernels, so a test built on one can fail a correct answer. The
number of Python lines a call executes is the same on every machine, every time: a loop
over examples, filters or pixels runs its body once per item, so the count grows with
the input, while a vectorised version (NumPy doing the loops in C) runs the same few
lines whatever the size. Lines inside NumPy, PyTorch, the standard library and this
package are not counted: only the code the student wrote.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["python_lines", "lines_stay_flat", "is_vectorised", "check_vectorised", "best_time"]

_LIBRARY_DIRS = tuple(
    os.path.realpath(p) + os.sep
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["stdlib"],
              sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
              str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent / "autograde")}
)


def _is_students(filename: str, cache: dict[str, bool]) -> bool:
    """Code from a notebook cell or a script, not from an installed library or the course's own helpers."""
    if filename not in cache:
        if filename.startswith("<"):  # "<ipython-input-…>", "<string>": code typed or exec'd by the user
            cache[filename] = not filename.startswith("<frozen")
        else:
            cache[filename] = not os.path.realpath(filename).startswith(_LIBRARY_DIRS)
    return cache[filename]


def python_lines(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """Call ``fn(*args, **kwargs)``; return (its result, the lines of the student's Python it executed).

    Counts every line run in functions defined in notebooks and scripts, ``fn`` and what it
    calls, however deep; library code (NumPy, PyTorch, the standard library) counts nothing.
    Any tracer already installed (a debugger, coverage) is put back afterwards.
    """
    count = 0
    cache: dict[str, bool] = {}

    def count_lines(frame, event, arg):  # noqa: ARG001 -- the signature sys.settrace requires
        nonlocal count
        if event == "line":
            count += 1
        return count_lines

    def on_call(frame, event, arg):  # noqa: ARG001
        # Returning None for a library frame leaves it untraced: NumPy's Python wrappers cost nothing.
        return count_lines if _is_students(frame.f_code.co_filename, cache) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return result, count


def lines_stay_flat(n_small: int, n_large: int) -> bool:
    """True when a count on a larger input is the count on a smaller one, give or take a branch or two."""
    return n_large <= 1.1 * n_small + 2


def is_vectorised(fn: Callable[..., Any], small: tuple, large: tuple) -> bool:
    """Does ``fn(*large)`` run (about) as many Python lines as ``fn(*small)``? For hidden checks."""
    return lines_stay_flat(python_lines(fn, *small)[1], python_lines(fn, *large)[1])


def check_vectorised(fn: Callable[..., Any], small: tuple, large: tuple, name: str, *,
                     grew: str = "the input", hint: str | None = None) -> tuple[int, int]:
    """Assert that ``fn(*large)`` runs (about) as many Python lines as ``fn(*small)``.

    ``large`` should be ``small`` with the axes a loop might run over made several times
    bigger; ``grew`` names them for the message ("the batch, the filters and the image").
    A vectorised function runs the same lines for both; one Python loop over a grown axis
    adds its body once per extra item. Returns the two counts.
    """
    _, n_small = python_lines(fn, *small)
    _, n_large = python_lines(fn, *large)
    if not lines_stay_flat(n_small, n_large):
        lines = [f"{name} is not vectorised: it ran {n_small} lines of Python on the small input and "
                 f"{n_large} once {grew} grew.",
                 "A vectorised function runs the same few lines whatever the size, because NumPy does "
                 "the loops; a Python loop runs its body once per item, so the count grows with the input."]
        if hint:
            lines.append(f"Hint: {hint}")
        raise AssertionError("\n".join(lines))
    return n_small, n_large


def best_time(fn: Callable[[], Any], repeats: int = 3) -> float:
    """The fastest of ``repeats`` calls of ``fn()``, in seconds: the run least disturbed by other programs.

    For printing what this machine does now; never assert on it (a busy machine changes it).
    """
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
