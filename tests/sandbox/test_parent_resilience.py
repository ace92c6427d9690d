"""A parent that cannot be sunk: whatever the child writes, the grader answers with the student's failure.

Malformed messages of every kind are `ProtocolError` in the parent (then a
``"protocol"`` outcome of that call), never a Python error of the grader's;
a reply larger than what the call's result can be is refused unread; and a
submission returning huge values does not grow the grader's memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import grade
from autograder.engine.submission import Cell, Submission, read_submission
from autograder.sandbox import Limits, Sandbox, replies
from autograder.sandbox.calls import CallRequest
from autograder.sandbox.child.protocol import FrameReader, Message, ProtocolError, encode_message, frame_pieces
from autograder.sandbox.replies import read_cell_start, read_ready

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "conv_layers"
FAST = 25
LIMITS = Limits(call_timeout=2.0, budget=60.0)


@pytest.fixture(scope="module")
def unstarted_box():
    """A sandbox whose child never starts: enough to read messages as the parent does."""
    box = Sandbox(Submission(Path("hw.py"), [Cell(0, "def f(x): return x", "file")]))
    yield box
    box.close()


REQUEST = CallRequest.encode("f", 0, ((np.arange(3.0), {"stride": 1}), {}), seq=7)
ARRAY = {"kind": "ndarray", "dtype": "<f8", "shape": [1], "offset": 0, "nbytes": 8}
_HEADER, _BUFFERS = encode_message({"type": "result", "seq": 7, "status": "ok", "error": "", "ref": 3},
                                   {"value": (np.zeros(1), None), "args_after": (np.arange(3.0), {"stride": 1}),
                                    "kwargs_after": {}})
RESULT = json.loads(_HEADER)
BODY = b"".join(bytes(view) for view in _BUFFERS)
assert RESULT["value"]["items"][0] == ARRAY  # the value's array comes first in the body


def read_result(box, header, body=BODY):
    header = {key: value for key, value in header.items() if value is not _MISSING}
    return replies.read_result(Message(header, body), arguments_after=REQUEST.arguments_after,
                               memory_bytes=box.limits.memory_bytes, sandbox_id=box._id, generation=box._generation)


def test_a_well_formed_result_is_read(unstarted_box):
    outcome = read_result(unstarted_box, RESULT)
    assert outcome.status == "ok" and outcome.value[0].shape == (1,)
    assert np.array_equal(outcome.args_after[0], np.arange(3.0)) and outcome.args_after[1] == {"stride": 1}


_MISSING = object()  # a key left out of the header

BAD_RESULTS = {
    "status a list (unhashable)": {"status": []},
    "status a dict": {"status": {"ok": 1}},
    "status unknown": {"status": "timeout"},  # the parent's verdict, not the child's to give
    "shape [0, 2**63]": {"value": {**ARRAY, "shape": [0, 2**63], "nbytes": 0}},
    "shape [2**40, 2**40, 0]": {"value": {**ARRAY, "shape": [2**40, 2**40, 0], "nbytes": 0}},
    "shape of 65 dimensions": {"value": {**ARRAY, "shape": [1] * 65}},
    "negative offset": {"value": {**ARRAY, "offset": -8}},
    "float offset": {"value": {**ARRAY, "offset": 0.0}},
    "bool offset": {"value": {**ARRAY, "offset": False}},
    "huge offset": {"value": {**ARRAY, "offset": 2**64}},
    "bool nbytes": {"value": {**ARRAY, "nbytes": True}},
    "error not text": {"error": ["a"]},
    "ref a list": {"ref": [1]},
    "ref a bool": {"ref": True},
    "ref a float": {"ref": 1.0},
    "ref a huge int": {"ref": 10**4000},
    "arguments after not sent": {"args_after": _MISSING},
    "keyword arguments after not sent": {"kwargs_after": _MISSING},
    "arguments after not a tuple": {"args_after": {"kind": "list", "items": []}},
    "value not a node": {"value": [1, 2]},
    "value a huge int": {"value": {"kind": "int", "value": "9" * 5000}},
    "dict key a list": {"value": {"kind": "dict", "items": [[{"kind": "list", "items": []}, {"kind": "none"}]]}},
    "dict key a tuple holding a list": {"value": {"kind": "dict", "items": [[
        {"kind": "tuple", "items": [{"kind": "list", "items": []}]}, {"kind": "none"}]]}},
    "complex part not hex": {"value": {"kind": "complex", "real": "0x1p0", "imag": []}},
}


@pytest.mark.parametrize("change", BAD_RESULTS.values(), ids=BAD_RESULTS.keys())
def test_malformed_results_are_protocol_errors(unstarted_box, change):
    with pytest.raises(ProtocolError):
        read_result(unstarted_box, RESULT | change)


ERROR = {"error": "NameError: name 'x' is not defined", "origin": "file", "line": 1, "at": 1, "continued": False}
BAD_LOADED = {
    "cells not a list": {"cells": {}},
    "functions not a list": {"functions": "f"},
    "a function name not text": {"functions": [["f"]]},
    "a cell not an object": {"cells": [[0, "ok", ""]]},
    "a cell index a list (unhashable)": {"cells": [{"index": [0], "status": "ok", "errors": []}]},
    "a cell index a float": {"cells": [{"index": 0.0, "status": "ok", "errors": []}]},
    "a cell index of no cell": {"cells": [{"index": 5, "status": "ok", "errors": []}]},
    "a cell status a list (unhashable)": {"cells": [{"index": 0, "status": [], "errors": []}]},
    "a cell status unknown": {"cells": [{"index": 0, "status": "hung", "errors": []}]},
    "a cell's errors not a list": {"cells": [{"index": 0, "status": "ok", "errors": None}]},
    "an error's text not text": {"cells": [{"index": 0, "status": "raised", "errors": [ERROR | {"error": None}]}]},
    "an error's line not an int": {"cells": [{"index": 0, "status": "raised", "errors": [ERROR | {"line": "1"}]}]},
    "an error's origin too long": {"cells": [{"index": 0, "status": "raised", "errors": [ERROR | {"origin": "x" * 999}]}]},
    "too many errors": {"cells": [{"index": 0, "status": "raised", "errors": [ERROR] * 101}]},
    "defined not an object": {"defined": ["f"]},
}
LOADED = {"type": "loaded", "cells": [{"index": 0, "status": "ok", "errors": []}], "functions": ["f"],
          "defined": {"f": ["file", 1]}}


def loaded(box, header):
    """The functions, where each was defined, and the cell reports, as a loaded message gives them."""
    return replies.read_loaded(header, {cell.index: cell for cell in box.submission.cells}, {}, [])


def read_loaded(box, header):
    return loaded(box, header)[2]


def test_a_well_formed_loaded_message_is_read(unstarted_box):
    [report] = read_loaded(unstarted_box, LOADED)
    assert report.status == "ok"
    [report] = read_loaded(unstarted_box, LOADED | {"cells": [{"index": 0, "status": "raised", "errors": [ERROR]}]})
    assert (report.status, report.error, report.stopped_at) == ("raised", "line 1: NameError: name 'x' is not defined", 1)


def test_where_a_function_was_defined_is_kept_only_when_it_names_a_unit_of_the_submission(unstarted_box):
    _, defined, _ = loaded(unstarted_box, LOADED | {"defined": {"f": ["file", 1], "g": ["file", 2], "h": ["/etc/passwd", 1]}})
    assert defined == {"f": "line 1"}  # g is no function the child listed; h's origin is no unit's


@pytest.mark.parametrize("change", BAD_LOADED.values(), ids=BAD_LOADED.keys())
def test_malformed_loaded_messages_are_protocol_errors(unstarted_box, change):
    with pytest.raises(ProtocolError):
        read_loaded(unstarted_box, LOADED | change)


@pytest.mark.parametrize("header", [
    {"type": "cell_start", "index": [0]}, {"type": "cell_start", "index": 0.0}, {"type": "cell_start", "index": 9},
    {"type": "cell_start", "index": True}, {"type": "cell_start"},
], ids=["index a list", "index a float", "no such cell", "index a bool", "no index"])
def test_malformed_cell_starts_are_protocol_errors(header):
    with pytest.raises(ProtocolError):
        read_cell_start(header, {0: None, 1: None})


@pytest.mark.parametrize("header", [
    {"type": "ready"}, {"type": "ready", "protections": []}, {"type": ["ready"], "protections": {}},
    {"type": "ready", "protections": {str(i): "x" for i in range(2000)}},
], ids=["no protections", "protections a list", "type a list", "too many protections"])
def test_malformed_ready_messages_are_protocol_errors(header):
    with pytest.raises(ProtocolError):
        read_ready(header)


# ---------------------------------------------------------------- fuzzing what the parent reads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62, max_value=2**70)
    | st.floats() | st.text(max_size=6) | st.sampled_from(["ok", "raised", "ndarray", "<f8", "list", "dict"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8)


@st.composite
def mutated(draw, value):
    """``value`` with one part (the whole, a field, an item, at any depth) replaced by a random JSON value."""
    if draw(st.integers(0, 3)) == 0 or not isinstance(value, (dict, list)) or not value:
        return draw(json_values)
    if isinstance(value, dict):
        key = draw(st.sampled_from(sorted(value)) | st.text(max_size=6))
        copy = dict(value)
        copy[key] = draw(mutated(value.get(key)))
        if draw(st.booleans()) and key in copy and len(copy) > 1:
            del copy[draw(st.sampled_from(sorted(copy)))]
        return copy
    index = draw(st.integers(0, len(value) - 1))
    return value[:index] + [draw(mutated(value[index]))] + value[index + 1:]


def parent_outcome(box, header, body):
    """What the parent makes of one result frame: an outcome, or a ProtocolError; nothing else may come out."""
    try:
        [message] = FrameReader(10**7).feed(b"".join(bytes(piece) for piece in frame_pieces(header, body)))
        return read_result(box, message.header, message.body)
    except ProtocolError as error:
        return error


VALID_RESULTS = [
    RESULT,
    {"type": "result", "seq": 7, "status": "raised", "error": "ValueError: no", "ref": None},
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VALID_RESULTS).flatmap(mutated), st.binary(max_size=24))
def test_mutated_results_are_read_or_refused_never_a_crash(unstarted_box, header, body):
    if type(header) is not dict:  # a header must be an object: the frame reader refuses anything else
        header = {"value": header}
    raw = json.dumps(header).encode()  # NaN and Infinity are written as JSON's readers accept them
    parent_outcome(unstarted_box, raw, [memoryview(body)])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([LOADED, LOADED | {"cells": [{"index": 0, "status": "raised", "errors": [ERROR]}] * 2}])
       .flatmap(mutated))
def test_mutated_loaded_messages_are_read_or_refused_never_a_crash(unstarted_box, header):
    try:
        read_loaded(unstarted_box, header if type(header) is dict else {"cells": header})
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([{"type": "cell_start", "index": 0}, {"type": "ready", "protections": {"seccomp": "on"}}])
       .flatmap(mutated))
def test_mutated_start_messages_are_read_or_refused_never_a_crash(header):
    header = header if type(header) is dict else {"index": header}
    for read in (lambda: read_cell_start(header, {0: None}), lambda: read_ready(header)):
        try:
            read()
        except ProtocolError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_results_with_corrupted_json_text_never_crash_the_parent(unstarted_box, data):
    raw = bytearray(json.dumps(data.draw(st.sampled_from(VALID_RESULTS))).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position:position + 1] = data.draw(st.sampled_from([b"[", b"]", b"{", b"}", b",", b'"', b"-", b"9" * 30,
                                                                 b"NaN", b"Infinity", b"true", b"[]", b"1e999"]))
    parent_outcome(unstarted_box, bytes(raw), [memoryview(BODY)])


# ---------------------------------------------------------------- a bound on each reply

STUDENT = textwrap.dedent("""
    import numpy as np

    calls = 0

    def big(n):
        global calls
        calls += 1
        return np.broadcast_to(np.float64(1.0), (n,)), calls  # costs this process 8 bytes, whatever n
