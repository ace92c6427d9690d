"""Scratch arrays kept from call to call, one set per thread.

A layer's temporaries (a pool's per-block maxima, a convolution's padded
copy and im2col columns) are the same shapes on every call with the same
input shape. Allocating them afresh each time is not free: glibc returns
large freed blocks to the operating system, and the next call pays a page
fault for every 4 KiB it touches again. On the development machine that was
3-4x the arithmetic of a (8, 16, 16, 16) max pool's backward pass. So the
vectorized ops take their temporaries from here. What they return is always
a fresh array: a scratch array never leaves the function that asked for it.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["scratch"]

MAX_ARRAYS = 24  # per thread; past this the set is dropped and starts again (a new input shape)
MAX_BYTES = 64 * 1024 * 1024  # per thread; larger temporaries are not kept

_local = threading.local()


def scratch(purpose: str, shape: tuple[int, ...], dtype, *, zero: bool = False) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` for ``purpose``, with undefined contents unless ``zero``.

    The same array comes back for the same purpose, shape and dtype in the
    same thread, so its contents are only good until the next call asks for it.
    """
    arrays = getattr(_local, "arrays", None)
    if arrays is None:
        arrays = _local.arrays = {}
    key = (purpose, shape, dtype)
    array = arrays.get(key)
    if array is None:
        array = np.empty(shape, dtype=dtype)
        if array.nbytes <= MAX_BYTES:
            if len(arrays) >= MAX_ARRAYS or sum(a.nbytes for a in arrays.values()) + array.nbytes > MAX_BYTES:
                arrays.clear()
            arrays[key] = array
    if zero:
        array.fill(0)
    return array
