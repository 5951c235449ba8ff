"""Demo cells that wait quietly for the student's code.

A released notebook is run cell by cell by students who have not written every function
yet. A plot or widget cell that calls an unwritten function should not draw broken axes
under a traceback: it should say, in one line, what it is waiting for. Wrap such cells::

    with cu.needs_your_code():
        losses = train(model, X, y)        # calls the student's functions
        cu.plot_losses(losses)

and widget callbacks::

    @cu.needs_your_code()
    def show(lr=0.1): ...

Only two errors are turned into that one line, because only they mean "not yet":
``NotImplementedError`` (a stub still in place) and a ``NameError`` raised by the wrapped
cell's own code (a variable that an earlier cell, itself still waiting, would have made).
Every other error propagates: a real bug in written code must still show its traceback.
"""

from __future__ import annotations

import functools
import sys
from types import TracebackType


def _figure_numbers() -> set[int]:
    plt = sys.modules.get("matplotlib.pyplot")  # never import matplotlib just to look
    return set(plt.get_fignums()) if plt is not None else set()


def _close_new_figures(before: set[int]) -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)


def _raising_function(tb: TracebackType | None) -> str | None:
    """The name of the function that raised: the innermost frame of the traceback."""
    name = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_name
        tb = tb.tb_next
    return None if name in (None, "<module>") else name


def _innermost_file(tb: TracebackType | None) -> str | None:
    filename = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return filename


class needs_your_code:  # noqa: N801 (reads as a phrase in notebooks)
    """Context manager and decorator: print one line instead of a traceback while a stub waits.

    ``what`` optionally names the section the student should finish (shown in the line).
    """

    def __init__(self, what: str | None = None):
        self.what = what
        self._figures: list[set[int]] = []
        self._files: list[str | None] = []

    def __enter__(self) -> needs_your_code:
        return self._enter(sys._getframe(1).f_code.co_filename)

    def _enter(self, own_file: str) -> needs_your_code:
        # own_file: where the cell's own code lives (each notebook cell is a file of its own),
        # to tell a NameError of the cell from one inside a student's function.
        self._figures.append(_figure_numbers())
        self._files.append(own_file)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        figures, own_file = self._figures.pop(), self._files.pop()
        if exc_type is None:
            return False
        if issubclass(exc_type, NotImplementedError):
            missing = _raising_function(tb)
            what = f"`{missing}`" if missing else "a function above"
            reason = f"{what} is not written yet"
        elif issubclass(exc_type, NameError) and _innermost_file(tb) == own_file and getattr(exc, "name", None):
            reason = f"`{exc.name}` does not exist yet: the cell that makes it is still waiting for your code"
        else:
            return False
        _close_new_figures(figures)
        where = f" ({self.what})" if self.what else ""
        print(f"⏸ Not run yet: {reason}{where}. Run this cell again once it is.")
        return True

    def __call__(self, func):
        @functools.wraps(func)
        def waiting(*args, **kwargs):
            self._enter(func.__code__.co_filename)
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                if self.__exit__(type(exc), exc, exc.__traceback__):
                    return None
                raise
            self.__exit__(None, None, None)
            return result

        return waiting
