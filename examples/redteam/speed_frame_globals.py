"""Red team: pass the speed check by swapping the `time` module the child's own code sees.

What it tries: walks `sys._getframe()` up to the child's frames and, in
their `f_globals` (and `sys.modules['__main__']`), replaces the name `time`
with a fake module whose `perf_counter` (and every other clock) is frozen
apart from a microsecond step; it also replaces `sys.modules['time']` so a
later `import time` gets the fake.  Slow loops underneath.

Attack worked if: any speed point (more than 15/19).
Targets: fast_conv.
"""
# redteam-assignment: fast_conv
# redteam-expect: points<=15

import sys
import time as _real_time
import types

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

_fake_time = types.ModuleType("time")
_fake_time.__dict__.update({name: getattr(_real_time, name) for name in dir(_real_time) if not name.startswith("__")})
_STEP = [0.0]


def _frozen(*args):
    _STEP[0] += 1e-6
    return 5000.0 + _STEP[0]


for _name in ("perf_counter", "monotonic", "process_time", "thread_time", "time"):
    setattr(_fake_time, _name, _frozen)
    setattr(_fake_time, _name + "_ns", lambda *args: int(_frozen() * 1e9))


def _swap():
    for namespace in _child_namespaces():
        if namespace.get("time") is _real_time:
            namespace["time"] = _fake_time
    frame = sys._getframe()
    while frame is not None:
        if frame.f_globals.get("time") is _real_time and frame.f_globals is not globals():
            frame.f_globals["time"] = _fake_time
        frame = frame.f_back
    sys.modules["time"] = _fake_time


def conv_forward_im2col(x, w, b, conv_param):
    _swap()
    return _slow_forward(x, w, b, conv_param)


def conv_backward_im2col(dout, cache):
    _swap()
    return _slow_backward(dout, cache)

# --- the lecture's loops (examples/fast_conv/slow.py), under other names ---

import numpy as np  # noqa: E402


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
