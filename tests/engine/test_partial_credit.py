"""The partial-credit rules: an error is charged once, no points for no work, no cascade from forward to backward."""

from pathlib import Path

import pytest

from autograder import grade
from autograder.engine import cascade
from autograder.engine.verdicts import ERROR_PROPERTY
from autograder.outputs.feedback import feedback_text
from autograder.sandbox import Limits

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CORRECT = (EXAMPLES / "conv_layers" / "correct.py").read_text()
FAST = 25
LIMITS = Limits(call_timeout=2.0, budget=60.0)
BACKWARD_CROP = "    dx = dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]\n"
FORWARD_RETURN = "    cache = (x, w, b, conv_param)\n    return out, cache"


def _edited(tmp_path, *edits) -> Path:
    text = CORRECT
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "submission.py"
    path.write_text(text)
    return path


def _rows(function) -> list[tuple]:
    return [(p.property, p.points, p.max_points, p.passed) for p in function.properties]


# --------------------------------------------------------------------------- no points for no work


@pytest.mark.parametrize("assignment", ["conv_layers", "conv_extras", "fast_conv"])
@pytest.mark.parametrize("name", ["stub", "template_returns_none"])
def test_the_untouched_template_and_the_stub_earn_nothing(assignment, name):
    result = grade(EXAMPLES / assignment / f"{name}.py", assignment=assignment, examples=FAST, limits=LIMITS)
    assert (result.status, result.points) == ("graded", 0)
    unchanged = [p for f in result.functions for p in f.properties if p.property == "inputs unchanged"]
    assert unchanged and not any(p.passed for p in unchanged)
    if name == "template_returns_none":  # the inputs were left alone, but nothing was returned: not credited
        assert all(p.message.startswith("not credited: ") and "no output of the right type and shape" in p.message for p in unchanged)


def test_a_side_condition_pays_once_an_output_of_the_right_shape_comes_back(tmp_path):
    path = tmp_path / "zeros.py"
    path.write_text("import numpy as np\n\ndef zero_pad(x, pad):\n"
                    "    return np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * pad, x.shape[3] + 2 * pad))\n")
    result = grade(path, examples=FAST, limits=LIMITS)
    assert _rows(result.function("zero_pad")) == [("shape", 1, 1, True), ("values", 0, 2, False), ("inputs unchanged", 1, 1, True)]


# --------------------------------------------------------------------------- an error is charged once


def test_an_error_on_some_valid_cases_is_charged_once_with_its_own_smallest_call():
    result = grade(EXAMPLES / "conv_layers" / "buggy_backward_crashes_without_pad.py", examples=FAST, limits=LIMITS)
    assert result.points == 30
    backward = result.function("conv_backward_naive")
    assert _rows(backward) == [(ERROR_PROPERTY, 0, 0, False), ("dx", 0, 3, False), ("dw", 3, 3, True), ("db", 2, 2, True)]
    error, dx, dw, _ = backward.properties
    assert "'pad': 0" in error.counterexample and "cannot reshape array of size 0" in error.message
    assert "costs the 3 points of dx" in error.message
    assert dx.charged_for_error and not dx.counterexample and dx.message.startswith("charged for the error above")
    assert dw.examples == dx.examples < error.examples  # judged where the call returned
    text = feedback_text(result)
    assert text.count("cannot reshape array of size 0") == 1 and text.count("Smallest failing call") == 1
    assert "- no error on valid input: FAILED\n" in text


def test_raising_where_a_property_would_fail_earns_no_more_than_failing_it(tmp_path):
    wrong = _edited(tmp_path, (BACKWARD_CROP, BACKWARD_CROP + "    if pad == 0:\n        dx = 2 * dx\n"))
    honest = grade(wrong, examples=FAST, limits=LIMITS)
    dodge = _edited(tmp_path, (BACKWARD_CROP, BACKWARD_CROP + "    if pad == 0:\n        raise ValueError('no pad')\n"))
    dodged = grade(dodge, examples=FAST, limits=LIMITS)
    assert honest.points == 30 and not honest.function("conv_backward_naive").properties[0].passed  # dx
    assert dodged.points <= honest.points
    assert [p.property for p in dodged.function("conv_backward_naive").properties if not p.passed] == [ERROR_PROPERTY, "dx"]


