"""The portable start: a sandbox child on Windows, macOS, or wherever Linux's machinery is missing.

The Linux start (`parent`) passes extra pipe descriptors to the child, waits
on them with ``select``, forks children from a zygote, reads each child's
CPU clock and installs Landlock, seccomp and namespaces.  None of that exists
on Windows; on macOS neither the kernel features nor a safe fork do (its
system libraries are not fork-safe, which is why Python's multiprocessing
spawns there), and a per-process CPU clock cannot be read from outside.  So
there, the child is a plain ``subprocess.Popen([sys.executable, child/main.py,
"--portable", ...])`` with the three standard pipes only:

* requests go to its stdin; it replies on the stdout it started with, which
  it moves to a new descriptor before pointing fd 1 at stderr; stderr is the
  output pipe, where everything the student prints goes, with the same call
  markers as on Linux (`child.main._start_portable`);
* a thread per pipe reads (no ``select`` on pipes: Windows has it for
  sockets only), each holding at most a few chunks unread by the grader, so
  a child printing without end is held back by a full pipe as on Linux;
  requests are written by a thread of their own, once the grader waits;
* the protocol, the per-call timeouts, the budget, the crash verdicts and
  the kill (``Popen.kill``) are the Linux path's: `PortableChild` is a
  `process.Child` that moves bytes differently;
* the child installs what the platform has (`child.restrictions.install_portable`):
  resource limits where ``resource`` exists, the import blocker and the audit
  hook everywhere, no kernel protection, each reported unavailable;
* speed is measured on the grader's wall clock around each call.

`portable_platform` says when it is used: always on Windows and macOS, on
Linux only where fork or the ``posix`` module is missing, or under the
simulation of `child.simulate` (``AUTOGRADER_SANDBOX_SIMULATE=windows``), or with
``Sandbox(..., start_method="portable")``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from .capture import OutputCapture
from .child import protocol
from .child.simulate import VARIABLE, simulated_platform
from .launch import CHILD_SCRIPT, child_environment
from .outcomes import CallStatus
from .process import Child, ChildDied

__all__ = ["PORTABLE_FLAG", "PortableChild", "portable_platform", "platform_name"]

#: The child's first argument when started the portable way (`child.PORTABLE_FLAG`).
PORTABLE_FLAG = "--portable"
#: Chunks a reading thread may hold that the grader has not taken yet (per pipe).
_CHUNKS_AHEAD = 4
_CHUNK_BYTES = 1 << 16
#: How long the grader waits for a call's (or a load's) output marker once its reply is in:
#: the child wrote the marker first, so only a student who closed the descriptor makes it wait this long.
_MARK_WAIT_SECONDS = 2.0
#: Windows exit codes of a crashed process (NTSTATUS), with what a student reads.
_WINDOWS_CRASHES = {
    0xC0000005: "access violation", 0xC00000FD: "stack overflow", 0xC0000409: "stack buffer overrun or fail-fast",
    0xC000001D: "illegal instruction", 0xC0000094: "integer division by zero", 0xC0000017: "out of memory",
}


def platform_name() -> str:
    """``"windows"``, ``"macos"``, ``"linux"`` or `sys.platform`: the simulated one if there is one."""
    simulated = simulated_platform()
    if simulated:
        return simulated
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux" if sys.platform.startswith("linux")
                                                      else sys.platform)


def portable_platform() -> tuple[str, str] | None:
    """``(platform, why)`` when children must start the portable way here, else None (Linux as usual).

    *why* says, for ``Sandbox.protections``, why the kernel protections are missing.
    """
    simulated = simulated_platform()
    if simulated:
        return simulated, f"simulated {simulated} ({VARIABLE}): no Linux kernel features"
    name = platform_name()
    if name != "linux":
        return name, f"not on {name}: Landlock, seccomp and namespaces are Linux kernel features"
    lacking = [what for what, present in (("os.fork", hasattr(os, "fork")), ("posix", _importable("posix")),
                                          ("resource", _importable("resource"))) if not present]
    if lacking:
        return name, f"this Python has no {', '.join(lacking)}"
    return None


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


class PortableChildDied(ChildDied):
    """As `ChildDied`, knowing Windows' crash codes (there a crash is an exit code, not a signal)."""

    def cause(self) -> str:
        crash = _WINDOWS_CRASHES.get(self.returncode) if os.name == "nt" and not self.closed_channel else None
        return f"{crash}, exit code {self.returncode:#x}" if crash else super().cause()

    def verdict(self, memory_bytes: int) -> tuple[CallStatus, str]:
        status, message = super().verdict(memory_bytes)
        if os.name == "nt" and not self.closed_channel and status == "crashed":
            crash = _WINDOWS_CRASHES.get(self.returncode)
            if crash == "out of memory":
                return "memory", "ran out of memory (Windows ended the process: out of memory)"
            if crash:
                return "crashed", f"the process crashed ({crash}, exit code {self.returncode:#x})"
            if self.returncode == 3:  # what C's abort() exits with on Windows
                return "crashed", "the process crashed (abort, exit code 3)"
        return status, message


