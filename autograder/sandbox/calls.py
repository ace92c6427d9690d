"""Calls encoded once: `CallRequest`, and the per-process cache of encoded calls.

Every submission of a class meets the same cases, so the same calls: their
encoding is kept per process (`ENCODED_CALLS`), keyed by the content of the
call (function, values asked for, arguments; `cache_key`), for calls without
Refs and with small arrays.  A request is sent again as is after a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .child import protocol
from .child.main import array_bytes
from .child.protocol import Ref
from .digest import content_digest


@dataclass(frozen=True)
class CallRequest:
    """One call of a batch, encoded once (and sent again as is after a restart).

    The body holds views of the caller's arrays where they are already
    contiguous little-endian, so encoding a whole batch ahead costs little.
    """

    seq: int
    header: bytes
    body: list[memoryview]
    refs: tuple[Ref, ...]
    arguments_after: bool = True  # the child sends the arguments back after the call
    max_reply_bytes: int | None = None  # see `Sandbox.call_many`

    @property
    def nbytes(self) -> int:
        return len(self.header) + sum(view.nbytes for view in self.body)

    def frame(self) -> list[bytes | memoryview]:
        return protocol.frame_pieces(self.header, self.body)

    @classmethod
    def encode(cls, function_name: str, number: int, item: Any, seq: int,
               value_items: list[int] | None = None, max_reply_bytes: int | None = None, *,
               arguments_after: bool = True) -> CallRequest:
        """Check and encode the ``(args, kwargs)`` pair *item*, call *number* of `Sandbox.call_many`.

        Raises `TypeError` for anything that is not such a pair or cannot be sent.
        """
        if type(item) not in (tuple, list) or len(item) != 2 or type(item[0]) not in (tuple, list) \
                or not isinstance(item[1], Mapping):
            raise TypeError(f"call_many({function_name!r}, calls): call {number} is {item!r:.80} "
                            f"({protocol.type_name_of(item)}), expected an (args, kwargs) pair such as "
                            "((x, w), {})")
        args, kwargs = tuple(item[0]), dict(item[1])
        if any(type(name) is not str for name in kwargs):
            raise TypeError(f"call_many({function_name!r}, calls): call {number} has a keyword that is not a str")
        refs = tuple(refs_in((args, kwargs)))
        key = cache_key(function_name, (value_items, arguments_after), args, kwargs) if not refs else None
        cached = ENCODED_CALLS.get(key) if key is not None else None
        if cached is None:
            fields = {"type": "call", "function": function_name}
            if value_items is not None:
                fields["value_items"] = value_items
            if not arguments_after:
                fields["arguments_after"] = False
            rest, body = protocol.encode_message(fields, {"args": args, "kwargs": kwargs}, strict=True)
            cached = rest, body
            if key is not None and sum(view.nbytes for view in body) <= ENCODED_CALL_BYTES:
                # Kept as copies: the caller may change its arrays afterwards.
                cached = rest, [memoryview(bytes(view)) for view in body]
                if len(ENCODED_CALLS) >= ENCODED_CALL_ENTRIES:
                    ENCODED_CALLS.clear()
                ENCODED_CALLS[key] = cached
        rest, body = cached
        header = b'{"seq": %d, ' % seq + rest[1:]  # the one field that differs from call to call
        return cls(seq, header, body, refs, arguments_after, max_reply_bytes)


#: Encoded calls by `cache_key` (see the module docstring); cleared when it holds `ENCODED_CALL_ENTRIES`.
ENCODED_CALLS: dict[str, tuple[bytes, list[memoryview]]] = {}
ENCODED_CALL_ENTRIES = 8192
ENCODED_CALL_BYTES = 64 * 1024


def cache_key(function_name: str, options: Any, args: tuple, kwargs: dict) -> str | None:
    """The content digest of a call, or None for one not worth keeping (large arrays) or not hashable here."""
    if array_bytes((args, kwargs), np.ndarray) > ENCODED_CALL_BYTES:
        return None  # hashing it would cost about what encoding it does
    try:
        return content_digest((function_name, options, args, kwargs))
    except Exception:  # noqa: BLE001 - e.g. a repr that raises: encoding says what is wrong with it
        return None


def refs_in(value: Any) -> Iterable[Ref]:
    """Every Ref inside nested tuples, lists and dicts."""
    kind = type(value)
    if kind is Ref:
        yield value
    elif kind in (list, tuple):
        for item in value:
            yield from refs_in(item)
    elif kind is dict:
        for item in value.values():
            yield from refs_in(item)
