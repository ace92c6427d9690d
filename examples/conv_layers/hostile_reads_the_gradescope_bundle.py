"""Hostile example: on Gradescope, tries to leak the bundle's secret and to run the bundled reference engine.

Gradescope unpacks the autograder zip to /autograder/source/, secret
included, and setup.sh installs the grader (``autograder`` and
``reference``) into /autograder/venv. zero_pad reads the secret and raises
it, so that the feedback shows it (with it, the graded cases can be drawn
at home); conv_forward_naive finds ``reference/conv.py`` on ``sys.path`` and
runs it. In the sandbox both reads are refused: those two functions earn
nothing (22 / 33), and the secret appears nowhere in results.json. The other
functions are correct and keep their points.
"""

import os
import sys

import numpy as np

#: Gradescope's root; the test of the bundle replaces it with its simulated tree.
ROOT = "/autograder"


def _steal_reference_source():
    for folder in sys.path:
        path = os.path.join(folder, "reference", "conv.py")
        if os.path.exists(path):
            return open(path).read()
    raise FileNotFoundError("no reference engine found")


def zero_pad(x, pad):
    with open(os.path.join(ROOT, "source", ".autograder-secret")) as handle:
        raise ValueError(f"the course secret is {handle.read().strip()}")


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
