"""Red team: pass the speed check by doing the work before the timed calls, in a background thread.

What it tries: the timing case is public (autograder/rubrics/fast_conv.py:
seeded arrays 11..14 of `np.random.default_rng`).  At load, a background
thread rebuilds it and computes the forward and backward with the slow
loops; the functions answer any argument equal to it (compared by value,
the shape first) from that precomputed answer, waiting for the thread if
needed, and run the slow loops otherwise.  A second thread keeps
recomputing small things at all times so that CPU-time accounting per call
is muddled.

Attack worked if: any speed point (more than 15/19; sound grader: fresh,
unpredictable timing arguments, and CPU time of the whole child, threads
included).
Targets: fast_conv.
"""
# redteam-assignment: fast_conv
# redteam-expect: points<=15

import threading

import numpy as np

_READY = threading.Event()
_ANSWERS = {}


def _case():
    x = np.random.default_rng(11).standard_normal((8, 16, 16, 16))
    w = np.random.default_rng(12).standard_normal((16, 16, 3, 3))
    b = np.random.default_rng(13).standard_normal((16,))
    dout = np.random.default_rng(14).standard_normal((8, 16, 16, 16))
    return x, w, b, {"stride": 1, "pad": 1}, dout


def _precompute():
    x, w, b, conv_param, dout = _case()
    out, cache = _slow_forward(x, w, b, conv_param)
    _ANSWERS["case"] = (x, w, b, dout)
    _ANSWERS["forward"] = out
    _ANSWERS["backward"] = _slow_backward(dout, cache)
    _READY.set()


def _is_case(x, w, b, dout=None):
    if x.shape != (8, 16, 16, 16) or w.shape != (16, 16, 3, 3):
        return False
    _READY.wait(60)
    cx, cw, cb, cdout = _ANSWERS["case"]
    return np.array_equal(x, cx) and np.array_equal(w, cw) and np.array_equal(b, cb) and \
        (dout is None or np.array_equal(dout, cdout))


def conv_forward_im2col(x, w, b, conv_param):
    if _is_case(x, w, b):
        return _ANSWERS["forward"].copy(), (x, w, b, conv_param)
    return _slow_forward(x, w, b, conv_param)


def conv_backward_im2col(dout, cache):
    x, w, b, conv_param = cache
    if _is_case(x, w, b, dout):
        return tuple(item.copy() for item in _ANSWERS["backward"])
    return _slow_backward(dout, cache)

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

threading.Thread(target=_precompute, daemon=True).start()
