"""The grader's side of the sandbox: start the child, load a submission, call its functions.

Student code never runs in this process, and nothing the child sends is
unpickled or evaluated: replies are length-prefixed frames validated by
`protocol` before any value is built.  Every way a call can go wrong (an
exception, an infinite loop, a crash, running out of memory, a garbled reply,
the time budget running out) comes back as a `CallOutcome` with a status and a
one-line message for the student, never as an exception in the grader.

Children are forked by the zygote (see `zygote`), a warm interpreter that has
imported NumPy and nothing of any student's, so that starting one costs
milliseconds of CPU instead of a new Python and NumPy; wherever the zygote
cannot be used, a child is a new interpreter as before.  On platforms without
fork, descriptor passing or Linux's kernel features (Windows, macOS), children
start the portable way instead (`portable`): the same protocol and verdicts
over the three standard pipes.

Examples
--------
>>> import pathlib, tempfile
>>> from autograder.submission import read_submission
>>> path = pathlib.Path(tempfile.mkdtemp()) / "hw.py"
>>> _ = path.write_text("def double(x):\\n    return 2 * x\\n")
>>> with Sandbox(read_submission(path)) as box:
...     box.load().functions
...     box.call("double", 21).value
...     [outcome.value for outcome in box.call_many("double", [((1,), {}), ((), {"x": 2})])]
['double']
42
[2, 4]
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import functools
import importlib.util
import itertools
import math
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from autograder.expected import content_digest
from autograder.sandbox import protocol
from autograder.sandbox.child import array_bytes
from autograder.sandbox.protocol import Message, ProtocolError, Ref
from autograder.sandbox.restrictions import BLOCKED_MODULES, plan_read_access, python_read_access
from autograder.sandbox.zygote import ZYGOTE_FLAG
from autograder.submission import Cell, Submission, location

CallStatus = Literal["ok", "raised", "timeout", "crashed", "memory", "budget", "missing", "stale", "protocol"]
CellStatus = Literal["ok", "raised", "exited", "hung", "crashed", "protocol", "not run"]

CHILD_SCRIPT = Path(__file__).with_name("child.py")
# What the child itself may report; the other statuses are the parent's verdicts.
_CHILD_STATUSES = frozenset({"ok", "raised", "missing", "memory", "stale"})
_CHILD_CELL_STATUSES = frozenset({"ok", "raised", "exited"})
_MAX_ERROR_CHARS = 1000
# How many bytes of calls `Sandbox.call_many` sends ahead of the one being answered.
_SEND_AHEAD_BYTES = 16 * 2**20
_MAX_FUNCTIONS = 1000


@dataclass(frozen=True)
class Limits:
    """How much one submission may use.

    Parameters
    ----------
    call_timeout : float
        Seconds one call (or one cell while loading) may take.
    budget : float
        Wall-clock seconds for the whole submission: loading, every call and
        every restart after a timeout or crash (the grader's own time between
        calls does not count).
    memory_bytes : int
        Address-space cap of the child (``RLIMIT_AS``).
    output_bytes : int
        Printed output kept per submission (stdout and stderr together); the
        rest is read and discarded.
    message_bytes : int
        Largest reply the parent accepts.
    file_bytes : int
        Largest file the child may write (``RLIMIT_FSIZE``).
    scratch_bytes : int
        Size of the child's private scratch folder, where it has one.
    kept_results : int
        How many call results the child keeps for `Ref` handles; older ones
        are released.  A batch of N forwards followed by a batch of N
        backwards that use their caches needs N kept: the default, 512,
        covers batches of up to 512 calls (whose arrays fit in
        *kept_result_bytes*).
    start_timeout : float
        Seconds the child may take to start (Python, NumPy, restrictions).
    kept_result_bytes : int
        Memory the kept results' arrays may hold (a view counts as the array
        it looks into); beyond it the oldest results are released even if
        there are fewer than *kept_results*.  The newest result is always kept.
    """

    call_timeout: float = 10.0
    budget: float = 120.0
    memory_bytes: int = 2 * 2**30
    output_bytes: int = 64 * 1024
    message_bytes: int = 256 * 2**20
    file_bytes: int = 16 * 2**20
    scratch_bytes: int = 64 * 2**20
    kept_results: int = 512
    start_timeout: float = 30.0
    kept_result_bytes: int = 256 * 2**20

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"Limits.{name} must be positive, got {value!r}")


@dataclass
class CellReport:
    """What happened to one cell while loading.

    ``status`` is ``"ok"``, ``"raised"``, ``"exited"`` (called ``sys.exit``),
    ``"hung"`` or ``"crashed"`` (skipped after the process was restarted),
    ``"protocol"`` (garbled the channel to the grader; skipped) or
    ``"not run"`` (the budget ran out first, or an earlier statement of its
    file called ``sys.exit``).

    ``origin`` is where the unit is, as the student finds it (``"code cell
    3"``, ``"line 12"``); ``error`` the note on what stopped it (or on its
    last error), naming the line; ``stopped_at`` the line of its cell or file
    where it stopped (0 when it ran to its end, or when that is unknown):
    what comes after it in the unit was not run.
    """

    index: int
    origin: str
    status: CellStatus
    error: str = ""
    stopped_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class LoadReport:
    """The result of running a submission's cells.

    Parameters
    ----------
    functions : list of str
        Functions and classes the cells defined, in definition order.
    notes : list of str
        One line per thing a student should know: magics skipped, cells that
        raised, hung or crashed.
    cells : list of CellReport
        One per cell, in notebook order.
    output : str
        What the cells printed (capped, see `Limits.output_bytes`).
    seconds : float
        Wall-clock time of the load, restarts included.
    defined : dict of str to str
        Where each function was defined, as the student finds it
        (``"code cell 3, line 1"``, ``"line 12"``), as far as the child says.
    """

    functions: list[str]
    notes: list[str]
    cells: list[CellReport]
    output: str = ""
    seconds: float = 0.0
    defined: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every cell ran to its end without an error."""
        return all(cell.status == "ok" for cell in self.cells)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, ``ok`` included."""
        return dataclasses.asdict(self) | {"ok": self.ok}


@dataclass
class CallOutcome:
    """The result of calling one student function in the sandbox.

    Parameters
    ----------
    status : str
        ``"ok"``; ``"raised"`` (the function raised); ``"timeout"``;
        ``"crashed"`` (the process died); ``"memory"``; ``"budget"`` (the
        submission's time budget is spent; nothing ran); ``"missing"`` (no
        such function); ``"stale"`` (a `Ref` from before a restart);
        ``"protocol"`` (a malformed or oversized reply).
    value : object
        The decoded return value (numbers, strings, lists, tuples, dicts,
        NumPy arrays and scalars; `Opaque` placeholders for anything else).
    ref : Ref or None
        A handle to the full return value, which stays in the child.
    error : str
        One line for the student; empty when ``status == "ok"``.
    args_after, kwargs_after
        The arguments as the child sent them back after the call, for the
        grader to compare with what it sent (see `Sandbox.call_many`'s
        ``arguments_after``); empty when they were not asked for.
    output : str
        What the call printed (capped).
    seconds : float
        Wall-clock time of the call as the grader saw it, from sending the
        call (or, in a batch, from the answer to the call before it) to its
        answer. Measured by the grader: nothing the child reports about
        itself is believed.
    cpu_seconds : float or None
        For a call made with ``timed=True``: the CPU time the child process
        spent on it (every thread), read by the grader from the child's
        process CPU clock just before the call was sent and just after its
        answer arrived; it includes reading the arguments and encoding the
        result. None when not timed, or when that clock cannot be read (see
        ``Sandbox.protections["speed timing"]``).
    """

    status: CallStatus
    value: Any = None
    ref: Ref | None = None
    error: str = ""
    args_after: tuple = ()
    kwargs_after: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    seconds: float = 0.0
    cpu_seconds: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the function returned normally."""
        return self.status == "ok"


class SandboxStartError(RuntimeError):
    """The child process could not be started: a problem of the grader's machine, not the student's."""


def default_forbidden_paths() -> tuple[Path, ...]:
    """The course's own folder: never readable by the child, and named so in the refusal.

    The child reads only what Python needs (see
    `restrictions.python_read_access`); this adds the folder holding the
    grader's package (the repository with ``reference/``, ``solutions/``,
    ``examples/``, ``tests/`` and ``.git`` for an editable install, the
    ``site-packages`` folder otherwise) as a hole wherever it lies inside one
    of those folders, and lets a refusal say "the grader's own files".
    """
    import autograder  # the package, not its reference: that must stay unimported

    return (Path(autograder.__file__).resolve().parents[1],)


@functools.cache
def _blocked_package_folders() -> tuple[tuple[str, str], ...]:
    """Where torch and scipy are installed, so that reading them is refused as importing them would be."""
    folders = []
    for module in BLOCKED_MODULES:
        try:
            spec = importlib.util.find_spec(module)  # finds, does not import
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        locations = list(spec.submodule_search_locations or [])
        if not locations and spec.has_location and spec.origin:
            locations = [spec.origin]
        folders += [(os.path.realpath(location), module) for location in locations]
    return tuple(folders)


