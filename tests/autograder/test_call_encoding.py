"""Calls are encoded once per content: the cache never sends stale bytes, and each call keeps its own seq."""

import numpy as np
import pytest

from autograder.sandbox import Sandbox, parent
from autograder.sandbox.protocol import parse_header
from autograder.submission import read_submission


@pytest.fixture
def box(tmp_path):
    path = tmp_path / "echo.py"
    path.write_text("def total(x, options):\n    return float(x.sum()) + options['add']\n")
    with Sandbox(read_submission(path)) as sandbox:
        yield sandbox


def test_an_array_changed_after_a_call_is_sent_with_its_new_values(box):
    x = np.ones((3, 3))
    assert box.call("total", x, {"add": 0}).value == 9.0
    x[:] = 2.0  # same object, new content: a cache keyed by identity would send the old bytes
    assert box.call("total", x, {"add": 0}).value == 18.0
    y = np.ones((3, 3))  # the first content again, in another array, after the first array changed
    assert box.call("total", y, {"add": 0}).value == 9.0


def test_the_same_call_twice_gets_two_seqs_and_one_encoding(box):
    args = (np.arange(4.0), {"add": 1})
    first = parent._CallRequest.encode("total", 0, (args, {}), 101)
    second = parent._CallRequest.encode("total", 1, (args, {}), 102)
    assert parse_header(first.header)["seq"] == 101 and parse_header(second.header)["seq"] == 102
    assert {k: v for k, v in parse_header(first.header).items() if k != "seq"} == {
        k: v for k, v in parse_header(second.header).items() if k != "seq"
    }
    assert first.body[0] is second.body[0]  # the kept copy, not encoded again
    outcomes = box.call_many("total", [(args, {})] * 3)
    assert [o.value for o in outcomes] == [7.0, 7.0, 7.0]


def test_large_calls_are_not_kept():
    big = np.zeros(parent._ENCODED_CALL_BYTES // 8 + 1)
    parent._CallRequest.encode("total", 0, ((big, {"add": 0}), {}), 1)
    assert not any(sum(view.nbytes for view in body) > parent._ENCODED_CALL_BYTES for _, body in parent._ENCODED_CALLS.values())


def test_a_call_whose_repr_raises_still_gets_the_usual_type_error():
    class Weird:
        def __repr__(self):
            raise RuntimeError("no repr")

    with pytest.raises(TypeError):
        parent._CallRequest.encode("total", 0, ((Weird(),), {}), 1)


def test_calls_with_large_arrays_are_not_hashed():
    big = np.zeros(parent._ENCODED_CALL_BYTES // 8 + 1)
    assert parent._cache_key("total", None, (big,), {}) is None
    assert parent._cache_key("total", None, (np.zeros(3),), {}) is not None
