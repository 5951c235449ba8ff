"""`autograde selfcheck` on every notebook: reference full, blank zero, every mutant caught."""

from __future__ import annotations

import pytest

from autograde.build.source import solution_paths
from autograde.mutants import MutantError, apply_mutant, load_mutants, load_variants
from autograde.run.grade import Grade
from autograde.selfcheck import Expectation, _failure, selfcheck


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a safety net: two test lanes share the cores (see tests/conftest.py)
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


def test_a_variant_must_keep_full_marks(tmp_path):
    toml = tmp_path / "99_x.toml"
    toml.write_text('[[mutant]]\nname = "a"\ncell = "f"\ntest = "t"\nfind = "1"\nreplace = "2"\nwhy = "bug"\n\n'
                    '[[variant]]\nname = "b"\ncell = "f"\nfind = "return 1"\nreplace = "return 2 - 1"\nnote = "same"\n')
    (variant,) = load_variants(toml)
    assert apply_mutant({"f": "def f():\n    return 1\n"}, variant)["f"] == "def f():\n    return 2 - 1\n"
    lost = _failure(Expectation("variant-b", "full", "same"), Grade("variant-b", "a", 1, 2, {"t": (1.0, 2.0)}))
    assert "variant-b (same) lost points" in lost
    assert _failure(Expectation("variant-b", "full", "same"), Grade("variant-b", "a", 2, 2, {"t": (2.0, 2.0)})) is None
    toml.write_text(toml.read_text().replace('name = "b"', 'name = "a"'))
    with pytest.raises(MutantError, match="unique"):
        load_variants(toml)
