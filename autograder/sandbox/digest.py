"""A content hash of the values that cross to the child: nested tuples, lists, dicts, arrays and scalars.

The sandbox keys its cache of encoded calls with it (`calls.cache_key`); the
engine keys its expected values the same way (`autograder.engine.expected`).  The
drawn cases' arrays are read-only and live as long as the grader, so each
is hashed once per process.
"""

from __future__ import annotations

import hashlib
import weakref

import numpy as np

#: Read-only arrays whose digest is remembered, per grader process.
MEMO_ENTRIES = 50_000

_ARRAY_DIGESTS: dict[int, tuple[weakref.ref, bytes]] = {}


def array_digest(array: np.ndarray) -> bytes:
    """SHA-256 of an array's dtype, shape and bytes; remembered for read-only arrays.

    The drawn cases' arrays are read-only and live as long as the grader, so
    each is hashed once per process instead of once per submission.
    """
    entry = _ARRAY_DIGESTS.get(id(array))
    if entry is not None and entry[0]() is array:
        return entry[1]
    hasher = hashlib.sha256(f"a{array.dtype}{array.shape}".encode())
    hasher.update(np.ascontiguousarray(array).tobytes())
    digest = hasher.digest()
    if not array.flags.writeable:
        if len(_ARRAY_DIGESTS) >= MEMO_ENTRIES:
            _ARRAY_DIGESTS.clear()
        _ARRAY_DIGESTS[id(array)] = (weakref.ref(array), digest)
    return digest


def content_digest(value) -> str:
    """A content hash of nested tuples, lists, dicts, arrays and scalars."""
    parts: list[bytes] = []
    _content_parts(value, parts)
    return hashlib.sha256(b"".join(parts)).hexdigest()


_PLAIN = frozenset({int, float, str, bool, type(None), bytes, complex})


def _content_parts(item, parts: list[bytes]) -> None:
    kind = type(item)  # exact types first: this runs for every call and every expected value
    if kind in _PLAIN:
        parts.append(f"{kind.__name__}:{item!r};".encode())
    elif kind is np.ndarray or isinstance(item, np.ndarray):
        parts.append(array_digest(item))
    elif kind is tuple or kind is list or isinstance(item, (tuple, list)):
        parts.append(f"{kind.__name__}{len(item)}(".encode())
        for element in item:
            _content_parts(element, parts)
        parts.append(b")")
    elif kind is dict or isinstance(item, dict):
        parts.append(f"d{len(item)}(".encode())
        for key in sorted(item, key=repr):
            _content_parts(key, parts)
            _content_parts(item[key], parts)
        parts.append(b")")
    else:
        parts.append(f"{kind.__name__}:{item!r};".encode())
