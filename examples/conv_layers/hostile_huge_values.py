"""Hostile example: conv_forward_naive returns a huge array that costs it almost nothing.

``np.broadcast_to`` makes a zero-stride view: 8 bytes of memory in the
student's process, but 20 MB (2500 x 1000 float64) once it is sent to the
grader, on every case.  Before the grader bounded each reply by what the
expected output can be, and dropped each case's value once judged, the
grader's process held every one of them until the check ended (gigabytes
for one check), enough to be killed by the machine and take the students
graded after this one down with it.  Now each reply is refused unread
("protocol"): only conv_forward_naive loses its points (and
conv_backward_naive, graded with the standard cache, keeps them).
"""

import numpy as np


def zero_pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    span = dilation * (filter_size - 1) + 1
    room = in_size - span + 2 * pad
    if room < 0 or room % stride != 0:
        raise ValueError(f"filter does not fit: ({in_size} - {span} + 2*{pad}) / {stride} + 1")
    return room // stride + 1


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    if isinstance(filter_size, tuple):
        height, width = filter_size
    else:
        height = width = filter_size
    return num_filters * (height * width * in_channels + (1 if bias else 0))


def conv_forward_naive(x, w, b, conv_param):
    huge = np.broadcast_to(np.float64(0.0), (2500, 1000))  # 8 bytes here, 20 MB on the wire
    return huge, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    HH, WW = w.shape[2:]
    H_out, W_out = dout.shape[2:]
    x_pad = zero_pad(x, pad)
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], x_pad[:, :, rows, cols], axes=([0], [0]))
            dx_pad[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dx_pad[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw].max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx
