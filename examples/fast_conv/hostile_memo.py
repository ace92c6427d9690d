"""Hostile example: the lecture's slow loops behind a memo keyed by the arguments' bytes.

The grader used to time five calls on the very case of its warm-up call: the
warm-up filled the memo, and every timed call was a dictionary lookup
(19/19 at 0.4x the reference's time). Each timed call now gets new values of
the same shapes, so the memo never hits there and the loops are timed: both
speed properties fail as "too slow"; correctness keeps its 15 points.
"""

import hashlib

import numpy as np

_answers = {}


def _key(*arrays, extra=()):
    digest = hashlib.sha256(repr(extra).encode())
    for array in arrays:
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def conv_forward_im2col(x, w, b, conv_param):
    key = _key(x, w, b, extra=("forward", sorted(conv_param.items())))
    if key in _answers:
        return _answers[key]
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
    _answers[key] = out, (x.copy(), w.copy(), b.copy(), dict(conv_param))
    return _answers[key]


def conv_backward_im2col(dout, cache):
    x, w, b, conv_param = cache
    key = _key(dout, x, w, b, extra=("backward", sorted(conv_param.items())))
    if key in _answers:
        return _answers[key]
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
    _answers[key] = dx_pad[:, :, pad : pad + H, pad : pad + W], dw, db
    return _answers[key]
