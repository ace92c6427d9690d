"""What a submission prints: kept up to a limit, split into calls by the child's markers.

The child's fds 1 and 2 go to an output pipe that the parent drains while it
waits (see `process.Child`); everything read goes into one `OutputCapture`
per sandbox, and each call's output is the text between two of its marks.
"""

from __future__ import annotations

from .outcomes import format_bytes


class OutputCapture:
    """Keep the first *limit* bytes a submission prints; discard the rest, but never block the child."""

    TAIL_BYTES = 4096

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.discarded = 0
        # The last bytes printed, kept regardless of the limit: they tell a crash from a memory error.
        self.tail = bytearray()

    def add(self, data: bytes) -> None:
        room = max(0, self.limit - len(self.kept))
        self.kept += data[:room]
        self.discarded += max(0, len(data) - room)
        self.tail += data[-self.TAIL_BYTES:]
        del self.tail[: -self.TAIL_BYTES]

    def mark(self) -> tuple[int, int]:
        return len(self.kept), self.discarded

    def text_since(self, mark: tuple[int, int]) -> str:
        return self.text_between(mark, None)

    def text_between(self, start: tuple[int, int], end: tuple[int, int] | None) -> str:
        """What was printed between two marks (*end* None: up to now), with a note of what was discarded."""
        kept_at, discarded_at = start
        kept_end, discarded_end = end if end is not None else self.mark()
        text = self.kept[kept_at:kept_end].decode("utf-8", "replace")
        if discarded_end > discarded_at:
            text += (f"\n[{discarded_end - discarded_at} more bytes of output were discarded: "
                     f"a submission's output is cut at {format_bytes(self.limit)}]")
        return text
