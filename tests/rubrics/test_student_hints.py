"""Hints for the mistakes real students make: each example earns its score and its hint; correct code never gets one."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from autograder import grade
from autograder.engine import hints
from autograder.engine.expected import expected_values
from autograder.engine.hints import EVERY_PROPERTY, HintContext, first_matching_hint
from autograder.engine.search import drawn_cases
from autograder.rubrics import conv_layers, fast_conv, hints_students
from autograder.sandbox import Limits

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FAST = 25  # cases per check, as in test_grading.py
LIMITS = Limits(call_timeout=2.0, budget=60.0)
FORWARD = ("output shape", "output values", "inputs unchanged")

# example -> (assignment, points, {(function, property): what its hint must say}); every docked property listed
EXPECTED = {
    "buggy_pad_slice_backward": ("conv_layers", 30, {("conv_backward_naive", "dx"): "pad:pad + H"}),
    "buggy_padded_dx": ("conv_layers", 30, {("conv_backward_naive", "dx"): "gradient of the padded input"}),
    "buggy_conv_backward_overwrites": ("conv_layers", 30, {("conv_backward_naive", "dx"): "assigned (=) where it must be accumulated (+=)"}),
    "buggy_pool_backward_overwrites": ("conv_layers", 29, {("max_pool_backward_naive", "dx"): "assigned (=) where it must be accumulated (+=)"}),
    "buggy_pool_window_swapped": ("conv_layers", 26, {
        ("max_pool_forward_naive", "output values"): "pool_height counts rows",
        ("max_pool_backward_naive", "dx"): "pool_height counts rows",
    }),
    # pad:-pad with pad = 0 makes dx empty; reshaping it raises: charged once, on the error's line.
    "buggy_backward_crashes_without_pad": ("conv_layers", 30, {("conv_backward_naive", p): "dx_pad[:, :, 0:0, 0:0]"
                                                               for p in ("no error on valid input", "dx")}),
    # It raises where a window runs past the border (charged once, on its own line) and is wrong where windows fit.
    "buggy_pad_forgotten": ("conv_layers", 27, {("conv_forward_naive", p): "read from the padded input"
                                                for p in ("output shape", "output values", "no error on valid input")}),
    "buggy_bias_vector": ("conv_layers", 26, {("conv_forward_naive", p): "Add only filter f's bias, b[f]" for p in FORWARD}),
    "buggy_float_output_size": ("conv_layers", 31, {("conv_output_size", "value"): "in Python 3, / gives a float"}),
    "buggy_float_sizes": ("conv_layers", 21, {
        **{("conv_forward_naive", p): "use // for output sizes" for p in FORWARD},
        **{("max_pool_forward_naive", p): "use // for output sizes" for p in FORWARD},
    }),
    "buggy_xrange": ("conv_layers", 28, {("max_pool_forward_naive", p): "range(n) does the same" for p in FORWARD}),
    "buggy_np_lib_pad": ("conv_layers", 26, {("conv_forward_naive", p): "np.lib.pad is gone in NumPy 2" for p in FORWARD}),
    "buggy_np_int_alias": ("conv_layers", 28, {("max_pool_forward_naive", p): "np.int was removed in NumPy 1.24" for p in FORWARD}),
    "buggy_int_of_array": ("conv_layers", 29, {("max_pool_backward_naive", "dx"): "only a 0-d array converts"}),
    "buggy_gradient_averaged": ("conv_layers", 28, {
        ("conv_backward_naive", "dw"): "divided by N = 2: it was averaged over the batch",
        ("conv_backward_naive", "db"): "divided by N = 2: it was averaged over the batch",
    }),
    "buggy_dx_flipped_filter": ("conv_layers", 30, {("conv_backward_naive", "dx"): "filter flipped (rotated 180 degrees)"}),
    "buggy_im2col_nf_swapped": ("fast_conv", 5, {
        ("conv_forward_im2col", "output values"): "reshaped straight to (N, F, H', W')",
        ("conv_forward_im2col", "speed"): "measured only once your function returns the right output",
        ("conv_backward_im2col", "dx"): "dout.reshape(F, -1)",
        ("conv_backward_im2col", "dw"): "dout.reshape(F, -1)",
        ("conv_backward_im2col", "speed"): "measured only once your function returns the right output",
    }),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_each_real_mistake_loses_its_points_and_every_docked_property_names_it(name):
    assignment, points, hinted = EXPECTED[name]
    result = grade(EXAMPLES / assignment / f"{name}.py", assignment=assignment, examples=FAST, limits=LIMITS)
    docked = {(f.name, p.property): p for f in result.functions for p in f.properties if not p.passed}
    assert set(docked) == set(hinted)
    assert result.points == points
    for key, text in hinted.items():
        if docked[key].charged_for_error:  # it held; it pays for the error, whose own line has the hint
            assert "charged for the error above" in docked[key].message and not docked[key].hint
            continue
        assert text in docked[key].hint, (key, docked[key].hint)


@pytest.mark.parametrize(
    ("assignment", "path"),
    [(a, EXAMPLES / a / "correct.py") for a in ("conv_layers", "conv_extras", "fast_conv")]
    + [("conv_layers", EXAMPLES / "conv_layers" / "correct_loops.py")]
    + [(a, ROOT / "solutions" / a / f"{a}.ipynb") for a in ("conv_layers", "conv_extras", "fast_conv")],
    ids=lambda value: value if isinstance(value, str) else f"{value.parent.name}/{value.name}",
)
def test_correct_examples_and_solutions_get_full_marks_and_no_hint(assignment, path):
    result = grade(path, assignment=assignment, examples=FAST, limits=LIMITS)
    assert result.points == result.max_points
    assert [p.hint for f in result.functions for p in f.properties if p.hint] == []


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"hint_examples_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # our own correct examples, trusted
    return module


def _answers(function, check, case):
    """What a correct function returns on ``case``, named as the check's properties read it."""
    if check.kind == "value":
        return {"value": function(*check.arguments(case))}
    if check.kind == "forward":
        out, _ = function(*check.arguments(case))
        return {"out": out}
    grads = function(case.dout, case.cache)
    return dict(zip(check.outputs, grads if isinstance(grads, tuple) else (grads,)))