#: Kernel layers the children skip ("landlock", "seccomp"): only tests of the fall-backs set it.
_SKIPPED_PROTECTIONS: frozenset[str] = frozenset()


@functools.cache
def _read_plan(never: tuple[str, ...]) -> tuple[list[tuple[str, list[str]]], list[str], list[str]]:
    """What the child may read: (allowed folders and their holes, Landlock's read roots, its list-only folders).

    The student's own submission folder is not among them: its cells arrive
    over the protocol, and the folder may hold what is not the student's to
    read (a link to a classmate's folder, files the grader wrote, other
    submissions beside it in a batch).
    """
    readable = python_read_access(never)
    read_roots, list_only = plan_read_access(readable)
    return readable, read_roots, list_only


def _format_bytes(count: int) -> str:
    """``2 GiB``, ``64 KiB``, ``300 bytes``.

    >>> _format_bytes(2 * 2**30), _format_bytes(65536), _format_bytes(300)
    ('2 GiB', '64 KiB', '300 bytes')
    """
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


def _child_environment() -> dict[str, str]:
    # A clean environment: none of the grader's variables (tokens, paths) reach student code.
    return {
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
    }


# --------------------------------------------------------------------------
# Output capture


class _OutputCapture:
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
                     f"a submission's output is cut at {_format_bytes(self.limit)}]")
        return text


# --------------------------------------------------------------------------
# One child process


class _DeadlineReached(Exception):
    """The child did not answer in time."""


def _describe_end(returncode: int | None) -> str:
    """``"signal SIGSEGV"``, ``"exit code 4"``: how a process ended, from its ``Popen.returncode``.

    >>> _describe_end(-11), _describe_end(4)
    ('signal SIGSEGV', 'exit code 4')
    """
    if returncode is not None and returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


def _shown(value: Any) -> str:
    """A value from a reply, quoted and cut short for an error message, whatever JSON it is."""
    return repr(value)[:40] if type(value) in (str, int, float, bool) or value is None else type(value).__name__


def _read_ready(header: dict[str, Any]) -> dict[str, str]:
    """The protections a child's ``ready`` message reports; `ProtocolError` if it is no such message."""
    protections = header.get("protections")
    if header.get("type") != "ready" or type(protections) is not dict or len(protections) > 1000:
        raise ProtocolError("the child's first message is not a ready message")
    return {str(name)[:100]: str(state)[:300] for name, state in protections.items()}


def _read_cell_start(header: dict[str, Any], cells: Mapping[int, Any]) -> int:
    """The index of the cell a ``cell_start`` message announces; `ProtocolError` if it names none of *cells*."""
    index = header.get("index")
    if type(index) is not int or index not in cells:
        raise ProtocolError("a cell_start message names no cell of this submission")
    return index


def _valid_load_errors(errors: Any) -> bool:
    """Whether a cell outcome's ``errors`` are what the child sends (see `child.Kernel._run_cell`)."""
    return type(errors) is list and len(errors) <= 100 and all(
        type(item) is dict and type(item.get("error")) is str and type(item.get("origin")) is str
        and len(item["origin"]) <= 300 and type(item.get("line")) is int and type(item.get("at")) is int
        and type(item.get("continued")) is bool for item in errors)


def _load_note(cell: Cell, item: dict[str, Any]) -> str:
    """``"line 2: ModuleNotFoundError: ..."``: the error at its line when that is in the unit itself,
    else the unit, then the error and where it was raised (a function defined elsewhere)."""
    error = item["error"][:_MAX_ERROR_CHARS]
    last_line = cell.first_line + cell.source.count("\n")
    if item["origin"] == cell.origin and cell.first_line <= item["line"] <= last_line:
        return f"{location(cell.origin, item['line'])}: {error}"
    where = f" ({location(item['origin'], item['line'])})" if item["origin"] and item["line"] else ""
    return f"{cell.where}: {error}{where}"


def _refused_outcome(size: int, limit: int) -> CallOutcome:
    """The outcome of a call whose reply was larger than its limit and was discarded unread."""
    return CallOutcome("protocol", error=(
        f"its result was {_format_bytes(size)}, more than the {_format_bytes(limit)} a result may take here "
        "(a few times the size of the expected result); return a result of the expected shape"))


class _ChildDied(Exception):
    """The child process ended (or closed its channel) while we waited for it.

    ``lost`` means it was killed because the zygote that forked it ended: not
    the student's doing, so what it was running is run again.
    """

    def __init__(self, returncode: int | None, tail: bytes, closed_channel: bool, lost: bool = False) -> None:
        super().__init__(returncode)
        self.returncode = returncode
        self.tail = tail
        self.closed_channel = closed_channel
        self.lost = lost

    def cause(self) -> str:
        """A few words for a load note: ``"signal SIGSEGV"``, ``"exit code 4"``."""
        if self.lost:
            return "the grader's zygote process ended"
        if self.closed_channel:
            return "it closed its channel to the grader"
        return _describe_end(self.returncode)

    def verdict(self, memory_bytes: int) -> tuple[CallStatus, str]:
        """The status and the student's message for this death."""
        out_of_memory = f"ran out of memory (limit {_format_bytes(memory_bytes)})"
        if self.lost:
            return "crashed", ("the process was stopped because the grader's zygote process ended, twice; "
                               "this is a problem of the grading machine, not of the code")
        if self.closed_channel:
            return "crashed", "the process closed its channel to the grader and was stopped"
        code = self.returncode
        memory_words = (b"MemoryError", b"Cannot allocate memory", b"bad_alloc", b"out of memory")
        if any(word in self.tail for word in memory_words):
            return "memory", out_of_memory
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code == signal.SIGKILL:  # not ours: the kernel's out-of-memory killer
                return "memory", out_of_memory + "; the system stopped the process"
            if -code == signal.SIGXCPU:
                return "crashed", "the process used up its CPU-time limit (signal SIGXCPU)"
            return "crashed", f"the process crashed (signal {name})"
        return "crashed", (f"the process exited (exit code {code}); "
                           "the code must not call os._exit() or end the interpreter")


