"""The wire format between the grader (the parent) and the sandboxed child: frames.

A message is one *frame*: a fixed prefix, a JSON header and a body of raw
array bytes::

    b"CAG1" | header length (uint64 LE) | body length (uint64 LE) | header | body

The values inside a frame, and the limits on its header, are `codec`'s; this
module names them too, so that the wire format is one namespace for both
sides (``protocol.encode_message``, ``protocol.decode_value``).  A frame's
declared length is checked against the limit (the whole reply's, or the one
given for this reply, see `FrameReader.expect`) as soon as its prefix
arrives, before any of it is kept.  The child also ends each call's printed
output with a marker (`OUTPUT_MARK_TAG`), so that the parent can tell which
call printed what.

This module must stay importable on its own (standard library and NumPy only):
the child loads it by file path, after `codec`, before any restriction is
installed and without importing the ``autograder`` package.

Examples
--------
>>> import numpy as np
>>> header, body = encode_message({"type": "demo"}, {"value": (np.arange(3), 2.5)})
>>> message = decode_message_bytes(b"".join(frame_pieces(header, body)))
>>> value = decode_value(message.header["value"], message.body)
>>> value[0], value[1]
(array([0, 1, 2]), 2.5)
"""

from __future__ import annotations

import collections
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np  # noqa: F401 - the child's Kernel reaches NumPy as protocol.np

if __package__:  # the grader imports it as autograder.sandbox.child.protocol
    from . import codec
else:  # the child loads it by file path, codec first (see `main.load_sibling`)
    import _sandbox_codec as codec

MAGIC = b"CAG1"
PREFIX = struct.Struct("<4sQQ")

#: The child ends each call's printed output with a marker on the output pipe:
#: this tag, the child's random 16-byte nonce, then the call's sequence number.
#: Calls are pipelined, so this is how the parent tells which call printed what.
OUTPUT_MARK_TAG = b"\x00CAG"
OUTPUT_MARK_NONCE_BYTES = 16
OUTPUT_MARK_SEQ = struct.Struct("<Q")
#: The sequence number a portable child's marker carries at the end of a load (calls count from 1).
LOAD_MARK_SEQ = 0
#: Frames up to this size are written as one piece (see `frame_pieces`).
COALESCE_BYTES = 1 << 20


# The values inside frames, named here too (see the module docstring).
ProtocolError, Opaque, Ref = codec.ProtocolError, codec.Opaque, codec.Ref
ALLOWED_DTYPES, MAX_DEPTH, MAX_ITEMS = codec.ALLOWED_DTYPES, codec.MAX_DEPTH, codec.MAX_ITEMS
MAX_HEADER_BYTES, MAX_HEADER_DEPTH, MAX_HEADER_VALUES = codec.MAX_HEADER_BYTES, codec.MAX_HEADER_DEPTH, codec.MAX_HEADER_VALUES
check_header, parse_header = codec.check_header, codec.parse_header
encode_value, encode_message = codec.encode_value, codec.encode_message
decode_value, decode_values = codec.decode_value, codec.decode_values
type_name_of, describe = codec.type_name_of, codec.describe

@dataclass(frozen=True)
class Message:
    """One received frame: the parsed JSON header and the raw body.

    ``refused`` is set (to the frame's declared size and the limit it broke)
    when the frame was larger than the limit `FrameReader.expect` gave for
    it: then it was discarded unread, and header and body are empty.
    """

    header: dict[str, Any]
    body: bytes
    refused: tuple[int, int] | None = None


# --------------------------------------------------------------------------
# Framing


def frame_pieces(header: bytes, body: list[memoryview]) -> list[bytes | memoryview]:
    """Return the byte strings that make up one frame, in order.

    A frame of up to `COALESCE_BYTES` is joined into one piece: one write,
    and the reader wakes once for it, not once per array.
    """
    body_length = sum(piece.nbytes for piece in body)
    pieces = [PREFIX.pack(MAGIC, len(header), body_length), header, *body]
    if len(header) + body_length <= COALESCE_BYTES:
        return [b"".join(pieces)]
    return pieces


