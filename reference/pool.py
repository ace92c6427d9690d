"""Pooling layers, forward and backward: max, average and global average.

Layout is NCHW. ``pool_param`` holds ``pool_height``, ``pool_width`` and
``stride`` (an int or an ``(h, w)`` pair); there is no padding, and the window
must fit the input exactly, as the lecture's output-size formula requires.

Max pooling sends each window's gradient to the first largest element in
row-major order, as torch does, so the two engines agree even on ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from .conv import _axis_output_size

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

    def taps(self):
        """Yield ``(k, l, rows, cols)``: for each window tap, the slices of x it reads."""
        (sh, sw), (oh, ow) = self.stride, self.out_size
        for k in range(self.window[0]):
            for l in range(self.window[1]):
                yield k, l, slice(k, k + sh * (oh - 1) + 1, sh), slice(l, l + sw * (ow - 1) + 1, sw)

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
        _axis_output_size("height", x.shape[2], window[0], stride[0], 0, 1),
        _axis_output_size("width", x.shape[3], window[1], stride[1], 0, 1),
    )
    return PoolGeometry(window, stride, out_size)


def _backward_inputs(dout, cache):
    if not isinstance(cache, tuple) or len(cache) != 2:
        raise TypeError("cache must be the tuple (x, pool_param) returned by the forward pass")
    x, pool_param = cache
    g = pool_geometry(x, pool_param)
    _checks.same_shape(dout, (*x.shape[:2], *g.out_size), "dout", "the shape of the forward output")
    return x, g


# --------------------------------------------------------------------------- max pooling


def _max_and_argmax(x: np.ndarray, g: PoolGeometry):
    """Maximum of every window and the flat index (k*pool_width + l) of its first maximum."""
    best = index = None
    for k, l, rows, cols in g.taps():
        tap = x[:, :, rows, cols]
        if best is None:
            best, index = tap.copy(), np.zeros(tap.shape, dtype=np.intp)
            continue
        larger = tap > best  # strict: the first maximum in row-major order wins ties
        np.copyto(best, tap, where=larger)
        index[larger] = k * g.window[1] + l
    return best, index


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
    g = pool_geometry(x, pool_param)
    return _max_and_argmax(x, g)[0], (x, pool_param)


def max_pool_forward_naive(x: np.ndarray, pool_param: dict):
    """Loop twin of :func:`max_pool_forward`."""
    g = pool_geometry(x, pool_param)
    out = np.zeros((*x.shape[:2], *g.out_size), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(g.out_size[0]):
                for j in range(g.out_size[1]):
                    out[n, c, i, j] = np.max(x[(n, c, *g.window_at(i, j))])
    return out, (x, pool_param)


def max_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of max pooling: each window's gradient goes to its (first) maximum.

    Returns ``dx`` of shape (N, C, H, W). Where windows overlap, gradients add.

    >>> x = np.array([[[[1.0, 3.0], [3.0, 2.0]]]])
    >>> p = {"pool_height": 2, "pool_width": 2, "stride": 1}
    >>> max_pool_backward(np.ones((1, 1, 1, 1)), (x, p))[0, 0]
    array([[0., 1.],
           [0., 0.]])
    """
    x, g = _backward_inputs(dout, cache)
    _, index = _max_and_argmax(x, g)
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    for k, l, rows, cols in g.taps():
        dx[:, :, rows, cols] += np.where(index == k * g.window[1] + l, dout, 0)
    return dx


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


def avg_pool_forward(x: np.ndarray, pool_param: dict):
    """Forward pass of average pooling (same keys and cache as :func:`max_pool_forward`).

    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> avg_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})[0][0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    g = pool_geometry(x, pool_param)
    out = np.zeros((*x.shape[:2], *g.out_size), dtype=np.result_type(x, np.float64))
    for _, _, rows, cols in g.taps():
        out += x[:, :, rows, cols]
    return out / (g.window[0] * g.window[1]), (x, pool_param)


def avg_pool_forward_naive(x: np.ndarray, pool_param: dict):
    """Loop twin of :func:`avg_pool_forward`."""
    g = pool_geometry(x, pool_param)
    out = np.zeros((*x.shape[:2], *g.out_size), dtype=np.result_type(x, np.float64))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(g.out_size[0]):
                for j in range(g.out_size[1]):
                    out[n, c, i, j] = np.mean(x[(n, c, *g.window_at(i, j))])
    return out, (x, pool_param)


def avg_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of average pooling: each window shares its gradient equally.

    >>> x = np.zeros((1, 1, 2, 2))
    >>> avg_pool_backward(np.ones((1, 1, 1, 1)), (x, {"pool_height": 2, "pool_width": 2, "stride": 2}))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    x, g = _backward_inputs(dout, cache)
    share = dout / (g.window[0] * g.window[1])
    dx = np.zeros(x.shape, dtype=share.dtype)
    for _, _, rows, cols in g.taps():
        dx[:, :, rows, cols] += share
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
