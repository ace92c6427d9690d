"""Verdicts on one call: what the student returned, compared with what a correct function returns.

A :class:`Verdict` says whether one property held on one case; a
:class:`Trial` holds one verdict per property of a check, plus the material
that explains a failure (what was got, what was expected). The comparisons
here (:func:`compare_arrays`, :func:`compare_int`, :func:`compare_layers`,
:func:`inputs_unchanged`) check type, dtype and shape before any number, and
word their messages with the names a student knows. Everything the child
sends has already been validated by the sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..sandbox import CallOutcome, Opaque, Ref
from .compare import largest_discrepancy, normwise_error

__all__ = ["Verdict", "Trial", "PASS", "SKIP", "ERROR_PROPERTY", "SIDE_CONDITIONS", "TINY", "describe_value", "exception_name",
           "outcome_failure", "compare_arrays", "compare_int", "compare_layers", "inputs_unchanged", "argument_names"]

TINY = 16  # arrays with at most this many entries are shown in full
#: The verdict every trial of a value, forward or backward check also holds: did the call return?
#: A call that raised fails it, and leaves the check's own properties not judged on that case
#: (see `autograder.engine.search` for how the error is charged).
ERROR_PROPERTY = "no error on valid input"
#: Properties that check a side condition, not the output: they pay only when the function returned
#: an output of the right type and shape on some case (the untouched template earns nothing).
SIDE_CONDITIONS = frozenset({"inputs unchanged"})


@dataclass(frozen=True)
class Verdict:
    """Whether one property held on one case, and if not, what was expected and what was got."""

    passed: bool
    message: str = ""
    judged: bool = True  # False: not judged on this case (the call raised): it neither holds nor fails there


PASS = Verdict(True)
SKIP = Verdict(True, judged=False)


@dataclass
class Trial:
    """One case judged: verdicts per property, and the material to explain a failure."""

    verdicts: dict[str, Verdict]
    got: dict[str, Any] = field(default_factory=dict)  # "out", "dx", "value", ... as the student returned them
    expected: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # e.g. that the backward was given the standard cache
    values_dropped: bool = False  # got and expected were let go (see `without_values`)
    usable: bool = False  # the call returned an output of the right type and shape (side conditions pay only then)
    rescued: bool = False  # a backward right only with the course's standard cache, its forward being wrong here

    @property
    def passed(self) -> bool:
        """Whether every property held."""
        return all(verdict.passed for verdict in self.verdicts.values())

    def without_values(self) -> Trial:
        """The verdicts alone: what is kept of a case that no explanation needs.

        The student's values can be as large as a reply may be; a check that
        kept every case's would hold them all until it ends.
        """
        return Trial(self.verdicts, note=self.note, values_dropped=bool(self.got or self.expected), usable=self.usable,
                     rescued=self.rescued)


# --------------------------------------------------------------------------- describing values


def describe_value(value) -> str:
    """A value in a few words: ``an array of shape (2, 3) (float64)``, ``the int 7``, ``None``."""
    if isinstance(value, Opaque):
        return f"{value.detail} ({value.type_name})" if value.detail else value.type_name
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} ({value.dtype})"
    if isinstance(value, np.generic):
        return f"the NumPy {type(value).__name__} {value!r}"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, (int, float, str)):
        return f"the {type(value).__name__} {value!r}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    return type(value).__name__


def exception_name(outcome: CallOutcome) -> str:
    """The class name of the exception a call raised (``"ValueError"``), or ``""``."""
    name = getattr(outcome, "exception", "") or ""
    if name:
        return name.rsplit(".", 1)[-1]
    match = re.match(r"(?:raised )?([A-Za-z_][\w.]*)", outcome.error or "")
    return match.group(1).rsplit(".", 1)[-1] if match else ""


def outcome_failure(function: str, outcome: CallOutcome) -> str:
    """What went wrong with a call that did not return, in one or two sentences."""
    if outcome.status == "raised" and exception_name(outcome) == "NotImplementedError":
        return (
            f"{function} raised NotImplementedError: it is still the stub. "
            "Replace `raise NotImplementedError()` with your code."
        )
    if outcome.status == "missing":
        return f"{function} is not defined in your file; define a function with exactly this name"
    text = outcome.error or outcome.status
    return text if text.startswith(function) else f"{function}: {text}"


# --------------------------------------------------------------------------- comparing


def _numeric_array(name: str, got) -> tuple[np.ndarray | None, str]:
    """``got`` as a float64 array, or a reason why it is not a usable array."""
    if isinstance(got, np.ndarray):
        if got.dtype.kind == "c":
            return None, f"{name} holds complex numbers ({got.dtype}); expected real numbers"
        if got.dtype.kind not in "biuf":
            return None, f"{name} has dtype {got.dtype}; expected floats"
        return got.astype(np.float64), ""
    if isinstance(got, (list, tuple)):
        return None, f"{name} is {describe_value(got)}, not a numpy array; return a numpy array (np.array(...))"
    return None, f"{name} is {describe_value(got)}; expected a numpy array"


def _show(label: str, array: np.ndarray) -> str:
    """``label`` and the array, its continuation lines indented under its first bracket.

    >>> print(_show("  got dx = ", np.eye(2)))
      got dx = [[1., 0.],
                [0., 1.]]
    """
    text = np.array2string(np.asarray(array), precision=4, suppress_small=True, separator=", ")
    first, *rest = [line for line in text.splitlines() if line.strip()]
    return "\n".join([label + first, *(" " * len(label) + line for line in rest)])


def compare_arrays(name: str, got, expected: np.ndarray, rtol: float) -> tuple[Verdict, Verdict]:
    """``(shape verdict, values verdict)`` of a returned array against the expected one."""
    array, problem = _numeric_array(name, got)
    if array is None:
        failed = Verdict(False, problem)
        return failed, failed
    if array.shape != expected.shape:
        failed = Verdict(False, f"{name} has shape {array.shape}, expected {expected.shape}")
        return failed, Verdict(False, f"{name} has shape {array.shape}, expected {expected.shape}, so its values cannot match")
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        return PASS, Verdict(False, f"{name}{list(where)} is {array[where]}, expected {expected[where]:.6g}")
    error = normwise_error(array, expected)
    if error <= rtol:
        return PASS, PASS
    d = largest_discrepancy(array, expected)
    message = (
        f"{name}{list(d.index)} is {d.got:.6g}, expected {d.expected:.6g} "
        f"(largest absolute error {d.max_abs:.3g}; relative to the largest expected value, {error:.3g})"
    )
    if expected.size <= TINY:
        message += f"\n{_show(f'  expected {name} = ', expected)}\n{_show(f'  got      {name} = ', array)}"
    return PASS, Verdict(False, message)


def compare_int(name: str, got, expected: int) -> Verdict:
    """An integer result: the value must be an int (Python or NumPy) and equal."""
    if isinstance(got, bool) or not isinstance(got, (int, np.integer, float, np.floating)):
        return Verdict(False, f"{name} is {describe_value(got)}; expected the int {expected}")
    if isinstance(got, (float, np.floating)):
        if got == expected:
            return Verdict(False, f"{name} is the float {got!r}; expected the int {expected}: use // or int(...) so it can be used as a size")
        return Verdict(False, f"{name} is {got!r}, expected {expected}")
    if got != expected:
        return Verdict(False, f"{name} is {int(got)}, expected {expected}")
    return PASS


def is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def compare_layers(got, expected: list, labels: list[str]) -> tuple[Verdict, Verdict]:
    """``(shapes verdict, counts verdict)`` of a per-layer table: one ``(shape, param_count)`` pair per layer."""
    pairs = f"a list of {len(expected)} (shape, param_count) pairs, one per layer"
    if not isinstance(got, (list, tuple)):
        failed = Verdict(False, f"the result is {describe_value(got)}; expected {pairs}")
        return failed, failed
    if len(got) != len(expected):
        failed = Verdict(False, f"the result has {len(got)} entries, expected {pairs}")
        return failed, failed
    for index, entry in enumerate(got):
        if not (isinstance(entry, (list, tuple)) and len(entry) == 2):
            failed = Verdict(False, f"the result[{index}] is {describe_value(entry)}; expected a pair (shape, param_count)")
            return failed, failed
    shapes = counts = PASS
    for index, ((shape, count), (want_shape, want_count)) in enumerate(zip(got, expected)):
        where = labels[index] if index < len(labels) else f"the result[{index}]"
        if shapes.passed:
            if isinstance(shape, list) and all(is_int(s) for s in shape):
                shapes = Verdict(False, f"{where}: the shape is the list {shape}; return a tuple {tuple(want_shape)}")
            elif not (isinstance(shape, tuple) and all(is_int(s) for s in shape)):
                shapes = Verdict(False, f"{where}: the shape is {describe_value(shape)}; expected a tuple of ints like {tuple(want_shape)}")
            elif tuple(int(s) for s in shape) != tuple(want_shape):
                shapes = Verdict(False, f"{where}: shape {tuple(int(s) for s in shape)}, expected {tuple(want_shape)}")
        if counts.passed:
            verdict = compare_int("the parameter count", count, want_count)
            if not verdict.passed:
                counts = Verdict(False, f"{where}: {verdict.message}")
    return shapes, counts


def layer_labels(args: tuple) -> list[str]:
    """``["layers[0] (conv)", ...]`` when the second argument is a list of layer dicts."""
    layers = args[1] if len(args) > 1 and isinstance(args[1], list) else []
    return [f"layers[{i}] ({layer.get('type')})" if isinstance(layer, dict) else f"layers[{i}]" for i, layer in enumerate(layers)]


def _same(a, b) -> bool:
    if isinstance(a, Ref):  # an object the child holds and the grader never saw: not judged here
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def inputs_unchanged(names: tuple[str, ...], before: tuple, after: tuple) -> Verdict:
    """Did the call leave every argument as it was?

    Decided here, in the grader, on the arguments the child sent back after
    the call (``CallOutcome.args_after``, always sent when asked for) against
    those the grader sent: the child gives no verdict of its own, since a
    submission can replace anything in the child's interpreter.
    """
    if len(after) != len(before):  # not sent back as sent: nothing to vouch for them
        return Verdict(False, f"the arguments could not be checked after the call ({len(after)} came back, {len(before)} were passed)")
    for position, (was, now) in enumerate(zip(before, after)):
        if not _same(was, now):
            name = names[position] if position < len(names) else f"argument {position + 1}"
            return Verdict(False, f"{name} was modified by the call; work on a copy (e.g. x.copy() or np.pad) instead")
    return PASS


def argument_names(signature: str) -> tuple[str, ...]:
    """``"conv_forward_naive(x, w, b, conv_param)"`` -> ``("x", "w", "b", "conv_param")``."""
    inside = signature[signature.index("(") + 1 : signature.rindex(")")]
    return tuple(part.split("=")[0].strip() for part in inside.split(",") if part.strip())



# --------------------------------------------------------------------------- trials of calls that did not return as asked


def all_fail(points, message: str, **material) -> Trial:
    """Every property in ``points`` failed with ``message``."""
    return Trial({name: Verdict(False, message) for name in points}, **material)


def not_returned(function_name: str, points, outcome: CallOutcome, **material) -> Trial:
    """A call that did not return: if it raised, nothing is judged on this case but the error itself.

    An exception raised on valid input is the student's error, charged once
    for the whole check (`autograder.engine.search`), not once per property it hides.
    A call that hung, ran out of memory or broke the protocol fails every
    property as before: the function is not run again after it.
    """
    message = outcome_failure(function_name, outcome)
    if outcome.status != "raised":
        trial = all_fail(points, message, **material)
        trial.verdicts[ERROR_PROPERTY] = PASS
        return trial
    verdicts = {name: SKIP for name in points}
    verdicts[ERROR_PROPERTY] = Verdict(False, message)
    return Trial(verdicts, **material)


def returned(verdicts: dict, points, **material) -> Trial:
    """The trial of a call that returned: the verdicts of ``points``, and the error property held."""
    trial = Trial({name: verdicts[name] for name in points}, **material)
    trial.verdicts[ERROR_PROPERTY] = PASS
    return trial


def usable_array(got, want: np.ndarray) -> bool:
    """An output of the right type and shape, or a reshape away from it (NHWC, keepdims): work a side condition may pay with."""
    return isinstance(got, np.ndarray) and got.dtype.kind in "biuf" and (got.shape == want.shape or got.size == want.size > 0)


def raised_material(outcome: CallOutcome) -> dict:
    """What a call that raised leaves for the hints: its one-line error."""
    return {"error": outcome.error} if outcome.status == "raised" else {}