class FrameReader:
    """Cut a byte stream into frames, refusing anything malformed or too large.

    Parameters
    ----------
    max_message_bytes : int
        Largest header + body accepted; a larger declared size is refused as
        soon as the prefix arrives, before any of it is buffered.

    Notes
    -----
    `expect` can bound the next frames more tightly, one limit per frame in
    the order they arrive (the parent bounds each call's reply by what its
    result can be).  A frame over such a limit but within
    *max_message_bytes* is not a broken stream: it is discarded as it
    arrives, never buffered, and stands in the list of frames as a `Message`
    whose ``refused`` is set, so the frames after it are read as usual.

    Examples
    --------
    >>> reader = FrameReader(1024)
    >>> reader.feed(b"".join(frame_pieces(b'{"type": "ready"}', [])))
    [Message(header={'type': 'ready'}, body=b'', refused=None)]
    >>> reader.expect(10)
    >>> reader.feed(b"".join(frame_pieces(b'{"type": "result", "value": 1}', [])))
    [Message(header={}, body=b'', refused=(30, 10))]
    >>> reader.feed(b"garbage")
    Traceback (most recent call last):
    ...
    autograder.sandbox.child.codec.ProtocolError: the reply did not start with the protocol marker (got b'garb'); something else wrote to the protocol channel
    """

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._expected: tuple[int, int] | None = None
        self._error: ProtocolError | None = None
        self._limits: collections.deque[int | None] = collections.deque()
        self._discarding = 0  # bytes of a refused frame still to come

    @property
    def broken(self) -> bool:
        """Whether garbage has been seen; the next `feed` raises it."""
        return self._error is not None

    @property
    def buffered_bytes(self) -> int:
        """Bytes received that do not yet form a whole frame."""
        return len(self._buffer)

    def expect(self, max_bytes: int | None) -> None:
        """Bound the size (header + body) of the next frame not yet bounded; None: only *max_message_bytes*."""
        self._limits.append(max_bytes)

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the frames they complete.

        Garbage after whole frames is raised on the *next* call, so the frames
        before it (say, which cell was starting) are not lost.
        """
        if self._error is not None:
            raise self._error
        if self._discarding:
            skipped = min(self._discarding, len(data))
            self._discarding -= skipped
            data = data[skipped:]
        self._buffer += data
        messages: list[Message] = []
        try:
            self._cut_frames(messages)
        except ProtocolError as error:
            if not messages:
                raise
            self._error = error
        return messages

    def _cut_frames(self, messages: list[Message]) -> None:
        while not self._discarding:
            if self._expected is None:
                if len(self._buffer) < PREFIX.size:
                    if not MAGIC.startswith(bytes(self._buffer[: len(MAGIC)])):
                        self._refuse_marker()
                    return
                magic, header_length, body_length = PREFIX.unpack_from(self._buffer)
                if magic != MAGIC:
                    self._refuse_marker()
                size = header_length + body_length
                if size > self.max_message_bytes:
                    raise ProtocolError(
                        f"a reply of {size} bytes is larger than the limit of {self.max_message_bytes} bytes")
                if header_length > MAX_HEADER_BYTES:
                    raise ProtocolError(
                        f"a reply header of {header_length} bytes is larger than the limit of {MAX_HEADER_BYTES} bytes")
                limit = self._limits.popleft() if self._limits else None
                if limit is not None and size > limit:
                    # Within the stream's limit: skip it unread and stay in step with the frames after it.
                    del self._buffer[: PREFIX.size]
                    skipped = min(size, len(self._buffer))
                    del self._buffer[:skipped]
                    self._discarding = size - skipped
                    messages.append(Message({}, b"", refused=(size, limit)))
                    continue
                self._expected = (header_length, body_length)
            header_length, body_length = self._expected
            end = PREFIX.size + header_length + body_length
            if len(self._buffer) < end:
                return
            header = parse_header(bytes(self._buffer[PREFIX.size : PREFIX.size + header_length]))
            body = bytes(self._buffer[PREFIX.size + header_length : end])
            del self._buffer[:end]
            self._expected = None
            messages.append(Message(header, body))

    def _refuse_marker(self) -> None:
        raise ProtocolError(
            f"the reply did not start with the protocol marker (got {bytes(self._buffer[:4])!r}); "
            "something else wrote to the protocol channel"
        )





def decode_message_bytes(data: bytes, max_message_bytes: int = 1 << 40) -> Message:
    """Decode exactly one whole frame (a convenience for tests and the child)."""
    messages = FrameReader(max_message_bytes).feed(data)
    if len(messages) != 1:
        raise ProtocolError(f"expected one whole frame, found {len(messages)}")
    return messages[0]

