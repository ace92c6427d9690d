"""Hostile example: on the timing case's shapes, replay the answer of the first call whatever the values.

Counting on every timed call seeing the same values as the untimed first
call, the lecture's loops run once per shape and the answer is returned
again for any later call of the timing case's shapes (x (8, 16, 16, 16)).
The correctness cases are small, so correctness keeps its 15 points. The
timed calls now get new values and each result is checked: both speed
properties fail as "wrong on a timed call".
"""

import numpy as np

_replay = {}
_TIMING_SHAPE = (8, 16, 16, 16)


def conv_forward_im2col(x, w, b, conv_param):
    if x.shape == _TIMING_SHAPE and "forward" in _replay:
        return _replay["forward"]
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    if x.shape == _TIMING_SHAPE:
        _replay["forward"] = out, (x, w, b, conv_param)
    return out, (x, w, b, conv_param)


def conv_backward_im2col(dout, cache):
    if dout.shape == _TIMING_SHAPE and "backward" in _replay:
        return _replay["backward"]
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
                    dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    db = dout.sum(axis=(0, 2, 3))
    result = dx_pad[:, :, pad : pad + H, pad : pad + W], dw, db
    if dout.shape == _TIMING_SHAPE:
        _replay["backward"] = result
    return result
