"""Grading the bundled examples: expected scores, the hint each mistake triggers, determinism."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from autograder import grade
from autograder.engine.verdicts import ERROR_PROPERTY
from autograder.sandbox import Limits

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conv_layers"
FAST = 25  # cases per check: enough to catch every bundled mistake, quick enough for the default run
LIMITS = Limits(call_timeout=2.0, budget=60.0)


def _load_mutants():
    spec = importlib.util.spec_from_file_location("mutants", EXAMPLES / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


MUTANTS = _load_mutants()


def _failing(result) -> set[tuple[str, str]]:
    return {(f.name, p.property) for f in result.functions for p in f.properties if not p.passed}


def test_correct_submission_scores_full_marks_at_the_default_budget():
    result = grade(EXAMPLES / "correct.py", limits=LIMITS)
    assert result.status == "graded"
    assert result.points == result.max_points == 33
    assert all(p.examples >= 50 for f in result.functions for p in f.properties)


def test_stub_scores_zero_and_says_it_is_the_stub():
    result = grade(EXAMPLES / "stub.py", examples=FAST, limits=LIMITS)
    assert result.points == 0
    messages = {p.message for f in result.functions for p in f.properties}
    assert all("still the stub" in m for m in messages)


@pytest.mark.parametrize("mutant", MUTANTS.MUTANTS, ids=[m.name for m in MUTANTS.MUTANTS])
def test_each_mistake_loses_exactly_its_points_and_gets_its_hint(mutant):
    result = grade(mutant.path, examples=FAST, limits=LIMITS)
    assert _failing(result) == set(mutant.failing)
    lost = sum(p.max_points for f in result.functions for p in f.properties if not p.passed)
    assert result.points == 33 - lost
    for function, prop in mutant.failing:
        [failed] = [p for p in result.function(function).properties if p.property == prop]
        if failed.charged_for_error:  # it held where the call returned: the error row explains it, once
            assert failed.message.startswith("charged for the error above") and not failed.counterexample
            [failed] = [p for p in result.function(function).properties if p.property == ERROR_PROPERTY]
        assert mutant.hint in failed.hint, failed.hint
        assert failed.counterexample.startswith(function)


def test_counterexamples_are_minimal():
    result = grade(MUTANTS.MUTANTS[0].path, examples=FAST, limits=LIMITS)  # bias forgotten
    [failed] = [p for p in result.function("conv_forward_naive").properties if not p.passed]
    assert "x.shape=(1, 1, 1, 1), w.shape=(1, 1, 1, 1), b.shape=(1,), conv_param={'stride': 1, 'pad': 0}" in failed.counterexample
    assert "expected out = " in failed.message and "got      out = " in failed.message  # tiny arrays shown in full


@pytest.mark.parametrize(
    ("name", "points", "reason"),
    [
        ("hostile_infinite_loop.py", 26, "did not return within 2 s"),
        ("hostile_memory_hog.py", 26, "ran out of memory"),
        ("hostile_imports_torch.py", 26, "write it in NumPy"),
        ("hostile_reads_files.py", 22, "not allowed in the grader's sandbox"),
        ("hostile_sys_exit.py", 9, "did not run: line 29: called sys.exit(bye)"),
        ("hostile_forged_unchanged.py", 31, "x was modified by the call"),
    ],
)
def test_hostile_submissions_lose_only_what_they_break(name, points, reason):
    result = grade(EXAMPLES / name, examples=FAST, limits=LIMITS)
    assert result.status == "graded"
    assert result.points == points
    assert any(reason in p.message for f in result.functions for p in f.properties if not p.passed)


@pytest.mark.parametrize(("name", "points"), [("real_helper_import.py", 33), ("real_syntax_error.py", 29)])
def test_real_student_files_lose_only_what_their_broken_line_breaks(name, points):
    result = grade(EXAMPLES / name, examples=FAST, limits=LIMITS)
    assert (result.status, result.error, result.points) == ("graded", "", points)


def test_inputs_unchanged_is_judged_by_the_grader_whatever_the_child_says():
    result = grade(EXAMPLES / "hostile_forged_unchanged.py", examples=FAST, limits=LIMITS)
    failing = {(f.name, p.property) for f in result.functions for p in f.properties if not p.passed}
    assert failing == {("zero_pad", "inputs unchanged"), ("conv_forward_naive", "inputs unchanged")}


def test_hostile_backward_still_graded_with_the_standard_cache():
    result = grade(EXAMPLES / "hostile_infinite_loop.py", examples=FAST, limits=LIMITS)
    assert result.function("conv_backward_naive").passed
    assert not result.function("conv_forward_naive").passed


def test_same_submission_same_result_every_time():
    path = MUTANTS.MUTANTS[1].path
    first, second = (grade(path, examples=FAST, limits=LIMITS).to_dict() for _ in range(2))
    for result in (first, second):
        result.pop("seconds")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_buggy_example_files_match_the_mutant_table():
    for mutant in MUTANTS.MUTANTS:
        assert mutant.path.read_text() == mutant.source(), f"run python examples/conv_layers/mutants.py ({mutant.name})"


def test_notebook_cells_in_any_order_with_magics_and_failing_cells(tmp_path):
    source = (EXAMPLES / "correct.py").read_text()
    header, body = source.split("import numpy as np\n", 1)
    functions = ["def " + chunk for chunk in body.split("\ndef ")[1:]]
    cells = [
        "%matplotlib inline\n!pip install torch",
        *reversed(functions),  # definitions before the import they need: order must not matter
        "raise RuntimeError('a cell that fails')",
        "import numpy as np",
    ]
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells]
        + [{"cell_type": "markdown", "metadata": {}, "source": "# notes"}],
    }
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps(notebook))
    result = grade(path, examples=10, limits=LIMITS)
    assert result.points == 33
    assert any("RuntimeError" in note for note in result.notes)
    assert any("magic" in note or "shell" in note for note in result.notes)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe not utf-8", "UTF-8"),
        (b'{"cells": 3}', "notebook"),
        (b"not json at all", "JSON"),
    ],
    ids=["not utf-8", "not a notebook", "not json"],
)
def test_unreadable_notebooks_are_ungradable_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    result = grade(path, examples=5, limits=LIMITS)
    assert result.status == "ungradable" and result.points == 0 and result.max_points == 33
    assert reason.lower() in result.error.lower()


def test_syntax_error_everywhere_scores_zero_with_a_note(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def conv_forward_naive(x, w, b, conv_param)\n    return x\n")
    result = grade(path, examples=5, limits=LIMITS)
    assert (result.status, result.points) == ("graded", 0)
    assert result.notes == ["line 1: SyntaxError: expected ':'"]
    assert result.error == "none of the functions of conv_layers could be loaded; line 1: SyntaxError: expected ':'"
    assert result.function("conv_forward_naive").note == (
        "conv_forward_naive is defined at line 1, but that definition could not be read: "
        "line 1: SyntaxError: expected ':'; fix the syntax error")


def test_misnamed_function_gets_a_did_you_mean(tmp_path):
    path = tmp_path / "typo.py"
    path.write_text("def conv_forward_niave(x, w, b, conv_param):\n    pass\n")
    result = grade(path, examples=5, limits=LIMITS)
    assert "did you mean to name 'conv_forward_niave'" in result.function("conv_forward_naive").note


def test_unknown_assignment_is_a_clear_key_error():
    with pytest.raises(KeyError, match="no assignment named 'conv_layer'.*Did you mean 'conv_layers'"):
        grade(EXAMPLES / "correct.py", assignment="conv_layer")


def test_each_loading_note_appears_once(tmp_path):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "%matplotlib inline\nimport numpy as np"}
    path = tmp_path / "magic.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    notes = grade(path, examples=3, limits=LIMITS).notes
    assert notes.count("code cell 1: skipped the shell/magic line `%matplotlib inline`") == 1


def test_a_second_grading_in_the_same_process_looks_up_no_expected_value_again(monkeypatch):
    # Each drawn case's expected value and reply limit are kept per case object (judge._PER_CASE).
    from autograder.engine.expected import ExpectedValues

    first = grade(EXAMPLES / "correct.py", examples=FAST, limits=LIMITS)
    looked_up = []
    original = ExpectedValues.__call__
    monkeypatch.setattr(ExpectedValues, "__call__", lambda self, *a, **k: looked_up.append(a[0]) or original(self, *a, **k))
    second = grade(EXAMPLES / "correct.py", examples=FAST, limits=LIMITS)
    assert looked_up == []
    assert second.points == first.points == 33
    assert [p.examples for f in second.functions for p in f.properties] == \
        [p.examples for f in first.functions for p in f.properties]
