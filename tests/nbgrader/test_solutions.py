"""The course's notebooks through `autograder.grade`: solutions earn full marks, stubs nothing, cells may move."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest

import autograder
from autograder import rubrics
from autograder.nbgrader.release import source_assignments

ASSIGNMENTS = source_assignments(Path(__file__).resolve().parents[2])


def _function_points(result) -> dict[str, float]:
    return {f.name: f.points for f in result.functions}


def _full_marks(assignment: str) -> dict[str, float]:
    return {f.name: f.max_points for f in rubrics.get(assignment).functions}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_solution_notebook_has_a_rubric_and_one_test_cell_per_function(course, assignment):
    notebook = course.solution(assignment)
    spec = rubrics.get(assignment)
    tests = {course.grade_id(c): c["metadata"]["nbgrader"]["points"] for c in notebook["cells"]
             if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    assert tests == {f.name: f.max_points for f in spec.functions}
    solutions = {course.grade_id(c) for c in notebook["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    assert solutions >= {f"{f.name}_code" for f in spec.functions}  # more are helpers students write (im2col)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_scores_full_marks(course, assignment, tmp_path):
    path = course.write(course.cleared(course.solution(assignment)), tmp_path / f"{assignment}.ipynb")
    result = autograder.grade(path, assignment=assignment)
    assert result.status == "graded", result.error
    assert _function_points(result) == _full_marks(assignment)
    assert not [p for f in result.functions for p in f.properties if p.internal_error]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stub_scores_zero(course, assignment):
    result = autograder.grade(course.root / "assignments" / assignment / f"{assignment}.ipynb", assignment=assignment)
    assert result.status == "graded", result.error
    assert _function_points(result) == {name: 0.0 for name in _full_marks(assignment)}
    assert result.max_points == rubrics.get(assignment).max_points


def test_cells_reordered_deleted_or_added_still_grade_by_function(course, tmp_path):
    assignment = "conv_layers"
    notebook = course.cleared(course.solution(assignment))
    shuffled = copy.deepcopy(notebook)
    random.Random(5).shuffle(shuffled["cells"])
    # Deleted: every test cell, every markdown cell, and the solution of one function.
    pruned = copy.deepcopy(notebook)
    pruned["cells"] = [c for c in pruned["cells"] if c["cell_type"] == "code"
                       and not c.get("metadata", {}).get("nbgrader", {}).get("grade")
                       and course.grade_id(c) != "max_pool_backward_naive_code"]
    # Extra: scratch cells before and after, one that raises, one that prints, one redefining a helper.
    extra = copy.deepcopy(notebook)
    scratch = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "print('scratch')\n"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "1 / 0\n"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "def rel_error(x, y):\n    return 0.0\n"},
        {"cell_type": "markdown", "metadata": {}, "source": "my notes"},
    ]
    extra["cells"] = scratch[:2] + extra["cells"] + scratch[2:]

    full = _full_marks(assignment)
    cases = {
        "shuffled": (shuffled, full),
        "pruned": (pruned, {**full, "max_pool_backward_naive": 0.0}),
        "extra": (extra, full),
    }
    for name, (variant, expected) in cases.items():
        result = autograder.grade(course.write(variant, tmp_path / f"{name}.ipynb"), assignment=assignment)
        assert result.status == "graded", (name, result.error)
        assert _function_points(result) == expected, name
