"""Judging one case: call the student's function in the sandbox, compare with the expected value.

:func:`judge` returns a :class:`Trial`: one :class:`Verdict` per property of
the check, plus what the student returned and what was expected, so that a
failure can be explained and matched against known mistakes afterwards.
Everything the child sends has already been validated by the sandbox; here
it is checked for type, dtype and shape before any number is compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .compare import largest_discrepancy, normwise_error
from .expected import ExpectedValues, InternalError
from .rubric import Check, FunctionSpec
from .sandbox import CallOutcome, Opaque

__all__ = ["Verdict", "Trial", "judge", "judge_many", "describe_value", "outcome_failure"]

TINY = 16  # arrays with at most this many entries are shown in full


@dataclass(frozen=True)
class Verdict:
    """Whether one property held on one case, and if not, what was expected and what was got."""

    passed: bool
    message: str = ""


PASS = Verdict(True)


@dataclass
class Trial:
    """One case judged: verdicts per property, and the material to explain a failure."""

    verdicts: dict[str, Verdict]
    got: dict[str, Any] = field(default_factory=dict)  # "out", "dx", "value", ... as the student returned them
    expected: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # e.g. that the backward was given the standard cache


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


def _show(name: str, array: np.ndarray) -> str:
    text = np.array2string(np.asarray(array), precision=4, suppress_small=True, separator=", ")
    return f"{name} = " + "\n".join(line for line in text.splitlines() if line.strip())


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
        message += f"\n  expected {_show(name, expected)}\n  got      {_show(name, array)}"
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


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def inputs_unchanged(names: tuple[str, ...], before: tuple, after: tuple) -> Verdict:
    """Did the call leave every argument as it was?"""
    for position, (was, now) in enumerate(zip(before, after)):
        if not _same(was, now):
            name = names[position] if position < len(names) else f"argument {position + 1}"
            return Verdict(False, f"{name} was modified by the call; work on a copy (e.g. x.copy() or np.pad) instead")
    return PASS


def argument_names(signature: str) -> tuple[str, ...]:
    """``"conv_forward_naive(x, w, b, conv_param)"`` -> ``("x", "w", "b", "conv_param")``."""
    inside = signature[signature.index("(") + 1 : signature.rindex(")")]
    return tuple(part.split("=")[0].strip() for part in inside.split(",") if part.strip())


# --------------------------------------------------------------------------- judging cases


def judge(box, function: FunctionSpec, check: Check, case, expected: ExpectedValues) -> Trial:
    """Call the student's function on ``case`` and judge every property of ``check``."""
    [trial] = judge_many(box, function, check, [case], expected)
    if isinstance(trial, InternalError):
        raise trial
    return trial


def judge_many(box, function: FunctionSpec, check: Check, cases: list, expected: ExpectedValues) -> list:
    """Judge ``cases`` with one batch of calls (two for a backward: its forward first).

    Returns one :class:`Trial` per case, or the :class:`InternalError` that
    computing its expected value raised (our fault, not the student's).
    A function that times out is not run on the remaining cases.
    """
    notes = [""] * len(cases)
    if check.kind == "backward":
        forwards = box.call_many(check.forward, [(check.forward_arguments(c), {}) for c in cases], stop_after={"timeout"})
        calls = []
        for index, (case, forward) in enumerate(zip(cases, forwards)):
            if forward.ok and isinstance(forward.value, (tuple, list)) and len(forward.value) == 2 and forward.ref is not None:
                cache = forward.ref[1]
            else:
                cache = check.standard_cache(case)
                notes[index] = f"{check.forward} failed on this case, so {function.name} was given the course's standard cache"
            calls.append(((*check.arguments(case), cache), {}))
    else:
        calls = [(check.arguments(case), _keywords(check, case)) for case in cases]
    outcomes = box.call_many(function.name, calls, stop_after={"timeout"})
    trials = []
    for case, outcome, note in zip(cases, outcomes, notes):
        try:
            trial = _VERDICTS[check.kind](function, check, case, expected, outcome)
        except InternalError as error:
            trials.append(error)
            continue
        trial.note = trial.note or (note if not all(v.passed for v in trial.verdicts.values()) else "")
        trials.append(trial)
    return trials


