"""Hostile example: tries to steal the grader's reference engine, and to write outside its folder.

It finds the reference package's location the way a clever student would
(the editable-install finder in site-packages, or a sibling `reference/`
folder), reads `conv.py`, and runs it to get a correct convolution. In the
sandbox the read is refused, so conv_forward_naive fails; zero_pad fails too,
because it first tries to leave a file in /tmp. The other functions are
correct and keep their points.
"""

import glob
import os
import re
import sys

import numpy as np


def _steal_reference_source():
    candidates = []
    for folder in sys.path:
        for finder in glob.glob(os.path.join(folder, "__editable__*finder.py")):
            text = open(finder).read()
            candidates += re.findall(r"'reference': '([^']+)'", text)
        candidates.append(os.path.join(folder, "reference"))
    for folder in candidates:
        path = os.path.join(folder, "conv.py")
        if os.path.exists(path):
            return open(path).read()
    raise FileNotFoundError("no reference engine found")


def zero_pad(x, pad):
    with open("/tmp/hostile_was_here", "w") as handle:
        handle.write("pwned")
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    span = dilation * (filter_size - 1) + 1
    room = in_size - span + 2 * pad
    if room < 0 or room % stride != 0:
        raise ValueError("filter does not fit")
    return room // stride + 1


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    height, width = filter_size if isinstance(filter_size, tuple) else (filter_size, filter_size)
    return num_filters * (height * width * in_channels + (1 if bias else 0))


def conv_forward_naive(x, w, b, conv_param):
    namespace = {}
    exec(_steal_reference_source(), namespace)
    return namespace["conv_forward"](x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    HH, WW = w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], x_pad[:, :, rows, cols], axes=([0], [0]))
            dx_pad[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    return dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    out = np.zeros((*x.shape[:2], 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * s : i * s + ph, j * s : j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s : i * s + ph, j * s : j * s + pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s : i * s + ph, j * s : j * s + pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx
