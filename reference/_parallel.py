"""Threads for the element-wise work of large pooling layers.

NumPy's matrix products already use BLAS's threads; its element-wise loops
use one. They release the GIL while they run, so a layer on a large input can
split its (n, c) planes among a few Python threads, each taking its share in
blocks that stay in the CPU cache. Each thread writes its own part of the
result, so the numbers are the same whatever the thread count.

The thread count defaults to ``OMP_NUM_THREADS`` when that is set (as for
torch and BLAS), otherwise to the CPUs this process may run on. Change it
with :func:`set_num_threads`, or for a while with :func:`limited_threads`.
Inputs under :data:`MIN_PARALLEL_BYTES` are always done in the calling
thread: for them handing work to a thread costs more than it saves.

The convolution does not use these threads: its matrix products run on BLAS's
threads, which keep spinning for a while after each product, and a copy
thread of ours next to them made it 1.2-1.4x slower on two cores.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

__all__ = ["get_num_threads", "set_num_threads", "limited_threads", "partition", "run_parts"]

# Measured on a 2-core machine (bench/bench_reference.py): below ~0.5 MB the
# hand-off to a second thread (about 0.1 ms) eats the gain; blocks of ~1 MB
# were the fastest of 128 KB to 2 MB, with one thread or two.
MIN_PARALLEL_BYTES = 512 * 1024
BLOCK_BYTES = 1024 * 1024


def _default_threads() -> int:
    try:
        requested = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        requested = 0
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, requested if requested > 0 else available)


_threads = _default_threads()
_executor: ThreadPoolExecutor | None = None
_executor_owner = (0, 0)  # (pid, size) of the process and thread count the executor was made for
_lock = threading.Lock()


def get_num_threads() -> int:
    """How many threads the reference uses for large inputs."""
    return _threads


def set_num_threads(threads: int) -> int:
    """Use ``threads`` threads (at least 1) from now on; return the previous count."""
    global _threads
    if type(threads) is not int or threads < 1:
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")
    previous, _threads = _threads, threads
    return previous


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Use at most ``threads`` threads inside the ``with`` block (for timing a single thread)."""
    previous = set_num_threads(min(threads, _threads))
    try:
        yield
    finally:
        set_num_threads(previous)


def partition(items: int, item_bytes: int) -> tuple[tuple[slice, ...], ...]:
    """Split ``range(items)`` into one run per thread, each run in blocks of about :data:`BLOCK_BYTES`.

    Returns one tuple of block slices per thread. Blocks are of (nearly) equal
    size so the threads finish together.
    """
    total = items * item_bytes
    parts = 1 if total < MIN_PARALLEL_BYTES else max(1, min(_threads, items))
    per_part = max(1, -(-items // parts))  # at least 1: an empty batch has no items
    result = []
    for lo in range(0, items, per_part):
        hi = min(lo + per_part, items)
        count = max(1, round((hi - lo) * item_bytes / BLOCK_BYTES))
        step = -(-(hi - lo) // count)
        result.append(tuple(slice(start, min(start + step, hi)) for start in range(lo, hi, step)))
    return tuple(result) or ((slice(0, 0),),)


def _pool(size: int) -> ThreadPoolExecutor:
    """The helper threads; made again after a fork (a forked child has none of its parent's threads)."""
    global _executor, _executor_owner
    with _lock:
        if _executor is None or _executor_owner != (os.getpid(), size):
            _executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="reference")
            _executor_owner = (os.getpid(), size)
        return _executor


def run_parts(work: Callable[[tuple[slice, ...]], None], parts: tuple[tuple[slice, ...], ...]) -> None:
    """Call ``work(blocks)`` for every part: the first in this thread, the others in helper threads."""
    if len(parts) == 1:
        work(parts[0])
        return
    futures = [_pool(len(parts) - 1).submit(work, blocks) for blocks in parts[1:]]
    try:
        work(parts[0])
    finally:
        for future in futures:
            future.result()
