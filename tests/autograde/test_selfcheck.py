"""`autograde selfcheck` on every notebook: reference full, blank zero, every mutant caught."""

from __future__ import annotations

import pytest

from autograde.build.source import solution_paths
from autograde.mutants import MutantError, apply_mutant, load_mutants
from autograde.run.grade import Grade
from autograde.selfcheck import Expectation, _failure, selfcheck


@pytest.mark.slow
@pytest.mark.parametrize("solution", solution_paths(), ids=lambda p: p.stem)
def test_selfcheck_passes(solution):
    result = selfcheck(solution)
    assert result.ok, "\n".join(result.failures)
    students = {g.student for g in result.grades}
    assert {"reference", "blank"} <= students and len(students) >= 5


def test_selfcheck_reports_a_mutant_that_keeps_full_marks():
    grade = Grade("mutant-x", "a", score=2, max_score=2, tests={"test_f": (2.0, 2.0)})
    assert "kept full marks" in _failure(Expectation("mutant-x", "test_f", "a bug"), grade)
    assert _failure(Expectation("mutant-x", "test_f", "a bug"), Grade("mutant-x", "a", tests={"test_f": (1.0, 2.0)})) is None
    assert "lost points" in _failure(Expectation("reference", "full"), Grade("reference", "a", 1, 2, {"t": (1.0, 2.0)}))
    assert "earned points" in _failure(Expectation("blank", "zero"), Grade("blank", "a", 1, 2, {"t": (1.0, 2.0)}))


def test_a_mutant_that_no_longer_applies_is_an_error():
    mutant = load_mutants(solution_paths()[0].parent / "mutants" / "00_setup.toml")[0]
    with pytest.raises(MutantError, match="exactly once"):
        apply_mutant({mutant.cell: "def standardize(X):\n    return X\n"}, mutant)
