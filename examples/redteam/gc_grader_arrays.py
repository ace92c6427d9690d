"""Red team: answers without work, by picking up whatever array of the right shape the grader left in the child.

What it tries: `conv_forward_naive` and `conv_backward_naive` compute only the
output shapes, then search `gc.get_objects()` (and the child's kept results
and decoded message bodies) for float arrays of exactly those shapes that this
code did not make, e.g. expected values, a reference's output, next calls'
arguments or caches sent ahead, and return the best match (newest first).
The other functions are honest.

Attack worked if: more than 21/33 (sound grader: the two convolution
functions earn only what computing the shape earns: output shape 2 and
inputs unchanged 1).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=21

import re

import numpy as np

import gc as _gc
import sys as _sys
import types as _types


def _child_namespaces():
    """The grader child's module globals (child.py runs as __main__), found through modules, frames and gc."""
    found = []
    main = _sys.modules.get("__main__")
    if main is not None:
        found.append(vars(main))
    frame = _sys._getframe()
    while frame is not None:
        if frame.f_globals.get("__name__") != __name__:
            found.append(frame.f_globals)
        frame = frame.f_back
    for obj in _gc.get_objects():
        if type(obj) is dict and ("_fingerprint" in obj or "Kernel" in obj or "Channel" in obj):
            found.append(obj)
    unique = {}
    for namespace in found:
        unique[id(namespace)] = namespace
    return list(unique.values())


def _child_objects(*type_names):
    """Live objects of the child whose class has one of these names (the Kernel, the Channel, ...)."""
    return [obj for obj in _gc.get_objects() if type(obj).__name__ in type_names]


def _child_functions(name):
    return [obj for obj in _gc.get_objects() if type(obj) is _types.FunctionType and obj.__name__ == name
            and obj.__globals__.get("__name__") != __name__]


def _current_call_header():
    """The header of the call being served (its seq), from the child's frames."""
    frame = _sys._getframe()
    while frame is not None:
        header = frame.f_locals.get("header")
        if isinstance(header, dict) and header.get("type") == "call":
            return header
        frame = frame.f_back
    return {}


def _reply_fd():
    for channel in _child_objects("Channel"):
        return channel.reply_fd
    try:
        return int(_sys.argv[2])
    except (IndexError, ValueError):
        pass
    import os
    for fd in sorted(int(name) for name in os.listdir("/proc/self/fd")):
        try:
            flags = int(open(f"/proc/self/fdinfo/{fd}").read().split("flags:")[1].split()[0], 8)
            if fd > 2 and flags & 1 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                return fd
        except Exception:
            pass
    return 4


def _raw_frame(header_bytes, body=b""):
    import struct
    return struct.pack("<4sQQ", b"CAG1", len(header_bytes), len(body)) + header_bytes + body


def _write_all(fd, data):
    import os
    view = memoryview(data)
    while view.nbytes:
        view = view[os.write(fd, view):]

_MINE = set()


def _arrays_of_shape(shape, exclude):
    hits = []
    for obj in _gc.get_objects():
        if type(obj) is np.ndarray and obj.shape == shape and obj.dtype.kind == "f" and id(obj) not in exclude:
            hits.append(obj)
        elif type(obj) in (tuple, list):
            hits += [item for item in obj if type(item) is np.ndarray and item.shape == shape
                     and item.dtype.kind == "f" and id(item) not in exclude]
    return hits[::-1]


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    shape = (x.shape[0], w.shape[0], 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride,
             1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride)
    hits = _arrays_of_shape(shape, {id(x), id(w), id(b)} | _MINE)
    out = hits[0] if hits else np.zeros(shape)
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    exclude = {id(x), id(w), id(b), id(dout)} | _MINE
    dx = (_arrays_of_shape(x.shape, exclude) or [np.zeros_like(x)])[0]
    dw = (_arrays_of_shape(w.shape, exclude | {id(dx)}) or [np.zeros_like(w)])[0]
    db = (_arrays_of_shape(b.shape, exclude | {id(dx), id(dw)}) or [np.zeros_like(b)])[0]
    return dx, dw, db


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