class _Child:
    """A child process and its three pipes, driven by one select loop.

    The loop writes requests, reads replies and drains the output pipe at the
    same time, so neither side can block the other however much either sends.

    Output is split into calls by the markers the child writes after each call
    (`protocol.OUTPUT_MARK_TAG`, a nonce chosen here, the call's ``seq``):
    `marks` records where in the capture each awaited marker fell.
    """

    #: Most reads of the output pipe while looking for a call's marker that never came.
    MAX_DRAIN_READS = 64
    #: What this kind of child adds to its ``configure`` message (see `portable.PortableChild`).
    configuration: dict[str, Any] = {}

    def __init__(self, zygote: _Zygote | None = None, start_timeout: float = 30.0) -> None:
        """Fork the child from *zygote*, or without one start a new interpreter."""
        request_read, self.request_fd = os.pipe()
        self.reply_fd, reply_write = os.pipe()
        self.output_fd, output_write = os.pipe()
        self.process: subprocess.Popen | _ZygoteChild
        try:
            if zygote is not None:
                self.process = zygote.fork((request_read, reply_write, output_write), start_timeout)
            else:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", "-u", str(CHILD_SCRIPT), str(request_read), str(reply_write),
                     str(os.getpid())],
                    stdin=subprocess.DEVNULL, stdout=output_write, stderr=output_write,
                    pass_fds=(request_read, reply_write), cwd="/", env=_child_environment(),
                    start_new_session=True)  # its own process group: one killpg ends it all
        except BaseException:
            for fd in (self.request_fd, self.reply_fd, self.output_fd):
                os.close(fd)
            raise
        finally:
            for fd in (request_read, reply_write, output_write):
                os.close(fd)
        for fd in (self.request_fd, self.reply_fd, self.output_fd):
            os.set_blocking(fd, False)
        self.owner_pid = os.getpid()
        self.output_nonce = os.urandom(protocol.OUTPUT_MARK_NONCE_BYTES)
        self._output_marker = protocol.OUTPUT_MARK_TAG + self.output_nonce
        self._output_carry = b""
        self.awaited_marks: set[int] = set()
        self.marks: dict[int, tuple[int, int]] = {}
        self.reader = protocol.FrameReader(1 << 30)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.reply_fd, selectors.EVENT_READ)
        self.selector.register(self.output_fd, selectors.EVENT_READ)
        self.outgoing: list[memoryview] = []
        self.inbox: list[Message] = []
        self.reply_closed = False
        self.output_closed = False
        self.closed = False
        #: The kernel's clock of the child's CPU time, and how speed is measured (see `_cpu_clock_of`).
        self.cpu_clock, self.timing = _cpu_clock_of(self.process)
        #: A handle on the process itself (not its pid, which could be reused), to stop it: see `Sandbox.paused`.
        self.pidfd = _open_pidfd(self.process.pid) if self.cpu_clock is not None else None

    def cpu_seconds(self) -> float | None:
        """CPU time the child process has used so far (all its threads, live or ended), or None if unreadable."""
        if self.cpu_clock is None:
            return None
        try:
            return time.clock_gettime_ns(self.cpu_clock) / 1e9
        except OSError:  # it has ended
            return None

    def stop(self) -> bool:
        """Stop every thread of the child (SIGSTOP, which it cannot catch); whether it is stopped now."""
        if self.pidfd is None or self.closed:
            return False
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGSTOP)
        except OSError:  # it has ended
            return False
        deadline = time.monotonic() + 0.05
        while time.monotonic() < deadline:  # the signal is delivered at once; stopping a running thread takes a moment
            try:
                with open(f"/proc/{self.process.pid}/stat", "rb") as stat_file:
                    stat = stat_file.read()
            except OSError:
                return True
            if stat[stat.rindex(b")") + 2:].startswith((b"T", b"t")):
                return True
            time.sleep(0.0002)
        return True

    def resume(self) -> None:
        """Let a child stopped by `stop` run again (SIGCONT)."""
        if self.pidfd is not None and not self.closed:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGCONT)

    def send(self, header: dict[str, Any], values: dict[str, Any] | None = None) -> None:
        """Queue a message; it is written while `next_message` waits."""
        header_bytes, buffers = protocol.encode_message(header, values or {}, strict=True)
        self.send_frame(protocol.frame_pieces(header_bytes, buffers))

    def send_frame(self, pieces: list[bytes | memoryview], *, seq: int | None = None,
                   reply_limit: int | None = None) -> None:
        """Queue an encoded frame; with *seq*, a call whose output marker and reply to look for.

        *reply_limit* bounds that call's reply (see `protocol.FrameReader.expect`).
        """
        waiting = bool(self.outgoing)
        self.outgoing += [memoryview(piece).cast("B") for piece in pieces]
        if seq is not None:
            self.awaited_marks.add(seq)
            self.reader.expect(reply_limit)  # one reply per call, in the order the calls are sent
        if not waiting and not self.reply_closed:
            self.selector.register(self.request_fd, selectors.EVENT_WRITE)

    def next_message(self, deadline: float, capture: _OutputCapture) -> Message:
        """Wait for the next whole reply frame until *deadline* (a ``time.monotonic`` value).

        Raises `_DeadlineReached`, `_ChildDied` or `ProtocolError`.
        """
        while not self.inbox:
            if self.reader.broken:
                self.reader.feed(b"")  # raises the ProtocolError found after the last whole frame
            if self.reply_closed:
                self._wait_for_exit(capture)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _DeadlineReached
            for key, _ in self.selector.select(remaining):
                if key.fd == self.reply_fd:
                    self._read_replies()
                elif key.fd == self.output_fd:
                    self._read_output(capture)
                else:
                    self._write_requests()
        return self.inbox.pop(0)

    def drain_output(self, capture: _OutputCapture) -> None:
        """Read what the child printed so far; it wrote it before its reply, so it is in the pipe."""
        while not self.output_closed and self._read_output(capture):
            pass

    def drain_output_until(self, seq: int, capture: _OutputCapture) -> tuple[int, int]:
        """Read the output up to call *seq*'s marker; return the capture's mark there.

        The child wrote the marker before the result, so it is in the pipe
        already; reading stops there, since the child may be printing for the
        next call by now.  Without a marker (the student closed the
        descriptor) what the pipe holds now counts, read a bounded number of times.
        """
        pipe_empty = False
        for _ in range(self.MAX_DRAIN_READS):
            if seq in self.marks or self.output_closed:
                break
            if not self._read_output(capture):
                pipe_empty = True
                break
        if seq in self.marks:
            return self.marks.pop(seq)
        self.awaited_marks.discard(seq)
        if pipe_empty:  # then the ending held back is no marker's start: it is output
            capture.add(self._output_carry)
            self._output_carry = b""
        return capture.mark()

    def _read_replies(self) -> None:
        try:
            data = os.read(self.reply_fd, 1 << 20)
        except BlockingIOError:
            return
        if not data:
            self.reply_closed = True
            self.selector.unregister(self.reply_fd)
            return
        self.inbox += self.reader.feed(data)

    def _read_output(self, capture: _OutputCapture) -> bool:
        try:
            data = os.read(self.output_fd, 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self.output_closed = True
            self.selector.unregister(self.output_fd)
            capture.add(self._output_carry)
            self._output_carry = b""
            return False
        self._split_output(data, capture)
        return True

    def _split_output(self, data: bytes, capture: _OutputCapture) -> None:
        """Pass printed bytes to *capture*, taking the call markers out and noting where each fell."""
        buffer = self._output_carry + data if self._output_carry else data
        marker, start = self._output_marker, 0
        while (found := buffer.find(marker, start)) >= 0:
            capture.add(buffer[start:found])
            end = found + len(marker) + protocol.OUTPUT_MARK_SEQ.size
            if end > len(buffer):
                self._output_carry = buffer[found:]
                return
            (seq,) = protocol.OUTPUT_MARK_SEQ.unpack_from(buffer, found + len(marker))
            if seq in self.awaited_marks:  # anything else is a forgery (or late): dropped
                self.awaited_marks.discard(seq)
                self.marks[seq] = capture.mark()
            start = end
        # Hold back an ending that may be the first part of a marker cut by the read.
        keep = next((size for size in range(min(len(marker) - 1, len(buffer) - start), 0, -1)
                     if buffer.endswith(marker[:size])), 0)
        capture.add(buffer[start:len(buffer) - keep])
        self._output_carry = buffer[len(buffer) - keep:]

    def _write_requests(self) -> None:
        while self.outgoing:
            try:
                written = os.write(self.request_fd, self.outgoing[0])
            except BlockingIOError:
                return
            except BrokenPipeError:  # the child is gone; its reply pipe tells us how
                self.outgoing.clear()
                break
            self.outgoing[0] = self.outgoing[0][written:]
            if not self.outgoing[0].nbytes:
                self.outgoing.pop(0)
        self.selector.unregister(self.request_fd)

    def _wait_for_exit(self, capture: _OutputCapture) -> None:
        """The reply pipe closed: collect the exit status and raise `_ChildDied`."""
        try:
            self.process.wait(timeout=1.0)
            closed_channel = False
        except subprocess.TimeoutExpired:  # alive, but it closed its end of the channel
            self._terminate()
            closed_channel = True
        self.drain_output(capture)
        lost = isinstance(self.process, _ZygoteChild) and self.process.lost
        raise _ChildDied(self.process.returncode, bytes(capture.tail), closed_channel and not lost, lost)

    def kill(self) -> None:
        """End the process (and anything in its process group) and close the pipes."""
        if self.closed:
            return
        self.closed = True
        if self.owner_pid == os.getpid():
            self._terminate()
        self.selector.close()
        for fd in (self.request_fd, self.reply_fd, self.output_fd, self.pidfd):
            if fd is None:
                continue
            try:
                os.close(fd)
            except OSError:
                pass

    def _terminate(self) -> None:
        if isinstance(self.process, _ZygoteChild):
            # The zygote reaps it, so only the zygote knows its pid is still its own: it kills the group.
            self.process.kill_group()
            try:
                self.process.wait(timeout=_ZYGOTE_ANSWER_SECONDS)
            except subprocess.TimeoutExpired:  # a zygote that stopped answering is of no more use
                self.process.zygote.close("it stopped reporting its children's ends")
                self.process.wait()
            return
        if self.process.returncode is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:  # already gone
                pass
        self.process.wait()

    def is_usable(self) -> bool:
        return not self.closed and self.owner_pid == os.getpid() and self.process.poll() is None


def _cpu_clock_of(process: subprocess.Popen | _ZygoteChild) -> tuple[int | None, str]:
    """The clock id of *process*'s CPU time, and a note for ``Sandbox.protections["speed timing"]``.

    Speed is measured from here, never by the child: whatever the child's
    interpreter reports about itself, its student can rewrite. Linux gives
    every process a CPU-time clock that another process may read
    (``clock_getcpuclockid``; the id is ``((~pid) << 3) | 2``, CPUCLOCK_SCHED
    of the whole thread group): the scheduler's exact nanoseconds of every
    thread, the student's own threads and those that have ended included,
    for well under a microsecond per reading. A helper process would not
    count, but seccomp forbids starting one (threads only; without seccomp,
    see `_without_processes`). Where the clock cannot be read (not Linux,
    or a pid that is not our child's, as behind a PID namespace), None:
    speed is then wall-clock time measured here.
    """
    pid = process.pid
    expected_parent = process.zygote.pid if isinstance(process, _ZygoteChild) else os.getpid()
    wall = "wall-clock time of each call, measured by the grader"
    if not sys.platform.startswith("linux"):
        return None, f"{wall} (no per-process CPU clock on {sys.platform})"
    clock = ((~pid) << 3) | 2
    try:
        time.clock_gettime_ns(clock)
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
        parent_pid = int(stat[stat.rindex(b")") + 2:].split()[1])  # after "pid (name) state"
    except (OSError, ValueError, IndexError) as error:
        return None, f"{wall} (the child's CPU clock cannot be read: {error})"
    if parent_pid != expected_parent:  # pid numbers from another PID namespace: not our child's
        return None, f"{wall} (pid {pid} is not a child of {expected_parent})"
    return clock, "CPU time of the child process (every thread), read by the grader from its CPU clock"


def _open_pidfd(pid: int) -> int | None:
    """A pidfd for *pid* (Linux 5.3 and later), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _without_processes(clock: int | None, note: str, protections: Mapping[str, str]) -> tuple[int | None, str]:
    """The child's CPU clock only where the child cannot start processes (seccomp on), else None and why.

    A process the child started would compute unseen by the child's CPU
    clock while the child waits for it; the grader's wall clock, which
    counts that wait, stands in then.
    """
    if clock is not None and not protections.get("seccomp", "").startswith("on"):
        return None, ("wall-clock time of each call, measured by the grader (without the seccomp filter the child "
                      "could start processes whose work its CPU clock would not count)")
    return clock, note


# --------------------------------------------------------------------------
# The zygote: children forked from a warm interpreter (see `zygote`)

#: How long the zygote may take to answer a fork or report a killed child's end.
_ZYGOTE_ANSWER_SECONDS = 10.0


class _ZygoteUnavailable(Exception):
    """No child can be forked now; the message says why, for `Sandbox.protections`."""


class _ZygoteChild:
    """A child the zygote forked, seen from the grader: shaped like the `subprocess.Popen` it replaces.

    The zygote reaps it and sends its exit status here.  ``lost`` says it was
    killed because the zygote ended, not by anything the student did.
    """

    def __init__(self, zygote: _Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None
        self.lost = False
        self._ended = threading.Event()

    def end(self, returncode: int, *, lost: bool = False) -> None:
        self.returncode, self.lost = returncode, lost
        self._ended.set()

    def poll(self) -> int | None:
        return self.returncode if self._ended.is_set() else None

    def wait(self, timeout: float | None = None) -> int | None:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"sandbox child {self.pid}", timeout or 0.0)
        return self.returncode

    def kill_group(self) -> None:
        self.zygote.kill(self.pid)


@dataclass
class _PendingFork:
    done: threading.Event = field(default_factory=threading.Event)
    child: _ZygoteChild | None = None
    error: str = ""


class _Zygote:
    """One zygote process and the grader's end of its socket.

    A daemon thread starts the zygote, then reads all it sends: fork replies
    and the exit status of each child.  The zygote's death signal is tied to
    that thread (a Linux rule: to the thread that started it), which lives as
    long as the zygote, so sandboxes may come and go in any thread.
    """

    def __init__(self) -> None:
        self.owner_pid = os.getpid()
        self.pid: int | None = None
        #: Why it can no longer be used; None while it can.
        self.failure: str | None = None
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()  # guards failure, the tables below and every send
        self._ready = threading.Event()  # set by its hello, or when it fails
        self._forks: dict[int, _PendingFork] = {}  # token -> the fork awaiting its reply
        self._children: dict[int, _ZygoteChild] = {}  # pid -> child, until its exit status arrives
        self._tokens = itertools.count(1)
        threading.Thread(target=self._run, args=(theirs,), name="sandbox-zygote", daemon=True).start()

    def fork(self, fds: tuple[int, int, int], timeout: float) -> _ZygoteChild:
        """A new child holding *fds*: its request pipe's read end, its reply and output pipes' write ends.

        Raises `_ZygoteUnavailable`.  Waits for the zygote's start-up (Python
        and NumPy) the first time.
        """
        if not self._ready.wait(timeout):
            self.close(f"it did not start within {timeout:g} s")
        pending = _PendingFork()
        with self._lock:
            if self.failure is not None:
                raise _ZygoteUnavailable(self.failure)
            token = next(self._tokens)
            self._forks[token] = pending
            try:
                socket.send_fds(self._socket, [f"fork {token}".encode()], list(fds))
            except OSError as error:
                del self._forks[token]
                raise _ZygoteUnavailable(f"its socket failed ({error.strerror})") from None
        if not pending.done.wait(min(timeout, _ZYGOTE_ANSWER_SECONDS)):
            self.close("it did not answer a fork request")
        if pending.child is None:
            raise _ZygoteUnavailable(pending.error or self.failure or "it did not answer a fork request")
        return pending.child

    def kill(self, pid: int) -> None:
        """Have the zygote SIGKILL its child *pid* and the child's process group (its end is reported)."""
        with self._lock:
            if self.failure is None and pid in self._children:
                try:
                    self._socket.send(f"kill {pid}".encode())
                except OSError:
                    pass

    def close(self, reason: str = "it was closed") -> None:
        """Stop using it: the reading thread then kills it, and its children die with it."""
        with self._lock:
            if self.failure is None:
                self.failure = reason
            try:
                self._socket.shutdown(socket.SHUT_RDWR)  # wakes the thread with an end of file
            except OSError:
                pass

    def forget(self) -> None:
        """In a process forked from the grader: the zygote is the parent's; close only our copy of the socket."""
        self.failure = self.failure or "it belongs to the process this one was forked from"
        self._socket.close()  # no shutdown: that would end the parent's zygote too

    def _run(self, theirs: socket.socket) -> None:
        """The reading thread: start the zygote, dispatch what it sends, and clean up once it ends."""
        try:
            try:
                process = subprocess.Popen(
                    [sys.executable, "-I", "-u", str(CHILD_SCRIPT), ZYGOTE_FLAG, str(theirs.fileno()),
                     str(os.getpid())],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    pass_fds=(theirs.fileno(),), cwd="/", env=_child_environment(),
                    start_new_session=True)  # out of the terminal's process group: Ctrl-C goes to the grader
            finally:
                theirs.close()
        except Exception as error:  # noqa: BLE001 - whatever it is, sandboxes start new interpreters instead
            self._stop(f"it could not start ({error})")
            return
        try:
            while True:
                try:
                    data = self._socket.recv(512)
                except OSError:
                    data = b""
                if not data:  # it died, or close() shut the socket
                    break
                self._dispatch(data.decode("ascii", "replace").split())
        finally:
            process.kill()  # no-op if it is dead already; its children die with it
            self._stop(f"it ended ({_describe_end(process.wait())})")
            self._socket.close()

    def _dispatch(self, words: list[str]) -> None:
        kind, arguments = (words[0], words[1:]) if words else ("", [])
        if kind == "hello":
            self.pid = int(arguments[0])
            self._ready.set()
        elif kind == "broken":  # it exits next: the end of file stops the thread
            with self._lock:
                self.failure = self.failure or " ".join(arguments)
        elif kind in ("forked", "failed"):
            with self._lock:
                pending = self._forks.pop(int(arguments[0]), None)
                if kind == "forked":
                    child = _ZygoteChild(self, int(arguments[1]))
                    self._children[child.pid] = child
                    if pending is None:  # its requester gave up waiting: the child is nobody's
                        with contextlib.suppress(OSError):
                            self._socket.send(f"kill {child.pid}".encode())
            if pending is not None:
                if kind == "forked":
                    pending.child = child
                else:
                    pending.error = f"it could not fork ({' '.join(arguments[1:])})"
                pending.done.set()
        elif kind == "exited":
            with self._lock:
                child = self._children.pop(int(arguments[0]), None)
            if child is not None:
                child.end(int(arguments[1]))

    def _stop(self, reason: str) -> None:
        """It ended: fail what awaits a fork; its children were killed with it (their death signal)."""
        with self._lock:
            if self.failure is None:
                self.failure = reason
            forks, self._forks = self._forks, {}
            children, self._children = self._children, {}
        for pending in forks.values():
            pending.error = self.failure
            pending.done.set()
        for child in children.values():
            child.end(-signal.SIGKILL, lost=True)
        self._ready.set()


