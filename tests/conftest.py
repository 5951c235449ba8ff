"""Longest tests first: with two test processes (`make test` runs pytest-xdist), a five-minute
selfcheck that starts last would leave one lane idle while the other finishes it."""

from __future__ import annotations

import pytest

# Rough cost order, longest first, by what a test runs (measured in CI's --durations).
_HEAVY = ("test_selfcheck_passes", "test_demo", "test_colab", "tests/ui/", "test_scale", "test_attacks",
          "test_postgres", "test_docs")


def _rank(item: pytest.Item) -> int:
    for rank, marker in enumerate(_HEAVY):
        if marker in item.nodeid:
            return rank
    return len(_HEAVY) + (0 if item.get_closest_marker("slow") else 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: within a rank, the files' own order
