"""The wire format: values round-trip exactly, and anything malformed is a ProtocolError."""

from __future__ import annotations

import json
import math
import struct
import timeit
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.sandbox.child.protocol import (
    ALLOWED_DTYPES,
    MAX_DEPTH,
    MAX_HEADER_BYTES,
    MAX_HEADER_VALUES,
    MAX_ITEMS,
    PREFIX,
    FrameReader,
    Opaque,
    ProtocolError,
    Ref,
    check_header,
    decode_message_bytes,
    decode_value,
    encode_message,
    encode_value,
    frame_pieces,
)


def round_trip(value, **encode_options):
    """Encode as the child would, frame, read the frame back and decode as the parent would."""
    header, body = encode_message({"type": "result"}, {"value": value}, **encode_options)
    message = decode_message_bytes(b"".join(bytes(piece) for piece in frame_pieces(header, body)))
    return decode_value(message.header["value"], message.body)


def frame(header: dict, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return PREFIX.pack(b"CAG1", len(raw), len(body)) + raw + body


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("value", [
    None, True, False, 0, 7, -2**70, 10**3999, -(10**3999), 1.5, -0.0, math.inf, 1e-310, 2 + 3j, "", "ünï\u2603\ud800",
    [], (), {}, [1, (2.5, "a")], {"stride": 1, "pad": (0, 1)}, {(1, "a"): None, 2.5: [True]},
], ids=repr)
def test_plain_values_round_trip_with_their_types(value):
    result = round_trip(value)
    assert result == value
    assert type(result) is type(value)


def test_nan_crosses_as_nan():
    assert math.isnan(round_trip(math.nan))
    result = round_trip(np.array([np.nan, 1.0, np.inf]))
    assert np.isnan(result[0]) and result[1] == 1.0 and np.isinf(result[2])


@pytest.mark.parametrize("dtype", sorted(ALLOWED_DTYPES))
def test_numpy_scalars_keep_their_dtype(dtype):
    scalar = np.dtype(dtype).type(1)
    result = round_trip(scalar)
    assert type(result) is np.dtype(dtype).type
    assert result == scalar


def test_float64_scalar_and_int_stay_distinct():
    assert type(round_trip(np.float64(7.0))) is np.float64
    assert type(round_trip(7)) is int
    assert type(round_trip(7.0)) is float


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(
    dtype=st.sampled_from(sorted(ALLOWED_DTYPES)).map(np.dtype),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)))
def test_arrays_round_trip_bit_for_bit(array):
    result = round_trip(array)
    assert type(result) is np.ndarray
    assert result.dtype == array.dtype and result.shape == array.shape
    assert result.tobytes() == array.tobytes()
    assert result.flags.writeable and result.flags.owndata


@pytest.mark.parametrize("array", [
    np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1),  # not contiguous
    np.arange(10)[::3],
    np.arange(6, dtype=">i4"),  # big-endian input
    np.zeros((0, 3)),
    np.array(5.0),  # 0-d
], ids=["transposed", "strided", "big-endian", "empty", "0-d"])
def test_unusual_layouts_arrive_as_equal_arrays(array):
    result = round_trip(array)
    assert result.shape == array.shape
    np.testing.assert_array_equal(result, array)


# ---------------------------------------------------------------- what cannot cross


class WeirdEquality:
    def __eq__(self, other):
        return True


class FakeArray:
    """Pretends to be an ndarray through __class__; type() is not fooled."""

    @property
    def __class__(self):
        return np.ndarray


def generator():
    yield 1


with warnings.catch_warnings():  # np.matrix warns that it is deprecated, which is the point here
    warnings.simplefilter("ignore", PendingDeprecationWarning)
    MATRIX = np.matrix([[1, 2]])


@pytest.mark.parametrize(("value", "type_name", "words"), [
    (np.array([1, None]), "ndarray[object]", "an object array"),
    (np.zeros(2, dtype=[("a", "f8")]), "ndarray[structured]", "a structured array"),
    (MATRIX, "numpy.matrix", "an ndarray subclass"),
    (np.ma.array([1, 2]), "numpy.ma.MaskedArray", "an ndarray subclass"),
    (np.array(["a"]), "ndarray[<U1]", "only bool, integer, float and complex"),
    (np.array([1], dtype="datetime64[s]"), "ndarray[datetime64[s]]", "only bool"),
    (np.longdouble(1), "numpy.longdouble", "float128"),
    (generator(), "generator", "a generator"),
    (WeirdEquality(), "WeirdEquality", "not a number"),
    (FakeArray(), "FakeArray", "not a number"),
    (print, "builtin_function_or_method", "a function"),
    (b"bytes", "bytes", "not a number"),
], ids=lambda item: item if isinstance(item, str) else None)
def test_untransferable_values_become_opaque_placeholders(value, type_name, words):
    result = round_trip([value, 1])
    assert result[1] == 1  # one strange value does not spoil the rest
    assert isinstance(result[0], Opaque)
    assert result[0].type_name.endswith(type_name)
    assert words in result[0].detail


def test_subclasses_of_containers_and_numbers_are_opaque():
    class MyInt(int):
        pass

    class MyTuple(tuple):
        pass

    result = round_trip([MyInt(3), MyTuple((1,)), True])
    assert result[0] == Opaque(result[0].type_name, "a subclass of int")
    assert result[1].detail == "a subclass of tuple"
    assert result[2] is True


def test_nesting_deeper_than_the_limit_is_cut_with_a_placeholder():
    value: list = []
    for _ in range(MAX_DEPTH + 10):
        value = [value]
    result = round_trip(value)
    depth = 0
    while isinstance(result, list):
        result, depth = result[0], depth + 1
    assert depth == MAX_DEPTH
    assert isinstance(result, Opaque) and "nested deeper" in result.detail


def test_a_list_that_contains_itself_does_not_hang():
    looping: list = [1]
    looping.append(looping)
    assert round_trip(looping)[0] == 1


def test_ints_too_long_for_the_wire_become_placeholders():
    result = round_trip([10**4000, -(10**4000)])
    assert all(isinstance(item, Opaque) and "more than 4000 digits" in item.detail for item in result)


def test_too_many_items_become_one_placeholder():
    result = round_trip(list(range(MAX_ITEMS + 5)))
    assert isinstance(result, Opaque) and "too many" in result.detail


def test_an_array_larger_than_the_reply_limit_becomes_a_placeholder():
    result = round_trip([np.zeros(1000), np.arange(3)], max_bytes=4000)
    assert isinstance(result[0], Opaque) and "too large" in result[0].detail
    np.testing.assert_array_equal(result[1], np.arange(3))


def test_strict_mode_refuses_what_cannot_be_sent():
    with pytest.raises(TypeError, match="object array"):
        encode_value([np.array([None])], strict=True)


def test_refs_are_encoded_only_in_strict_mode():
    node, _ = encode_value(Ref(1, 0, 5)[1], strict=True)
    assert node["kind"] == "ref" and node["object"] == 5
    with pytest.raises(ProtocolError, match="unknown value kind 'ref'"):
        decode_value(node, b"")  # the parent never accepts refs back
    assert decode_value(node, b"", resolve_ref=lambda node, path: ("resolved", path)) == ("resolved", [1])


def test_ref_indexing_builds_a_path():
    assert Ref(1, 2, 3)[1]["dw"].path == (1, "dw")
    with pytest.raises(TypeError, match="int or a str"):
        Ref(1, 2, 3)[1.5]


# ---------------------------------------------------------------- malformed values


ARRAY = {"kind": "ndarray", "dtype": "<f8", "shape": [2], "offset": 0, "nbytes": 16}
BAD_NODES = {
    "not an object": ([1, 2], "expected an object"),
    "unknown kind": ({"kind": "pickle"}, "unknown value kind"),
    "object dtype": ({**ARRAY, "dtype": "|O"}, "not one of the allowed"),
    "datetime dtype": ({**ARRAY, "dtype": "<M8[s]"}, "not one of the allowed"),
    "shape needs more bytes": ({**ARRAY, "shape": [3]}, "needs 24 bytes"),
    "negative shape": ({**ARRAY, "shape": [-2]}, "non-negative"),
    "shape of floats": ({**ARRAY, "shape": [2.0]}, "non-negative ints"),
    "offset past the body": ({**ARRAY, "offset": 8}, "claims bytes 8..24"),
    "negative offset": ({**ARRAY, "offset": -1}, "claims bytes"),
    "nbytes as text": ({**ARRAY, "nbytes": "16"}, "expected int"),
    "int with letters": ({"kind": "int", "value": "12a"}, "expected up to"),
    "int too long": ({"kind": "int", "value": "9" * 5000}, "expected up to"),
    "int as a number": ({"kind": "int", "value": 12}, "expected str"),
    "float not hex": ({"kind": "float", "value": "1e400x"}, "hexadecimal float"),
    "bool as int": ({"kind": "bool", "value": 1}, "expected bool"),
    "list items not a list": ({"kind": "list", "items": {"a": 1}}, "expected list"),
    "unhashable dict key": ({"kind": "dict", "items": [[{"kind": "list", "items": []}, {"kind": "none"}]]},
                            "unhashable"),
    "dict pair of three": ({"kind": "dict", "items": [[{"kind": "none"}] * 3]}, "pair"),
    "opaque too long": ({"kind": "opaque", "type_name": "x" * 1000, "detail": ""}, "over-long"),
    "too deep": (json.loads('{"kind": "list", "items": [' * 40 + ']}' * 40), "deeper than"),
    "too many items": ({"kind": "list", "items": [{"kind": "none"}] * (MAX_ITEMS + 1)}, "more than"),
}


@pytest.mark.parametrize("node, message", BAD_NODES.values(), ids=BAD_NODES.keys())
def test_malformed_value_nodes_are_protocol_errors(node, message):
    with pytest.raises(ProtocolError, match=message):
        decode_value(node, b"\0" * 16)


# ---------------------------------------------------------------- framing


def test_frames_split_anywhere_are_reassembled():
    data = frame({"type": "a"}) + frame({"type": "b"}, b"xyz")
    reader = FrameReader(1000)
    messages = []
    for index in range(len(data)):
        messages += reader.feed(data[index:index + 1])
    assert [message.header["type"] for message in messages] == ["a", "b"]
    assert messages[1].body == b"xyz"


BAD_FRAMES = {
    "garbage": (b"Traceback (most recent call last)", "protocol marker"),
    "garbage shorter than a prefix": (b"oops", "protocol marker"),
    "declared size over the limit": (PREFIX.pack(b"CAG1", 10, 2**40), "larger than the limit"),
    "header not JSON": (PREFIX.pack(b"CAG1", 5, 0) + b"{oops", "not valid JSON"),
    "header not UTF-8": (PREFIX.pack(b"CAG1", 2, 0) + b"\xff\xfe", "not valid JSON"),
    "header a list": (PREFIX.pack(b"CAG1", 2, 0) + b"[]", "expected an object"),
    "header nested too deeply": (PREFIX.pack(b"CAG1", 200000, 0) + b"[" * 100000 + b"]" * 100000, "nested 100000 levels deep"),
}


@pytest.mark.parametrize("data, message", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_malformed_frames_are_protocol_errors(data, message):
    with pytest.raises(ProtocolError, match=message):
        FrameReader(10**6).feed(data)


def test_garbage_after_whole_frames_is_raised_on_the_next_feed():
    reader = FrameReader(1000)
    messages = reader.feed(frame({"type": "cell_start", "index": 9}) + b"junk")
    assert [message.header["index"] for message in messages] == [9]
    assert reader.broken
    with pytest.raises(ProtocolError, match="protocol marker"):
        reader.feed(b"")


def test_an_oversized_frame_is_refused_before_its_body_arrives():
    reader = FrameReader(100)
    with pytest.raises(ProtocolError, match="101 bytes is larger than the limit of 100"):
        reader.feed(PREFIX.pack(b"CAG1", 1, 100))
    assert reader.buffered_bytes == PREFIX.size


# ---------------------------------------------------------------- fuzzing: never anything but ProtocolError


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_reader(data):
    try:
        FrameReader(10**6).feed(data)
    except ProtocolError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)
