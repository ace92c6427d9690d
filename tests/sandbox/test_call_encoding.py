"""Calls are encoded once per content: the cache is hit for the same call, never shared by different ones.

Every test starts on an empty cache (`empty_cache`), so what it asserts about
hits and entries is this test's doing; each would fail with the cache
removed (no hit, no entry) or wrong (a hit across different arguments, stale
bytes after the caller changed an array).
"""

import numpy as np
import pytest

from autograder.engine.submission import read_submission
from autograder.sandbox import Sandbox, calls
from autograder.sandbox.calls import CallRequest, cache_key
from autograder.sandbox.child import protocol
from autograder.sandbox.child.protocol import decode_message_bytes, decode_value, parse_header


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    cache: dict = {}
    monkeypatch.setattr(calls, "ENCODED_CALLS", cache)
    return cache


@pytest.fixture
def encodings(monkeypatch):
    """How many times a call's values were encoded (a cache hit encodes nothing)."""
    count = [0]
    original = protocol.encode_message

    def counting(*args, **kwargs):
        count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(protocol, "encode_message", counting)
    return count


@pytest.fixture
def box(tmp_path):
    path = tmp_path / "echo.py"
    path.write_text("def total(x, options):\n    return float(x.sum()) + options['add']\n")
    with Sandbox(read_submission(path)) as sandbox:
        yield sandbox


def sent(request: CallRequest) -> tuple[dict, tuple, dict]:
    """The header and the arguments as the child would read them from the request's frame."""
    message = decode_message_bytes(b"".join(bytes(piece) for piece in request.frame()))
    return message.header, decode_value(message.header["args"], message.body), \
        decode_value(message.header["kwargs"], message.body)


def test_the_same_call_twice_is_encoded_once_and_keeps_its_own_seq(empty_cache, encodings):
    args = (np.arange(4.0), {"add": 1})
    first = CallRequest.encode("total", 0, (args, {}), 101)
    assert encodings[0] == 1 and len(empty_cache) == 1
    second = CallRequest.encode("total", 1, (args, {}), 102)
    assert encodings[0] == 1, "the second identical call was encoded again: the cache was not hit"
    assert len(empty_cache) == 1
    [(rest, body)] = empty_cache.values()
    assert second.body[0] is body[0] and first.body[0] is body[0]  # the kept copy, sent as is
    assert parse_header(first.header)["seq"] == 101 and parse_header(second.header)["seq"] == 102
    assert {k: v for k, v in parse_header(first.header).items() if k != "seq"} == {
        k: v for k, v in parse_header(second.header).items() if k != "seq"}
    CallRequest.encode("total", 2, ((np.arange(4.0), {"add": 1}), {}), 103)  # equal content, other objects
    assert encodings[0] == 1 and len(empty_cache) == 1


# Calls that differ in one thing only: none may share another's entry.
DIFFERENT_CALLS = {
    "base": ("total", (np.arange(4.0), {"add": 1}), {}, None, True),
    "value": ("total", (np.arange(4.0) + 1, {"add": 1}), {}, None, True),
    "dtype, same bytes": ("total", (np.arange(4.0).view(np.int64), {"add": 1}), {}, None, True),
    "shape, same bytes": ("total", (np.arange(4.0).reshape(2, 2), {"add": 1}), {}, None, True),
    "int not float": ("total", (np.arange(4.0), {"add": 1.0}), {}, None, True),
    "bool not int": ("total", (np.arange(4.0), {"add": True}), {}, None, True),
    "a tuple": ("total", (np.arange(4.0), (1, 2)), {}, None, True),
    "a list, not a tuple": ("total", (np.arange(4.0), [1, 2]), {}, None, True),
    "keyword": ("total", (np.arange(4.0),), {"options": {"add": 1}}, None, True),
    "function": ("other", (np.arange(4.0), {"add": 1}), {}, None, True),
    "values asked for": ("total", (np.arange(4.0), {"add": 1}), {}, [0], True),
    "no arguments after": ("total", (np.arange(4.0), {"add": 1}), {}, None, False),
}


