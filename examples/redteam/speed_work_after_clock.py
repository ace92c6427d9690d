"""Red team: pass the speed check by doing the work after the child's clock stops, before the reply is sent.

What it tries: each function returns at once an empty output of the right
shape and leaves the real work pending.  The work is done
(1) by a `sys.setprofile` hook on the `c_return` of the child's
`time.perf_counter` that stops the timer, (2) failing that, inside the
child's `_fingerprint` (wrapped through its module globals), which runs
after timing, and (3) at the latest by the encoder (`encode_message` of
`_sandbox_protocol` wrapped).  The output array is filled in place before it
is encoded.  Slow loops underneath.

Attack worked if: any speed point (more than 15/19; sound grader: CPU time of
the child from the call's request to its reply, measured outside).
Targets: fast_conv.
"""
# redteam-assignment: fast_conv
# redteam-expect: points<=15

import sys
import time

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

_PENDING = []


def _settle():
    while _PENDING:
        job = _PENDING.pop()
        job()


def _profile(frame, event, arg):
    if event == "c_return" and arg is time.perf_counter and _PENDING:
        sys.setprofile(None)
        _settle()


def _wrap_child():
    for namespace in _child_namespaces():
        fingerprint = namespace.get("_fingerprint")
        if callable(fingerprint) and not getattr(fingerprint, "_redteam", False):
            def wrapped(*args, _original=fingerprint, **kwargs):
                _settle()
                return _original(*args, **kwargs)
            wrapped._redteam = True
            namespace["_fingerprint"] = wrapped
    protocol = sys.modules.get("_sandbox_protocol")
    if protocol is not None and not getattr(protocol.encode_message, "_redteam", False):
        original = protocol.encode_message

        def encode_message(*args, _original=original, **kwargs):
            _settle()
            return _original(*args, **kwargs)
        encode_message._redteam = True
        protocol.encode_message = encode_message


def _later(out, compute):
    def job():
        result = compute()
        out[...] = result
    _PENDING.append(job)
    _wrap_child()
    sys.setprofile(_profile)


def conv_forward_im2col(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    shape = (x.shape[0], w.shape[0], 1 + (x.shape[2] + 2 * pad - w.shape[2]) // stride,
             1 + (x.shape[3] + 2 * pad - w.shape[3]) // stride)
    out = np.empty(shape)
    _later(out, lambda: _slow_forward(x, w, b, conv_param)[0])
    return out, (x, w, b, conv_param)


def conv_backward_im2col(dout, cache):
    x, w, b, conv_param = cache
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    results = {}

    def compute_all():
        results["all"] = _slow_backward(dout, cache)
        return results["all"][0]

    _later(dx, compute_all)
    _PENDING.insert(0, lambda: (dw.__setitem__(Ellipsis, results["all"][1]), db.__setitem__(Ellipsis, results["all"][2])))
    return dx, dw, db

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
