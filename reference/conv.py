"""Zero padding and the convolutional layer, forward and backward.

Layout is NCHW: ``x`` is ``(N, C, H, W)``, filters ``w`` are ``(F, C, HH, WW)``,
biases ``b`` are ``(F,)``. ``conv_param`` holds ``stride``, ``pad`` and an
optional ``dilation`` (default 1), each an int or an ``(h, w)`` pair. As in
every CNN library, "convolution" here is cross-correlation: the filter is not
flipped (see :mod:`reference.correlation` for the difference).

Each op comes twice: ``<op>_naive`` is a plain loop over output positions that
reads like the lecture, and ``<op>`` is the vectorized version (im2col by
strided views and one matrix product per image) that the grader uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _checks
from .shapes import dilated_size, output_size

__all__ = [
    "zero_pad",
    "zero_pad_naive",
    "conv_forward",
    "conv_forward_naive",
    "conv_backward",
    "conv_backward_naive",
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


def _axis_output_size(axis: str, in_size, filter_size, stride, pad, dilation) -> int:
    try:
        return output_size(in_size, filter_size, stride, pad, dilation)
    except ValueError as error:
        raise ValueError(f"{axis}: {error}") from None


def conv_geometry(x, w, b, conv_param) -> ConvGeometry:
    """Check the arguments of a convolution and work out its output size.

    Raises ``TypeError`` or ``ValueError`` naming the argument at fault.
    """
    _checks.array(x, "x", ndim=4, layout="(N, C, H, W)")
    _checks.array(w, "w", ndim=4, layout="(F, C, HH, WW)")
    _checks.array(b, "b", ndim=1, layout="(F,)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"channel mismatch: x has C={x.shape[1]} channels (x.shape={x.shape}) but w expects "
            f"C={w.shape[1]} (w.shape={w.shape}); w must be (F, C, HH, WW) with the same C as x (N, C, H, W)"
        )
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"b must have one bias per filter: expected shape ({w.shape[0]},), got {b.shape}")
    stride = _checks.as_pair(_checks.param(conv_param, "stride", "conv_param"), "conv_param['stride']", minimum=1)
    pad = _checks.as_pair(_checks.param(conv_param, "pad", "conv_param"), "conv_param['pad']", minimum=0)
    dilation = _checks.as_pair(conv_param.get("dilation", 1), "conv_param['dilation']", minimum=1)
    filter_size = (w.shape[2], w.shape[3])
    if min(filter_size) < 1 or min(x.shape[2:]) < 1:
        raise ValueError(f"x and w need H, W, HH, WW >= 1, got x.shape={x.shape}, w.shape={w.shape}")
    out_size = (
        _axis_output_size("height", x.shape[2], filter_size[0], stride[0], pad[0], dilation[0]),
        _axis_output_size("width", x.shape[3], filter_size[1], stride[1], pad[1], dilation[1]),
    )
    return ConvGeometry(stride, pad, dilation, filter_size, out_size)


# --------------------------------------------------------------------------- im2col helpers


def _windows(xp: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Read-only view ``v[n, c, i, j, p, q] = xp[n, c, p*sh + i*dh, q*sw + j*dw]``."""
    n, c = xp.shape[:2]
    s_n, s_c, s_h, s_w = xp.strides
    (sh, sw), (dh, dw) = g.stride, g.dilation
    shape = (n, c, *g.filter_size, *g.out_size)
    strides = (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw)
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def _columns(x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """im2col: ``(N, C*HH*WW, H'*W')``, one column per output position of each image."""
    xp = zero_pad(x, g.pad) if any(g.pad) else x
    n, c = x.shape[:2]
    return _windows(xp, g).reshape(n, c * g.filter_size[0] * g.filter_size[1], -1)


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
    g = conv_geometry(x, w, b, conv_param)
    cols = _columns(x, g)  # (N, C*HH*WW, H'*W')
    out = np.matmul(w.reshape(w.shape[0], -1), cols)  # (N, F, H'*W')
    out += b[None, :, None]
    return out.reshape(x.shape[0], w.shape[0], *g.out_size), (x, w, b, conv_param)


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
    x, w, g = _backward_inputs(dout, cache)
    n, f = dout.shape[:2]
    dout_cols = dout.reshape(n, f, -1)  # (N, F, H'*W')
    cols = _columns(x, g)  # (N, C*HH*WW, H'*W')
    db = dout.sum(axis=(0, 2, 3))
    dw = np.tensordot(dout_cols, cols, axes=([0, 2], [0, 2])).reshape(w.shape)
    dcols = np.matmul(w.reshape(f, -1).T, dout_cols)  # (N, C*HH*WW, H'*W')
    dcols = dcols.reshape(n, x.shape[1], *g.filter_size, *g.out_size)
    # col2im: add each filter tap's gradient back at the positions it read.
    (ph, pw), (sh, sw), (dh, dw_), (oh, ow) = g.pad, g.stride, g.dilation, g.out_size
    dxp = np.zeros((n, x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), dtype=dcols.dtype)
    for k in range(g.filter_size[0]):
        for l in range(g.filter_size[1]):
            top, left = k * dh, l * dw_
            dxp[:, :, top : top + sh * (oh - 1) + 1 : sh, left : left + sw * (ow - 1) + 1 : sw] += dcols[:, :, k, l]
    dx = dxp[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]]
    return np.ascontiguousarray(dx), dw, db


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
