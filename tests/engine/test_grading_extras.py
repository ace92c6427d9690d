"""Grading the conv_extras and fast_conv examples: expected scores, hints, and the speed check."""

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from autograder import grade
from autograder.engine import hints
from autograder.engine.checks import BackwardCheck, SpeedCheck
from autograder.engine.expected import expected_values
from autograder.engine.results import FunctionResult, PropertyResult, SubmissionResult
from autograder.engine.rubric import backward_check, forward_check, raises_check, speed_check, value_check
from autograder.engine.verdicts import ERROR_PROPERTY
from autograder.outputs.feedback import feedback_text
from autograder.rubrics import fast_conv
from autograder.rubrics import strategies as cases
from autograder.sandbox import Limits

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAST = 25  # cases per check: enough to catch every bundled mistake, quick enough for the default run
LIMITS = Limits(call_timeout=2.0, budget=60.0)
RATIO = re.compile(r"^(\d+\.\d)x the reference's CPU time \((\S+ m?s) vs (\S+ m?s); limit 5x\)")


def _load_mutants(assignment: str):
    name = f"{assignment}_mutants"
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / assignment / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


EXTRAS = _load_mutants("conv_extras")
FAST_CONV = _load_mutants("fast_conv")


def _failing(result) -> set[tuple[str, str]]:
    return {(f.name, p.property) for f in result.functions for p in f.properties if not p.passed}


def _property(result, function: str, name: str) -> PropertyResult:
    [found] = [p for p in result.function(function).properties if p.property == name]
    return found


# --------------------------------------------------------------------------- conv_extras


def test_conv_extras_correct_submission_scores_full_marks_at_the_default_budget():
    result = grade(EXAMPLES / "conv_extras" / "correct.py", assignment="conv_extras", limits=LIMITS)
    assert result.status == "graded"
    assert result.points == result.max_points == 55
    assert all(p.examples >= 50 for f in result.functions for p in f.properties)


def test_conv_extras_stub_scores_zero_and_says_it_is_the_stub():
    result = grade(EXAMPLES / "conv_extras" / "stub.py", assignment="conv_extras", examples=FAST, limits=LIMITS)
    assert result.points == 0 and result.max_points == 55
    assert all("still the stub" in p.message for f in result.functions for p in f.properties)


@pytest.mark.parametrize("mutant", EXTRAS.MUTANTS, ids=[m.name for m in EXTRAS.MUTANTS])
def test_conv_extras_each_mistake_loses_exactly_its_points_and_gets_its_hint(mutant):
    result = grade(mutant.path, assignment="conv_extras", examples=FAST, limits=LIMITS)
    assert _failing(result) == set(mutant.failing)
    lost = sum(p.max_points for f in result.functions for p in f.properties if not p.passed)
    assert result.points == 55 - lost
    for function, prop in mutant.failing:
        failed = _property(result, function, prop)
        if failed.charged_for_error:  # it held where the call returned: the error row explains it, once
            assert failed.message.startswith("charged for the error above") and not failed.counterexample
            [failed] = [p for p in result.function(function).properties if p.property == ERROR_PROPERTY]
        assert mutant.hint in failed.hint, failed.hint
        assert failed.counterexample.startswith(function)


def test_convnet_counterexample_names_the_layer():
    mutant = next(m for m in EXTRAS.MUTANTS if m.name == "convnet_pool_parameters")
    result = grade(mutant.path, assignment="conv_extras", examples=FAST, limits=LIMITS)
    failed = _property(result, "convnet_shapes", "parameter counts")
    assert re.match(r"layers\[\d+\] \(pool\): the parameter count is \d+, expected 0", failed.message), failed.message
    assert "'type': 'pool'" in failed.counterexample


# --------------------------------------------------------------------------- fast_conv and the speed check


def test_fast_conv_correct_submission_is_fast_enough_and_says_how_fast():
    result = grade(EXAMPLES / "fast_conv" / "correct.py", assignment="fast_conv", limits=LIMITS)
    assert result.points == result.max_points == 19, feedback_text(result)
    text = feedback_text(result)
    for function in ("conv_forward_im2col", "conv_backward_im2col"):
        speed = _property(result, function, "speed")
        assert speed.passed and speed.examples == 1 and speed.max_points == 2
        ratio = float(RATIO.match(speed.message).group(1))
        assert ratio <= 5
        assert speed.message in text  # a passing property's message is shown too


