"""The zygote: a warm interpreter that forks sandbox children for the grader.

A new interpreter that imports NumPy costs 0.1-0.15 s of CPU, and batch
grading starts one child per submission (more after a timeout or a crash).
So each grader process keeps one *zygote*: ``python -I -u child/main.py --zygote
SOCKET_FD GRADER_PID``, started with the children's clean environment (one
BLAS thread), which imports the child's modules and NumPy the way a child
does (by file path, without the ``autograder`` package) and then only forks.
Each fork becomes one sandbox child and goes on as an exec'd child does once
NumPy is imported: it ties its death to its parent, waits for its
configuration, installs every restriction, runs the student's code.  The
zygote itself installs no restriction and never runs a line of the
student's; it reads nothing from its children, only the grader's requests.

The grader talks to it over a Unix ``SOCK_SEQPACKET`` socket, one message per
packet, in ASCII words:

grader to zygote
    ``fork TOKEN`` with three descriptors attached: the child's end of its
    request pipe, of its reply pipe, and the output pipe for its fds 1 and 2.
    ``kill PID``: SIGKILL that child and its process group.
zygote to grader
    ``hello PID`` once ready, or ``broken REASON`` if it cannot serve;
    ``forked TOKEN PID`` or ``failed TOKEN REASON`` for each fork;
    ``exited PID CODE`` for each child it reaps, CODE as in
    `subprocess.Popen.returncode` (the exit code, or minus the signal).

Lifetimes: the zygote dies with the grader (a parent-death signal, set by
`main`, and the end of file on its socket); each child dies with the zygote
(its own parent-death signal).  When a child ends, its process group is
killed before the child is reaped, so nothing it started outlives it.

This module must stay importable on its own (standard library only): the
zygote loads it by file path.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import socket
from collections.abc import Callable

#: The first argument of ``child/main.py`` that makes it a zygote.
ZYGOTE_FLAG = "--zygote"

_MESSAGE_BYTES = 256


def serve(socket_fd: int, warm_up: Callable[[], None]) -> tuple[int, int, int]:
    """Run *warm_up*, then fork a child per request until the grader closes the socket.

    Returns only in a forked child, as ``(request_fd, reply_fd, zygote_pid)``:
    the child's protocol descriptors (fds 1 and 2 are already its output
    pipe, every other descriptor is closed) and the pid of its parent.  The
    zygote itself never returns: it exits once the grader is gone.
    """
    channel = socket.socket(fileno=socket_fd)
    try:
        warm_up()
    except BaseException as error:  # noqa: BLE001 - tell the grader why, then give up
        _send(channel, f"broken the warm-up failed: {type(error).__name__}: {error}"[:_MESSAGE_BYTES])
        os._exit(1)
    # fork() copies only the calling thread: another thread (a BLAS pool) would leave its locks held.
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        _send(channel, f"broken it has {threads} threads after importing NumPy; forking needs one "
                       "(is OPENBLAS_NUM_THREADS=1 in its environment?)")
        os._exit(1)
    # Learn of children ending while blocked in poll(): SIGCHLD writes a byte to this pipe.
    wake_read, wake_write = os.pipe()
    for fd in (wake_read, wake_write):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)  # a handler, or nothing is written
    poller = select.poll()
    poller.register(channel, select.POLLIN)
    poller.register(wake_read, select.POLLIN)
    children: set[int] = set()  # forked, not yet reaped
    zygote_pid = os.getpid()
    _send(channel, f"hello {zygote_pid}")
    while True:
        for fd, _ in poller.poll():
            if fd == wake_read:
                _drain(wake_read)
                _reap(channel, children)
                continue
            try:
                message, fds, _, _ = socket.recv_fds(channel, _MESSAGE_BYTES, 3)
            except OSError:
                message, fds = b"", []
            if not message:  # the grader closed the socket, or died
                _end(children)
            words = message.decode("ascii", "replace").split()
            if words[:1] == ["fork"] and len(words) == 2 and len(fds) == 3:
                # The child's garbage collections then skip the zygote's objects instead of
                # writing to them, which would copy nearly every page of its heap.
                gc.freeze()
                try:
                    pid = os.fork()
                except OSError as error:
                    pid = -1
                    _send(channel, f"failed {words[1]} fork: {error.strerror}")
                if pid == 0:
                    return _become_child(channel, (wake_read, wake_write), fds, zygote_pid)
                if pid > 0:
                    children.add(pid)
                    _send(channel, f"forked {words[1]} {pid}")
            elif words[:1] == ["kill"] and len(words) == 2 and words[1].isdigit():
                pid = int(words[1])
                if pid in children:  # not yet reaped, so the pid is still this child's
                    _kill(pid)
            for fd in fds:  # the child has its copies; the zygote keeps none
                os.close(fd)


def _become_child(channel: socket.socket, wake_fds: tuple[int, int], fds: list[int],
                  zygote_pid: int) -> tuple[int, int, int]:
    """Undo what is the zygote's in a fresh fork, so the child starts as an exec'd child would."""
    channel.close()  # first: student code must never reach the socket that asks for unrestricted forks
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    request_fd, reply_fd, output_fd = fds
    os.setsid()  # its own process group, as start_new_session gives an exec'd child: one killpg ends it all
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    # fd 0 is /dev/null already (the zygote's stdin); the rest goes: wake-up pipe, output_fd, anything else.
    low = 3
    for keep in sorted((request_fd, reply_fd)):
        os.closerange(low, keep)
        low = keep + 1
    os.closerange(low, max(_descriptor_limit(), *wake_fds) + 1)
    return request_fd, reply_fd, zygote_pid


def _descriptor_limit() -> int:
    import resource  # here, not at the top: the grader imports ZYGOTE_FLAG on platforms without it

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if 0 < soft <= 1 << 24 else 1 << 20  # RLIM_INFINITY: the kernel's usual ceiling


def _reap(channel: socket.socket, children: set[int]) -> None:
    """Report every child that has ended; kill its process group before reaping it."""
    while True:
        try:
            # WNOWAIT: look without reaping, so the pid (and so the group id) cannot be reused yet.
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None:
            return
        pid = info.si_pid
        _kill(pid)  # anything the child left behind in its process group
        _, status = os.waitpid(pid, 0)
        children.discard(pid)
        _send(channel, f"exited {pid} {os.waitstatus_to_exitcode(status)}")


def _kill(pid: int) -> None:
    """SIGKILL a child of ours and its process group (the child may not have made its group yet)."""
    for kill, target in ((os.kill, pid), (os.killpg, pid)):
        try:
            kill(target, signal.SIGKILL)
        except OSError:  # already gone, or no such group
            pass


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _send(channel: socket.socket, text: str) -> None:
    try:
        channel.send(text.encode("ascii", "replace"))
    except OSError:  # the grader is gone: so must we
        os._exit(0)


def _end(children: set[int]) -> None:
    """The grader is gone: end every child (their death signal would too) and exit."""
    for pid in children:
        _kill(pid)
    os._exit(0)
