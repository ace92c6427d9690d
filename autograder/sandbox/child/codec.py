"""Values on the wire: what a Python value becomes inside a frame's header and body, and back.

Values travel as JSON *nodes* inside a frame's header (see `protocol`), each
a small object with a ``"kind"``; arrays and NumPy scalars point into the
body with ``offset`` and ``nbytes``.  Nothing is ever pickled or evaluated:
the parent only accepts numbers, strings, lists, tuples, dicts, numeric
arrays and `Opaque` placeholders, and checks every size, dtype and nesting
level before it builds anything (see `decode_value`).  A header's length,
nesting and number of JSON values are checked before `json.loads` sees it
(see `check_header`), so no reply costs the reader more memory or time than
those limits allow.

This module must stay importable on its own (standard library and NumPy only):
the child loads it by file path, before any restriction is installed and
without importing the ``autograder`` package.

Examples
--------
>>> import numpy as np
>>> header, body = encode_message({"type": "demo"}, {"value": (np.arange(3), 2.5)})
>>> value = decode_value(parse_header(header)["value"], b"".join(body))
>>> value[0], value[1]
(array([0, 1, 2]), 2.5)
"""

from __future__ import annotations

import json
import math
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Deepest nesting of lists/tuples/dicts that crosses; deeper parts become Opaque.
MAX_DEPTH = 32
#: Most nodes (values of any kind) in one message.
MAX_ITEMS = 100_000
#: Longest string that crosses, in characters.
MAX_STRING_CHARS = 1 << 20
#: Most decimal digits of an int (Python refuses to parse more than 4300).
MAX_INT_DIGITS = 4000
#: Longest type name or detail text in an Opaque placeholder.
MAX_OPAQUE_TEXT = 300
#: What a node costs in the size budget besides its payload (JSON keys and punctuation).
NODE_OVERHEAD_BYTES = 64
# What a node's and an Opaque placeholder's JSON can take in a header at most, beyond their payload.
_NODE_JSON_BYTES = 128
_OPAQUE_JSON_BYTES = 12 * 2 * MAX_OPAQUE_TEXT
#: Longest JSON header accepted, in bytes (the body, raw array bytes, is limited apart).
MAX_HEADER_BYTES = 8 * 2**20
#: Deepest JSON nesting of a header: a value nested `MAX_DEPTH` levels in dicts takes 3 levels
#: per level (node, items list, key-value pair), plus the header, a leaf node and its shape.
MAX_HEADER_DEPTH = 3 * MAX_DEPTH + 8
#: Most JSON values in a header, counted as its ``[``, ``{`` and ``,`` outside strings: a node
#: takes at most 13 of them per item of `MAX_ITEMS` (an array takes one more item per 8 dimensions).
MAX_HEADER_VALUES = 16 * MAX_ITEMS

#: The only array and scalar dtypes that cross, little-endian.
ALLOWED_DTYPES = frozenset(
    ["|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"]
)
# Every NumPy scalar type whose dtype is allowed, including C aliases such as
# np.longlong that are distinct type objects from np.int64.
_SCALAR_TYPES = frozenset(np.dtype(code).type for code in "?bBhHiIlLqQefdFD")
_INT_TEXT = re.compile(rf"-?[0-9]{{1,{MAX_INT_DIGITS}}}")

# Read a class's name without running a metaclass property the student may
# have defined: these are the slots of `type` itself.
_TYPE_QUALNAME = type.__dict__["__qualname__"].__get__
_TYPE_MODULE = type.__dict__["__module__"].__get__


class ProtocolError(Exception):
    """A frame or value broke the protocol: wrong marker, too large, malformed."""


@dataclass(frozen=True)
class Opaque:
    """Stands in for a value that cannot cross the process boundary.

    Parameters
    ----------
    type_name : str
        What the value was, e.g. ``"numpy.matrix"`` or ``"ndarray[object]"``.
    detail : str
        Why it could not be sent, in words a student understands.

    Examples
    --------
    >>> Opaque("generator", "a generator")
    Opaque(type_name='generator', detail='a generator')
    """

    type_name: str
    detail: str

    def __str__(self) -> str:
        return f"<{self.type_name}: {self.detail}>"


@dataclass(frozen=True)
class Ref:
    """A handle to an object that stays in the child (for example a cache).

    ``ref[i]`` is a handle to ``obj[i]``; passing a `Ref` as an argument of a
    call hands the child its own object back without it ever leaving the child.

    Parameters
    ----------
    sandbox_id : int
        Which sandbox made it; a handle only works in that sandbox.
    generation : int
        Which incarnation of the child holds the object; after a restart the
        handle is stale.
    object_id : int
        The key of the object in the child's table of results.
    path : tuple of (int or str)
        Indexes applied to the object, outermost first.

    Examples
    --------
    >>> Ref(1, 0, 7)[1]
    Ref(sandbox_id=1, generation=0, object_id=7, path=(1,))
    """

    sandbox_id: int
    generation: int
    object_id: int
    path: tuple[int | str, ...] = ()

    def __getitem__(self, key: int | str) -> Ref:
        if type(key) not in (int, str):
            raise TypeError(f"a Ref can be indexed with an int or a str, got {type(key).__name__}")
        return Ref(self.sandbox_id, self.generation, self.object_id, self.path + (key,))



# --------------------------------------------------------------------------
# Headers


# Strings of a JSON text (valid or not, the same ones `json.loads` would scan up to its first error).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_BRACKET_STEPS = np.zeros(256, dtype=np.int32)
_BRACKET_STEPS[[ord("["), ord("{")]] = 1
_BRACKET_STEPS[[ord("]"), ord("}")]] = -1


def check_header(raw: bytes) -> None:
    """Refuse a JSON header longer, deeper or with more values than the limits, before it is parsed.

    `MAX_HEADER_BYTES`, `MAX_HEADER_DEPTH` and `MAX_HEADER_VALUES` bound what
    `json.loads` may cost (without them a 16 MiB header of empty lists takes
    seconds and hundreds of MB).  Counting brackets and commas in the raw
    bytes is enough for an ordinary header; only one with many of them has its
    strings cut out and its nesting measured.

    Examples
    --------
    >>> check_header(b'{"a": [1, 2, "]]]"]}')
    >>> check_header(b"[" * 200 + b"]" * 200)
    Traceback (most recent call last):
    ...
    autograder.sandbox.child.codec.ProtocolError: the reply header is nested 200 levels deep, more than the limit of 104
    """
    if len(raw) > MAX_HEADER_BYTES:
        raise ProtocolError(f"a reply header of {len(raw)} bytes is larger than the limit of {MAX_HEADER_BYTES} bytes")
    opens = raw.count(b"[") + raw.count(b"{")
    if opens <= MAX_HEADER_DEPTH and opens + raw.count(b",") <= MAX_HEADER_VALUES:
        return  # the counts inside strings only add: the true ones are lower
    structure = _JSON_STRING.sub(b"", raw) if b'"' in raw else raw
    brackets = structure.translate(None, _NOT_BRACKETS)
    values = brackets.count(b"[") + brackets.count(b"{") + structure.count(b",")
    if values > MAX_HEADER_VALUES:
        raise ProtocolError(f"the reply header holds more than {MAX_HEADER_VALUES} JSON values")
    depth = int(np.cumsum(_BRACKET_STEPS[np.frombuffer(brackets, dtype=np.uint8)], dtype=np.int32).max(initial=0))
    if depth > MAX_HEADER_DEPTH:
        raise ProtocolError(f"the reply header is nested {depth} levels deep, more than the limit of {MAX_HEADER_DEPTH}")


def parse_header(raw: bytes) -> dict[str, Any]:
    """Parse a JSON header within the limits of `check_header`; anything but a JSON object raises `ProtocolError`."""
    check_header(raw)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProtocolError(f"the reply header is not valid JSON ({type(error).__name__})") from None
    if type(header) is not dict:
        raise ProtocolError(f"the reply header is a JSON {type(header).__name__}, expected an object")
    return header




# --------------------------------------------------------------------------
# Encoding values


class _Encoder:
    """Turn Python values into JSON nodes plus body buffers, within size limits.

    In *strict* mode (the parent sending arguments) anything that cannot cross
    raises `TypeError`; otherwise (the child sending results) it becomes an
    `Opaque` node in place, so one strange value never spoils a whole reply.
    """

    def __init__(self, *, strict: bool, max_bytes: int) -> None:
        self.strict = strict
        self.buffers: list[memoryview] = []
        self.body_bytes = 0
        self.bytes_left = max_bytes
        # The header apart: room is kept for the message's own fields and an Opaque placeholder's text.
        self.header_bytes_left = MAX_HEADER_BYTES - 64 * 1024
        self.items_left = MAX_ITEMS

    def encode(self, value: Any, depth: int = 0) -> dict[str, Any]:
        # Reserve one node for an Opaque placeholder should this value not fit.
        if self.items_left <= 1 or min(self.bytes_left, self.header_bytes_left) < 2 * _NODE_JSON_BYTES:
            return self._opaque(value, "too many values to send in one reply")
        self.items_left -= 1
        self.bytes_left -= NODE_OVERHEAD_BYTES
        self.header_bytes_left -= _NODE_JSON_BYTES
        kind = type(value)
        if value is None:
            return {"kind": "none"}
        if kind is bool:
            return {"kind": "bool", "value": value}
        if kind is int:
            return self._encode_int(value)
        if kind is float:
            return {"kind": "float", "value": float.hex(value)}
        if kind is complex:
            return {"kind": "complex", "real": float.hex(value.real), "imag": float.hex(value.imag)}
        if kind is str:
            return self._encode_str(value)
        if kind is list or kind is tuple:
            return self._encode_sequence(value, kind, depth)
        if kind is dict:
            return self._encode_dict(value, depth)
        if kind is np.ndarray:
            return self._encode_array(value)
        if kind in _SCALAR_TYPES:
            return self._encode_scalar(value)
        if kind is Ref:
            if not self.strict:
                return self._opaque(value, "a sandbox handle")
            return {"kind": "ref", "sandbox": value.sandbox_id, "generation": value.generation,
                    "object": value.object_id, "path": [self.encode(key, depth + 1) for key in value.path]}
        return self._opaque(value, describe(value))

    def _encode_int(self, value: int) -> dict[str, Any]:
        try:
            text = int.__repr__(value)
        except ValueError:  # more digits than Python agrees to print
            text = ""
        if not 0 < len(text.lstrip("-")) <= MAX_INT_DIGITS:
            return self._opaque(value, f"an int with more than {MAX_INT_DIGITS} digits")
        if len(text) > self.header_bytes_left:
            return self._opaque(value, f"an int of {len(text)} digits, too many to send in one reply")
        self.bytes_left -= len(text)
        self.header_bytes_left -= len(text)
        return {"kind": "int", "value": text}

    def _encode_str(self, value: str) -> dict[str, Any]:
        # JSON escaping can make a character up to 12 bytes (a surrogate pair of \\uXXXX).
        cost = len(value) if value.isascii() and value.isprintable() else 12 * len(value)
        if len(value) > MAX_STRING_CHARS or cost > min(self.bytes_left, self.header_bytes_left):
            return self._opaque(value, f"a string of {len(value)} characters, too long to send")
        self.bytes_left -= cost
        self.header_bytes_left -= cost
        return {"kind": "str", "value": value}

    def _encode_sequence(self, value: list | tuple, kind: type, depth: int) -> dict[str, Any]:
        name = "list" if kind is list else "tuple"
        if depth >= MAX_DEPTH:
            return self._opaque(value, f"a {name} nested deeper than {MAX_DEPTH} levels")
        # Snapshot first: another thread of the child could mutate a list while we read it.
        items = list(value)
        if len(items) >= self.items_left:
            return self._opaque(value, f"a {name} of {len(items)} items, too many to send in one reply")
        return {"kind": name, "items": [self.encode(item, depth + 1) for item in items]}

    def _encode_dict(self, value: dict, depth: int) -> dict[str, Any]:
        if depth >= MAX_DEPTH:
            return self._opaque(value, f"a dict nested deeper than {MAX_DEPTH} levels")
        pairs = list(dict.items(value))
        if 2 * len(pairs) >= self.items_left:
            return self._opaque(value, f"a dict of {len(pairs)} items, too many to send in one reply")
        return {"kind": "dict",
                "items": [[self.encode(key, depth + 1), self.encode(item, depth + 1)] for key, item in pairs]}

    def _encode_array(self, value: np.ndarray) -> dict[str, Any]:
        dtype = value.dtype
        if dtype.names is not None:
            return self._opaque(value, "a structured array", type_name="ndarray[structured]")
        if dtype.kind == "O":
            return self._opaque(value, "an object array", type_name="ndarray[object]")
        wire_dtype = dtype.newbyteorder("<")
        if wire_dtype.str not in ALLOWED_DTYPES:
            return self._opaque(
                value, f"an array of dtype {dtype}; only bool, integer, float and complex arrays can be sent",
                type_name=f"ndarray[{dtype}]")
        nbytes = value.size * wire_dtype.itemsize
        if nbytes + 200 > self.bytes_left or 20 * value.ndim > self.header_bytes_left:
            return self._opaque(value, f"an array of {nbytes} bytes, too large to send in one reply",
                                type_name=f"ndarray[{dtype}]")
        data = np.ascontiguousarray(value, dtype=wire_dtype)
        node = {"kind": "ndarray", "dtype": wire_dtype.str, "shape": list(value.shape), **self._add_buffer(data)}
        self.bytes_left -= 20 * value.ndim
        self.header_bytes_left -= 20 * value.ndim
        self.items_left -= value.ndim // 8  # its shape's JSON values (see MAX_HEADER_VALUES)
        return node

    def _encode_scalar(self, value: np.generic) -> dict[str, Any]:
        wire_dtype = np.dtype(type(value)).newbyteorder("<")
        data = np.array(value, dtype=wire_dtype).reshape(1)
        return {"kind": "scalar", "dtype": wire_dtype.str, **self._add_buffer(data)}

    def _add_buffer(self, data: np.ndarray) -> dict[str, int]:
        view = memoryview(data).cast("B") if data.size else memoryview(b"")
        offset = self.body_bytes
        self.buffers.append(view)
        self.body_bytes += view.nbytes
        self.bytes_left -= view.nbytes
        return {"offset": offset, "nbytes": view.nbytes}

    def _opaque(self, value: Any, detail: str, *, type_name: str | None = None) -> dict[str, Any]:
        if type_name is None:
            type_name = type_name_of(value)
        if self.strict:
            raise TypeError(f"cannot send {type_name} to the sandbox: {detail}")
        self.items_left -= 1
        self.header_bytes_left -= _OPAQUE_JSON_BYTES
        return {"kind": "opaque", "type_name": type_name[:MAX_OPAQUE_TEXT], "detail": detail[:MAX_OPAQUE_TEXT]}


def type_name_of(value: Any) -> str:
    """Name the real type of *value*, without trusting ``__class__`` or metaclasses.

    Examples
    --------
    >>> type_name_of(np.ma.masked_array([1]))
    'numpy.ma.MaskedArray'
    >>> type_name_of((i for i in range(2)))
    'generator'
    """
    kind = type(value)
    try:
        name = _TYPE_QUALNAME(kind)
        module = _TYPE_MODULE(kind)
    except Exception:  # a type whose name slots were tampered with
        return "object"
    if type(name) is not str:
        return "object"
    if type(module) is str and module not in ("builtins", "__main__", "submission"):
        module = module.replace("numpy.matrixlib.defmatrix", "numpy").replace("numpy.ma.core", "numpy.ma")
        return f"{module}.{name}"[:MAX_OPAQUE_TEXT]
    return name[:MAX_OPAQUE_TEXT]


def describe(value: Any) -> str:
    """Say in a few words what *value* is and why it cannot be sent."""
    kind = type(value)
    if issubclass(kind, np.ndarray):
        return "an ndarray subclass; return a plain numpy array (np.asarray) instead"
    if kind is types.GeneratorType:
        return "a generator; return a list, tuple or array instead"
    if issubclass(kind, np.generic):
        return f"a NumPy scalar of dtype {np.dtype(kind)}, which cannot be sent"
    for base, name in ((bool, "bool"), (int, "int"), (float, "float"), (complex, "complex"), (str, "str"),
                       (list, "list"), (tuple, "tuple"), (dict, "dict")):
        if issubclass(kind, base):
            return f"a subclass of {name}"
    if kind is types.FunctionType or kind is types.BuiltinFunctionType:
        return "a function"
    if kind is types.ModuleType:
        return "a module"
    return "an object that is not a number, string, list, tuple, dict or numeric array"


def encode_value(value: Any, *, strict: bool = False, max_bytes: int = 1 << 40) -> tuple[dict[str, Any], list[memoryview]]:
    """Encode one value as a node plus the body buffers it points into.

    Examples
    --------
    >>> node, buffers = encode_value(np.float64(7.0))
    >>> node["kind"], node["dtype"], len(buffers[0])
    ('scalar', '<f8', 8)
    """
    encoder = _Encoder(strict=strict, max_bytes=max_bytes)
    return encoder.encode(value), encoder.buffers