NEW_HINTS = [h for h in vars(hints_students).values() if isinstance(h, hints.Hint)] + list(hints_students.CRASH_HINTS)
CORRECT = [
    (EXAMPLES / "conv_layers" / name, spec)
    for name in ("correct.py", "correct_loops.py")
    for spec in conv_layers.ASSIGNMENT.functions
] + [(EXAMPLES / "fast_conv" / "correct.py", spec) for spec in (fast_conv.CONV_FORWARD_IM2COL, fast_conv.CONV_BACKWARD_IM2COL)]


@pytest.mark.parametrize(("path", "spec"), CORRECT, ids=[f"{p.parent.name}/{p.stem}:{s.name}" for p, s in CORRECT])
def test_no_hint_fires_on_a_correct_function_across_the_drawn_cases(path, spec):
    """Every hint of the check, asked about every property, on 300 drawn cases: a correct answer matches none.

    The answers come from correct implementations (not the reference), so they
    differ from the expected values by rounding, as a student's would. The
    hints of this module are also asked directly: each must see by itself that
    a right answer is no mistake.
    """
    function = getattr(_load(path), spec.name)
    expected = expected_values()
    [check] = [c for c in spec.checks if c.kind in ("value", "forward", "backward")]
    for case in drawn_cases(check, 300):
        got = _answers(function, check, case)
        want = expected(spec.reference, *check.arguments(case), *([case.cache] if check.kind == "backward" else []))
        if check.kind == "value":
            want = {"value": want}
        elif check.kind == "forward":
            want = {"out": want[0]}
        else:
            want = dict(zip(check.outputs, want if isinstance(want, tuple) else (want,)))
        for name in check.points:
            context = HintContext(case=case, property=name, got=got, want=want, expected=expected)
            assert first_matching_hint(check.hints, context) == "", (name, case.describe())
            for hint in [h for h in NEW_HINTS if h in check.hints]:  # the matchers themselves, without first_matching_hint's guard
                if name in hint.properties or hint.properties == EVERY_PROPERTY:
                    assert not hint.matches(context), (hint.name, name, case.describe())


def test_a_hint_for_a_crash_needs_the_exception_its_mistake_raises():
    crash_hints = hints_students.CRASH_HINTS
    context = lambda error: HintContext(case=None, property="output values", got={"error": error}, want={}, expected=None)  # noqa: E731
    assert "use //" in first_matching_hint(crash_hints, context("raised TypeError: 'float' object cannot be interpreted as an integer (line 3)"))
    assert "np.float was removed" in first_matching_hint(crash_hints, context("raised AttributeError: module 'numpy' has no attribute 'float'. `np.float` was"))
    for unrelated in ("raised TypeError: unsupported operand type(s) for +: 'int' and 'str' (line 3)",
                      "raised NameError: name 'xrang' is not defined (line 9)", "raised IndexError: index 3 is out of bounds"):
        assert first_matching_hint(crash_hints, context(unrelated)) == ""
    assert first_matching_hint(crash_hints, HintContext(None, "dx", {"dx": np.zeros(1)}, {"dx": np.ones(1)}, None)) == ""