def test_slow_submission_passes_correctness_and_fails_speed_with_the_ratio():
    result = grade(EXAMPLES / "fast_conv" / "slow.py", assignment="fast_conv", examples=FAST, limits=LIMITS)
    assert _failing(result) == {("conv_forward_im2col", "speed"), ("conv_backward_im2col", "speed")}
    assert result.points == 15
    text = feedback_text(result)
    for function in ("conv_forward_im2col", "conv_backward_im2col"):
        speed = _property(result, function, "speed")
        match = RATIO.match(speed.message)
        assert match and float(match.group(1)) > 20, speed.message  # loops are far beyond the limit
        assert "too slow" in speed.message and "Python loops" in speed.hint
        assert "x (8, 16, 16, 16)" in speed.check and "w.shape=(16, 16, 3, 3)" in speed.counterexample
        assert speed.message in text


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hostile_forged_clock.py", "too slow"),  # the child's clock forged: the grader reads the CPU clock itself
        ("hostile_memo.py", "too slow"),  # a memo of earlier answers: every timed call gets new values
        ("hostile_replays_answer.py", "wrong on a timed call"),  # an old answer replayed: every timed result is checked
    ],
)
def test_hostile_fast_conv_cannot_earn_the_speed_points(name, reason):
    result = grade(EXAMPLES / "fast_conv" / name, assignment="fast_conv", examples=FAST, limits=LIMITS)
    assert _failing(result) == {("conv_forward_im2col", "speed"), ("conv_backward_im2col", "speed")}
    assert result.points == 15
    for function in ("conv_forward_im2col", "conv_backward_im2col"):
        speed = _property(result, function, "speed")
        assert reason in speed.message, speed.message
        if reason == "too slow":
            assert float(RATIO.match(speed.message).group(1)) > 20, speed.message  # the loops, timed for real


def test_fast_conv_stub_scores_zero_and_is_not_timed():
    result = grade(EXAMPLES / "fast_conv" / "stub.py", assignment="fast_conv", examples=FAST, limits=LIMITS)
    assert result.points == 0 and result.max_points == 19
    forward = _property(result, "conv_forward_im2col", "speed")
    assert forward.message.startswith("not timed: the output is wrong on the timing case") and "still the stub" in forward.message
    backward = _property(result, "conv_backward_im2col", "speed")
    assert backward.message.startswith("not timed: there is no cache to time it with (conv_forward_im2col raised")


@pytest.mark.parametrize("mutant", FAST_CONV.MUTANTS, ids=[m.name for m in FAST_CONV.MUTANTS])
def test_fast_conv_each_mistake_fails_its_property_and_its_speed_untimed(mutant):
    result = grade(mutant.path, assignment="fast_conv", examples=FAST, limits=LIMITS)
    assert _failing(result) == set(mutant.failing)
    assert result.points == 19 - sum(p.max_points for f in result.functions for p in f.properties if not p.passed)
    for function, prop in mutant.failing:
        failed = _property(result, function, prop)
        if prop == "speed":  # wrong on the timing case: not timed
            assert failed.message.startswith("not timed: the output is wrong on the timing case"), failed.message
        else:
            assert mutant.hint in failed.hint, failed.hint


@pytest.mark.parametrize("module", [EXTRAS, FAST_CONV], ids=["conv_extras", "fast_conv"])
def test_buggy_example_files_match_the_mutant_table(module):
    for mutant in module.MUTANTS:
        assert mutant.path.read_text() == mutant.source(), f"run python {module.HERE}/mutants.py ({mutant.name})"


def test_reference_time_is_measured_on_the_fixed_case():
    from autograder.engine.speed import reference_seconds

    check = fast_conv.CONV_FORWARD_IM2COL.checks[1]
    seconds = reference_seconds(fast_conv.CONV_FORWARD_IM2COL, check, "reference")
    assert 0 < seconds < 0.1
    assert fast_conv.TIMING_CASE.x.shape == (8, 16, 16, 16) and fast_conv.TIMING_CASE.conv_param == {"stride": 1, "pad": 1}


