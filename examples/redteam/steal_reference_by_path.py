"""Red team: full marks with no work, by loading the reference engine (or any copy of it) by file path.

What it tries: the import blocker refuses the *name* `reference`.  This file
finds reference packages on disk (next to every `sys.path` entry, under the
roots of the editable install, in /work, /home, /root, /opt, /srv, build/lib,
other checkouts) and loads each with `importlib.util.spec_from_file_location`
under another name; failing that it copies the package's files into its own
scratch folder and imports the copy; it also looks through `sys.modules` and
`gc` for an already loaded module holding `conv_forward` (a leftover of the
zygote or the grader).  Every function delegates to what it got.

Attack worked if: any points (sound grader: 0), or "RT-BREACH" in its feedback.
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=0

import gc as _gc
import shutil as _shutil
import types as _types

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


def _reference_folders():
    starts = list(_sys.path) + ["/work", "/home", "/root", "/opt", "/srv", "/usr/src", "/tmp"]
    found = []
    for start in starts:
        for depth in range(0, 4):
            pattern = _os.path.join(start, *(["*"] * depth), "reference", "conv.py")
            found += [_os.path.dirname(path) for path in _glob.glob(pattern)]
    for folder in list(_sys.path):
        for finder in _glob.glob(_os.path.join(folder, "__editable__*finder.py")):
            try:
                found += _re.findall(r"'reference': '([^']+)'", open(finder).read())
            except OSError:
                pass
    unique = []
    for folder in found:
        if folder not in unique:
            unique.append(folder)
    return unique


def _from_loaded_modules():
    for module in list(_sys.modules.values()) + [obj for obj in _gc.get_objects() if type(obj) is _types.ModuleType]:
        try:
            if callable(getattr(module, "conv_forward", None)) and callable(getattr(module, "max_pool_backward", None)):
                _note("RT-" + "BREACH module " + str(getattr(module, "__name__", "?")))
                return vars(module)
        except Exception:
            pass
    return None


_loaded = _from_loaded_modules()
if _loaded:
    for _wanted in _WANTED:
        for _name in (_wanted, _REFERENCE_NAMES.get(_wanted)):
            if _name and callable(_loaded.get(_name)):
                _STOLEN.setdefault(_wanted, _loaded[_name])
for _folder in _reference_folders():
    if all(name in _STOLEN for name in _WANTED[:7]):
        break
    try:
        _take_from(_os.path.join(_folder, "__init__.py"))
        continue
    except BaseException as error:
        _note(f"by path:{type(error).__name__}")
    try:  # a copy in scratch is not under the forbidden folder
        copy = _os.path.join(_os.getcwd(), "mycopy_%d" % len(_FOUND))
        _shutil.copytree(_folder, copy)
        _take_from(_os.path.join(copy, "__init__.py"))
    except BaseException as error:
        _note(f"copy:{type(error).__name__}")

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
