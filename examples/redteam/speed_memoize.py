"""Red team: pass the speed check with slow loops behind a memo keyed by the arguments' bytes.

What it tries: both functions are the lecture's loops, but every answer is
remembered under a hash of the arguments' dtype, shape and bytes (and of the
cache's arrays for the backward).  If the timed calls repeat an argument
already seen (the correctness check, the warm-up, the earlier timed calls),
the answer comes from the memo in microseconds.

Attack worked if: any speed point (more than 15/19; sound grader: every
timed call gets fresh arguments the student cannot predict).
Targets: fast_conv.
"""
# redteam-assignment: fast_conv
# redteam-expect: points<=15

import hashlib

import numpy as np

_MEMO = {}


def _key(*values):
    digest = hashlib.sha1()
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, np.ndarray):
            digest.update(str((value.dtype, value.shape)).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (tuple, list)):
            stack += list(value)
        elif isinstance(value, dict):
            stack += sorted(value.items(), key=repr)
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def conv_forward_im2col(x, w, b, conv_param):
    key = _key("f", x, w, b, conv_param)
    if key not in _MEMO:
        _MEMO[key] = _slow_forward(x, w, b, conv_param)
    out, cache = _MEMO[key]
    return out.copy(), cache


def conv_backward_im2col(dout, cache):
    key = _key("b", dout, cache)
    if key not in _MEMO:
        _MEMO[key] = _slow_backward(dout, cache)
    return tuple(item.copy() for item in _MEMO[key])

# --- the lecture's loops (examples/fast_conv/slow.py), under other names ---

def _slow_forward(x, w, b, conv_param):
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
    return out, (x, w, b, conv_param)

def _slow_backward(dout, cache):
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
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, db
