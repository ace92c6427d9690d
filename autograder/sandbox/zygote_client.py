"""The grader's side of the zygote: ask a warm interpreter to fork sandbox children (see `child.zygote`).

A `Zygote` is one zygote process and the grader's end of its socket; a
`ZygoteChild` is a child it forked, shaped like the `subprocess.Popen` it
replaces.  Which zygote a process uses, and starting another when it ends,
is `warm`'s.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from .child.zygote import ZYGOTE_FLAG
from .launch import CHILD_SCRIPT, child_environment, describe_end

#: How long the zygote may take to answer a fork or report a killed child's end.
ZYGOTE_ANSWER_SECONDS = 10.0


class ZygoteUnavailable(Exception):
    """No child can be forked now; the message says why, for `Sandbox.protections`."""


class ZygoteChild:
    """A child the zygote forked, seen from the grader: shaped like the `subprocess.Popen` it replaces.

    The zygote reaps it and sends its exit status here.  ``lost`` says it was
    killed because the zygote ended, not by anything the student did.
    """

    def __init__(self, zygote: Zygote, pid: int) -> None:
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
    child: ZygoteChild | None = None
    error: str = ""


class Zygote:
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
        self._process: subprocess.Popen | None = None  # set by the reading thread once started
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()  # guards failure, the tables below and every send
        self._ready = threading.Event()  # set by its hello, or when it fails
        self._forks: dict[int, _PendingFork] = {}  # token -> the fork awaiting its reply
        self._children: dict[int, ZygoteChild] = {}  # pid -> child, until its exit status arrives
        self._tokens = itertools.count(1)
        threading.Thread(target=self._run, args=(theirs,), name="sandbox-zygote", daemon=True).start()

    def fork(self, fds: tuple[int, int, int], timeout: float) -> ZygoteChild:
        """A new child holding *fds*: its request pipe's read end, its reply and output pipes' write ends.

        Raises `ZygoteUnavailable`.  Waits for the zygote's start-up (Python
        and NumPy) the first time.
        """
        if not self._ready.wait(timeout):
            self.close(f"it did not start within {timeout:g} s")
        pending = _PendingFork()
        with self._lock:
            if self.failure is not None:
                raise ZygoteUnavailable(self.failure)
            token = next(self._tokens)
            self._forks[token] = pending
            try:
                socket.send_fds(self._socket, [f"fork {token}".encode()], list(fds))
            except OSError as error:
                del self._forks[token]
                raise ZygoteUnavailable(f"its socket failed ({error.strerror})") from None
        if not pending.done.wait(min(timeout, ZYGOTE_ANSWER_SECONDS)):
            self.close("it did not answer a fork request")
        if pending.child is None:
            raise ZygoteUnavailable(pending.error or self.failure or "it did not answer a fork request")
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

    def ended(self) -> bool:
        """Whether it can no longer fork: it failed, or its process has ended (before the reading thread saw it)."""
        return self.failure is not None or (self._process is not None and self._process.poll() is not None)

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
                    pass_fds=(theirs.fileno(),), cwd="/", env=child_environment(),
                    start_new_session=True)  # out of the terminal's process group: Ctrl-C goes to the grader
            finally:
                theirs.close()
            self._process = process
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
            self._stop(f"it ended ({describe_end(process.wait())})")
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
                    child = ZygoteChild(self, int(arguments[1]))
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


def zygote_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "send_fds") \
        and hasattr(socket, "SOCK_SEQPACKET")
