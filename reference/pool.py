"""Pooling layers, forward and backward: max, average and global average.

Layout is NCHW. ``pool_param`` holds ``pool_height``, ``pool_width`` and
``stride`` (an int or an ``(h, w)`` pair); there is no padding, and the window
must fit the input exactly, as the lecture's output-size formula requires.

Max pooling sends each window's gradient to the first largest element in
row-major order, as torch does, so the two engines agree even on ties. A NaN
counts as the largest, as in ``np.argmax``: a window holding NaNs sends its
gradient to the first of them (torch's CPU kernel picks the last one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from . import _checks, _parallel
from ._workspace import scratch
from .shapes import axis_output_size

__all__ = [
    "max_pool_forward",
    "max_pool_forward_naive",
    "max_pool_backward",
    "max_pool_backward_naive",
    "avg_pool_forward",
    "avg_pool_forward_naive",
    "avg_pool_backward",
    "avg_pool_backward_naive",
    "global_avg_pool_forward",
    "global_avg_pool_forward_naive",
    "global_avg_pool_backward",
    "global_avg_pool_backward_naive",
]


@dataclass(frozen=True)
class PoolGeometry:
    """Validated window size, stride and output size of one pooling layer."""

    window: tuple[int, int]
    stride: tuple[int, int]
    out_size: tuple[int, int]

    def window_at(self, i: int, j: int) -> tuple[slice, slice]:
        """Slices of x covered by the window of output position ``(i, j)``."""
        (sh, sw), (kh, kw) = self.stride, self.window
        return slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)


def pool_geometry(x, pool_param) -> PoolGeometry:
    """Check the arguments of a pooling layer and work out its output size."""
    _checks.array(x, "x", ndim=4, layout="(N, C, H, W)")
    window = (
        _checks.as_int(_checks.param(pool_param, "pool_height", "pool_param"), "pool_param['pool_height']", minimum=1),
        _checks.as_int(_checks.param(pool_param, "pool_width", "pool_param"), "pool_param['pool_width']", minimum=1),
    )
    stride = _checks.as_pair(_checks.param(pool_param, "stride", "pool_param"), "pool_param['stride']", minimum=1)
    out_size = (
        axis_output_size("height", x.shape[2], window[0], stride[0], 0, 1),
        axis_output_size("width", x.shape[3], window[1], stride[1], 0, 1),
    )
    return PoolGeometry(window, stride, out_size)


def _backward_inputs(dout, cache):
    if not isinstance(cache, tuple) or len(cache) != 2:
        raise TypeError("cache must be the tuple (x, pool_param) returned by the forward pass")
    x, pool_param = cache
    g = pool_geometry(x, pool_param)
    _checks.same_shape(dout, (*x.shape[:2], *g.out_size), "dout", "the shape of the forward output")
    return x, g


def _backward_geometry(dout, x, pool_param) -> PoolGeometry:
    return _backward_inputs(dout, (x, pool_param))[1]


def _checked_backward_inputs(dout, cache):
    """:func:`_backward_inputs`, with the checks remembered (see :mod:`reference.conv`)."""
    if type(cache) is tuple and len(cache) == 2:
        return cache[0], _checks.remembered(_backward_geometry, dout, *cache)
    return _backward_inputs(dout, cache)


# --------------------------------------------------------------------------- taps and blocks

# The vectorized pools take a window in two steps, one per axis: the kh taps
# down the columns and the kw taps along the rows, so kh + kw whole-array
# operations instead of kh * kw. Steps down the columns move whole rows and are
# the cheap ones, so wherever the order is free they get the larger arrays. The
# input is handled in blocks of whole (n, c) planes, small enough for one
# block's temporaries to stay in the CPU cache; a large input's planes are
# shared among threads (reference._parallel), each taking its blocks in turn.


def _tap_slices(window: int, stride: int, out: int) -> tuple[slice, ...]:
    """Along one axis, tap ``k`` of the ``out`` windows reads ``k, k + stride, ..., k + stride*(out - 1)``."""
    return tuple(slice(k, k + stride * (out - 1) + 1, stride) for k in range(window))


class _Plan(NamedTuple):
    """How the vectorized pools walk an input seen as planes ``(N*C, H, W)``."""

    down: tuple  # the index of each of the kh taps down a column: (..., rows, :)
    across: tuple  # the index of each of the kw taps along a row: (..., columns)
    tiled: tuple[bool, bool]  # stride == window along (H, W): the windows cover the axis once
    parts: tuple[tuple[slice, ...], ...]  # per thread, its blocks: slices of the plane axis


def _plan(shape: tuple[int, ...], g: PoolGeometry) -> _Plan:
    return _thread_plan(shape, g, _parallel.get_num_threads())


@lru_cache(maxsize=64)
def _thread_plan(shape: tuple[int, ...], g: PoolGeometry, threads: int) -> _Plan:
    (kh, kw), (sh, sw), (oh, ow) = g.window, g.stride, g.out_size
    return _Plan(
        down=tuple((Ellipsis, rows, slice(None)) for rows in _tap_slices(kh, sh, oh)),
        across=tuple((Ellipsis, cols) for cols in _tap_slices(kw, sw, ow)),
        tiled=(sh == kh, sw == kw),
        parts=_parallel.partition(shape[0] * shape[1], shape[2] * shape[3] * 8),
    )


def _planes(a: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` viewed as ``(N*C, H, W)``."""
    return a.reshape(-1, a.shape[2], a.shape[3])


