"""Backward checks reuse the forward calls of the forward check, and fall back when the child lost them."""

from pathlib import Path

import pytest

from autograder import grade
from autograder.engine.expected import expected_values
from autograder.engine.judge import judge_many
from autograder.engine.search import HangGuard, drawn_cases
from autograder.engine.submission import read_submission
from autograder.rubrics import conv_layers
from autograder.sandbox import Limits, Sandbox

CORRECT = Path(__file__).parents[2] / "examples" / "conv_layers" / "correct.py"
FORWARD_CHECK = conv_layers.CONV_FORWARD.checks[0]
BACKWARD_CHECK = conv_layers.CONV_BACKWARD.checks[0]


@pytest.fixture
def counting_submission(tmp_path):
    """The correct submission, with a forward that counts its calls."""
    path = tmp_path / "counting.py"
    source = CORRECT.read_text().replace("def conv_forward_naive(", "def _conv_forward_naive(", 1)
    source += (
        "\n\nFORWARD_CALLS = [0]\n\n"
        "def conv_forward_naive(x, w, b, conv_param):\n"
        "    FORWARD_CALLS[0] += 1\n"
        "    return _conv_forward_naive(x, w, b, conv_param)\n\n"
        "def forward_calls():\n"
        "    return FORWARD_CALLS[0]\n"
    )
    path.write_text(source)
    return path


def judge_forward_then_backward(path, cases, limits=None, calls_between=0):
    expected = expected_values()
    with Sandbox(read_submission(path), limits or Limits()) as sandbox:
        box = HangGuard(sandbox)
        forward_trials = judge_many(box, conv_layers.CONV_FORWARD, FORWARD_CHECK, cases, expected)
        sandbox.call_many("forward_calls", [((), {})] * calls_between)
        backward_trials = judge_many(box, conv_layers.CONV_BACKWARD, BACKWARD_CHECK, cases, expected)
        calls = sandbox.call("forward_calls").value
    return forward_trials, backward_trials, calls


def all_passed(trials):
    return all(verdict.passed for trial in trials for verdict in trial.verdicts.values())


def test_the_backward_check_calls_no_forward_the_forward_check_made(counting_submission):
    cases = drawn_cases(BACKWARD_CHECK, 20)
    forward_trials, backward_trials, calls = judge_forward_then_backward(counting_submission, cases)
    assert all_passed(forward_trials) and all_passed(backward_trials)
    assert calls == len(cases)  # not twice: the backward got the forward check's caches by Ref
    assert not any(trial.note for trial in backward_trials)


def test_results_the_child_no_longer_keeps_are_computed_again(counting_submission):
    cases = drawn_cases(BACKWARD_CHECK, 12)
    # The child keeps the last 14 results, and 14 other calls come between: the forward check's caches are gone.
    forward_trials, backward_trials, calls = judge_forward_then_backward(
        counting_submission, cases, Limits(kept_results=14), calls_between=14
    )
    assert all_passed(forward_trials) and all_passed(backward_trials)
    assert calls == 2 * len(cases)
    assert not any(trial.note for trial in backward_trials)


def test_new_cases_call_the_forward(counting_submission):
    forward_cases = drawn_cases(FORWARD_CHECK, 5)
    backward_cases = drawn_cases(BACKWARD_CHECK, 8)  # the first 5 are the same cases
    expected = expected_values()
    with Sandbox(read_submission(counting_submission)) as sandbox:
        box = HangGuard(sandbox)
        judge_many(box, conv_layers.CONV_FORWARD, FORWARD_CHECK, forward_cases, expected)
        trials = judge_many(box, conv_layers.CONV_BACKWARD, BACKWARD_CHECK, backward_cases, expected)
        assert sandbox.call("forward_calls").value == 8
    assert all_passed(trials)


def test_a_forward_that_failed_is_not_reused(tmp_path):
    # The forward returns only `out`: nothing is kept for reuse, and the backward
    # gets the course's standard cache, as without reuse.
    path = tmp_path / "no_cache.py"
    path.write_text(
        CORRECT.read_text().replace(
            "def conv_forward_naive(", "def _conv_forward_naive(", 1
        )
        + "\n\ndef conv_forward_naive(x, w, b, conv_param):\n    return _conv_forward_naive(x, w, b, conv_param)[0]\n"
    )
    cases = drawn_cases(BACKWARD_CHECK, 6)
    expected = expected_values()
    with Sandbox(read_submission(path)) as sandbox:
        box = HangGuard(sandbox)
        judge_many(box, conv_layers.CONV_FORWARD, FORWARD_CHECK, cases, expected)
        assert box.forwards == {}
        trials = judge_many(box, conv_layers.CONV_BACKWARD, BACKWARD_CHECK, cases, expected)
    assert all_passed(trials)  # the backward got the course's standard cache, which it reads fine


def test_whole_grading_is_unchanged(counting_submission):
    result = grade(counting_submission, assignment="conv_layers", examples=30)
    assert result.points == result.max_points
