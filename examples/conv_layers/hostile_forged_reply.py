"""Hostile example: conv_forward_naive writes forged replies on the grader's protocol channel.

The sandbox child talks to the grader through a pipe, and the object that
writes to it (the child's ``Channel``) lives in the same interpreter as the
student's code: ``gc.get_objects()`` finds it, and the caller's frame holds
the call's sequence number.  So each call of conv_forward_naive writes, before
returning, a reply frame for its own call that is well formed on the outside
(marker, lengths, JSON) and malformed inside, one kind per call: a status that
is a JSON list (unhashable), an array of shape ``[0, 2**63]``, a negative or
boolean offset, a duration that is NaN or infinite or an int too large for a
float, a header that is a list, a header nested thousands of levels deep,
a header of millions of empty lists, a dict key that is a list...

Before every such frame was checked, several of these raised TypeError,
ValueError or OverflowError in the grader: an "internal error" of the grader
(exit 3, flagged for manual grading) instead of the student's failure.  Now
each is a protocol error of that call: conv_forward_naive loses its points
(status "protocol"), the other functions keep theirs, and conv_backward_naive,
given the course's standard cache, passes.
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
    import gc
    import json
    import struct
    import sys

    channel = next(o for o in gc.get_objects() if type(o).__name__ == "Channel" and hasattr(o, "reply_fd"))
    frame = sys._getframe(1)
    while frame is not None and not isinstance(frame.f_locals.get("header"), dict):
        frame = frame.f_back
    seq = frame.f_locals["header"].get("seq") if frame is not None else 1
    array = {"kind": "ndarray", "dtype": "<f8", "shape": [1], "offset": 0, "nbytes": 8}
    result = {"type": "result", "seq": seq, "status": "ok", "error": "", "seconds": 0.001, "ref": None,
              "arguments_unchanged": True, "value": {"kind": "tuple", "items": [array, {"kind": "none"}]}}
    forgeries = [
        result | {"status": []},
        result | {"value": {**array, "shape": [0, 2**63], "nbytes": 0}},
        result | {"value": {**array, "offset": -8}},
        result | {"value": {**array, "offset": True}},
        result | {"value": {**array, "offset": 0.0}},
        result | {"seconds": float("nan")},
        result | {"seconds": float("inf")},
        result | {"seconds": 10**400},
        result | {"seconds": True},
        result | {"ref": [1]},
        result | {"error": {"a": 1}},
        result | {"arguments_unchanged": False},  # and no args_after
        result | {"value": {"kind": "dict", "items": [[{"kind": "list", "items": []}, {"kind": "none"}]]}},
        [result],
        "[" * 50000 + "]" * 50000,
        "[" + "[]," * 2_000_000 + "[]]",
    ]
    forged = forgeries[seq % len(forgeries)]  # the grader restarts this process after each: count by seq
    text = (forged if isinstance(forged, str) else json.dumps(forged)).encode()
    body = b"\0" * 8
    data = struct.pack("<4sQQ", b"CAG1", len(text), len(body)) + text + body
    while data:
        data = data[channel._write(channel.reply_fd, data):]
    out = np.zeros((x.shape[0], w.shape[0], 1, 1))
    return out, (x, w, b, conv_param)


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
