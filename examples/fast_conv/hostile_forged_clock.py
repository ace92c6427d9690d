"""Hostile example: the lecture's slow loops, with the sandbox's clock forged to look fast.

A student who knows the grader once timed calls in the sandbox child with
``time.perf_counter`` (looked up at call time) makes that clock crawl: the
shared ``time`` module's ``perf_counter`` and ``monotonic`` are replaced by a
counter that advances one microsecond per reading, and so is the ``time``
global of every grader module found up the call stack
(``sys._getframe(...).f_globals``) or in ``sys.modules``. Against a grader
that believed the child's clock, the loops (about 150x the reference's time)
scored 19/19. The grader now reads the child's CPU clock itself, so both
speed properties fail as "too slow"; correctness keeps its 15 points.
"""

import itertools
import sys
import time
import types

import numpy as np

_ticks = itertools.count()


def _crawling_clock():
    return next(_ticks) * 1e-6


def _forge_clocks():
    fake_time = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("__")})
    fake_time.perf_counter = fake_time.monotonic = _crawling_clock
    time.perf_counter = time.monotonic = _crawling_clock
    namespaces = [module.__dict__ for module in list(sys.modules.values()) if isinstance(module, types.ModuleType)]
    frame = sys._getframe()
    while frame is not None:
        namespaces.append(frame.f_globals)
        frame = frame.f_back
    for namespace in namespaces:
        if namespace.get("time") is time and namespace.get("__name__") != __name__:
            namespace["time"] = fake_time


def conv_forward_im2col(x, w, b, conv_param):
    _forge_clocks()  # at call time: the grader's frames are on the stack now
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


def conv_backward_im2col(dout, cache):
    _forge_clocks()
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


_forge_clocks()  # and at load time, for good measure
