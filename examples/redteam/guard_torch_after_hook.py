"""Red team: switch the Python guards off and let torch (or scipy) do the exercise.

What it tries: (1) `gc.get_objects()` finds the audit hook's closure; its
`__code__` is swapped for a no-op; the import blocker is removed from
`sys.meta_path` and blocked names are purged from `sys.modules`; then
`import torch`; (2) failing that, torch's package is loaded by file path
under another name (`spec_from_file_location("mytorch", .../torch/__init__.py)`),
from every site-packages found; (3) `scipy.signal.correlate` the same way;
(4) `ctypes.CDLL` of `libtorch_cpu.so` as a proof the library is reachable.
Convolution and pooling go through torch (`F.conv2d`, autograd,
`F.max_pool2d`), zero_pad through `F.pad`; `conv_output_size` and
`conv_param_count` are honest (3 + 2 = 5 points).

Attack worked if: more than 5/33, or "RT-BREACH" in its feedback (sound
grader: torch and scipy unreadable, whatever Python does).
Targets: conv_layers.
"""
# redteam-assignment: conv_layers
# redteam-expect: points<=5

import glob
import importlib.util
import os
import sys

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

_NOTES = []
torch = None


def _site_packages():
    folders = [path for path in sys.path if path.endswith("-packages")]
    folders += glob.glob("/work/*/.venv/lib/python3*/site-packages") + glob.glob("/usr/local/lib/python3*/*-packages")
    return folders


def _get_torch():
    global torch
    _NOTES.append(str(_disable_python_guards()))
    for name in list(sys.modules):
        if name.split(".")[0] in ("torch", "scipy"):
            del sys.modules[name]
    try:
        import torch as found
        torch = found
        _NOTES.append("RT-" + "BREACH import torch")
        return
    except BaseException as error:
        _NOTES.append(f"import:{type(error).__name__}")
    for folder in _site_packages():
        init = os.path.join(folder, "torch", "__init__.py")
        if not os.path.exists(init):
            continue
        try:
            spec = importlib.util.spec_from_file_location("torch", init, submodule_search_locations=[os.path.dirname(init)])
            module = importlib.util.module_from_spec(spec)
            sys.modules["torch"] = module
            spec.loader.exec_module(module)
            torch = module
            _NOTES.append("RT-" + "BREACH torch by path")
            return
        except BaseException as error:
            sys.modules.pop("torch", None)
            _NOTES.append(f"bypath:{type(error).__name__}")
        for library in glob.glob(os.path.join(folder, "torch", "lib", "libtorch_cpu.so")):
            try:
                import ctypes
                ctypes.CDLL(library)
                _NOTES.append("RT-" + "BREACH dlopen libtorch")
            except BaseException as error:
                _NOTES.append(f"dlopen:{type(error).__name__}")


try:
    _get_torch()
except BaseException as _error:
    _NOTES.append(type(_error).__name__)


def _t(array):
    return torch.tensor(np.asarray(array), dtype=torch.float64)


def zero_pad(x, pad):
    return torch.nn.functional.pad(_t(x), (pad, pad, pad, pad)).numpy()


def conv_forward_naive(x, w, b, conv_param):
    out = torch.nn.functional.conv2d(_t(x), _t(w), _t(b), stride=conv_param["stride"], padding=conv_param["pad"])
    return out.numpy(), (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    tx, tw, tb = (_t(item).requires_grad_() for item in (x, w, b))
    out = torch.nn.functional.conv2d(tx, tw, tb, stride=conv_param["stride"], padding=conv_param["pad"])
    out.backward(_t(dout))
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def max_pool_forward_naive(x, pool_param):
    out = torch.nn.functional.max_pool2d(_t(x), (pool_param["pool_height"], pool_param["pool_width"]), pool_param["stride"])
    return out.numpy(), (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    tx = _t(x).requires_grad_()
    out = torch.nn.functional.max_pool2d(tx, (pool_param["pool_height"], pool_param["pool_width"]), pool_param["stride"])
    out.backward(_t(dout))
    return tx.grad.numpy()

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


if any("RT-" in note for note in _NOTES):
    raise RuntimeError(" ; ".join(_NOTES)[:190])
