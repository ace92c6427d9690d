"""Zero padding and the convolutional layer, forward and backward.

Layout is NCHW: ``x`` is ``(N, C, H, W)``, filters ``w`` are ``(F, C, HH, WW)``,
biases ``b`` are ``(F,)``. ``conv_param`` holds ``stride``, ``pad`` and an
optional ``dilation`` (default 1), each an int or an ``(h, w)`` pair. As in
every CNN library, "convolution" here is cross-correlation: the filter is not
flipped (see :mod:`reference.correlation` for the difference).

Each op comes twice: ``<op>_naive`` is a plain loop over output positions that
reads like the lecture, and ``<op>`` is the vectorized version (im2col and
one matrix product per chunk of images) that the grader uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from . import _checks
from ._workspace import scratch
from .shapes import axis_output_size, dilated_size

__all__ = [
    "zero_pad",
    "zero_pad_naive",
    "conv_forward",
    "conv_forward_naive",
    "conv_backward",
    "conv_backward_naive",
    "conv1x1_forward",
    "conv1x1_forward_naive",
]


# --------------------------------------------------------------------------- zero padding


def _pad_amounts(x, pad) -> tuple[int, int]:
    _checks.array(x, "x", ndim=(2, 3, 4), layout="(..., H, W)")
    return _checks.as_pair(pad, "pad", minimum=0)


def zero_pad(x: np.ndarray, pad) -> np.ndarray:
    """Pad the last two axes (H, W) of ``x`` with zeros on both sides.

    Parameters
    ----------
    x : ndarray, shape (H, W), (C, H, W) or (N, C, H, W)
    pad : int or (pad_h, pad_w)
        Zeros added above and below (pad_h) and left and right (pad_w).

    Returns
    -------
    ndarray, shape (..., H + 2*pad_h, W + 2*pad_w)
        A new array; ``x`` is not modified.

    Examples
    --------
    >>> zero_pad(np.ones((1, 1, 1, 2)), 1)[0, 0]
    array([[0., 0., 0., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]])
    """
    ph, pw = _pad_amounts(x, pad)
    widths = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    return np.pad(x, widths, mode="constant", constant_values=0)


def zero_pad_naive(x: np.ndarray, pad) -> np.ndarray:
    """Loop twin of :func:`zero_pad`: copy each pixel into a larger zero array."""
    ph, pw = _pad_amounts(x, pad)
    height, width = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (height + 2 * ph, width + 2 * pw), dtype=x.dtype)
    for i in range(height):
        for j in range(width):
            out[..., ph + i, pw + j] = x[..., i, j]
    return out


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class ConvGeometry:
    """Validated sizes of one convolution: strides, pads, dilations and the output size."""

    stride: tuple[int, int]
    pad: tuple[int, int]
    dilation: tuple[int, int]
    filter_size: tuple[int, int]
    out_size: tuple[int, int]


def _check_layer_arrays(x, w, b, w_layout: str, w_verb: str, w_rule: str) -> None:
    """x is (N, C, H, W), w is ``w_layout`` over the same C, b holds one bias per filter."""
    _checks.array(x, "x", ndim=4, layout="(N, C, H, W)")
    _checks.array(w, "w", ndim=w_layout.count(",") + 1, layout=w_layout)
    _checks.array(b, "b", ndim=1, layout="(F,)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"channel mismatch: x has C={x.shape[1]} channels (x.shape={x.shape}) but w {w_verb} "
            f"C={w.shape[1]} (w.shape={w.shape}); w must be {w_layout}{w_rule}"
        )
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"b must have one bias per filter: expected shape ({w.shape[0]},), got {b.shape}")


def conv_geometry(x, w, b, conv_param) -> ConvGeometry:
    """Check the arguments of a convolution and work out its output size.

    Raises ``TypeError`` or ``ValueError`` naming the argument at fault.
    """
    _check_layer_arrays(x, w, b, "(F, C, HH, WW)", "expects", " with the same C as x (N, C, H, W)")
    stride = _checks.as_pair(_checks.param(conv_param, "stride", "conv_param"), "conv_param['stride']", minimum=1)
    pad = _checks.as_pair(_checks.param(conv_param, "pad", "conv_param"), "conv_param['pad']", minimum=0)
    dilation = _checks.as_pair(conv_param.get("dilation", 1), "conv_param['dilation']", minimum=1)
    filter_size = (w.shape[2], w.shape[3])
    if min(filter_size) < 1 or min(x.shape[2:]) < 1:
        raise ValueError(f"x and w need H, W, HH, WW >= 1, got x.shape={x.shape}, w.shape={w.shape}")
    out_size = (
        axis_output_size("height", x.shape[2], filter_size[0], stride[0], pad[0], dilation[0]),
        axis_output_size("width", x.shape[3], filter_size[1], stride[1], pad[1], dilation[1]),
    )
    return ConvGeometry(stride, pad, dilation, filter_size, out_size)


# --------------------------------------------------------------------------- im2col helpers

# The vectorized convolution is one matrix product per chunk of images: the
# filters as rows, (F, HH*WW*C), times the columns (im2col), (HH*WW*C,
# positions), where column p holds the inputs that output position p reads.
# The chunk's images are first copied zero-padded and channel-major, into
# xp (C, n, Hp, Wp).
#
# At stride 1 the positions run over whole padded rows and images, Wp per row
# and Hp*Wp per image. Then what filter tap (k, l) reads, for all positions
# and one channel, is a single run of the flattened xp[c] starting at the
# tap's offset k*dh*Wp + l*dw, so im2col copies runs and col2im adds them
# back: long contiguous operations. The positions past W' in a row or past H'
# in an image read into the next row or image; their outputs are dropped and
# their gradient is zero. The columns keep a row of n*Hp*Wp positions per
# channel, the chunk's whole grid, of which the products use those up to the
# last output: so a tap's rows for all channels are one run of the flattened
# xp too (its reads past a channel's end land in positions the products do not
# use), copied and added back in one call each. At stride > 1 the positions
# are the H'*W' outputs of each image, read through a strided view.
#
# A 1x1 filter at stride 1 without padding reads each pixel once: the columns
# are the images themselves, one product per image, and no copies.
#
# Chunks take about _COLUMN_BYTES of columns, in one buffer reused from chunk
# to chunk so that it stays in the CPU cache.
_COLUMN_BYTES = 2 * 1024 * 1024


class _Im2col(NamedTuple):
    """The im2col layout of one convolution (see above)."""

    runs: bool  # stride 1: the positions run over the padded rows and images
    identity: bool  # 1x1 filter, stride 1, no padding: the columns are the images
    padded: tuple[int, int]  # (Hp, Wp)
    grid: tuple[int, int]  # the positions of one image as rows x row length: (Hp, Wp) for runs, else (H', W')
    last: int  # positions of the last image of a chunk: the runs stop at its last output
    chunk: int  # images per chunk
    reach: int  # for runs, the largest tap offset k*dh*Wp + l*dw (0 at stride > 1)

    def positions(self, images: int) -> int:
        return (images - 1) * self.grid[0] * self.grid[1] + self.last


@lru_cache(maxsize=64)
def _im2col_layout(x_shape: tuple[int, ...], g: ConvGeometry) -> _Im2col:
    (_, channels, height, width), (kh, kw), (ph, pw), (oh, ow) = x_shape, g.filter_size, g.pad, g.out_size
    padded = (height + 2 * ph, width + 2 * pw)
    runs = g.stride == (1, 1)
    grid = padded if runs else (oh, ow)
    return _Im2col(
        runs=runs,
        identity=runs and (kh, kw) == (1, 1) and (ph, pw) == (0, 0),
        padded=padded,
        grid=grid,
        last=(oh - 1) * grid[1] + ow,
        chunk=max(1, _COLUMN_BYTES // max(1, 8 * kh * kw * channels * grid[0] * grid[1])),
        reach=((kh - 1) * g.dilation[0] * padded[1] + (kw - 1) * g.dilation[1]) if runs else 0,
    )


def _filter_rows(w: np.ndarray, dtype) -> np.ndarray:
    """The filters as rows ``(F, HH*WW*C)``, ordered like the columns: taps outer, channels inner."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], math.prod(w.shape[1:])).astype(dtype, copy=False)