@functools.cache
def _portable_platform() -> tuple[str, str] | None:
    """``(platform, why)`` where children start the portable way (`portable.portable_platform`), else None."""
    from autograder.sandbox.portable import portable_platform

    return portable_platform()


def _zygote_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "send_fds") \
        and hasattr(socket, "SOCK_SEQPACKET")


class _ZygoteKeeper:
    """This process's zygote: started on first use (or by `prestart`), started again after it ends.

    After `MAX_FAILURES` failures in a row (a zygote that does not start, or
    a forked child that does not), sandboxes of this process stop asking and
    start new interpreters instead, as where there is no fork.
    """

    MAX_FAILURES = 3

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.zygote: _Zygote | None = None
        self.enabled = True
        self.failures = 0
        self.last_failure = ""

    def get(self) -> _Zygote:
        """The live zygote, started if need be; raises `_ZygoteUnavailable` saying why there is none."""
        with self.lock:
            if not self.enabled:
                raise _ZygoteUnavailable("warm processes are off: prestart(False)")
            if not _zygote_supported():
                raise _ZygoteUnavailable(f"no fork-based start on this platform ({sys.platform})")
            if self.failures >= self.MAX_FAILURES:
                raise _ZygoteUnavailable(f"it failed {self.failures} times in a row; last: {self.last_failure}")
            if self.zygote is not None and (self.zygote.failure is not None or self.zygote.owner_pid != os.getpid()):
                self.zygote = None  # it ended (killed, say): a new one
            if self.zygote is None:
                self.zygote = _Zygote()
            return self.zygote

    def succeeded(self) -> None:
        self.failures = 0

    def failed(self, zygote: _Zygote, reason: str) -> None:
        with self.lock:
            self.failures += 1
            self.last_failure = reason
            if self.zygote is zygote and zygote.failure is not None:
                self.zygote = None

    def shutdown(self) -> None:
        with self.lock:
            zygote, self.zygote = self.zygote, None
        if zygote is not None and zygote.owner_pid == os.getpid():
            zygote.close()

    def forget_after_fork(self) -> None:
        """In a process forked from this one: neither the lock's state nor the zygote are ours."""
        self.lock = threading.Lock()
        zygote, self.zygote = self.zygote, None
        if zygote is not None:
            zygote.forget()


_zygote_keeper = _ZygoteKeeper()
atexit.register(_zygote_keeper.shutdown)
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_zygote_keeper.forget_after_fork)


class _SparePool:
    """One child started ahead of time, NumPy already imported, waiting for its configuration."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spare: _Child | None = None
        self.enabled = True

    def take(self) -> _Child:
        """The spare if it is alive and ours, else a new child (call `refill` once it is configured)."""
        with self.lock:
            spare, self.spare = self.spare, None
        if spare is not None and not spare.is_usable():
            spare.kill()  # only closes the pipes when it belongs to the process we were forked from
            spare = None
        return spare or _Child()

    def refill(self) -> None:
        """Start a new spare if there is none (and spares are wanted)."""
        with self.lock:
            if self.enabled and self.spare is None:
                self.spare = _Child()

    def shutdown(self) -> None:
        with self.lock:
            spare, self.spare = self.spare, None
        if spare is not None:
            spare.kill()


_spare_pool = _SparePool()
atexit.register(_spare_pool.shutdown)


def prestart(enabled: bool = True) -> None:
    """Keep a warm process, so that sandboxes skip Python and NumPy start-up.

    On by default: the zygote, which forks each sandbox's child in
    milliseconds, is started with the first sandbox (and again if it ends);
    where it cannot be used, one spare child is kept started instead.  Call
    ``prestart()`` early to have the first sandbox start warm too (it does not
    wait), or ``prestart(False)`` to end the warm processes and start a new
    interpreter for every child from then on.
    """
    _spare_pool.enabled = enabled
    _zygote_keeper.enabled = enabled
    if not enabled:
        _spare_pool.shutdown()
        _zygote_keeper.shutdown()
        return
    if _portable_platform() is not None:  # portable children start fresh: nothing to keep warm
        return
    try:
        _zygote_keeper.get()
    except _ZygoteUnavailable:
        _spare_pool.refill()


# --------------------------------------------------------------------------
# The sandbox


class _Resources:
    """What a sandbox must release, kept apart so a finalizer can release it without the sandbox."""

    def __init__(self) -> None:
        self.child: _Child | None = None
        self.scratch: str | None = None
        self.owner_pid = os.getpid()

    def release(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child = None
        # A process forked from the grader must not delete the grader's folders.
        if self.scratch is not None and self.owner_pid == os.getpid():
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch = None


class Sandbox:
    """Run one submission in a restricted child process and call its functions.

    Parameters
    ----------
    submission : Submission
        The cells to run (see `autograder.submission.read_submission`).
    limits : Limits, optional
        Time, memory and size limits.
    forbidden_paths : iterable of path, optional
        Paths the child may never read, even inside what Python needs (the
        child reads nothing but its interpreter, NumPy, the system's shared
        libraries and its scratch folder; see
        `restrictions.python_read_access`); a refusal names them the
        grader's own files.  By default `default_forbidden_paths`.
    start_method : {"zygote", "exec", "portable"}, optional
        How each child starts: forked from the zygote, a warm interpreter
        that has imported NumPy (a few milliseconds of CPU), or as a new
        interpreter (0.1 s or more).  Either way the child installs the same
        restrictions before it runs any student code.  ``"zygote"`` falls back
        to ``"exec"`` whenever the zygote cannot be used;
        ``protections["process start"]`` says how the current child started.
        ``"portable"`` starts the child with standard pipes only and without
        any kernel protection, as on Windows and macOS (see `portable`), where
        it is chosen whatever is asked.

    Notes
    -----
    Use it as a context manager; `load` runs the cells (implicitly on the first
    `call`).  `call_many` makes many calls to one function without waiting
    for each answer in turn: the same outcomes, far less waiting.  A call
    that times out or crashes ends the child; the next call starts a new one
    and reloads the cells transparently, within the budget, and `Ref`
    handles from before the restart become stale.

    A forked child dies with the zygote, and the zygote with the grader.  A
    child started as a new interpreter dies with the thread that started it
    (a Linux rule): with ``start_method="exec"``, create and use a sandbox in
    one long-lived thread.
    """

    _ids = itertools.count(1)

    def __init__(self, submission: Submission, limits: Limits = Limits(),
                 forbidden_paths: Iterable[str | os.PathLike[str]] | None = None, *,
                 start_method: Literal["zygote", "exec", "portable"] = "zygote") -> None:
        if start_method not in ("zygote", "exec", "portable"):
            raise ValueError(f"start_method must be 'zygote', 'exec' or 'portable', got {start_method!r}")
        self.submission = submission
        self.limits = limits
        self.start_method = start_method
        paths = default_forbidden_paths() if forbidden_paths is None else forbidden_paths
        self.forbidden_paths = tuple(Path(path) for path in paths)
        #: Which protections the child could install on this machine, and which it could not;
        #: ``"process start"`` says whether it was forked from the zygote or is a new interpreter.
        self.protections: dict[str, str] = {}
        self._id = next(Sandbox._ids)
        self._generation = 0
        self._resources = _Resources()
        self._finalizer = weakref.finalize(self, _Resources.release, self._resources)
        self._report: LoadReport | None = None
        self._functions: list[str] = []
        self._defined: dict[str, str] = {}
        self._skipped: dict[int, tuple[CellStatus, str]] = {}
        self._budget_used = 0.0
        self._busy_since: float | None = None
        self._budget_spent = False
        self._closed = False
        self._capture = _OutputCapture(limits.output_bytes)
        self._call_seq = itertools.count(1)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the child (forked from the zygote, or the warm spare, when there is one)."""
        if self._closed:
            raise RuntimeError("this sandbox is closed; make a new one")
        if self._resources.scratch is not None:
            return
        self._resources.scratch = tempfile.mkdtemp(prefix="autograder-sandbox-")
        self._resources.child = self._start_child()

    def close(self) -> None:
        """Kill the child and delete its scratch folder."""
        self._closed = True
        self._finalizer()

    # ------------------------------------------------------------ loading

    def load(self) -> LoadReport:
        """Run the submission's cells (once); later calls return the same report."""
        if self._report is not None:
            return self._report
        self.start()
        started = time.monotonic()
        mark = self._capture.mark()
        notes = list(self.submission.notes)
        with self._spending_budget():
            cells = self._load_cells(self._capture, notes)
        self._report = LoadReport(functions=list(self._functions), notes=notes, cells=cells,
                                  output=self._capture.text_since(mark), seconds=time.monotonic() - started,
                                  defined=dict(self._defined))
        return self._report

    def _load_cells(self, capture: _OutputCapture, notes: list[str]) -> list[CellReport]:
        """Run the cells, restarting without any cell that hangs or kills the process."""
        cells = {cell.index: cell for cell in self.submission.cells}
        lost_children = 0
        while True:
            if self._budget_left() <= 0:
                return self._out_of_budget_while_loading(None, notes)
            if self._resources.child is None:
                self._resources.child = self._start_child()
            child = self._resources.child
            child.send({"type": "load", "module_name": "__main__" if self.submission.is_notebook else "submission",
                        "cells": [{"index": cell.index, "origin": cell.origin, "source": cell.source,
                                   "first_line": cell.first_line, "kind": cell.kind, "announce": cell.runs_code}
                                  for index, cell in cells.items() if index not in self._skipped]})
            current: int | None = None
            try:
                while True:
                    message = child.next_message(self._deadline(self.limits.call_timeout), capture)
                    kind = message.header.get("type")
                    if message.refused is not None:
                        raise ProtocolError("a message of the load was larger than the limit")
                    if kind == "cell_start":
                        current = _read_cell_start(message.header, cells)
                    elif kind == "loaded":
                        child.drain_output(capture)
                        return self._read_loaded(message.header, cells, notes)
                    else:
                        raise ProtocolError(f"unexpected {_shown(kind)} message while loading")
            except _DeadlineReached:
                self._discard_child()
                if self._budget_left() <= 0:
                    return self._out_of_budget_while_loading(current, notes)
                failure: tuple[CellStatus, str] = (
                    "hung", f"did not finish within {self.limits.call_timeout:g} s and was skipped")
            except _ChildDied as death:
                self._discard_child()
                if death.lost and lost_children < 1:  # not the cell's doing: run them all again
                    lost_children += 1
                    capture.add(b"\n[the sandbox restarted, not because of this code; the cells run again]\n")
                    continue
                status, message = death.verdict(self.limits.memory_bytes)
                cause = message if status == "memory" else death.cause()
                failure = ("crashed", f"ended the process ({cause}) and was skipped")
            except ProtocolError as error:
                self._discard_child()
                failure = ("protocol", f"garbled the channel to the grader ({error}) and was skipped")
            except BaseException:  # the grader interrupted: the child is out of step with us
                self._discard_child()
                raise
            if current is None:
                notes.append(f"the sandbox stopped before running any cell: {failure[1]}")
                return [CellReport(cell.index, cell.where, "not run") for cell in cells.values()]
            self._skipped[current] = failure
            notes.append(f"{cells[current].where} {failure[1]}")
            capture.add(f"\n[{cells[current].where} {failure[1]}; the other cells run again]\n".encode())

    def _read_loaded(self, header: dict[str, Any], cells: dict, notes: list[str]) -> list[CellReport]:
        reported = header.get("cells")
        functions = header.get("functions")
        defined = header.get("defined", {})
        if type(reported) is not list or type(functions) is not list or len(functions) > _MAX_FUNCTIONS \
                or any(type(name) is not str or len(name) > 200 for name in functions) or type(defined) is not dict:
            raise ProtocolError("the loaded message is malformed")
        outcomes: dict[int, tuple[str, list[dict[str, Any]]]] = {}
        for item in reported:
            if type(item) is not dict or type(item.get("index")) is not int or item["index"] not in cells or \
                    type(item.get("status")) is not str or item["status"] not in _CHILD_CELL_STATUSES or \
                    not _valid_load_errors(item.get("errors")):
                raise ProtocolError("a cell outcome in the loaded message is malformed")
            outcomes[item["index"]] = (item["status"], item["errors"])
        self._functions = functions
        origins = {cell.origin for cell in cells.values()}
        self._defined = {name: location(place[0], place[1]) for name, place in defined.items()
                         if name in functions and type(place) is list and len(place) == 2
                         and type(place[0]) is str and place[0] in origins and type(place[1]) is int}
        reports = []
        for index, cell in cells.items():
            stopped_at = 0
            if index in self._skipped:
                status, error = self._skipped[index]
            else:
                status, errors = outcomes.get(index, ("not run", []))
                texts = [_load_note(cell, item) for item in errors]
                rest = "the rest of the file" if cell.kind == "statement" else "the rest of that cell"
                for item, text in zip(errors, texts):
                    if item["continued"]:
                        text += "; the rest of the cell still ran (only what needs this import is missing)"
                    elif status == "exited":
                        text += f"; {rest} was not run"
                    notes.append(text)
                error = texts[-1] if texts else ""
                if errors and not errors[-1]["continued"]:
                    stopped_at = errors[-1]["at"]
            reports.append(CellReport(index, cell.where, status, error, stopped_at))
        return reports

    def _out_of_budget_while_loading(self, current: int | None, notes: list[str]) -> list[CellReport]:
        self._budget_spent = True
        where = f" while loading {self._origin(current)}" if current is not None else ""
        notes.append(f"the time budget of {self.limits.budget:g} s for this submission ran out{where}")
        return [CellReport(cell.index, cell.where, "hung" if cell.index == current else "not run")
                for cell in self.submission.cells]

    # ------------------------------------------------------------ calling

    def call(self, function_name: str, /, *args: Any, **kwargs: Any) -> CallOutcome:
        """Call the student's function *function_name* with the given arguments.

        Arguments may be numbers, strings, None, lists, tuples, dicts, numeric
        NumPy arrays and scalars, and `Ref` handles from earlier calls (the
        child passes its own object).  Anything else raises `TypeError`: that
        is the grader's mistake, not the student's.

        Returns
        -------
        CallOutcome
            Never raises for anything the student's code does.
        """
        return self.call_many(function_name, [(args, kwargs)])[0]

    def call_many(self, function_name: str, calls: Sequence[tuple[tuple, dict]], /, *,
                  stop_after: Collection[str] = (), value_items: Collection[int] | None = None,
                  arguments_after: bool = True, timed: bool = False,
                  max_reply_bytes: int | Sequence[int | None] | None = None) -> list[CallOutcome]:
        """Call *function_name* once per ``(args, kwargs)`` in *calls*, in order, in one round trip.

        The outcomes are those of calling `call` once per item: each call has
        its own timeout, output, ``args_after`` and `Ref`, and Refs from
        earlier calls (or batches) may be arguments.  The calls are sent ahead
        without waiting and the child answers them one by one as it goes, so
        the grader and the child no longer take turns for every call.

        Parameters
        ----------
        function_name : str
            The student's function.
        calls : sequence of (tuple, dict)
            Positional and keyword arguments of each call, as for `call`.
        value_items : collection of int, optional
            Where a call returns a tuple or list, send back only these items
            (the others arrive as None; the whole value stays in the child for
            Refs). For a forward pass that returns ``(out, cache)``, ``{0}``
            spares the cache's arrays the trip.
        stop_after : collection of str, optional
            Statuses (e.g. ``{"timeout"}``) after which the remaining calls are
            not run: they get the same outcome, saying so. A function that
            hangs then costs one timeout, not one per call.
        arguments_after : bool, optional
            Whether the child sends the arguments back after each call
            (``args_after``, ``kwargs_after``), for the grader to compare with
            what it sent. Without them (a backward, whose cache would travel
            back for nothing) the reply is smaller.
        timed : bool, optional
            Run the calls one at a time, nothing sent ahead, each bracketed by
            readings of the child's CPU clock (``cpu_seconds``).
        max_reply_bytes : int or sequence of (int or None), optional
            Largest reply (header and body) accepted for each call, or one
            such bound per call; default `Limits.message_bytes`. A larger
            reply is refused from its length alone, discarded unread, and the
            call's status is ``"protocol"`` (the child runs on). Bound it by
            what the result can be: a value that costs the student's process
            nothing (a zero-stride view) then costs the grader nothing either.

        Returns
        -------
        list of CallOutcome
            One per call, in order.  Never raises for anything the student's
            code does; an argument that cannot be sent raises `TypeError`
            before any call runs.

        Notes
        -----
        A call that times out or ends the process gets its status as with
        `call`; the calls before it keep their results, and the ones after it
        run in the restarted child (where Refs from before the restart are
        ``"stale"``).  Once the budget is spent, the remaining calls are
        ``"budget"``.  One difference from lone calls: a call that garbles
        the channel (``"protocol"``) is only noticed once the child may have
        gone on to the next calls; they are run again in the restarted child,
        but what they did to the scratch folder the first time stays.

        The child keeps the results of the last `Limits.kept_results` calls
        (512 by default) for Refs, so a batch of up to that many forwards can
        be followed by a batch of backwards using their caches.

        Examples
        --------
        The course's forward then backward pass, each batched, the caches
        staying in the child (``dout`` and ``cases`` are the grader's)::

            forwards = box.call_many("conv_forward_naive", [((x, w, b, p), {}) for x, w, b, p in cases])
            backwards = box.call_many("conv_backward_naive",
                                      [((d, f.ref[1]), {}) for d, f in zip(dout, forwards)])
        """
        if self._closed:
            raise RuntimeError("this sandbox is closed; make a new one")
        items = None if value_items is None else sorted(int(i) for i in value_items)
        if max_reply_bytes is None or type(max_reply_bytes) is int:
            reply_limits: Sequence[int | None] = [max_reply_bytes] * len(calls)
        else:
            reply_limits = list(max_reply_bytes)
            if len(reply_limits) != len(calls):
                raise ValueError(f"call_many({function_name!r}, calls): {len(reply_limits)} reply limits "
                                 f"for {len(calls)} calls")
        requests = [_CallRequest.encode(function_name, number, item, next(self._call_seq), items, limit,
                                        arguments_after=arguments_after)
                    for number, (item, limit) in enumerate(zip(calls, reply_limits))]
        if self._report is None:
            self.load()
        with self._spending_budget():
            return self._run_calls(requests, frozenset(stop_after), timed=timed)

    def _run_calls(self, requests: list[_CallRequest], stop_after: frozenset[str] = frozenset(), *,
                   timed: bool = False) -> list[CallOutcome]:
        """Run the calls in order, pipelined (unless *timed*).

        Calls are sent ahead (up to `_SEND_AHEAD_BYTES`); the child runs them
        one at a time and answers each in turn.  Each call is still judged as
        a lone call: the budget and its Refs are checked when its turn comes,
        and its timeout runs from the moment the call before it answered.  A
        call that ends the child loses the calls sent after it; they are sent
        again to the restarted child.  *timed* calls are sent one at a time,
        so that the child's CPU clock, read before each is sent and after its
        answer, brackets that call alone.
        """
        outcomes: list[CallOutcome] = []
        sent: collections.deque[int] = collections.deque()  # sent to the current child, not yet answered
        sent_bytes = next_to_send = 0
        output_start = self._capture.mark()
        for index, request in enumerate(requests):
            refusal = self._refuse_call(request)
            if refusal is not None:
                if sent and refusal.status == "budget":  # the child is already running later calls
                    self._discard_child()
                    sent.clear()
                outcomes.append(refusal)
                continue
            child = self._resources.child
            if not sent:  # a new child, or every call sent so far has answered
                output_start = self._capture.mark()
                sent_bytes, next_to_send = 0, index
            while next_to_send < len(requests) and (not sent or (sent_bytes < _SEND_AHEAD_BYTES and not timed)):
                later = requests[next_to_send]
                # A call with a stale Ref is not sent: its turn will say so.
                if next_to_send == index or self._stale_outcome(later.refs) is None:
                    child.send_frame(later.frame(), seq=later.seq, reply_limit=later.max_reply_bytes)
                    sent.append(next_to_send)
                    sent_bytes += later.nbytes
                next_to_send += 1
            outcome, output_end = self._await_result(child, request, timed=timed)
            if self._resources.child is child:
                sent.popleft()
                sent_bytes -= request.nbytes
            else:  # the child was discarded, with the calls sent after this one
                sent.clear()
            outcome.output = self._capture.text_between(output_start, output_end)
            output_start = output_end
            outcomes.append(outcome)
            if outcome.status in stop_after:
                if sent:  # later calls were sent ahead to a child that is still running them
                    self._discard_child()
                not_run = CallOutcome(outcome.status, error=f"{outcome.error} (so it was not run again on other cases)")
                outcomes += [dataclasses.replace(not_run) for _ in requests[index + 1:]]
                break
        return outcomes

    @contextlib.contextmanager
    def paused(self) -> Iterator[bool]:
        """The child stopped (SIGSTOP: every thread) while the grader measures something of its own.

        Between calls the child has nothing to do; what a student's threads
        would do then, such as hammering memory to slow the grader's timing
        of the reference, waits for the end of the block. Yields whether the
        child is stopped (not where no pidfd could be opened for it).
        """
        child = self._resources.child
        stopped = child is not None and child.stop()
        try:
            yield stopped
        finally:
            if stopped:
                child.resume()

    def _refuse_call(self, request: _CallRequest) -> CallOutcome | None:
        """The outcome of a call that cannot run (budget spent, stale Ref, restart failed), else None.

        Restarts the child, quietly, if a timeout or crash ended it.
        """
        started = time.monotonic()
        if self._budget_spent or self._budget_left() <= 0:
            self._budget_spent = True
            return CallOutcome("budget", error=f"not run: the time budget of {self.limits.budget:g} s "
                                               "for this submission is used up")
        stale = self._stale_outcome(request.refs)
        if stale is not None:
            return stale
        if self._resources.child is None:  # restart after a timeout or crash, quietly
            self._load_cells(_OutputCapture(0), [])
            if self._budget_spent:
                return CallOutcome("budget", error=f"the time budget of {self.limits.budget:g} s for this "
                                                   "submission ran out while restarting",
                                   seconds=time.monotonic() - started)
            if self._resources.child is None:
                return CallOutcome("crashed", error="the process ended while the submission was reloaded "
                                                    "after a restart", seconds=time.monotonic() - started)
        return None

    def _stale_outcome(self, refs: tuple[Ref, ...]) -> CallOutcome | None:
        stale = next((ref for ref in refs if ref.sandbox_id != self._id or ref.generation != self._generation), None)
        if stale is None:
            return None
        where = "another sandbox" if stale.sandbox_id != self._id else "before the sandbox restarted"
        return CallOutcome("stale", error=f"an argument is a result from {where}; call the function that made it again")

    def _await_result(self, child: _Child, request: _CallRequest, *, retry_lost: bool = True,
                      timed: bool = False) -> tuple[CallOutcome, tuple[int, int]]:
        """Wait for the result of *request*, sent earlier; return it and the capture's mark where its output ends.

        A child lost with the zygote (see `_ChildDied`) does not make the
        call's outcome: the call runs again, once, in a new child.  With
        *timed* (the call was the only one sent, and its frame is still
        queued: `_Child.send_frame` writes nothing until `_Child.next_message`
        runs), the child's CPU clock is read now and once the answer is in.
        """
        call_started = time.monotonic()
        cpu_started = child.cpu_seconds() if timed else None
        cpu_answered = output_end = None
        try:
            message = child.next_message(self._deadline(self.limits.call_timeout), self._capture)
            if cpu_started is not None:
                cpu_answered = child.cpu_seconds()
            if message.refused is not None:  # skipped unread; the child is still in step
                output_end = child.drain_output_until(request.seq, self._capture)
                outcome = _refused_outcome(*message.refused)
            else:
                if message.header.get("type") != "result":
                    raise ProtocolError(f"expected a result, got a {_shown(message.header.get('type'))} message")
                if message.header.get("seq") != request.seq:
                    raise ProtocolError("a result arrived for another call than the one expected")
                output_end = child.drain_output_until(request.seq, self._capture)
                outcome = self._read_result(message, request)
        except _DeadlineReached:
            self._discard_child()
            if self._budget_left() <= 0:
                self._budget_spent = True
                outcome = CallOutcome("budget", error=f"the time budget of {self.limits.budget:g} s for this "
                                                      "submission ran out during this call")
            else:
                outcome = CallOutcome("timeout", error=f"did not return within {self.limits.call_timeout:g} s "
                                                       "(an infinite loop?)")
        except _ChildDied as death:
            self._discard_child()
            if death.lost and retry_lost:
                return self._retry_lost_call(request, timed=timed)
            status, error = death.verdict(self.limits.memory_bytes)
            outcome = CallOutcome(status, error=error)
        except ProtocolError as error:
            if output_end is None:  # the child does not know it garbled the channel: it may be on the next calls
                output_end = child.drain_output_until(request.seq, self._capture)
            self._discard_child()
            outcome = CallOutcome("protocol", error=f"the reply could not be read: {error}")
        except BaseException:  # e.g. KeyboardInterrupt in the grader: the replies would arrive out of step
            self._discard_child()
            raise
        outcome.seconds = time.monotonic() - call_started
        if cpu_answered is not None and outcome.ok:
            outcome.cpu_seconds = cpu_answered - cpu_started
        if output_end is None:  # the call failed; its output ends at its marker if it got that far
            output_end = child.marks.get(request.seq) or self._capture.mark()
        return outcome, output_end

    def _retry_lost_call(self, request: _CallRequest, *, timed: bool = False) -> tuple[CallOutcome, tuple[int, int]]:
        """Run *request* again in a new child (its Refs from the lost one are stale, as after any restart)."""
        refusal = self._refuse_call(request)  # starts the child and loads the cells again
        if refusal is not None:
            return refusal, self._capture.mark()
        child = self._resources.child
        child.send_frame(request.frame(), seq=request.seq, reply_limit=request.max_reply_bytes)
        return self._await_result(child, request, retry_lost=False, timed=timed)

    def _read_result(self, message: Message, request: _CallRequest) -> CallOutcome:
        """The outcome a result message reports; raises `ProtocolError` if it is malformed.

        When the call asked for them, the arguments come back with every
        result that has a value, whether or not the child thinks they changed:
        whether they did is decided by the grader, comparing them with what it
        sent (`autograder.judge.inputs_unchanged`). What this can and cannot
        catch: a function that changes its arguments in place, or a student's
        code that replaces functions of the child's own module (its helpers,
        its clock), is seen, since the grader believes no verdict of the
        child's. A student who rewrites the child's whole call machinery (the
        interpreter is theirs) can still send back copies taken before the
        call; handing the arguments over in shared memory would stop that for
        arrays, not for dicts, at the price of a memfd per child, sealed, and
        a second descriptor through the zygote.
        """
        header = message.header
        status, error, ref_id = (header.get(name) for name in ("status", "error", "ref"))
        # type() first: a JSON list or dict is unhashable.
        if type(status) is not str or status not in _CHILD_STATUSES or type(error) is not str \
                or not (ref_id is None or type(ref_id) is int and 0 <= ref_id < 2**63):
            raise ProtocolError("the result message is malformed")
        error = error[:_MAX_ERROR_CHARS]
        value = args_after = None
        kwargs_after: Any = {}
        if "value" in header:
            value = protocol.decode_value(header["value"], message.body)
            if request.arguments_after:
                if "args_after" not in header or "kwargs_after" not in header:
                    raise ProtocolError("the result does not hold the arguments after the call")
                args_after = protocol.decode_value(header["args_after"], message.body)
                kwargs_after = protocol.decode_value(header["kwargs_after"], message.body)
                if type(args_after) is not tuple or type(kwargs_after) is not dict:
                    raise ProtocolError("the arguments after the call are malformed")
        if status == "raised":
            error = f"raised {error}"
        elif status == "memory":
            detail = f" {error}" if error.startswith("(") else f": {error}" if error else ""
            error = f"ran out of memory (limit {_format_bytes(self.limits.memory_bytes)}){detail}"
        ref = Ref(self._id, self._generation, ref_id) if status == "ok" and ref_id is not None else None
        return CallOutcome(status, value=value if status == "ok" else None, ref=ref, error=error,
                           args_after=args_after or (), kwargs_after=kwargs_after)

    # ------------------------------------------------------------ helpers

    def _start_child(self) -> _Child:
        """A configured child: forked from the zygote when it can be, else a new interpreter.

        Where the platform lacks what those need (see `portable.portable_platform`),
        or when asked, a portable child.
        """
        portable = _portable_platform()
        if portable is not None or self.start_method == "portable":
            return self._portable_child(*(portable or ("linux", "the portable start installs none "
                                                                "(start_method='portable')")))
        if self.start_method == "exec":
            return self._exec_child("new interpreter (start_method='exec')")
        try:
            zygote = _zygote_keeper.get()
        except _ZygoteUnavailable as why:
            return self._exec_child(f"new interpreter: no zygote ({why})")
        child = None
        try:
            child = _Child(zygote, self.limits.start_timeout)
            self._configure(child)
        except _ZygoteUnavailable as why:
            reason = str(why)
        except (_ChildDied, _DeadlineReached, ProtocolError) as failure:
            reason = f"a child it forked did not start ({type(failure).__name__})"
        else:
            _zygote_keeper.succeeded()
            self.protections["process start"] = f"forked from the zygote (pid {zygote.pid})"
            return child
        # Never the submission's loss: start this child the old way.
        if child is not None:
            child.kill()
        _zygote_keeper.failed(zygote, reason)
        return self._exec_child(f"new interpreter: the zygote failed ({reason})")

    def _exec_child(self, note: str) -> _Child:
        """A configured child that is a new interpreter (the warm spare if there is one)."""
        child = _spare_pool.take()
        try:
            self._configure(child)
            _spare_pool.refill()  # after configuring, so the spare's start-up does not compete with ours
            self.protections["process start"] = note
            return child
        except (_ChildDied, _DeadlineReached, ProtocolError):
            child.kill()  # perhaps a spare whose starting thread has ended; try once with a fresh one
        child = _Child()
        self._configure_new(child)
        self.protections["process start"] = note
        return child

    def _configure_new(self, child: _Child) -> None:
        """Configure a child just started; `SandboxStartError`, with its last output, if it does not start."""
        quiet = _OutputCapture(0)
        try:
            self._configure(child, quiet)
        except (_ChildDied, _DeadlineReached, ProtocolError) as failure:
            child.kill()
            detail = bytes(quiet.tail).decode("utf-8", "replace").strip().splitlines()[-3:]
            raise SandboxStartError(f"the sandbox child could not start ({type(failure).__name__}); "
                                    f"its last output: {' | '.join(detail) or '(none)'}") from None

    def _portable_child(self, platform: str, why: str) -> _Child:
        """A configured portable child (see `portable`); `SandboxStartError` if it does not start."""
        from autograder.sandbox.portable import PortableChild
        from autograder.sandbox.simulate import simulated_platform

        child = PortableChild(platform, why, simulate=simulated_platform() is not None)
        self._configure_new(child)
        self.protections["process start"] = f"portable subprocess ({why})"
        return child

    def _configure(self, child: _Child, capture: _OutputCapture | None = None) -> None:
        forbidden = tuple(sorted(os.path.realpath(path) for path in self.forbidden_paths))
        package_folders = _blocked_package_folders()
        readable, read_roots, list_only = _read_plan(forbidden + tuple(folder for folder, _ in package_folders))
        budget_left = max(1.0, self._budget_left())
        child.reader = protocol.FrameReader(self.limits.message_bytes)
        child.send({
            "type": "configure", "scratch": self._resources.scratch,
            "memory_bytes": self.limits.memory_bytes, "file_bytes": self.limits.file_bytes,
            "scratch_bytes": self.limits.scratch_bytes, "cpu_seconds": math.ceil(budget_left) + 5,
            "message_bytes": self.limits.message_bytes, "kept_results": self.limits.kept_results,
            "kept_result_bytes": self.limits.kept_result_bytes, "output_nonce": child.output_nonce.hex(),
            "blocked_modules": list(BLOCKED_MODULES),
            "forbidden_reads": [[path, ""] for path in forbidden] + [list(pair) for pair in package_folders],
            "readable": readable, "read_roots": read_roots, "list_only": list_only,
            "skip_protections": sorted(_SKIPPED_PROTECTIONS), **child.configuration,
        })
        message = child.next_message(time.monotonic() + self.limits.start_timeout, capture or _OutputCapture(0))
        self.protections = _read_ready(message.header)
        child.cpu_clock, child.timing = _without_processes(child.cpu_clock, child.timing, self.protections)
        self.protections["speed timing"] = child.timing

    def _discard_child(self) -> None:
        """Kill the child; its results (and so every Ref to them) are gone."""
        if self._resources.child is not None:
            self._resources.child.kill()
            self._resources.child = None
        self._generation += 1

    @contextlib.contextmanager
    def _spending_budget(self) -> Iterator[None]:
        """Count the time spent inside against the budget.

        Only loading and calls count: the grader's own work between calls
        (drawing cases, running the oracle) is not the student's time.
        """
        if self._busy_since is not None:  # nested: the outer block counts
            yield
            return
        self._busy_since = time.monotonic()
        try:
            yield
        finally:
            self._budget_used += time.monotonic() - self._busy_since
            self._busy_since = None

    def _budget_left(self) -> float:
        busy = time.monotonic() - self._busy_since if self._busy_since is not None else 0.0
        return self.limits.budget - self._budget_used - busy

    def _deadline(self, seconds: float) -> float:
        """When to give up waiting: after *seconds*, or when the budget runs out if sooner."""
        return time.monotonic() + min(seconds, self._budget_left())

    def _origin(self, index: int | None) -> str:
        return next((cell.where for cell in self.submission.cells if cell.index == index), f"cell {index}")