def _buffer(shape, dtype, tiled: bool) -> np.ndarray:
    """A gradient buffer: where the windows tile the axis every entry gets written, so it needs no zeros."""
    return np.empty(shape, dtype=dtype) if tiled else np.zeros(shape, dtype=dtype)


# Along an axis, taps 0 to stride - 1 of all the windows read disjoint inputs;
# a later tap k reads what tap k - stride of the next window reads (the
# windows overlap). So gradients are stored for the first taps, and added for
# the later ones, into a buffer that starts at zero unless the windows tile
# the axis.


def _spread(grad: np.ndarray, taps, into: np.ndarray, stride: int) -> None:
    """``into[t] += grad`` for every tap ``t``."""
    for k, tap in enumerate(taps):
        if k < stride:
            into[tap] = grad
        else:
            into[tap] += grad


# --------------------------------------------------------------------------- max pooling


def _max_of_taps(x: np.ndarray, taps, out: np.ndarray) -> np.ndarray:
    """``out = max over the taps t of x[t]``."""
    if len(taps) == 1:
        np.copyto(out, x[taps[0]])
        return out
    np.maximum(x[taps[0]], x[taps[1]], out=out)
    for tap in taps[2:]:
        np.maximum(out, x[tap], out=out)
    return out


def _to_first_max(grad, x, best, taps, into: np.ndarray, stride: int, *, nans: bool = False) -> None:
    """Send each window's gradient to its first tap where ``x`` equals the window's ``best``.

    Tap by tap, the gradient of the windows whose maximum is not met yet is
    passed on to the next tap; the first tap that equals the maximum keeps all
    of it, so later equal taps (ties) get nothing, and the last tap keeps what
    is left. What is passed on waits in the next tap's place when that place
    is the window's alone. With ``nans``, a NaN tap also meets a NaN ``best``
    (NaN != NaN, so without it such a window's gradient would reach the last tap).
    """
    remaining = grad
    not_max = scratch("first max: not the max", best.shape, np.bool_)
    for k, tap in enumerate(taps[:-1]):
        np.not_equal(x[tap], best, out=not_max)
        if nans:
            not_max &= ~(np.isnan(x[tap]) & np.isnan(best))
        # two buffers in turn: the new passed_on is made from the last one
        waiting = into[taps[k + 1]] if k + 1 < stride else scratch(f"first max: passed on {k % 2}", best.shape, into.dtype)
        passed_on = np.multiply(remaining, not_max, out=waiting)
        if k < stride:
            np.subtract(remaining, passed_on, out=into[tap])
        else:
            into[tap] += np.subtract(remaining, passed_on, out=scratch("first max: kept", best.shape, into.dtype))
        remaining = passed_on
    if len(taps) - 1 >= stride:
        into[taps[-1]] += remaining
    elif len(taps) == 1:
        into[taps[0]] = remaining