def _chunks(n: int, size: int):
    """Slices of the batch, ``size`` images each (the last one may be shorter)."""
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _padded(purpose: str, layout: _Im2col, c: int, m: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """A zeroed flat array, and its start seen as (C, n, Hp, Wp) for ``m`` images: ``layout.reach`` entries remain."""
    size = c * m * layout.padded[0] * layout.padded[1]
    flat = scratch(purpose, (size + layout.reach,), dtype, zero=True)
    return flat, flat[:size].reshape(c, m, *layout.padded)


def _columns_by_chunk(x: np.ndarray, g: ConvGeometry, layout: _Im2col, dtype):
    """Yield ``(chunk, columns, taps)`` for the chunks of the batch.

    ``chunk`` is a slice of the batch, ``columns`` its columns ``(HH*WW*C,
    positions)`` and ``taps`` the same buffer seen as ``(HH, WW, ...)``, with
    the whole grid's positions for runs (see above). Every chunk's columns
    share one buffer: use them before taking the next.
    """
    (n, c, height, width), (kh, kw), (ph, pw) = x.shape, g.filter_size, g.pad
    (sh, sw), (dh, dw), (oh, ow) = g.stride, g.dilation, g.out_size
    size = max(1, min(layout.chunk, n))
    buffer = scratch("conv columns", (kh * kw * c * size * layout.grid[0] * layout.grid[1],), dtype)
    xp = None
    for chunk in _chunks(n, size):
        m = chunk.stop - chunk.start
        if xp is None or xp.shape[1] != m:
            flat, xp = _padded("conv padded input", layout, c, m, dtype)  # the border stays zero
        xp[:, :, ph : ph + height, pw : pw + width] = x[chunk].transpose(1, 0, 2, 3)
        s_c, s_n, s_h, s_w = xp.strides
        row = m * layout.grid[0] * layout.grid[1]  # positions per channel in the columns
        if layout.runs:  # v[k, l, q] = xp.flat[k*dh*Wp + l*dw + q], q over all channels' grids
            shape, strides = (kh, kw, c * row), (s_h * dh, s_w * dw, s_w)
            source = flat  # xp, and the reach after it
        else:  # v[k, l, c, n, i, j] = xp[c, n, i*sh + k*dh, j*sw + l*dw]
            shape, strides = (kh, kw, c, m, oh, ow), (s_h * dh, s_w * dw, s_c, s_n, s_h * sh, s_w * sw)
            source = xp
        taps = buffer[: kh * kw * c * row].reshape(shape)
        # a view of the padded input, as as_strided makes, at a ninth of its cost; ndarray
        # also checks that the view stays inside its buffer
        np.copyto(taps, np.ndarray(shape, xp.dtype, buffer=source, strides=strides))
        yield chunk, taps.reshape(kh * kw * c, row)[:, : layout.positions(m)], taps


def _add_columns(d_taps: np.ndarray, g: ConvGeometry, layout: _Im2col, padded: tuple[np.ndarray, np.ndarray]) -> None:
    """col2im: add the gradient of each column entry to the input it was read from.

    ``d_taps`` is the gradient of the columns seen as the ``taps`` of
    :func:`_columns_by_chunk`; ``padded`` is from :func:`_padded`, and gets the sums.
    """
    flat, dxp = padded
    (c, m), (kh, kw), (sh, sw), (dh, dw), (oh, ow) = dxp.shape[:2], g.filter_size, g.stride, g.dilation, g.out_size
    if layout.runs:
        wp, row = layout.padded[1], d_taps.shape[2] // c
        d_taps.reshape(kh * kw * c, row)[:, layout.positions(m) :] = 0  # positions past the last output
        length = c * row
        for k in range(kh):
            for l in range(kw):
                start = k * dh * wp + l * dw
                np.add(flat[start : start + length], d_taps[k, l], out=flat[start : start + length])
    else:
        for k in range(kh):
            for l in range(kw):
                top, left = k * dh, l * dw
                dxp[:, :, top : top + sh * (oh - 1) + 1 : sh, left : left + sw * (ow - 1) + 1 : sw] += d_taps[k, l]


# --------------------------------------------------------------------------- forward


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict):
    """Forward pass of a convolutional layer (cross-correlation).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input images.
    w : ndarray, shape (F, C, HH, WW)
        F filters, each spanning all C input channels.
    b : ndarray, shape (F,)
        One bias per filter.
    conv_param : dict
        ``stride`` (>= 1), ``pad`` (>= 0, zeros on every side) and optional
        ``dilation`` (>= 1, default 1); each an int or an ``(h, w)`` pair.

    Returns
    -------
    out : ndarray, shape (N, F, H', W')
    cache : tuple
        ``(x, w, b, conv_param)``, as in CS231n, for :func:`conv_backward`.

    Notes
    -----
    ``out[n, f, i, j] = b[f] + sum_{c, k, l} w[f, c, k, l] * xp[n, c, i*sh + k*dh, j*sw + l*dw]``
    with ``xp`` the zero-padded input and
    ``H' = 1 + (H + 2*pad - (dilation*(HH - 1) + 1)) // stride`` (the division must be exact).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> out, _ = conv_forward(x, w, np.zeros(1), {"stride": 2, "pad": 0})
    >>> out[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    g = _checks.remembered(conv_geometry, x, w, b, conv_param)
    layout = _im2col_layout(x.shape, g)
    (n, c), f, (oh, ow) = x.shape[:2], w.shape[0], g.out_size
    dtype = np.result_type(x, w)
    out = np.empty((n, f, oh, ow), dtype=np.result_type(dtype, b))
    if layout.identity:  # out[n] = w x[n], each image as (C, H*W)
        filters, images = w.reshape(f, c).astype(dtype, copy=False), x.reshape(n, c, oh * ow).astype(dtype, copy=False)
        np.matmul(filters, images, out=out.reshape(n, f, oh * ow))
        out += b[:, None, None]
        return out, (x, w, b, conv_param)
    filters = _filter_rows(w, dtype)
    grid_size = layout.grid[0] * layout.grid[1]
    buffer = scratch("conv products", (f * max(1, min(layout.chunk, n)) * grid_size,), dtype)
    for chunk, columns, _ in _columns_by_chunk(x, g, layout, dtype):
        m = chunk.stop - chunk.start
        products = buffer[: f * m * grid_size].reshape(f, m, *layout.grid)  # (F, n, rows, row length)
        rows = products.reshape(f, m * grid_size)[:, : columns.shape[1]]
        np.matmul(filters, columns, out=rows)
        # back to (n, F, H', W'), keeping only the positions that are outputs, plus the bias
        outputs = products[:, :, :oh, :ow].transpose(1, 0, 2, 3)
        if out.dtype == dtype:  # the bias goes on the contiguous rows, where adding is cheap
            rows += b[:, None]
            np.copyto(out[chunk], outputs)
        else:
            np.add(outputs, b[:, None, None], out=out[chunk])
    return out, (x, w, b, conv_param)


def conv_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict):
    """Loop twin of :func:`conv_forward`: one dot product per output position."""
    g = conv_geometry(x, w, b, conv_param)
    xp = zero_pad(x, g.pad)
    (sh, sw), (dh, dw) = g.stride, g.dilation
    span_h, span_w = dilated_size(g.filter_size[0], dh), dilated_size(g.filter_size[1], dw)
    out = np.zeros((x.shape[0], w.shape[0], *g.out_size), dtype=np.result_type(x, w, b))
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for i in range(g.out_size[0]):
                for j in range(g.out_size[1]):
                    window = xp[n, :, i * sh : i * sh + span_h : dh, j * sw : j * sw + span_w : dw]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# --------------------------------------------------------------------------- backward


def _backward_inputs(dout, cache):
    if not isinstance(cache, tuple) or len(cache) != 4:
        raise TypeError("cache must be the tuple (x, w, b, conv_param) returned by conv_forward")
    x, w, b, conv_param = cache
    g = conv_geometry(x, w, b, conv_param)
    _checks.same_shape(dout, (x.shape[0], w.shape[0], *g.out_size), "dout", "the shape of the forward output")
    return x, w, g


def _backward_geometry(dout, x, w, b, conv_param) -> ConvGeometry:
    return _backward_inputs(dout, (x, w, b, conv_param))[2]


def _checked_backward_inputs(dout, cache):
    """:func:`_backward_inputs`, with the checks remembered."""
    if type(cache) is tuple and len(cache) == 4:
        return cache[0], cache[1], _checks.remembered(_backward_geometry, dout, *cache)
    return _backward_inputs(dout, cache)


def conv_backward(dout: np.ndarray, cache: tuple):
    """Backward pass of a convolutional layer.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H', W')
        Upstream gradient of the loss with respect to ``out``.
    cache : tuple
        ``(x, w, b, conv_param)`` from :func:`conv_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)

    Notes
    -----
    ``db[f] = sum dout[:, f]``; ``dw[f] = sum_{n,i,j} dout[n, f, i, j] * window(n, i, j)``;
    ``dx`` scatters ``dout[n, f, i, j] * w[f]`` back onto each window (col2im),
    then drops the padding.

    Examples
    --------
    >>> x, w, b = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1)
    >>> out, cache = conv_forward(x, w, b, {"stride": 1, "pad": 0})
    >>> dx, dw, db = conv_backward(np.ones_like(out), cache)
    >>> dx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    x, w, g = _checked_backward_inputs(dout, cache)
    layout = _im2col_layout(x.shape, g)
    (n, c, height, width), (f, _, kh, kw), (oh, ow), (ph, pw) = x.shape, w.shape, g.out_size, g.pad
    dtype = np.result_type(dout, x, w)
    db = dout.sum(axis=(0, 2, 3))
    if layout.identity:  # out[n] = w x[n]: dw = sum_n dout[n] x[n]^T, dx[n] = w^T dout[n]
        filters, images = w.reshape(f, c).astype(dtype, copy=False), x.reshape(n, c, oh * ow).astype(dtype, copy=False)
        d_out = dout.reshape(n, f, oh * ow).astype(dtype, copy=False)
        dw = np.matmul(d_out, images.transpose(0, 2, 1)).sum(axis=0)
        dx = np.matmul(filters.T, d_out)
        return dx.reshape(x.shape), dw.reshape(w.shape), db
    filters = _filter_rows(w, dtype)
    d_filters = np.zeros(filters.shape, dtype=dtype)
    dx = np.empty(x.shape, dtype=dtype)
    d_products = None
    for chunk, columns, taps in _columns_by_chunk(x, g, layout, dtype):
        m = chunk.stop - chunk.start
        if d_products is None or d_products.shape[1] != m:  # positions that are not outputs get zero gradient
            d_products = scratch("conv d products", (f, m, *layout.grid), dtype, zero=True)
        d_products[:, :, :oh, :ow] = dout[chunk].transpose(1, 0, 2, 3)
        d_out = d_products.reshape(f, m * layout.grid[0] * layout.grid[1])[:, : columns.shape[1]]
        # dw: dout times the inputs each position read, summed over the positions
        d_filters += d_out @ columns.T
        # dx: each position sends dout * w back to the inputs it read (col2im)
        np.matmul(filters.T, d_out, out=columns)  # the columns are not needed any more
        d_padded = _padded("conv d padded input", layout, c, m, dtype)
        _add_columns(taps, g, layout, d_padded)
        dxp = d_padded[1]
        dx[chunk] = dxp[:, :, ph : ph + height, pw : pw + width].transpose(1, 0, 2, 3)
    dw = d_filters.reshape(f, kh, kw, c).transpose(0, 3, 1, 2)
    return dx, np.ascontiguousarray(dw), db


def conv_backward_naive(dout: np.ndarray, cache: tuple):
    """Loop twin of :func:`conv_backward`: each output position sends its gradient back."""
    x, w, g = _backward_inputs(dout, cache)
    xp = zero_pad(x, g.pad)
    (ph, pw), (sh, sw), (dh, dw_) = g.pad, g.stride, g.dilation
    span_h, span_w = dilated_size(g.filter_size[0], dh), dilated_size(g.filter_size[1], dw_)
    dtype = np.result_type(dout, x, w)
    dxp = np.zeros(xp.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for i in range(g.out_size[0]):
                for j in range(g.out_size[1]):
                    rows = slice(i * sh, i * sh + span_h, dh)
                    cols = slice(j * sw, j * sw + span_w, dw_)
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    db = dout.sum(axis=(0, 2, 3))
    dx = dxp[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]].copy()
    return dx, dw, db


# --------------------------------------------------------------------------- 1x1 convolution


def _conv1x1_check(x, w, b) -> None:
    _check_layer_arrays(x, w, b, "(F, C)", "mixes", ", one row per output channel")


def conv1x1_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A 1x1 convolution: at every pixel, mix the C input channels into F outputs.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C)
        One row of channel weights per filter (a conv filter ``(F, C, 1, 1)``
        without its two unit axes).
    b : ndarray, shape (F,)

    Returns
    -------
    ndarray, shape (N, F, H, W)

    Notes
    -----
    ``out[n, f, i, j] = b[f] + sum_c w[f, c] * x[n, c, i, j]``: the same as
    :func:`conv_forward` with ``w[:, :, None, None]``, stride 1 and no padding.
    The lecture's example: 56x56x64 input, 32 filters of 1x1x64 -> 56x56x32.

    Examples
    --------
    >>> x = np.ones((1, 64, 56, 56))
    >>> conv1x1_forward(x, np.ones((32, 64)), np.zeros(32)).shape
    (1, 32, 56, 56)
    """
    _conv1x1_check(x, w, b)
    n, c, height, width = x.shape
    out = np.matmul(w, x.reshape(n, c, height * width)) + b[:, None]  # (F, C) @ (N, C, H*W) -> (N, F, H*W)
    return out.reshape(n, w.shape[0], height, width)


def conv1x1_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Loop twin of :func:`conv1x1_forward`: one dot product over the channels per output."""
    _conv1x1_check(x, w, b)
    n, c, height, width = x.shape
    out = np.zeros((n, w.shape[0], height, width), dtype=np.result_type(x, w, b))
    for image in range(n):
        for f in range(w.shape[0]):
            for i in range(height):
                for j in range(width):
                    out[image, f, i, j] = np.dot(w[f], x[image, :, i, j]) + b[f]
    return out