def test_windows_cut_at_the_border_are_told_apart_from_other_broadcast_errors():
    [check] = conv_layers.CONV_FORWARD.checks
    case = next(c for c in drawn_cases(check, 100) if c.conv_param["pad"] > 0 and c.w.shape[2] > 1)
    hh, ww = case.w.shape[2:]
    c = case.x.shape[1]

    def hint(error):
        return first_matching_hint(check.hints, HintContext(case, "output values", {"error": error}, {"out": None}, expected_values()))

    assert "padded input" in hint(f"raised ValueError: operands could not be broadcast together with shapes ({c},{hh - 1},{ww}) ({c},{hh},{ww}) (line 9)")
    assert hint(f"raised ValueError: operands could not be broadcast together with shapes ({c + 1},{hh},{ww}) ({c},{hh},{ww}) (line 9)") == ""


# The same mistakes written the vectorized way (correct.py with one edit): the hints must not depend on the loops.
VECTORIZED = {
    "pad:-pad": (("dx = dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]", "dx = dx_pad[:, :, pad:-pad, pad:-pad]"),
                 ("conv_backward_naive", "dx"), "pad:pad + H"),
    "dx assigned": (("dx_pad[:, :, rows, cols] += np.tensordot", "dx_pad[:, :, rows, cols] = np.tensordot"),
                    ("conv_backward_naive", "dx"), "accumulated (+=)"),
    "dw assigned": (("dw += np.tensordot", "dw = np.tensordot"), ("conv_backward_naive", "dw"), "accumulated (+=)"),
    "pool window assigned": (("dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += mask",
                              "dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] = mask"),
                             ("max_pool_backward_naive", "dx"), "accumulated (+=)"),
    "no padding (tensordot)": (("    x_pad = zero_pad(x, pad)\n    out", "    x_pad = x\n    out"),
                               ("conv_forward_naive", "output values"), "read from the padded input"),
    "db averaged": (("    db = dout.sum(axis=(0, 2, 3))", "    db = dout.sum(axis=(0, 2, 3)) / x.shape[0]"),
                    ("conv_backward_naive", "db"), "averaged over the batch"),
    "forward flipped": (("np.tensordot(window, w, axes=", "np.tensordot(window, w[:, :, ::-1, ::-1], axes="),
                        ("conv_forward_naive", "output values"), "cross-correlation"),
    "+ 1 forgotten": (("    H_out = 1 + (H + 2 * pad - HH) // stride\n    W_out = 1 + (W + 2 * pad - WW) // stride",
                       "    H_out = (H + 2 * pad - HH) // stride\n    W_out = (W + 2 * pad - WW) // stride"),
                      ("conv_forward_naive", "output shape"), "the + 1 counting"),
    "db over (2, 3)": (("    db = dout.sum(axis=(0, 2, 3))", "    db = dout.sum(axis=(2, 3))"), ("conv_backward_naive", "db"), "dout.sum(axis=(0, 2, 3))"),
    "pool mask over the block": (("mask = window == window.max(axis=(2, 3), keepdims=True)", "mask = window == window.max()"),
                                 ("max_pool_backward_naive", "dx"), "each (n, c) has its own maximum"),
    "backward windows in x": (("x_pad[:, :, rows, cols], axes=([0], [0]))", "x[:, :, rows, cols], axes=([0], [0]))"),
                              ("conv_backward_naive", "dw"), "In the backward too the windows live in the padded input"),
    "backward stride ignored": (("            rows = slice(i * stride, i * stride + HH)\n            cols = slice(j * stride, j * stride + WW)",
                                 "            rows = slice(i, i + HH)\n            cols = slice(j, j + WW)"),
                                ("conv_backward_naive", "dx"), "windows moved by 1 whatever the stride"),
    "pool sizes swapped": (("    H_out = 1 + (H - ph) // stride\n    W_out = 1 + (W - pw) // stride",
                            "    H_out = 1 + (H - pw) // stride\n    W_out = 1 + (W - ph) // stride"),
                           ("max_pool_forward_naive", "output shape"), "pool_height counts rows"),
}


@pytest.mark.parametrize("mistake", VECTORIZED)
def test_the_same_mistakes_written_vectorized_get_the_same_hints(mistake, tmp_path):
    (old, new), key, text = VECTORIZED[mistake]
    source = (EXAMPLES / "conv_layers" / "correct.py").read_text()
    assert source.count(old) == 1
    path = tmp_path / "submission.py"
    path.write_text(source.replace(old, new))
    result = grade(path, examples=FAST, limits=LIMITS)
    docked = {(f.name, p.property): p for f in result.functions for p in f.properties if not p.passed}
    assert key in docked and text in docked[key].hint, docked.get(key)
    assert {f for f, _ in docked} == {key[0]}  # the edit costs only its own function's points
