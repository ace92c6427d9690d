"""Whatever the student's function does, it becomes a failing verdict with a one-line reason.

Each row is a conv_forward_naive body; the submission's other functions are
missing, so only conv_forward_naive (7 points) is at stake.
"""

import numpy as np
import pytest

from autograder import grade
from autograder.engine.verdicts import compare_arrays, compare_int
from autograder.sandbox import Limits

LIMITS = Limits(call_timeout=1.5, budget=30.0, output_bytes=4096)

CORRECT_OUT = """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    s, p = conv_param['stride'], conv_param['pad']
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = np.tensordot(xp[:, :, i*s:i*s+HH, j*s:j*s+WW], w, axes=([1, 2, 3], [1, 2, 3])) + b
"""

BODIES = [
    ("raises", "    raise ValueError('my own bug')", "raised ValueError: my own bug"),
    ("hangs", "    while True:\n        pass", "did not return within 1.5 s"),
    ("exits", "    import sys\n    sys.exit(3)", "SystemExit"),
    ("os._exit", "    import os\n    os._exit(1)", "must not call os._exit()"),
    ("segfault", "    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)", "SIGSEGV"),
    ("memory", "    return np.ones((10**5, 10**5)), None", "out of memory"),
    ("prints forever", "    while True:\n        print('spam' * 100)", "did not return within"),
    ("wrong type", "    return 'out', None", "out is the str 'out'; expected a numpy array"),
    ("bare array", CORRECT_OUT + "    return out", "expected the tuple (out, cache)"),
    ("list", CORRECT_OUT + "    return out.tolist(), None", "not a numpy array"),
    ("wrong shape", CORRECT_OUT + "    return out[..., None], None", "out has shape"),
    ("complex", CORRECT_OUT + "    return out.astype(complex), None", "complex"),
    ("NaN", CORRECT_OUT + "    out[...] = np.nan\n    return out, None", "is nan"),
    ("object array", CORRECT_OUT + "    return out.astype(object), None", "object"),
    ("ndarray subclass", CORRECT_OUT + "    return np.asmatrix(out.reshape(out.shape[0], -1)), None", "matrix"),
    (
        "strange __eq__",
        "    class Liar:\n        def __eq__(self, other):\n            return True\n    return Liar(), None",
        "Liar",
    ),
    ("generator", "    return (v for v in x), None", "generator"),
    ("modifies x", CORRECT_OUT + "    x += 1\n    return out, None", "x was modified"),
    ("imports scipy", "    import scipy.signal\n    return None, None", "scipy is not available"),
    ("subprocess", "    import subprocess\n    subprocess.run(['ls'])\n    return None, None", "PermissionError"),
    ("socket", "    import socket\n    socket.create_connection(('127.0.0.1', 22))\n    return None, None", "PermissionError"),
]


@pytest.mark.parametrize(("body", "reason"), [row[1:] for row in BODIES], ids=[row[0] for row in BODIES])
def test_misbehaving_forward_fails_with_a_reason(tmp_path, body, reason):
    path = tmp_path / "submission.py"
    path.write_text(f"import numpy as np\n\ndef conv_forward_naive(x, w, b, conv_param):\n{body}\n")
    result = grade(path, examples=3, limits=LIMITS)
    assert result.status == "graded"
    forward = result.function("conv_forward_naive")
    failed = [p for p in forward.properties if not p.passed]
    assert failed, "a misbehaving function must lose points"
    messages = " | ".join(p.message for p in failed)
    assert reason in messages
    assert "Traceback" not in messages
    assert all("\n" not in p.message.split("\n  expected")[0] for p in failed)  # one line, arrays aside


def test_warnings_are_not_failures(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(
        "import warnings\nimport numpy as np\n\ndef zero_pad(x, pad):\n"
        "    warnings.warn('careful')\n    np.float64(1) / 0  # RuntimeWarning\n"
        "    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n"
    )
    result = grade(path, examples=5, limits=LIMITS)
    assert result.function("zero_pad").passed


def test_float_output_size_is_explained(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text("def conv_output_size(n, f, s=1, p=0, d=1):\n    return (n - (d * (f - 1) + 1) + 2 * p) / s + 1\n")
    result = grade(path, examples=5, limits=LIMITS)
    [value, _] = result.function("conv_output_size").properties
    assert not value.passed and "use // or int(...)" in value.message


@pytest.mark.parametrize(
    ("got", "fragment"),
    [
        (np.zeros((2, 3)), "shape (2, 3), expected (2, 2)"),
        ([[0.0, 0.0], [0.0, 0.0]], "not a numpy array"),
        (np.array([["a", "b"], ["c", "d"]]), "dtype <U1"),
        (np.full((2, 2), np.inf), "is inf"),
        (np.array([[1.0, 2.0], [3.0, 5.0]]), "out[1, 1] is 5, expected 4"),
    ],
    ids=["shape", "list", "strings", "inf", "values"],
)
def test_array_verdicts(got, fragment):
    shape, values = compare_arrays("out", got, np.array([[1.0, 2.0], [3.0, 4.0]]), rtol=1e-7)
    assert not values.passed and fragment in values.message


def test_array_within_tolerance_passes():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    shape, values = compare_arrays("out", expected + 1e-12, expected, rtol=1e-7)
    assert shape.passed and values.passed


@pytest.mark.parametrize(
    ("got", "passed", "fragment"),
    [(7, True, ""), (np.int64(7), True, ""), (7.0, False, "the float 7.0"), (6, False, "is 6, expected 7"), (True, False, "bool"), ("7", False, "str")],
)
def test_int_verdicts(got, passed, fragment):
    verdict = compare_int("the result", got, 7)
    assert verdict.passed is passed and fragment in verdict.message