def test_an_error_on_every_case_fails_every_property_with_it(tmp_path):
    path = _edited(tmp_path, ("def conv_backward_naive(dout, cache):\n", "def conv_backward_naive(dout, cache):\n    raise KeyError('todo')\n"))
    result = grade(path, examples=FAST, limits=LIMITS)
    backward = result.function("conv_backward_naive")
    assert [p.property for p in backward.properties] == ["dx", "dw", "db"]  # no error line: nothing returned to judge
    assert backward.points == 0 and all("KeyError" in p.message for p in backward.properties)
    section = feedback_text(result).split("## conv_backward_naive")[1].split("## ")[0]
    assert section.count("KeyError") == 1 and section.count("Same failure as above") == 2


def test_an_error_on_most_cases_earns_nothing_around_it(tmp_path):
    # Right only where pad == 3 (a table of known answers looks like this): no corner case, no credit.
    path = _edited(tmp_path, ("    x, w, b, conv_param = cache\n",
                              "    x, w, b, conv_param = cache\n    if conv_param['pad'] != 3:\n        raise ValueError('only pad 3')\n"))
    result = grade(path, examples=FAST, limits=LIMITS)
    backward = result.function("conv_backward_naive")
    assert [p.property for p in backward.properties] == ["dx", "dw", "db"]
    assert backward.points == 0 and all("only pad 3" in p.message for p in backward.properties)
    assert result.points == 25


# --------------------------------------------------------------------------- no cascade from forward to backward


def test_a_right_backward_is_credited_when_its_forward_caches_x_transposed():
    result = grade(EXAMPLES / "conv_layers" / "buggy_forward_cache_transposed.py", examples=FAST, limits=LIMITS)
    assert result.points == 27
    assert not result.function("conv_forward_naive").passed
    backward = result.function("conv_backward_naive")
    assert backward.passed
    message = backward.properties[0].message
    assert message.startswith("your backward is right: on the ") and "holds x in NHWC" in message


def test_a_wrong_backward_still_fails_with_the_standard_cache(tmp_path):
    transposed = FORWARD_RETURN.replace("(x, w", "(x.transpose(0, 2, 3, 1), w").replace("return out,", "return out.transpose(0, 2, 3, 1),")
    path = _edited(tmp_path, (FORWARD_RETURN, transposed), ("    return dx, dw, db", "    return dx, dw.transpose(0, 1, 3, 2), db"))
    result = grade(path, examples=FAST, limits=LIMITS)
    backward = result.function("conv_backward_naive")
    assert [p.property for p in backward.properties if not p.passed] == ["dw"]
    [dw] = [p for p in backward.properties if p.property == "dw"]
    assert "wrong with the course's standard cache too" in dw.message and "wrong places" in dw.hint
    assert result.points == 33 - 6 - 3


def test_a_backward_whose_forward_was_right_is_judged_with_that_forward_s_cache_only(tmp_path):
    # The output is right, the cache is not the course's: the two must work together, nothing is tried again.
    path = _edited(tmp_path, (FORWARD_RETURN, FORWARD_RETURN.replace("(x, w", "(x.transpose(0, 2, 3, 1), w")))
    result = grade(path, examples=FAST, limits=LIMITS)
    assert result.function("conv_forward_naive").passed
    backward = result.function("conv_backward_naive")
    assert not backward.passed
    assert not any("your backward is right" in p.message for p in backward.properties)


def test_a_passing_backward_is_never_called_again(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the standard cache was tried on a passing backward")

    monkeypatch.setattr(cascade, "rescue_backwards", refuse)
    result = grade(EXAMPLES / "conv_layers" / "correct.py", examples=FAST, limits=LIMITS)
    assert (result.status, result.points) == ("graded", 33)


def test_expected_and_got_arrays_keep_their_shape_in_the_feedback():
    # Continuation lines of a multi-row array stay under its first bracket (in the message and in the feedback).
    result = grade(EXAMPLES / "conv_layers" / "buggy_pad_forgotten.py", assignment="conv_layers", examples=25)
    lines = feedback_text(result).splitlines()
    for label in ("expected out = ", "got      out = "):
        at = next(i for i, line in enumerate(lines) if label in line)
        column = lines[at].index(label) + len(label)
        assert lines[at][column:].startswith("[[[[")
        assert lines[at + 1].startswith(" " * (column + 3) + "[") and not lines[at + 1][column + 3 - 1].strip()
