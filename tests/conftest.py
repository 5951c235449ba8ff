"""Longest tests first: with two test processes (`make test` runs pytest-xdist), a five-minute
selfcheck that starts last would leave one lane idle while the other finishes it."""

from __future__ import annotations

import pytest

# Rough cost order, longest first, by what a test runs (measured in CI's --durations).
_HEAVY = ("test_selfcheck_passes", "test_demo", "test_colab", "tests/ui/", "test_scale", "test_attacks",
          "test_postgres", "test_docs")


# Within the selfchecks, seconds each took in the last full run (two lanes, `--durations`): a
# scheduling hint only, so the two lanes finish together; a notebook not listed goes first.
_SELFCHECK_SECONDS = {"03_backprop": 839, "04_optimization": 566, "05_cnns": 551, "02_losses": 440, "06_rnns": 328,
                      "07_reinforce": 297, "03b_modular_nets": 213, "04b_normalization": 199,
                      "01_linear_classifiers": 163, "04c_conv_layers": 143, "01b_knn": 117, "00_setup": 58}


def _rank(item: pytest.Item) -> tuple[int, float]:
    for rank, marker in enumerate(_HEAVY):
        if marker in item.nodeid:
            callspec = getattr(item, "callspec", None)
            notebook = getattr(callspec.params.get("solution"), "stem", None) if callspec else None
            return rank, -_SELFCHECK_SECONDS.get(notebook, float("inf")) if notebook else 0.0
    return len(_HEAVY) + (0 if item.get_closest_marker("slow") else 1), 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: within a rank, the files' own order
