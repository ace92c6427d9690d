"""Red team: make the expected answer trivial by zeroing the inputs in place, and forge "unchanged".

What it tries: `conv_forward_naive` zeroes `x` and `w` in place *before*
answering, then returns `b` broadcast over the output shape (the right
convolution of the zeroed inputs); `max_pool_forward_naive` zeroes `x` and
returns zeros.  A grader that computes the expected value, or judges, from
the arguments as they are after the call (for example arguments shared with
the child in memory and read back afterwards) would accept it.  The child's
"inputs unchanged" fingerprint is forged as in forge_inputs_unchanged.py.
The other functions are honest (the backward gets the zeroed cache; where its
gradients are wrong with it, the grader judges it again with the course's
standard cache, so the honest backward keeps its points).

Attack worked if: more than 24/33 (sound grader: forward values 4 + unchanged
1 and pool values 3 + unchanged 1 are lost).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=24

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


def _always_same(value, ndarray=None):
    return ("same",)


def _forge():
    for namespace in _child_namespaces():
        if "_fingerprint" in namespace:
            namespace["_fingerprint"] = _always_same
    for function in _child_functions("_fingerprint"):
        try:
            function.__code__ = _always_same.__code__
        except Exception:
            pass


def conv_forward_naive(x, w, b, conv_param):
    _forge()
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x[...] = 0
    w[...] = 0
    out = np.broadcast_to(b[None, :, None, None], (N, F, 1 + (H + 2 * pad - HH) // stride,
                                                    1 + (W + 2 * pad - WW) // stride)).copy()
    return out, (x, w, b, conv_param)


def max_pool_forward_naive(x, pool_param):
    _forge()
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    x[...] = 0
    return np.zeros((N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride)), (x, pool_param)

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

