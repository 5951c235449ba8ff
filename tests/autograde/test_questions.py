"""Questions in notebooks: written answers graded by hand, choices judged outside the kernel,
and mutant hints proven against the visible test's message; all through real nbgrader."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
import pytest

from autograde.build.release import build_assignment
from autograde.course import Course
from autograde.selfcheck import selfcheck

SOLUTION = '''\
# %% [markdown]
# # 98 · Questions

# %%
import course_utils as cu

# %% solution="double"
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


# %% tests="test_double" points=1
if double(3) == 9:
    raise AssertionError("double(3) gave 9. Hint: multiply by two, do not square-and-add")
assert double(3) == 6, "double(3) should be 6"
### BEGIN HIDDEN TESTS
from autograde.probe import report

report("double 21", lambda: double(21))
### END HIDDEN TESTS

# %% [markdown]
# **Question.** Why is doubling linear?

# %% [markdown] answer="explain_linear" points=2
# *Model answer.* Because 2(a + b) = 2a + 2b.

# %% [markdown]
# **Question.** Which is 2 × 3? (a) 5, (b) 6, (c) 9. Set `product_answer`.

# %% solution="choice_product"
### BEGIN SOLUTION
product_answer = "b"
### END SOLUTION

# %% tests="test_choice_product" points=1
cu.check_choice(product_answer, "abc", "product_answer")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", product_answer)
### END HIDDEN TESTS
'''

MUTANTS = '''\
[[mutant]]
name = "squares-plus"
cell = "double"
test = "test_double"
find = "return 2 * x"
replace = "return x * x"
why = "squares instead of doubling"
hint = "multiply by two"

[[mutant]]
name = "wrong-hint"
cell = "double"
test = "test_double"
find = "return 2 * x"
replace = "return 2 * x + 1"
why = "adds one"
hint = "multiply by two"

[[mutant]]
name = "wrong-letter"
cell = "choice_product"
test = "test_choice_product"
find = 'product_answer = "b"'
replace = 'product_answer = " C "'
why = "picks (c)"

[[variant]]
name = "upper-case"
cell = "choice_product"
find = 'product_answer = "b"'
replace = 'product_answer = "B"'
note = "case does not matter"
'''


@pytest.fixture
def solution(tmp_path: Path) -> Path:
    (tmp_path / "mutants").mkdir()
    (tmp_path / "mutants" / "98_questions.toml").write_text(MUTANTS)
    path = tmp_path / "98_questions.py"
    path.write_text(SOLUTION)
    return path


def test_release_has_an_empty_answer_box_and_a_blank_choice(solution: Path, tmp_path: Path):
    release = nbformat.read(build_assignment(Course(tmp_path / "course"), solution), as_version=4)
    text = "\n".join(c.source for c in release.cells)
    assert "2(a + b)" not in text and "YOUR ANSWER HERE" in text  # the model answer stays with the instructor
    assert 'product_answer = "b"' not in text
    assert "product_answer = None  # your answer: one letter in quotes" in text


@pytest.mark.slow
def test_choices_hints_and_written_answers_through_real_grading(solution: Path, tmp_path: Path):
    result = selfcheck(solution, course_root=tmp_path / "graded")
    grades = {g.student: g for g in result.grades}
    # The written answer waits for a person: 0 of 2 until marked, and it does not stop "full".
    assert grades["reference"].manual == {"explain_linear": (None, 2.0)}
    assert grades["reference"].manual_pending == 2.0
    assert grades["reference"].tests == {"test_double": (1.0, 1.0), "test_choice_product": (1.0, 1.0)}
    assert grades["variant-upper-case"].tests["test_choice_product"] == (1.0, 1.0)
    assert grades["mutant-wrong-letter"].tests["test_choice_product"] == (0.0, 1.0)
    assert grades["blank"].score == 0
    # The one failure: a mutant whose visible test shows another message than its hint.
    assert len(result.failures) == 1, result.failures
    assert "mutant-wrong-hint" in result.failures[0] and "multiply by two" in result.failures[0]
    # Feedback never names the right letter.
    feedback = textwrap.dedent((tmp_path / "graded" / "autograded" / "mutant-wrong-letter" / "98_questions"
                                / "98_questions.ipynb").read_text())
    assert "'c' is not the right answer" in feedback and "'b'" not in feedback
