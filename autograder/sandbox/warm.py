"""Warm processes: this grader process's zygote and its spare child, kept ready so that sandboxes start fast.

`zygote_keeper` starts the zygote on first use (or at `prestart`) and again
after it ends; `spare_pool` keeps one child started ahead of time where the
zygote cannot be used.  Both end with the grader (``atexit``), and neither
is inherited by a process forked from it.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import threading

from .process import Child
from .zygote_client import Zygote, ZygoteUnavailable, zygote_supported


@functools.cache
def portable_platform() -> tuple[str, str] | None:
    """``(platform, why)`` where children start the portable way (`portable.portable_platform`), else None."""
    from .portable import portable_platform

    return portable_platform()


class ZygoteKeeper:
    """This process's zygote: started on first use (or by `prestart`), started again after it ends.

    After `MAX_FAILURES` failures in a row (a zygote that does not start, or
    a forked child that does not), sandboxes of this process stop asking and
    start new interpreters instead, as where there is no fork.
    """

    MAX_FAILURES = 3

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.zygote: Zygote | None = None
        self.enabled = True
        self.failures = 0
        self.last_failure = ""

    def get(self) -> Zygote:
        """The live zygote, started if need be; raises `ZygoteUnavailable` saying why there is none."""
        with self.lock:
            if not self.enabled:
                raise ZygoteUnavailable("warm processes are off: prestart(False)")
            if not zygote_supported():
                raise ZygoteUnavailable(f"no fork-based start on this platform ({sys.platform})")
            if self.failures >= self.MAX_FAILURES:
                raise ZygoteUnavailable(f"it failed {self.failures} times in a row; last: {self.last_failure}")
            if self.zygote is not None and (self.zygote.owner_pid != os.getpid() or self.zygote.ended()):
                self.zygote = None  # it ended (killed, say): a new one
            if self.zygote is None:
                self.zygote = Zygote()
            return self.zygote

    def succeeded(self) -> None:
        self.failures = 0

    def failed(self, zygote: Zygote, reason: str) -> None:
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


zygote_keeper = ZygoteKeeper()
atexit.register(zygote_keeper.shutdown)
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=zygote_keeper.forget_after_fork)


class SparePool:
    """One child started ahead of time, NumPy already imported, waiting for its configuration."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spare: Child | None = None
        self.enabled = True

    def take(self) -> Child:
        """The spare if it is alive and ours, else a new child (call `refill` once it is configured)."""
        with self.lock:
            spare, self.spare = self.spare, None
        if spare is not None and not spare.is_usable():
            spare.kill()  # only closes the pipes when it belongs to the process we were forked from
            spare = None
        return spare or Child()

    def refill(self) -> None:
        """Start a new spare if there is none (and spares are wanted)."""
        with self.lock:
            if self.enabled and self.spare is None:
                self.spare = Child()

    def shutdown(self) -> None:
        with self.lock:
            spare, self.spare = self.spare, None
        if spare is not None:
            spare.kill()


spare_pool = SparePool()
atexit.register(spare_pool.shutdown)


def prestart(enabled: bool = True) -> None:
    """Keep a warm process, so that sandboxes skip Python and NumPy start-up.

    On by default: the zygote, which forks each sandbox's child in
    milliseconds, is started with the first sandbox (and again if it ends);
    where it cannot be used, one spare child is kept started instead.  Call
    ``prestart()`` early to have the first sandbox start warm too (it does not
    wait), or ``prestart(False)`` to end the warm processes and start a new
    interpreter for every child from then on.
    """
    spare_pool.enabled = enabled
    zygote_keeper.enabled = enabled
    if not enabled:
        spare_pool.shutdown()
        zygote_keeper.shutdown()
        return
    if portable_platform() is not None:  # portable children start fresh: nothing to keep warm
        return
    try:
        zygote_keeper.get()
    except ZygoteUnavailable:
        spare_pool.refill()
