"""A real mistake: the im2col convolution reshapes the (F, N*H'*W') product straight to
(N, F, H', W'), and the backward reads dout as an (F, N*H'*W') matrix with dout.reshape(F, -1):
N and F are swapped, which also costs the speed points (the output is wrong on the timing case).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _im2col(x_pad, HH, WW, stride):
    """Columns (C*HH*WW, N*H_out*W_out): column p holds the inputs that output position p reads."""
    C = x_pad.shape[1]
    # windows[n, c, i, j, k, l] = x_pad[n, c, i*stride + k, j*stride + l]: a view, nothing copied yet
    windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    N, _, H_out, W_out = windows.shape[:4]
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * HH * WW, N * H_out * W_out), H_out, W_out


def conv_forward_im2col(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N = x.shape[0]
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols, H_out, W_out = _im2col(x_pad, HH, WW, stride)
    out = w.reshape(F, -1) @ cols + b[:, None]
    out = out.reshape(N, F, H_out, W_out)
    cache = (x, w, b, conv_param)
    return np.ascontiguousarray(out), cache


def conv_backward_im2col(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols, H_out, W_out = _im2col(x_pad, HH, WW, stride)
    db = dout.sum(axis=(0, 2, 3))
    dout_rows = dout.reshape(F, -1)
    dw = (dout_rows @ cols.T).reshape(w.shape)
    d_cols = (w.reshape(F, -1).T @ dout_rows).reshape(C, HH, WW, N, H_out, W_out)
    # col2im: each filter tap (k, l) sends its column gradients back to the inputs it read
    dx_pad = np.zeros_like(x_pad)
    for k in range(HH):
        for l in range(WW):
            dx_pad[:, :, k : k + stride * H_out : stride, l : l + stride * W_out : stride] += d_cols[:, k, l].transpose(1, 0, 2, 3)
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]
    return dx, dw, db
