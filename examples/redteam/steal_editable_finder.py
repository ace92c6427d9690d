"""Red team: full marks with no work, by copying the course's own answers found through the install.

What it tries: the package is installed editable, so site-packages holds the
editable finder (`__editable__*finder.py`, its MAPPING names the repository),
`.pth` files and `direct_url.json`.  From every repository root found that way
it runs `examples/conv_layers/correct.py`, the `reference` package (loaded by
file path under another name, past the import blocker), the solution
notebooks and the example class, and delegates every function to what it got.
Not one function is implemented here.

Attack worked if: `autograder grade` gives it any points (a sound grader: 0,
the course's files are not readable from the sandbox), or its feedback shows
"RT-BREACH stole from ...".
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


def _roots_from_install():
    roots = []
    for folder in list(_sys.path) + _glob.glob("/usr/lib/python3*/site-packages") + \
            _glob.glob("/usr/local/lib/python3*/*-packages") + _glob.glob("/work/*/.venv/lib/python3*/site-packages"):
        try:
            for finder in _glob.glob(_os.path.join(folder, "__editable__*finder.py")):
                text = open(finder).read()
                roots += [_os.path.dirname(path) for path in _re.findall(r"'(?:reference|autograder)': '([^']+)'", text)]
            for pth in _glob.glob(_os.path.join(folder, "*.pth")):
                roots += [line.strip() for line in open(pth) if line.startswith("/")]
            for direct in _glob.glob(_os.path.join(folder, "*.dist-info", "direct_url.json")):
                url = _json.load(open(direct)).get("url", "")
                if url.startswith("file://"):
                    roots.append(url[len("file://"):])
        except OSError as error:
            _note(f"{folder}:{type(error).__name__}")
    try:
        import importlib.metadata as metadata
        for dist in metadata.distributions():
            for file in dist.files or ():
                if str(file).endswith("direct_url.json"):
                    url = _json.loads(file.read_text() or "{}").get("url", "")
                    if url.startswith("file://"):
                        roots.append(url[len("file://"):])
    except Exception as error:
        _note(f"metadata:{type(error).__name__}")
    ordered = []
    for root in roots:
        for candidate in (root, _os.path.dirname(root)):
            if candidate not in ordered:
                ordered.append(candidate)
    return ordered


for _root in _roots_from_install():
    _try_paths(_files_under(_root))


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
