"""Red team: pass the speed check by answering right once, then fast and wrong on the timed calls.

What it tries: the speed property checks the answer on the timing case once,
then times more calls.  Here the first call on any large input (more than
5000 elements in `x`, far beyond the correctness cases) runs the slow loops
and is right; every later large call returns at once an output of the
right shape filled with the first answer (or zeros), whatever the
arguments.  Against a grader that gives each timed call fresh arguments but
does not check the timed calls' results, this still passes.  Small inputs
(the correctness checks) get the honest slow loops.

Attack worked if: any speed point (more than 15/19; sound grader: every timed
call's result is judged too, or the timed calls are the checked ones).
Targets: fast_conv.
"""
# redteam-assignment: fast_conv
# redteam-expect: points<=15

import numpy as np

_FIRST = {}


def conv_forward_im2col(x, w, b, conv_param):
    if x.size <= 5000:
        return _slow_forward(x, w, b, conv_param)
    if "forward" not in _FIRST:
        _FIRST["forward"] = _slow_forward(x, w, b, conv_param)[0]
        return _FIRST["forward"].copy(), (x, w, b, conv_param)
    stride, pad = conv_param["stride"], conv_param["pad"]
    shape = (x.shape[0], w.shape[0], 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride,
             1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride)
    first = _FIRST["forward"]
    return (first.copy() if first.shape == shape else np.zeros(shape)), (x, w, b, conv_param)


def conv_backward_im2col(dout, cache):
    x = cache[0]
    if x.size <= 5000:
        return _slow_backward(dout, cache)
    if "backward" not in _FIRST:
        _FIRST["backward"] = _slow_backward(dout, cache)
        return tuple(item.copy() for item in _FIRST["backward"])
    first = _FIRST["backward"]
    if first[0].shape == x.shape and first[1].shape == cache[1].shape:
        return tuple(item.copy() for item in first)
    return np.zeros_like(x), np.zeros_like(cache[1]), np.zeros_like(cache[2])

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