def max_pool_forward(x: np.ndarray, pool_param: dict):
    """Forward pass of max pooling.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``pool_height``, ``pool_width``, ``stride``.

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        ``H' = 1 + (H - pool_height) // stride`` (the division must be exact).
    cache : tuple
        ``(x, pool_param)``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})[0][0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    g = _checks.remembered(pool_geometry, x, pool_param)
    plan = _plan(x.shape, g)
    out = np.empty((*x.shape[:2], *g.out_size), dtype=x.dtype)
    xs, outs = _planes(x), _planes(out)

    def work(blocks):
        for block in blocks:  # the max along the rows of the max down the columns
            x_block = xs[block]
            column_max = scratch("max column", (len(x_block), g.out_size[0], x.shape[3]), x.dtype)
            _max_of_taps(_max_of_taps(x_block, plan.down, column_max), plan.across, outs[block])

    _parallel.run_parts(work, plan.parts)
    return out, (x, pool_param)


def _pool_forward_naive(x: np.ndarray, pool_param: dict, reduce, dtype):
    """Each output pixel is ``reduce`` of its window, in loops over samples, channels and positions."""
    g = pool_geometry(x, pool_param)
    out = np.zeros((*x.shape[:2], *g.out_size), dtype=dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(g.out_size[0]):
                for j in range(g.out_size[1]):
                    out[n, c, i, j] = reduce(x[(n, c, *g.window_at(i, j))])
    return out, (x, pool_param)


def max_pool_forward_naive(x: np.ndarray, pool_param: dict):
    """Loop twin of :func:`max_pool_forward`."""
    return _pool_forward_naive(x, pool_param, np.max, x.dtype)


def max_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of max pooling: each window's gradient goes to its (first) maximum.

    Returns ``dx`` of shape (N, C, H, W). Where windows overlap, gradients add.

    >>> x = np.array([[[[1.0, 3.0], [3.0, 2.0]]]])
    >>> p = {"pool_height": 2, "pool_width": 2, "stride": 1}
    >>> max_pool_backward(np.ones((1, 1, 1, 1)), (x, p))[0, 0]
    array([[0., 1.],
           [0., 0.]])
    """
    x, g = _checked_backward_inputs(dout, cache)
    dtype = np.result_type(dout, x)
    if x.nbytes <= _SMALL_INPUT_BYTES and dtype in _SMALL_INPUT_DTYPES and x.size:
        return _max_pool_backward_small(dout, x, g, dtype)
    plan = _plan(x.shape, g)
    dx = _buffer(x.shape, dtype, plan.tiled[1])
    xs, douts, dxs = _planes(x), _planes(dout), _planes(dx)
    # The first maximum of a window in row-major order is, in the first window row
    # that reaches the window's max, the first column that reaches that row's max.
    # So here the max goes along the rows first; dout is then routed down to the
    # row, and along the row to the column.
    def work(blocks):
        for block in blocks:
            x_block = xs[block]
            row_max = scratch("max row", (len(x_block), x.shape[2], g.out_size[1]), x.dtype)
            _max_of_taps(x_block, plan.across, row_max)
            best = _max_of_taps(row_max, plan.down, scratch("max best", douts[block].shape, x.dtype))
            # a window's maximum is NaN where it holds a NaN (np.maximum keeps them): route those apart
            nans = x.dtype.kind == "f" and best.size > 0 and math.isnan(np.maximum.reduce(best, axis=None))
            d_row_max = scratch("max d row", row_max.shape, dtype, zero=not plan.tiled[0])
            _to_first_max(douts[block], row_max, best, plan.down, d_row_max, g.stride[0], nans=nans)
            _to_first_max(d_row_max, x_block, row_max, plan.across, dxs[block], g.stride[1], nans=nans)

    _parallel.run_parts(work, plan.parts)
    return dx