def _all_fail(check: Check, message: str, **material) -> Trial:
    return Trial({name: Verdict(False, message) for name in check.points}, **material)


def _keywords(check: Check, case) -> dict:
    return check.keywords(case) if check.keywords else {}


def _verdict_value(function, check, case, expected, outcome):
    args, kwargs = check.arguments(case), _keywords(check, case)
    want = expected(function.reference, *args, **kwargs)
    if not outcome.ok:
        return _all_fail(check, outcome_failure(function.name, outcome), expected={"value": want})
    verdicts = {}
    if isinstance(want, np.ndarray):
        verdicts["shape"], verdicts["values"] = compare_arrays("the result", outcome.value, want, check.rtol)
    else:
        verdicts["value"] = compare_int("the result", outcome.value, want)
    verdicts["inputs unchanged"] = inputs_unchanged(argument_names(function.signature), args, outcome.args_after)
    return Trial({k: verdicts[k] for k in check.points}, got={"value": outcome.value}, expected={"value": want})


def _verdict_forward(function, check, case, expected, outcome):
    args = check.arguments(case)
    want, _ = expected(function.reference, *args)
    if not outcome.ok:
        return _all_fail(check, outcome_failure(function.name, outcome), expected={"out": want})
    value = outcome.value
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        return _all_fail(
            check,
            f"{function.name} returned {describe_value(value)}; expected the tuple (out, cache): end with `return out, cache`",
            got={"out": value},
            expected={"out": want},
        )
    shape, values = compare_arrays("out", value[0], want, check.rtol)
    verdicts = {
        "output shape": shape,
        "output values": values,
        "inputs unchanged": inputs_unchanged(argument_names(function.signature), args, outcome.args_after),
    }
    return Trial({k: verdicts[k] for k in check.points}, got={"out": value[0]}, expected={"out": want})


def _verdict_backward(function, check, case, expected, outcome):
    args, standard = check.arguments(case), check.standard_cache(case)
    want = expected(function.reference, *args, standard)
    want = want if isinstance(want, tuple) else (want,)
    expected_named = dict(zip(check.outputs, want))
    if not outcome.ok:
        return _all_fail(check, outcome_failure(function.name, outcome), expected=expected_named)
    value = outcome.value
    if len(check.outputs) == 1:
        got = (value,)
    elif isinstance(value, (tuple, list)) and len(value) == len(check.outputs):
        got = tuple(value)
    else:
        names = ", ".join(check.outputs)
        return _all_fail(check, f"{function.name} returned {describe_value(value)}; expected the tuple ({names})", expected=expected_named)
    verdicts = {}
    for name, mine, theirs in zip(check.outputs, got, want):
        shape, values = compare_arrays(name, mine, theirs, check.rtol)
        verdicts[name] = shape if not shape.passed else values
    return Trial(verdicts, got=dict(zip(check.outputs, got)), expected=expected_named)


def _verdict_raises(function, check, case, expected, outcome):
    args, kwargs = check.arguments(case), _keywords(check, case)
    try:
        expected(function.reference, *args, **kwargs)
    except (ValueError, TypeError) as error:
        if type(error).__name__ != check.error:
            raise InternalError(f"the rubric expects {check.error} from {function.reference} here, got {error!r}") from None
    else:
        raise InternalError(f"the rubric expects {check.error} from {function.reference} here, but it returned")
    [name] = check.points
    if outcome.status == "raised" and exception_name(outcome) == check.error:
        return Trial({name: PASS})
    if outcome.ok:
        message = f"{function.name} returned {describe_value(outcome.value)}; expected it to raise {check.error}"
        return Trial({name: Verdict(False, message)}, got={"value": outcome.value})
    if outcome.status == "raised" and exception_name(outcome) == "AssertionError":
        message = (
            f"{function.name} raised AssertionError; raise {check.error}(...) instead "
            "(assert statements are skipped when Python runs with -O)"
        )
        return Trial({name: Verdict(False, message)})
    return Trial({name: Verdict(False, outcome_failure(function.name, outcome).rstrip(".") + f"; expected it to raise {check.error}")})


_VERDICTS = {"value": _verdict_value, "forward": _verdict_forward, "backward": _verdict_backward, "raises": _verdict_raises}