def encode_message(header: dict[str, Any], values: dict[str, Any], *, strict: bool = False,
                   max_bytes: int = 1 << 40) -> tuple[bytes, list[memoryview]]:
    """Encode *header* plus a node for each of *values* (sharing one body and one budget).

    The header always passes the reader's `check_header`: if the values'
    nodes would not (a budget estimate can be beaten by, say, many opaque
    placeholders with long names), each value is sent as one placeholder
    instead, or, in *strict* mode, `TypeError` is raised.
    """
    encoder = _Encoder(strict=strict, max_bytes=max_bytes)
    full = dict(header)
    for name, value in values.items():
        full[name] = encoder.encode(value)
    text = json.dumps(full, ensure_ascii=True, allow_nan=False).encode("ascii")
    try:
        check_header(text)
    except ProtocolError as error:
        if strict:
            raise TypeError(f"cannot send this message: {error}") from None
        if not values:
            return text, []  # the reader refuses it: a protocol error, as it should be
        too_large = {"kind": "opaque", "type_name": "reply", "detail": "too large to send"}
        text = json.dumps(header | {name: too_large for name in values}, ensure_ascii=True,
                          allow_nan=False).encode("ascii")
        return text, []
    return text, encoder.buffers


# --------------------------------------------------------------------------
# Decoding values


class _Decoder:
    """Rebuild values from nodes, validating everything against the body.

    Every violation raises `ProtocolError`; no student-chosen type is ever
    instantiated: only None, bool, int, float, complex, str, list, tuple,
    dict, `Opaque`, NumPy arrays and scalars of `ALLOWED_DTYPES`, and
    (child side only) objects looked up with *resolve_ref*.
    """

    def __init__(self, body: bytes, resolve_ref: Callable[[dict[str, Any], list], Any] | None) -> None:
        self.body = body
        self.resolve_ref = resolve_ref
        self.items_left = MAX_ITEMS

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH + 1:
            raise ProtocolError(f"values nested deeper than {MAX_DEPTH} levels")
        self.items_left -= 1
        if self.items_left < 0:
            raise ProtocolError(f"more than {MAX_ITEMS} values in one reply")
        if type(node) is not dict:
            raise ProtocolError(f"a value node is a JSON {type(node).__name__}, expected an object")
        kind = node.get("kind")
        if kind == "none":
            return None
        if kind == "bool":
            return self._field(node, "value", bool)
        if kind == "int":
            text = self._field(node, "value", str)
            if not _INT_TEXT.fullmatch(text):
                raise ProtocolError(f"an int node holds {text[:20]!r}, expected up to {MAX_INT_DIGITS} digits")
            return int(text)
        if kind == "float":
            return self._float(node, "value")
        if kind == "complex":
            return complex(self._float(node, "real"), self._float(node, "imag"))
        if kind == "str":
            text = self._field(node, "value", str)
            if len(text) > MAX_STRING_CHARS:
                raise ProtocolError(f"a string of {len(text)} characters is longer than {MAX_STRING_CHARS}")
            return text
        if kind == "list" or kind == "tuple":
            items = [self.decode(item, depth + 1) for item in self._field(node, "items", list)]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            return self._dict(node, depth)
        if kind == "ndarray":
            return self._array(node)
        if kind == "scalar":
            return self._array(node, scalar=True)
        if kind == "opaque":
            type_name = self._field(node, "type_name", str)
            detail = self._field(node, "detail", str)
            if len(type_name) > MAX_OPAQUE_TEXT or len(detail) > MAX_OPAQUE_TEXT:
                raise ProtocolError("an opaque placeholder has an over-long description")
            return Opaque(type_name, detail)
        if kind == "ref" and self.resolve_ref is not None:
            path = [self.decode(key, depth + 1) for key in self._field(node, "path", list)]
            return self.resolve_ref(node, path)
        raise ProtocolError(f"unknown value kind {str(kind)[:40]!r}")

    def _field(self, node: dict[str, Any], name: str, expected: type) -> Any:
        value = node.get(name)
        if type(value) is not expected:
            raise ProtocolError(
                f"a {node.get('kind')} node's {name!r} is {type(value).__name__}, expected {expected.__name__}")
        return value

    def _float(self, node: dict[str, Any], name: str) -> float:
        text = self._field(node, name, str)
        try:
            if len(text) > 40:
                raise ValueError
            return float.fromhex(text)
        except ValueError:
            raise ProtocolError(f"a float node holds {text[:40]!r}, expected a hexadecimal float") from None

    def _dict(self, node: dict[str, Any], depth: int) -> dict:
        result = {}
        for pair in self._field(node, "items", list):
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("a dict item is not a [key, value] pair")
            key = self.decode(pair[0], depth + 1)
            try:
                hash(key)
            except TypeError:
                raise ProtocolError(f"a dict key is an unhashable {type(key).__name__}") from None
            result[key] = self.decode(pair[1], depth + 1)
        return result

    def _array(self, node: dict[str, Any], *, scalar: bool = False) -> np.ndarray | np.generic:
        dtype_text = self._field(node, "dtype", str)
        if dtype_text not in ALLOWED_DTYPES:
            raise ProtocolError(f"dtype {dtype_text[:20]!r} is not one of the allowed numeric dtypes")
        dtype = np.dtype(dtype_text)
        offset = self._field(node, "offset", int)
        nbytes = self._field(node, "nbytes", int)
        if offset < 0 or nbytes < 0 or offset + nbytes > len(self.body):
            raise ProtocolError(
                f"an array claims bytes {offset}..{offset + nbytes} of a body of {len(self.body)} bytes")
        if scalar:
            shape: tuple[int, ...] = ()
        else:
            shape_list = self._field(node, "shape", list)
            if len(shape_list) > 64 or any(type(size) is not int or size < 0 for size in shape_list):
                raise ProtocolError(f"an array shape is not a list of up to 64 non-negative ints: {shape_list[:8]}")
            shape = tuple(shape_list)
            # NumPy refuses a shape whose sizes multiply past its index range, even with a zero among them.
            if math.prod(size for size in shape if size) * dtype.itemsize >= 2**62:
                raise ProtocolError(f"an array shape is too large: {str(shape)[:100]}")
        count = math.prod(shape)
        if count * dtype.itemsize != nbytes:
            raise ProtocolError(
                f"an array of shape {shape} and dtype {dtype} needs {count * dtype.itemsize} bytes, "
                f"the message gives {nbytes}")
        flat = np.frombuffer(self.body, dtype=dtype, count=count, offset=offset)
        if scalar:
            return flat[0]
        # .copy(): the result owns its memory and is writeable, with no link to the message buffer.
        return flat.reshape(shape).copy()