""")


def test_a_reply_over_its_bound_is_refused_unread_and_the_child_goes_on(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text(STUDENT)
    with Sandbox(read_submission(path), LIMITS) as box:
        small, huge, again = box.call_many("big", [((10,), {}), ((30_000_000,), {}), ((10,), {})],
                                           max_reply_bytes=[4096, 4096, None])
    assert small.ok and small.value[1] == 1
    assert huge.status == "protocol"
    assert "its result was 229 MiB, more than the 4 KiB a result may take here" in huge.error
    assert again.ok and again.value[1] == 3  # the same process: not restarted, nothing reloaded


def test_one_bound_serves_every_call_and_a_wrong_count_is_refused(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text(STUDENT)
    with Sandbox(read_submission(path), LIMITS) as box:
        outcomes = box.call_many("big", [((10,), {}), ((1000,), {})], max_reply_bytes=2000)
        assert [outcome.status for outcome in outcomes] == ["ok", "protocol"]
        with pytest.raises(ValueError, match="1 reply limits for 2 calls"):
            box.call_many("big", [((1,), {}), ((1,), {})], max_reply_bytes=[100])


# ---------------------------------------------------------------- hostile submissions, end to end


def test_forged_replies_cost_only_the_forging_function():
    result = grade(EXAMPLES / "hostile_forged_reply.py", examples=FAST, limits=LIMITS)
    assert result.status == "graded"  # not the grader's internal error
    assert result.points == 26
    forward = result.function("conv_forward_naive")
    assert not forward.passed and all("the reply could not be read" in p.message for p in forward.properties)
    assert result.function("conv_backward_naive").passed
    assert not any(p.internal_error for f in result.functions for p in f.properties)


def test_huge_values_are_refused_and_cost_only_their_function():
    result = grade(EXAMPLES / "hostile_huge_values.py", examples=FAST, limits=LIMITS)
    assert result.status == "graded"
    assert result.points == 26
    [message] = {p.message for p in result.function("conv_forward_naive").properties}
    assert "its result was 19.1 MiB, more than the 257 KiB a result may take here" in message


PEAK_SCRIPT = """
import sys
from autograder import grade
from autograder.sandbox import Limits

def peak():
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1]) * 1024

limits = Limits(call_timeout=5.0, budget=120.0)
grade(sys.argv[1] + "/correct.py", examples=20, limits=limits)  # imports, zygote, expected values: the baseline
before = peak()
result = grade(sys.argv[1] + "/hostile_huge_values.py", examples=None, limits=limits)
print(result.points, before, peak())
"""


@pytest.mark.slow
def test_a_submission_returning_huge_values_does_not_grow_the_graders_memory():
    # Before: 20 MB decoded and kept per case until the check ended, a peak of 2.2 GB.
    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(EXAMPLES)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    points, before, after = map(float, done.stdout.split())
    assert points == 26
    assert after - before < 64 * 2**20, f"the grader's peak grew by {(after - before) / 2**20:.0f} MiB"
