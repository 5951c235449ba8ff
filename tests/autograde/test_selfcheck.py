"""`autograde selfcheck` on every notebook: reference full, blank zero, every mutant caught."""

from __future__ import annotations

from pathlib import Path

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


def test_variants_of_different_cells_are_handed_in_together():
    from autograde.mutants import Variant
    from autograde.selfcheck import group_variants

    def v(name, cell):
        return Variant(name, cell, "x", "y", "")

    groups = group_variants([v("a", "f"), v("b", "g"), v("c", "f"), v("d", "h"), v("e", "f")])
    assert [[x.name for x in g] for g in groups] == [["a", "b", "d"], ["c"], ["e"]]
    assert all(len({x.cell for x in g}) == len(g) for g in groups)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_group_of_variants_that_loses_points_is_regraded_to_name_the_culprit(tmp_path):
    import shutil

    from autograde.build.source import REPO_ROOT

    (tmp_path / "mutants").mkdir()
    solution = shutil.copy(REPO_ROOT / "solutions" / "00_setup.py", tmp_path / "00_setup.py")
    # No mutants, two variants of different cells: a correct one, and a "variant" that is a wrong answer.
    (tmp_path / "mutants" / "00_setup.toml").write_text(
        '[[variant]]\nname = "copy-then-in-place"\ncell = "standardize"\nfind = "return (X - mu) / sigma"\n'
        'replace = "Z = X.copy()\\n    Z -= mu\\n    Z /= sigma\\n    return Z"\nnote = "in place on a copy"\n\n'
        '[[variant]]\nname = "wrong-choice"\ncell = "choice_mean_axis"\nfind = \'mean_axis_answer = "b"\'\n'
        'replace = \'mean_axis_answer = "a"\'\nnote = "not a correct answer at all"\n')
    result = selfcheck(Path(solution), workers=1)
    students = [g.student for g in result.grades]
    assert "variants-1-of-1" in students, students  # both handed in together first
    assert {"variant-copy-then-in-place", "variant-wrong-choice"} <= set(students)  # then one at a time
    assert len(result.failures) == 2, result.failures  # the group, and the culprit named alone
    assert any(f.startswith("variant-wrong-choice (wrong-choice: not a correct answer at all) lost points")
               for f in result.failures), result.failures
    assert not any("copy-then-in-place" in f and f.startswith("variant-copy") for f in result.failures)