@dataclass(frozen=True)
class _CallRequest:
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
               arguments_after: bool = True) -> _CallRequest:
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
        refs = tuple(_refs_in((args, kwargs)))
        key = _cache_key(function_name, (value_items, arguments_after), args, kwargs) if not refs else None
        cached = _ENCODED_CALLS.get(key) if key is not None else None
        if cached is None:
            fields = {"type": "call", "function": function_name}
            if value_items is not None:
                fields["value_items"] = value_items
            if not arguments_after:
                fields["arguments_after"] = False
            rest, body = protocol.encode_message(fields, {"args": args, "kwargs": kwargs}, strict=True)
            cached = rest, body
            if key is not None and sum(view.nbytes for view in body) <= _ENCODED_CALL_BYTES:
                # Kept as copies: the caller may change its arrays afterwards.
                cached = rest, [memoryview(bytes(view)) for view in body]
                if len(_ENCODED_CALLS) >= _ENCODED_CALL_ENTRIES:
                    _ENCODED_CALLS.clear()
                _ENCODED_CALLS[key] = cached
        rest, body = cached
        header = b'{"seq": %d, ' % seq + rest[1:]  # the one field that differs from call to call
        return cls(seq, header, body, refs, arguments_after, max_reply_bytes)


# Every submission of a class meets the same cases, so the same calls: their
# encoding is kept per process, by the content of the call (function, values
# asked for, arguments), for calls without Refs and with small arrays.
_ENCODED_CALLS: dict[str, tuple[bytes, list[memoryview]]] = {}
_ENCODED_CALL_ENTRIES = 8192
_ENCODED_CALL_BYTES = 64 * 1024


def _cache_key(function_name: str, options: Any, args: tuple, kwargs: dict) -> str | None:
    """The content digest of a call, or None for one not worth keeping (large arrays) or not hashable here."""
    if array_bytes((args, kwargs), np.ndarray) > _ENCODED_CALL_BYTES:
        return None  # hashing it would cost about what encoding it does
    try:
        return content_digest((function_name, options, args, kwargs))
    except Exception:  # noqa: BLE001 - e.g. a repr that raises: encoding says what is wrong with it
        return None


def _refs_in(value: Any) -> Iterable[Ref]:
    """Every Ref inside nested tuples, lists and dicts."""
    kind = type(value)
    if kind is Ref:
        yield value
    elif kind in (list, tuple):
        for item in value:
            yield from _refs_in(item)
    elif kind is dict:
        for item in value.values():
            yield from _refs_in(item)


__all__ = ["CallOutcome", "CellReport", "Limits", "LoadReport", "Sandbox", "SandboxStartError",
           "default_forbidden_paths", "prestart"]
