"""Helpers for the sandbox tests that watch processes end."""

from __future__ import annotations

import time


def is_running(pid: int) -> bool:
    """Whether *pid* is alive (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until_gone(pid: int, seconds: float = 5.0) -> bool:
    """Whether *pid* ends within *seconds* (polled every 20 ms)."""
    deadline = time.monotonic() + seconds
    while is_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
