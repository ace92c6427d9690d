"""Red team: use far more memory than the sandbox's 2 GiB cap, in places RLIMIT_AS does not count.

What it tries: `memfd_create` files (page cache, not address space), filled
with `os.write` 16 MiB at a time (the file-size limit) up to 160 of them
(2.5 GiB, kept open), pipes filled to their 1 MiB maximum (`F_SETPIPE_SZ`),
and the scratch tmpfs filled to its cap; then answers correctly and keeps
everything until the child dies.  Stops at 2.5 GiB so it does not take the
machine down.

Attack worked if: the machine's shared memory grows by more than 1 GiB during
the run (sound grader: a memory cgroup or equivalent counting every page the
child causes), or the victim graded after it loses points.
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=33; victim_ok; shmem_growth<=1024
# redteam-setup: victim, serial

import fcntl
import os

import numpy as np

_KEEP = []
_BLOCK = b"\xa5" * (16 << 20)


def _hoard():
    if _KEEP:
        return
    for index in range(160):
        try:
            fd = os.memfd_create(f"hoard{index}")
            os.write(fd, _BLOCK)
            _KEEP.append(fd)
        except OSError:
            break
    for _ in range(60):
        try:
            read_end, write_end = os.pipe()
            fcntl.fcntl(write_end, 1031, 1 << 20)  # F_SETPIPE_SZ
            os.set_blocking(write_end, False)
            try:
                while True:
                    os.write(write_end, _BLOCK[: 1 << 16])
            except BlockingIOError:
                pass
            _KEEP += [read_end, write_end]
        except OSError:
            break
    try:
        with open("fill.bin", "wb") as handle:
            for _ in range(100):
                handle.write(_BLOCK)
    except OSError:
        pass


def zero_pad(x, pad):
    _hoard()
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")

# --- honest implementations (copied from examples/conv_layers/correct.py) ---

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
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = zero_pad(x, pad)
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, conv_param)
    return out, cache


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