class PortableChild(Child):
    """A child started with ``subprocess.Popen`` and three standard pipes, read by threads (see the module).

    Shaped as `process.Child`, so `parent.Sandbox` drives it the same way:
    `send_frame` queues, `next_message` writes and waits, output is split by
    the same markers (`Child._split_output`).
    """

    def __init__(self, platform: str, why: str, *, simulate: bool = False) -> None:
        command = [sys.executable, "-I", "-u", str(CHILD_SCRIPT), PORTABLE_FLAG, platform, str(os.getpid())]
        environment = child_environment()
        if os.name == "nt":  # Windows' Python needs these to start; conda's NumPy finds its DLLs on PATH
            environment.update({name: os.environ[name] for name in ("SYSTEMROOT", "WINDIR", "PATH")
                                if name in os.environ})
        options: dict[str, Any] = {}
        if hasattr(os, "setsid") and os.name == "posix":
            options["start_new_session"] = True  # its own process group, out of the terminal's (Ctrl-C)
        elif os.name == "nt":
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        self.process = subprocess.Popen(
            command + (["--simulate"] if simulate else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, bufsize=0, cwd=os.path.abspath(os.sep), env=environment, **options)
        self._init_channel()
        self.closed = False
        self.cpu_clock, self.timing = None, ("wall-clock time of each call, measured by the grader (portable start: "
                                             "no CPU clock of another process to read)")
        self.pidfd = None  # `Sandbox.paused` cannot stop the child here
        #: What the child's ``configure`` message adds: which platform, and why no kernel protection.
        self.configuration = {"portable": {"platform": platform, "why": why}}
        # (source, bytes) from the reading threads, in arrival order; b"" is the end of that pipe.
        self._events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._room = {"reply": threading.Semaphore(_CHUNKS_AHEAD), "output": threading.Semaphore(_CHUNKS_AHEAD)}
        self._requests: queue.Queue[memoryview | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._pump, args=("reply", self.process.stdout), daemon=True),
            threading.Thread(target=self._pump, args=("output", self.process.stderr), daemon=True),
            threading.Thread(target=self._write_all, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------ the threads

    def _pump(self, source: str, pipe: Any) -> None:
        """Read *pipe* into the event queue, holding back while the grader has `_CHUNKS_AHEAD` chunks to take."""
        room = self._room[source]
        while True:
            room.acquire()
            try:
                data = pipe.read(_CHUNK_BYTES)
            except (OSError, ValueError):  # closed by `kill`
                data = b""
            self._events.put((source, data or b""))
            if not data:
                return

    def _write_all(self) -> None:
        """Write each queued request piece to the child's stdin; stop at None or when the child is gone."""
        while True:
            piece = self._requests.get()
            if piece is None:
                return
            try:
                while piece.nbytes:
                    written = self.process.stdin.write(piece)
                    piece = piece[written:]
            except (OSError, ValueError):  # the child is gone (its reply pipe tells how), or `kill` closed it
                return

    # ------------------------------------------------------------ what `Sandbox` calls

    def send_frame(self, pieces: list[bytes | memoryview], *, seq: int | None = None,
                   reply_limit: int | None = None) -> None:
        """Queue an encoded frame (see `Child.send_frame`); it is written once `next_message` runs."""
        self.outgoing += [memoryview(piece).cast("B") for piece in pieces]
        if seq is not None:
            self.awaited_marks.add(seq)
            self.reader.expect(reply_limit)

    def send(self, header: dict[str, Any], values: dict[str, Any] | None = None) -> None:
        if header.get("type") == "load":  # its output ends at the load marker (`child.Channel.send`)
            self.awaited_marks.add(protocol.LOAD_MARK_SEQ)
            self.marks.pop(protocol.LOAD_MARK_SEQ, None)
        super().send(header, values)

    def _release_requests(self) -> None:
        """Hand the queued requests to the writing thread (`Child.next_message` calls this first)."""
        for piece in self.outgoing:
            self._requests.put(piece)
        self.outgoing = []

    def _move_bytes(self, timeout: float, capture: OutputCapture) -> None:
        """Take one chunk from the reading threads, waiting up to *timeout* (see `Child.next_message`)."""
        self._take_event(capture, timeout)

    def drain_output(self, capture: OutputCapture) -> None:
        """Take the output up to the load's marker (the child wrote it before its ``loaded`` reply)."""
        self._wait_for_mark(protocol.LOAD_MARK_SEQ, capture)
        self.marks.pop(protocol.LOAD_MARK_SEQ, None)
        self.awaited_marks.discard(protocol.LOAD_MARK_SEQ)
        self._take_pending(capture)

    def drain_output_until(self, seq: int, capture: OutputCapture) -> tuple[int, int]:
        """Take the output up to call *seq*'s marker; return the capture's mark there (see `Child`)."""
        self._wait_for_mark(seq, capture)
        if seq in self.marks:
            return self.marks.pop(seq)
        self.awaited_marks.discard(seq)
        capture.add(self._output_carry)  # no marker came: what was held back is output
        self._output_carry = b""
        return capture.mark()

    def kill(self) -> None:
        """End the process (``Popen.kill``; its process group too where there is one) and stop the threads."""
        if self.closed:
            return
        self.closed = True
        if self.owner_pid == os.getpid():
            self._terminate()
        self._requests.put(None)
        for room in self._room.values():
            room.release(_CHUNKS_AHEAD + 1)  # a thread holding back reads on to the end of its pipe
        for thread in self._threads:
            thread.join(timeout=1.0)
        if not any(thread.is_alive() for thread in self._threads):  # else a grandchild holds a pipe: leave it
            for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
                with contextlib.suppress(OSError):
                    pipe.close()

    # ------------------------------------------------------------ helpers

    def _take_event(self, capture: OutputCapture, timeout: float) -> bool:
        """Take one chunk from the reading threads, waiting up to *timeout*; whether there was one."""
        try:
            source, data = self._events.get(timeout=timeout)
        except queue.Empty:
            return False
        self._room[source].release()
        if source == "reply":
            if data:
                self.inbox += self.reader.feed(data)
            else:
                self.reply_closed = True
        elif data:
            self._split_output(data, capture)
        else:
            self.output_closed = True
            capture.add(self._output_carry)
            self._output_carry = b""
        return True

    def _take_pending(self, capture: OutputCapture) -> None:
        while self._take_event(capture, 0):
            pass

    def _wait_for_mark(self, seq: int, capture: OutputCapture) -> None:
        deadline = time.monotonic() + _MARK_WAIT_SECONDS
        while seq not in self.marks and not self.output_closed and seq in self.awaited_marks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._take_event(capture, remaining)

    def _wait_for_exit(self, capture: OutputCapture) -> None:
        """The reply pipe closed: collect the exit status and the last output, raise `PortableChildDied`."""
        closed_channel = self._reap()
        deadline = time.monotonic() + 1.0  # the output pipe ends with the process (unless a grandchild holds it)
        while not self.output_closed and time.monotonic() < deadline:
            self._take_event(capture, deadline - time.monotonic())
        raise PortableChildDied(self.process.returncode, bytes(capture.tail), closed_channel)

    def _terminate(self) -> None:
        if self.process.returncode is None:
            if os.name == "posix" and hasattr(os, "killpg"):
                with contextlib.suppress(OSError):
                    os.killpg(self.process.pid, signal.SIGKILL)  # the group: whatever native code forked
            with contextlib.suppress(OSError):
                self.process.kill()
        self.process.wait()