def decode_value(node: Any, body: bytes, *,
                 resolve_ref: Callable[[dict[str, Any], list], Any] | None = None) -> Any:
    """Rebuild a value from a node and the message body; `ProtocolError` if malformed.

    Parameters
    ----------
    node : object
        The parsed JSON node.
    body : bytes
        The message body the node's arrays point into.
    resolve_ref : callable, optional
        Child side only: turns a ``"ref"`` node (and its decoded path) into the
        object it names. Without it a ref node is a protocol error.
    """
    decode = _Decoder(body, resolve_ref).decode
    return decode(node) if resolve_ref is not None else _guarded(decode, node)


def decode_values(nodes: Any, body: bytes, *,
                  resolve_ref: Callable[[dict[str, Any], list], Any] | None = None) -> list[Any]:
    """Decode a JSON list of nodes sharing one item budget."""
    if type(nodes) is not list:
        raise ProtocolError(f"expected a list of values, got a JSON {type(nodes).__name__}")
    decoder = _Decoder(body, resolve_ref)
    if resolve_ref is not None:
        return [decoder.decode(node) for node in nodes]
    return [_guarded(decoder.decode, node) for node in nodes]


def _guarded(decode: Callable[[Any], Any], node: Any) -> Any:
    """``decode(node)``, any failure of Python or NumPy on malformed data reported as a `ProtocolError`.

    `_Decoder` checks every field itself; this is the backstop that keeps a
    check it missed from reaching the grader as its own error.  Not used
    with a *resolve_ref* (the child's side), whose own errors, such as an
    index a student's object does not have, are the child's to report.
    """
    try:
        return decode(node)
    except (TypeError, ValueError, OverflowError, IndexError, KeyError, RecursionError) as error:
        raise ProtocolError(f"a value node is malformed ({type(error).__name__})") from None