node_fields = st.fixed_dictionaries(
    {"kind": st.sampled_from(["none", "bool", "int", "float", "complex", "str", "list", "tuple", "dict", "ndarray",
                              "scalar", "opaque", "ref", "other"])},
    optional={name: json_values for name in ("value", "items", "dtype", "shape", "offset", "nbytes", "real",
                                             "imag", "type_name", "detail", "path")})


@settings(max_examples=100, deadline=None)
@given(st.one_of(json_values, node_fields, st.lists(node_fields, max_size=3).map(
    lambda items: {"kind": "list", "items": items})), st.binary(max_size=64))
def test_random_json_never_crashes_the_decoder(node, body):
    try:
        decode_value(node, body)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_corrupted_valid_frames_never_crash_the_parent(data):
    value = ({"stride": 1}, np.arange(6.0).reshape(2, 3), [np.int32(4), "x", 2.5])
    header, body = encode_message({"type": "result"}, {"value": value})
    raw = bytearray(b"".join(bytes(piece) for piece in frame_pieces(header, body)))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    try:
        for message in FrameReader(10**6).feed(bytes(raw)):
            decode_value(message.header.get("value"), message.body)
    except ProtocolError:
        pass


def test_prefix_layout_is_magic_then_two_little_endian_lengths():
    assert PREFIX.size == 20
    assert struct.unpack("<4sQQ", frame({"a": 1}, b"zz")[:20]) == (b"CAG1", 8, 2)


# ---------------------------------------------------------------- sizes checked before parsing


def test_a_header_over_its_limit_is_refused_from_the_prefix_alone():
    reader = FrameReader(2**40)
    with pytest.raises(ProtocolError, match="header of 268435456 bytes is larger than the limit"):
        reader.feed(PREFIX.pack(b"CAG1", 256 * 2**20, 0) + b"[],[],")
    assert reader.buffered_bytes < 100  # nothing of it was kept