_CASES = st.just(None)
_BAD_CHECKS = {
    "speed: no case": (lambda: speed_check(None, {"speed": 2}), ValueError, "one fixed case"),
    "speed: strategy given": (lambda: speed_check(fast_conv.TIMING_CASE, {"speed": 2}, strategy=_CASES), TypeError,
                              "unexpected keyword 'strategy'"),
    "speed: two properties": (lambda: speed_check(fast_conv.TIMING_CASE, {"speed": 1, "memory": 1}), ValueError, "one property"),
    "speed: zero ratio": (lambda: speed_check(fast_conv.TIMING_CASE, {"speed": 2}, max_ratio=0.0), ValueError, "max_ratio > 0"),
    "speed: no repeats": (lambda: speed_check(fast_conv.TIMING_CASE, {"speed": 2}, repeats=0), ValueError, "repeats >= 1"),
    "speed: backward without outputs": (lambda: speed_check(fast_conv.TIMING_CASE, {"speed": 2}, forward="conv_forward_im2col"),
                                        ValueError, "needs forward_arguments, standard_cache and outputs"),
    "speed: backward without cache": (lambda: SpeedCheck(case=fast_conv.TIMING_CASE, points={"speed": 2}, forward="f"),
                                      ValueError, "needs forward_arguments"),
    "forward: no strategy": (lambda: forward_check(None, {"output values": 1}), ValueError, "a forward check needs a Hypothesis strategy"),
    "forward: no points": (lambda: forward_check(_CASES, {}), ValueError, "a forward check needs points"),
    "forward: no examples": (lambda: forward_check(_CASES, {"output values": 1}, examples=0), ValueError, "examples >= 1"),
    "value: arguments not callable": (lambda: value_check(_CASES, {"value": 1}, arguments=(1, 2)), ValueError, "a function of a case"),
    "value: an option of another kind": (lambda: value_check(_CASES, {"value": 1}, max_ratio=2.0), TypeError,
                                         r"value_check\(\) got an unexpected keyword 'max_ratio'; known: points, arguments, hints"),
    "forward: a misspelt option": (lambda: forward_check(_CASES, {"output values": 1}, hint=()), TypeError,
                                   r"forward_check\(\) got an unexpected keyword 'hint' \(did you mean 'hints'\?\)"),
    "backward: no forward": (lambda: backward_check(_CASES, "", {"dx": 1}), ValueError, "needs forward"),
    "backward: no strategy": (lambda: BackwardCheck(forward="f", outputs=("dx",), points={"dx": 1}), TypeError, "strategy"),
    "backward: points not the outputs": (lambda: BackwardCheck(strategy=_CASES, forward="f", outputs=("dx",), points={"dw": 1}),
                                         ValueError, "scores its outputs"),
    "raises: two properties": (lambda: raises_check(_CASES, {"raises ValueError": 1, "other": 1}), ValueError, "one property"),
}


@pytest.mark.parametrize(("build", "error", "message"), _BAD_CHECKS.values(), ids=_BAD_CHECKS.keys())
def test_checks_are_validated_when_built(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_feedback_shows_the_message_of_a_passing_property():
    result = SubmissionResult(
        "x.py",
        "fast_conv",
        "1",
        functions=[FunctionResult("f", [PropertyResult("f", "speed", 2.0, True, 1, message="1.5x the reference's time")])],
    )
    assert "- speed: ok (2/2 points, 1 case)\n  1.5x the reference's time" in feedback_text(result)


# --------------------------------------------------------------------------- hints no mutant reaches


def _context(case, prop: str, got: dict, want: dict) -> hints.HintContext:
    return hints.HintContext(case=case, property=prop, got=got, want=want, expected=expected_values())


def test_conv1x1_hint_when_w_transposed_keeps_the_shape():
    case = cases.Conv1x1Case(x=np.arange(8.0).reshape(1, 2, 2, 2), w=np.array([[1.0, 2.0], [3.0, 4.0]]), b=np.zeros(2))
    got = np.einsum("nchw,cf->nfhw", case.x, case.w)  # F == C: w used as (C, F)
    text = hints.first_matching_hint(hints.CONV1X1_HINTS, _context(case, "values", {"value": got}, {}))
    assert text.startswith("Your output matches w transposed")


def test_global_pool_hint_names_the_axes_used():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    case = cases.ArrayCase(x=x, dout=np.ones((2, 3)))
    text = hints.first_matching_hint(hints.GLOBAL_POOL_FORWARD_HINTS, _context(case, "output shape", {"out": x.mean(axis=(1, 2))}, {}))
    assert "x.mean(axis=(1, 2))" in text and "the axes (2, 3)" in text
