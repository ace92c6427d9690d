"""One child process, seen from the grader: its pipes, its death, its CPU clock.

`Child` writes requests, reads replies and drains the output pipe in one
select loop, so that neither side can block the other however much either
sends; `ChildDied` says how a child ended and what the student is told;
`cpu_clock_of` finds the kernel's clock of the child's CPU time, from which
speed is measured.  Whether a child is forked by the zygote or a new
interpreter, it is driven the same way (and `portable.PortableChild`, on
platforms without ``select`` on pipes, is a `Child` that moves bytes
differently).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from .capture import OutputCapture
from .child import protocol
from .child.protocol import Message
from .launch import CHILD_SCRIPT, child_environment, describe_end
from .outcomes import CallStatus, format_bytes
from .zygote_client import ZYGOTE_ANSWER_SECONDS, Zygote, ZygoteChild


class DeadlineReached(Exception):
    """The child did not answer in time."""


class ChildDied(Exception):
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
        return describe_end(self.returncode)

    def verdict(self, memory_bytes: int) -> tuple[CallStatus, str]:
        """The status and the student's message for this death."""
        out_of_memory = f"ran out of memory (limit {format_bytes(memory_bytes)})"
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


class Child:
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

    def __init__(self, zygote: Zygote | None = None, start_timeout: float = 30.0) -> None:
        """Fork the child from *zygote*, or without one start a new interpreter."""
        request_read, self.request_fd = os.pipe()
        self.reply_fd, reply_write = os.pipe()
        self.output_fd, output_write = os.pipe()
        self.process: subprocess.Popen | ZygoteChild
        try:
            if zygote is not None:
                self.process = zygote.fork((request_read, reply_write, output_write), start_timeout)
            else:
                self.process = subprocess.Popen(
                    [sys.executable, "-I", "-u", str(CHILD_SCRIPT), str(request_read), str(reply_write),
                     str(os.getpid())],
                    stdin=subprocess.DEVNULL, stdout=output_write, stderr=output_write,
                    pass_fds=(request_read, reply_write), cwd="/", env=child_environment(),
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
        self._init_channel()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.reply_fd, selectors.EVENT_READ)
        self.selector.register(self.output_fd, selectors.EVENT_READ)
        self.closed = False
        #: The kernel's clock of the child's CPU time, and how speed is measured (see `cpu_clock_of`).
        self.cpu_clock, self.timing = cpu_clock_of(self.process)
        #: A handle on the process itself (not its pid, which could be reused), to stop it: see `Sandbox.paused`.
        self.pidfd = _open_pidfd(self.process.pid) if self.cpu_clock is not None else None

    def _init_channel(self) -> None:
        """The state for talking to a child just started: its output marker (a new nonce), frames, marks, queues."""
        self.owner_pid = os.getpid()
        self.output_nonce = os.urandom(protocol.OUTPUT_MARK_NONCE_BYTES)
        self._output_marker = protocol.OUTPUT_MARK_TAG + self.output_nonce
        self._output_carry = b""
        self.awaited_marks: set[int] = set()
        self.marks: dict[int, tuple[int, int]] = {}
        self.reader = protocol.FrameReader(1 << 30)
        self.outgoing: list[memoryview] = []
        self.inbox: list[Message] = []
        self.reply_closed = False
        self.output_closed = False

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

    def next_message(self, deadline: float, capture: OutputCapture, *, settle: float = 0.0) -> Message:
        """Wait for the next whole reply frame until *deadline* (a ``time.monotonic`` value).

        With *settle* (seconds), when no reply is in yet and every request
        is written, first sleep that long: with calls sent ahead, the child
        answers several meanwhile, and they are then read and cut in one go
        instead of one wake-up each.  The child still writes each reply as
        its call ends, so what a later call does (hang, crash) cannot hold
        back an earlier call's result.

        Raises `DeadlineReached`, `ChildDied` or `ProtocolError`.
        """
        self._release_requests()
        if settle > 0 and not self.inbox and not self.outgoing:
            time.sleep(max(0.0, min(settle, deadline - time.monotonic())))
        while not self.inbox:
            if self.reader.broken:
                self.reader.feed(b"")  # raises the ProtocolError found after the last whole frame
            if self.reply_closed:
                self._wait_for_exit(capture)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineReached
            self._move_bytes(remaining, capture)
        return self.inbox.pop(0)

    def _release_requests(self) -> None:
        """Let the queued requests be written (here the select loop writes them as the pipe takes them)."""

    def _move_bytes(self, timeout: float, capture: OutputCapture) -> None:
        """Write requests, read replies and output, for as long as *timeout* or until something moved."""
        for key, _ in self.selector.select(timeout):
            if key.fd == self.reply_fd:
                self._read_replies()
            elif key.fd == self.output_fd:
                self._read_output(capture)
            else:
                self._write_requests()

    def drain_output(self, capture: OutputCapture) -> None:
        """Read what the child printed so far; it wrote it before its reply, so it is in the pipe."""
        while not self.output_closed and self._read_output(capture):
            pass

    def drain_output_until(self, seq: int, capture: OutputCapture) -> tuple[int, int]:
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

    def _read_output(self, capture: OutputCapture) -> bool:
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

    def _split_output(self, data: bytes, capture: OutputCapture) -> None:
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

    def _reap(self) -> bool:
        """Wait a second for the process to end, else end it; True if it was alive (it closed the channel itself)."""
        try:
            self.process.wait(timeout=1.0)
            return False
        except subprocess.TimeoutExpired:  # alive, but it closed its end of the channel
            self._terminate()
            return True

    def _wait_for_exit(self, capture: OutputCapture) -> None:
        """The reply pipe closed: collect the exit status and raise `ChildDied`."""
        closed_channel = self._reap()
        self.drain_output(capture)
        lost = isinstance(self.process, ZygoteChild) and self.process.lost
        raise ChildDied(self.process.returncode, bytes(capture.tail), closed_channel and not lost, lost)

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
        if isinstance(self.process, ZygoteChild):
            # The zygote reaps it, so only the zygote knows its pid is still its own: it kills the group.
            self.process.kill_group()
            try:
                self.process.wait(timeout=ZYGOTE_ANSWER_SECONDS)
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


def cpu_clock_of(process: subprocess.Popen | ZygoteChild) -> tuple[int | None, str]:
    """The clock id of *process*'s CPU time, and a note for ``Sandbox.protections["speed timing"]``.

    Speed is measured from here, never by the child: whatever the child's
    interpreter reports about itself, its student can rewrite. Linux gives
    every process a CPU-time clock that another process may read
    (``clock_getcpuclockid``; the id is ``((~pid) << 3) | 2``, CPUCLOCK_SCHED
    of the whole thread group): the scheduler's exact nanoseconds of every
    thread, the student's own threads and those that have ended included,
    for well under a microsecond per reading. A helper process would not
    count, but seccomp forbids starting one (threads only; without seccomp,
    see `without_processes`). Where the clock cannot be read (not Linux,
    or a pid that is not our child's, as behind a PID namespace), None:
    speed is then wall-clock time measured here.
    """
    pid = process.pid
    expected_parent = process.zygote.pid if isinstance(process, ZygoteChild) else os.getpid()
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


def without_processes(clock: int | None, note: str, protections: Mapping[str, str]) -> tuple[int | None, str]:
    """The child's CPU clock only where the child cannot start processes (seccomp on), else None and why.

    A process the child started would compute unseen by the child's CPU
    clock while the child waits for it; the grader's wall clock, which
    counts that wait, stands in then.
    """
    if clock is not None and not protections.get("seccomp", "").startswith("on"):
        return None, ("wall-clock time of each call, measured by the grader (without the seccomp filter the child "
                      "could start processes whose work its CPU clock would not count)")
    return clock, note