def test_different_calls_never_share_an_entry_and_each_decodes_to_its_own_arguments(empty_cache):
    requests = {}
    for seq, (name, (function, args, kwargs, items, after)) in enumerate(DIFFERENT_CALLS.items(), start=1):
        requests[name] = CallRequest.encode(function, 0, (args, kwargs), seq, items, arguments_after=after)
    assert len(empty_cache) == len(DIFFERENT_CALLS)
    for name, request in requests.items():
        function, args, kwargs, items, after = DIFFERENT_CALLS[name]
        header, sent_args, sent_kwargs = sent(request)
        assert header["function"] == function and header.get("value_items") == items, name
        assert header.get("arguments_after", True) is after, name
        assert type(sent_args) is tuple and len(sent_args) == len(args), name
        for got, want in zip(sent_args, args):
            if isinstance(want, np.ndarray):
                assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), name
            else:
                assert type(got) is type(want) and got == want, name
                values = got.values() if type(got) is dict else got
                assert [type(v) for v in values] == [type(v) for v in (want.values() if type(want) is dict else want)], name
        assert sent_kwargs.keys() == kwargs.keys(), name


def test_the_encoded_bytes_decode_to_the_same_arrays_from_the_cache_too(empty_cache, encodings):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    for seq in (1, 2):
        _, (got, options), _ = sent(CallRequest.encode("total", 0, ((x, {"add": 0}), {}), seq))
        assert got.dtype == np.float32 and got.shape == (2, 3, 4) and np.array_equal(got, x)
    assert encodings[0] == 1  # the second was decoded from the cache's bytes


def test_an_array_changed_after_it_was_encoded_is_sent_with_its_new_values(empty_cache):
    x = np.ones((3, 3))
    CallRequest.encode("total", 0, ((x, {"add": 0}), {}), 1)
    x[:] = 2.0  # same object, new content: a cache keyed by identity would send the old bytes
    _, (got, _), _ = sent(CallRequest.encode("total", 0, ((x, {"add": 0}), {}), 2))
    assert np.array_equal(got, np.full((3, 3), 2.0))
    # The first content again: the kept copy was taken before the change, not a view of the caller's array.
    _, (got, _), _ = sent(CallRequest.encode("total", 0, ((np.ones((3, 3)), {"add": 0}), {}), 3))
    assert np.array_equal(got, np.ones((3, 3)))
    assert len(empty_cache) == 2


def test_the_sandbox_answers_cached_calls_as_fresh_ones(box, empty_cache):
    x = np.ones((3, 3))
    assert box.call("total", x, {"add": 0}).value == 9.0
    x[:] = 2.0
    assert box.call("total", x, {"add": 0}).value == 18.0
    assert box.call("total", np.ones((3, 3)), {"add": 0}).value == 9.0  # from the cache
    outcomes = box.call_many("total", [((np.arange(4.0), {"add": 1}), {})] * 3)
    assert [o.value for o in outcomes] == [7.0, 7.0, 7.0]
    assert len(empty_cache) == 3


def test_large_calls_are_neither_hashed_nor_kept(empty_cache):
    big = np.zeros(calls.ENCODED_CALL_BYTES // 8 + 1)
    assert cache_key("total", None, (big,), {}) is None
    assert cache_key("total", None, (np.zeros(3),), {}) is not None
    _, (got, _), _ = sent(CallRequest.encode("total", 0, ((big, {"add": 0}), {}), 1))
    assert got.shape == big.shape and not got.any()
    assert empty_cache == {}


def test_calls_with_refs_are_not_kept(empty_cache):
    from autograder.sandbox import Ref

    CallRequest.encode("total", 0, ((Ref(1, 0, 7), {"add": 0}), {}), 1)
    assert empty_cache == {}


def test_a_call_whose_repr_raises_still_gets_the_usual_type_error(empty_cache):
    class Weird:
        def __repr__(self):
            raise RuntimeError("no repr")

    with pytest.raises(TypeError):
        CallRequest.encode("total", 0, ((Weird(),), {}), 1)
    assert empty_cache == {}