HOSTILE_HEADERS = {
    "too long": (b'{"a": "' + b"x" * MAX_HEADER_BYTES + b'"}', "larger than the limit"),
    "empty lists by the million": (b'{"a": [' + b"[]," * (MAX_HEADER_VALUES // 2) + b'[]]}', "JSON values"),
    "commas by the million": (b'{"a": [' + b"0," * MAX_HEADER_VALUES + b"0]}", "JSON values"),
    "nested too deeply": (b"[" * 5000 + b"]" * 5000, "nested 5000 levels deep"),
    "nested in objects": (b'{"a": ' * 200 + b"1" + b"}" * 200, "nested 200 levels deep"),
}


@pytest.mark.parametrize("raw, message", HOSTILE_HEADERS.values(), ids=HOSTILE_HEADERS.keys())
def test_hostile_headers_are_refused_before_json_parses_them(raw, message, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("json.loads ran on a header the checks should have refused")

    monkeypatch.setattr(json, "loads", never)
    with pytest.raises(ProtocolError, match=message):
        FrameReader(2**40).feed(PREFIX.pack(b"CAG1", len(raw), 0) + raw)


@pytest.mark.parametrize("raw", [
    b'{"a": "' + b"[" * 10000 + b'"}',  # brackets in a string do not nest
    b'{"a": "\\"[[[[' + b"," * (MAX_HEADER_VALUES + 10) + b'"}',  # nor count as values, escaped quote or not
], ids=["brackets in a string", "commas in a string"])
def test_brackets_and_commas_inside_strings_are_not_counted(raw):
    check_header(raw)
    assert type(json.loads(raw)) is dict


def nested(levels: int, make):
    value = 1
    for _ in range(levels):
        value = make(value)
    return value


@pytest.mark.parametrize("value", [
    nested(MAX_DEPTH + 5, lambda inner: {"key": inner}),
    nested(MAX_DEPTH + 5, lambda inner: [inner, (inner,)] if isinstance(inner, int) else [inner]),
    [np.zeros((1,) * 32)] * 3000,  # arrays of many dimensions: many JSON values each
    [{i: (i, str(i))} for i in range(MAX_ITEMS)],
    ["\u2603" * 2000] * 5000,  # strings that JSON escapes to six times their length
    [generator() for _ in range(20000)],  # placeholders
], ids=["dicts nested deepest", "lists nested deepest", "many dimensions", "many dict items",
        "escaped strings", "many placeholders"])
def test_whatever_the_child_encodes_passes_the_header_checks(value):
    header, body = encode_message({"type": "result", "error": "é" * 1000}, {"value": value})
    check_header(header)  # what the child sends is never refused for its shape alone
    decode_message_bytes(b"".join(bytes(piece) for piece in frame_pieces(header, body)))


def test_a_header_the_checks_would_refuse_becomes_one_placeholder():
    class LongName:
        pass

    LongName.__qualname__ = "\U0001F600" * 300  # escaped to 12 bytes a character
    header, body = encode_message({"type": "result"}, {"value": [LongName() for _ in range(MAX_ITEMS // 2)]})
    check_header(header)
    message = decode_message_bytes(b"".join(bytes(piece) for piece in frame_pieces(header, body)))
    assert decode_value(message.header["value"], message.body) == Opaque("reply", "too large to send")
    with pytest.raises(TypeError, match="cannot send"):
        encode_message({"type": "call"}, {"args": [LongName.__qualname__ * 10] * 300}, strict=True)


def test_the_check_of_an_ordinary_reply_is_cheap():
    header, _ = encode_message({"type": "result", "seq": 3, "status": "ok", "error": "", "seconds": 0.001,
                                "ref": 4}, {"value": (np.zeros((2, 4, 5, 5)), None)})
    seconds = min(timeit.repeat(lambda: check_header(header), number=2000, repeat=5)) / 2000
    assert seconds < 20e-6  # about 1 us here, against about 8 us for json.loads itself


# ---------------------------------------------------------------- a limit per reply


def test_a_frame_over_its_own_limit_is_skipped_unread_and_the_next_one_read():
    big = frame({"type": "result", "seq": 1}, b"\0" * 100_000)
    small = frame({"type": "result", "seq": 2}, b"ok")
    reader = FrameReader(10**6)
    reader.expect(1000)
    reader.expect(1000)
    messages = reader.feed(big[:500])  # refused as soon as its prefix is there
    assert [message.refused for message in messages] == [(len(big) - PREFIX.size, 1000)]
    assert messages[0].header == {} and messages[0].body == b""
    for start in range(500, len(big), 4096):
        assert reader.feed(big[start:start + 4096]) == []
        assert reader.buffered_bytes == 0  # discarded as it arrives, never buffered
    [message] = reader.feed(small)
    assert message.header["seq"] == 2 and message.body == b"ok" and message.refused is None


def test_limits_apply_to_frames_in_order_and_the_stream_limit_still_holds():
    reader = FrameReader(50_000)
    reader.expect(None)
    reader.expect(200)
    messages = reader.feed(frame({"n": 1}, b"x" * 300) + frame({"n": 2}, b"x" * 300) + frame({"n": 3}, b"x" * 300))
    assert [message.refused is None for message in messages] == [True, False, True]
    reader.expect(10)
    with pytest.raises(ProtocolError, match="larger than the limit of 50000"):
        reader.feed(PREFIX.pack(b"CAG1", 10, 10**6))  # beyond the stream's limit: broken, as before