# A small input (a grading case) takes another route, in a handful of NumPy
# calls instead of a few dozen: each window's taps copied side by side,
# np.argmax for the first maximum of each, and np.bincount to add each
# window's gradient to its input. On the development machine it was about 2.5x
# faster for inputs of a few KB, and slower than the taps above 32-64 KB.
_SMALL_INPUT_BYTES = 32 * 1024
_SMALL_INPUT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))  # np.bincount adds in float64


@lru_cache(maxsize=64)
def _window_starts(shape: tuple[int, ...], g: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The flat index in x of each window's first input, (N, C, H', W'), and each tap's offset from it."""
    n, c, height, width = shape
    (kh, kw), (sh, sw), (oh, ow) = g.window, g.stride, g.out_size
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (height * width)
    starts = planes + (np.arange(oh) * (sh * width)).reshape(oh, 1) + np.arange(ow) * sw
    offsets = (np.arange(kh).reshape(kh, 1) * width + np.arange(kw)).ravel()
    starts.flags.writeable = offsets.flags.writeable = False  # shared by every call with this shape
    return starts, offsets


def _max_pool_backward_small(dout: np.ndarray, x: np.ndarray, g: PoolGeometry, dtype) -> np.ndarray:
    """:func:`max_pool_backward` in a few NumPy calls, for small inputs (see above)."""
    (n, c, _, _), (kh, kw), (sh, sw), (oh, ow) = x.shape, g.window, g.stride, g.out_size
    x = np.ascontiguousarray(x)
    s = x.strides
    windows = np.ndarray((n, c, oh, ow, kh, kw), x.dtype, buffer=x, strides=(*s[:2], s[2] * sh, s[3] * sw, *s[2:]))
    first = windows.reshape(n, c, oh, ow, kh * kw).argmax(axis=-1)  # row-major, NaN first, as the loops
    starts, offsets = _window_starts(x.shape, g)
    targets = offsets[first]
    targets += starts
    # bincount adds the gradients of overlapping windows in window order, as the loops do
    dx = np.bincount(targets.ravel(), weights=dout.ravel(), minlength=x.size)
    return dx.reshape(x.shape).astype(dtype, copy=False)


def max_pool_backward_naive(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Loop twin of :func:`max_pool_backward`."""
    x, g = _backward_inputs(dout, cache)
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(g.out_size[0]):
                for j in range(g.out_size[1]):
                    rows, cols = g.window_at(i, j)
                    k, l = np.unravel_index(np.argmax(x[n, c, rows, cols]), g.window)
                    dx[n, c, rows.start + k, cols.start + l] += dout[n, c, i, j]
    return dx


# --------------------------------------------------------------------------- average pooling


def _sum_of_taps(x: np.ndarray, taps, out: np.ndarray) -> np.ndarray:
    """``out = sum over the taps t of x[t]``."""
    if len(taps) == 1:
        np.copyto(out, x[taps[0]])
        return out
    np.add(x[taps[0]], x[taps[1]], out=out)
    for tap in taps[2:]:
        out += x[tap]
    return out


def avg_pool_forward(x: np.ndarray, pool_param: dict):
    """Forward pass of average pooling (same keys and cache as :func:`max_pool_forward`).

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> avg_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})[0][0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    g = _checks.remembered(pool_geometry, x, pool_param)
    plan = _plan(x.shape, g)
    dtype = np.result_type(x, np.float64)
    out = np.empty((*x.shape[:2], *g.out_size), dtype=dtype)
    xs, outs, area = _planes(x), _planes(out), g.window[0] * g.window[1]

    def work(blocks):
        for block in blocks:  # the window sum is the sum along the rows of the sums down the columns
            x_block = xs[block]
            column_sum = scratch("avg column", (len(x_block), g.out_size[0], x.shape[3]), dtype)
            _sum_of_taps(_sum_of_taps(x_block, plan.down, column_sum), plan.across, outs[block])
            outs[block] /= area

    _parallel.run_parts(work, plan.parts)
    return out, (x, pool_param)


def avg_pool_forward_naive(x: np.ndarray, pool_param: dict):
    """Loop twin of :func:`avg_pool_forward`."""
    return _pool_forward_naive(x, pool_param, np.mean, np.result_type(x, np.float64))


def avg_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of average pooling: each window shares its gradient equally.

    >>> x = np.zeros((1, 1, 2, 2))
    >>> avg_pool_backward(np.ones((1, 1, 1, 1)), (x, {"pool_height": 2, "pool_width": 2, "stride": 2}))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    x, g = _checked_backward_inputs(dout, cache)
    plan = _plan(x.shape, g)
    # in at least float64, as the forward pass and the loops
    share = np.divide(dout, g.window[0] * g.window[1], dtype=np.result_type(dout, np.float64))
    dx = _buffer(x.shape, share.dtype, plan.tiled[0])
    shares, dxs = _planes(share), _planes(dx)

    def work(blocks):
        for block in blocks:  # each input of a window gets its share: spread along the rows, then down
            shape = (len(shares[block]), g.out_size[0], x.shape[3])
            d_column_sum = scratch("avg d column", shape, share.dtype, zero=not plan.tiled[1])
            _spread(shares[block], plan.across, d_column_sum, g.stride[1])
            _spread(d_column_sum, plan.down, dxs[block], g.stride[0])

    _parallel.run_parts(work, plan.parts)
    return dx


def avg_pool_backward_naive(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Loop twin of :func:`avg_pool_backward`."""
    x, g = _backward_inputs(dout, cache)
    dx = np.zeros(x.shape, dtype=np.result_type(dout, np.float64))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(g.out_size[0]):
                for j in range(g.out_size[1]):
                    dx[(n, c, *g.window_at(i, j))] += dout[n, c, i, j] / (g.window[0] * g.window[1])
    return dx


# --------------------------------------------------------------------------- global average pooling


def global_avg_pool_forward(x: np.ndarray):
    """Average each activation map to one number.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    out : ndarray, shape (N, C)
    cache : ndarray
        ``x`` itself.

    >>> global_avg_pool_forward(np.arange(8.0).reshape(1, 2, 2, 2))[0]
    array([[1.5, 5.5]])
    """
    _checks.array(x, "x", ndim=4, layout="(N, C, H, W)")
    return x.mean(axis=(2, 3)), x


def global_avg_pool_forward_naive(x: np.ndarray):
    """Loop twin of :func:`global_avg_pool_forward`."""
    _checks.array(x, "x", ndim=4, layout="(N, C, H, W)")
    out = np.zeros(x.shape[:2], dtype=np.result_type(x, np.float64))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            total = 0.0
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    total += x[n, c, i, j]
            out[n, c] = total / (x.shape[2] * x.shape[3])
    return out, x


def _global_backward_inputs(dout, cache):
    x = _checks.array(cache, "cache (the input x)", ndim=4, layout="(N, C, H, W)")
    _checks.same_shape(dout, x.shape[:2], "dout", "(N, C), the shape of the forward output")
    return x


def global_avg_pool_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of global average pooling: ``dx[n, c] = dout[n, c] / (H*W)`` everywhere."""
    x = _global_backward_inputs(dout, cache)
    share = dout / (x.shape[2] * x.shape[3])
    return np.broadcast_to(share[:, :, None, None], x.shape).copy()


def global_avg_pool_backward_naive(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Loop twin of :func:`global_avg_pool_backward`."""
    x = _global_backward_inputs(dout, cache)
    dx = np.zeros(x.shape, dtype=np.result_type(dout, np.float64))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    dx[n, c, i, j] = dout[n, c] / (x.shape[2] * x.shape[3])
    return dx
