"""Judging one case: call the student's function in the sandbox, compare with the expected value.

:func:`judge` returns a :class:`Trial`: one :class:`Verdict` per property of
the check, plus what the student returned and what was expected, so that a
failure can be explained and matched against known mistakes afterwards.
Everything the child sends has already been validated by the sandbox; here
it is checked for type, dtype and shape before any number is compared.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .compare import largest_discrepancy, normwise_error
from .expected import ExpectedValues, InternalError, content_digest
from .rubric import Check, FunctionSpec
from .sandbox import CallOutcome, Opaque, Ref, protocol
from .secret import derived_seed

__all__ = ["Verdict", "Trial", "ERROR_PROPERTY", "judge", "judge_many", "judge_speed", "reference_seconds", "fresh_cases",
           "describe_value", "outcome_failure"]

TINY = 16  # arrays with at most this many entries are shown in full
#: The verdict every trial of a value, forward or backward check also holds: did the call return?
#: A call that raised fails it, and leaves the check's own properties not judged on that case
#: (see `autograder.search` for how the error is charged).
ERROR_PROPERTY = "no error on valid input"


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


def _is_int(value) -> bool:
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
            if isinstance(shape, list) and all(_is_int(s) for s in shape):
                shapes = Verdict(False, f"{where}: the shape is the list {shape}; return a tuple {tuple(want_shape)}")
            elif not (isinstance(shape, tuple) and all(_is_int(s) for s in shape)):
                shapes = Verdict(False, f"{where}: the shape is {describe_value(shape)}; expected a tuple of ints like {tuple(want_shape)}")
            elif tuple(int(s) for s in shape) != tuple(want_shape):
                shapes = Verdict(False, f"{where}: shape {tuple(int(s) for s in shape)}, expected {tuple(want_shape)}")
        if counts.passed:
            verdict = compare_int("the parameter count", count, want_count)
            if not verdict.passed:
                counts = Verdict(False, f"{where}: {verdict.message}")
    return shapes, counts


def _layer_labels(args: tuple) -> list[str]:
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

    Each reply is bounded by what the case's result can be
    (:func:`reply_limit`): a larger one is refused unread, a ``"protocol"``
    failure of this function. Each call's value is let go once its case is
    judged.
    """
    wants = [_expected_or_error(function, check, case, expected) for case in cases]
    limits = [_case_reply_limit(check, case, want) for case, want in zip(cases, wants)]
    notes = [""] * len(cases)
    forwards: list = []
    if check.kind == "backward":
        outcomes, forwards = _run_backward(box, function, check, cases, notes, limits)
    else:
        calls = [(check.arguments(case), _keywords(check, case)) for case in cases]
        value_items = (0,) if check.kind == "forward" else None  # a forward's cache need not travel
        outcomes = box.call_many(function.name, calls, stop_after={"timeout"}, value_items=value_items,
                                 max_reply_bytes=limits)
        if check.kind == "forward":
            _remember_forwards(box, function.name, [args for args, _ in calls], outcomes)
    trials = []
    for index, (case, want, note) in enumerate(zip(cases, wants, notes)):
        outcome, outcomes[index] = outcomes[index], None  # judged, then let go
        if isinstance(want, InternalError):
            trials.append(want)
            continue
        trial = _VERDICTS[check.kind](function, check, case, want, outcome)
        trial.note = trial.note or (note if not trial.passed else "")
        trials.append(trial)
    if check.kind == "forward":
        _remember_forward_verdicts(box, function.name, [check.arguments(case) for case in cases], trials)
    if check.kind == "backward" and any(isinstance(t, Trial) and not t.passed for t in trials):
        from .cascade import rescue_backwards  # only on failures: a passing backward costs nothing more

        rescue_backwards(box, function, check, cases, wants, trials, forwards, expected, limits)
    return trials


#: A reply may be this many times the size of the arrays the case's result and arguments hold
#: (a float64 array of the right shape is 1, complex 2; a wrong shape, say a stride ignored,
#: several) ...
REPLY_SIZE_FACTOR = 16
#: ... plus this, for the header, small values, a student's cache sent back, error text.
REPLY_MARGIN_BYTES = 256 * 1024


def reply_limit(*values) -> int:
    """The largest reply accepted for a call whose result and arguments are about the size of ``values``.

    Generous for any honest answer, right or wrong (the cases are small, and
    the margin alone holds hundreds of their arrays), and small enough that
    a reply costs the grader little: a value that costs the student's
    process nothing, such as a zero-stride view of gigabytes, is refused
    from its length alone.

    >>> reply_limit(np.zeros((2, 3, 4, 4)), (np.zeros((2, 3, 6, 6)), {"stride": 1}))
    302080
    """
    return REPLY_MARGIN_BYTES + REPLY_SIZE_FACTOR * sum(_array_bytes(value) for value in values)


def _case_reply_limit(check: Check, case, want) -> int:
    """`reply_limit` for one case of ``check``: its expected result ``want`` and its arguments.

    A backward's arguments sent back may hold the student's own cache, which
    is about the standard one.
    """
    cache = check.standard_cache(case) if check.kind == "backward" else None
    return reply_limit(None if isinstance(want, InternalError) else want, check.arguments(case), cache)


def _array_bytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_array_bytes(item) for item in value)
    if isinstance(value, dict):
        return sum(_array_bytes(item) for item in value.values())
    return 0


def _expected_or_error(function: FunctionSpec, check: Check, case, expected: ExpectedValues):
    """What a correct function gives on ``case``, or the :class:`InternalError` computing it raised.

    A ``raises`` check's is None: the reference raised the error the rubric
    names, as it must.
    """
    args = check.arguments(case)
    try:
        if check.kind == "backward":
            return expected(function.reference, *args, check.standard_cache(case))
        if check.kind != "raises":
            return expected(function.reference, *args, **_keywords(check, case))
        try:
            expected(function.reference, *args, **_keywords(check, case))
        except (ValueError, TypeError) as error:
            if type(error).__name__ != check.error:
                raise InternalError(f"the rubric expects {check.error} from {function.reference} here, got {error!r}") from None
            return None
        raise InternalError(f"the rubric expects {check.error} from {function.reference} here, but it returned")
    except InternalError as error:
        return error


# A backward check needs the student's own cache, so it calls the student's
# forward on each case first. The forward check before it has usually called
# that forward on the very same arguments already, and its result (cache
# included) is still kept in the child: its Ref is passed on instead of
# calling again. The child keeps a bounded number of results; a Ref it no
# longer holds answers "stale", and those cases are run again the long way.


def _forward_key(function_name: str, args: tuple) -> str:
    return content_digest((function_name, args))


def _remember_forwards(box, function_name: str, arguments: list[tuple], outcomes: list) -> None:
    """Keep the forward calls that worked (their results stay in the child) for a backward check to reuse.

    Only their Refs are needed: what they returned is not kept.
    """
    kept = getattr(box, "forwards", None)
    if kept is None:
        return
    for args, outcome in zip(arguments, outcomes):
        if _usable_forward(outcome):
            kept[_forward_key(function_name, args)] = dataclasses.replace(
                outcome, value=(None, None), args_after=(), kwargs_after={}, output="")


def _remember_forward_verdicts(box, function_name: str, arguments: list[tuple], trials: list) -> None:
    """Whether the forward was wrong on each case: a backward failing with its cache there is tried on the course's."""
    wrong = getattr(box, "forward_wrong", None)
    if wrong is None:
        return
    for args, trial in zip(arguments, trials):
        if isinstance(trial, Trial):
            wrong[_forward_key(function_name, args)] = not trial.passed


def _usable_forward(outcome) -> bool:
    return outcome.ok and isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 2 and outcome.ref is not None


def _forwards(box, check: Check, cases: list, *, reuse: bool) -> tuple[list, list[bool]]:
    """The student's forward outcome for each case, and whether it was an earlier call's."""
    kept = getattr(box, "forwards", None) if reuse else None
    arguments = [check.forward_arguments(case) for case in cases]
    found = [kept.get(_forward_key(check.forward, args)) if kept is not None else None for args in arguments]
    missing = [index for index, outcome in enumerate(found) if outcome is None]
    if missing:  # only the shape of (out, cache) is needed here: its cache is passed on by Ref
        limits = [reply_limit(arguments[i]) for i in missing]
        called = box.call_many(check.forward, [(arguments[i], {}) for i in missing], stop_after={"timeout"},
                               value_items=(), arguments_after=False, max_reply_bytes=limits)
        for index, outcome in zip(missing, called):
            found[index] = outcome
    reused = [True] * len(cases)
    for index in missing:
        reused[index] = False
    return found, reused


def _run_backward(box, function: FunctionSpec, check: Check, cases: list, notes: list[str], limits: list[int]) -> tuple[list, list]:
    """Call the student's backward on each case with the cache of the student's forward (or the course's).

    Returns the backward's outcomes and, per case, the forward's outcome
    whose cache it was given (None where it was given the course's).
    """

    def run(indices: list[int], reuse: bool) -> list:
        forwards, reused = _forwards(box, check, [cases[i] for i in indices], reuse=reuse)
        calls = []
        for index, forward in zip(indices, forwards):
            if _usable_forward(forward):
                cache = forward.ref[1]
            else:
                cache = check.standard_cache(cases[index])
                notes[index] = f"{check.forward} failed on this case, so {function.name} was given the course's standard cache"
            calls.append(((*check.arguments(cases[index]), cache), {}))
        outcomes = box.call_many(function.name, calls, stop_after={"timeout"}, arguments_after=False,
                                 max_reply_bytes=[limits[index] for index in indices])  # a backward's inputs are not judged
        return [(outcome, was_reused, forward if _usable_forward(forward) else None)
                for outcome, was_reused, forward in zip(outcomes, reused, forwards)]

    results = run(list(range(len(cases))), reuse=True)
    again = [i for i, (outcome, was_reused, _) in enumerate(results) if was_reused and outcome.status == "stale"]
    if again:
        for index, result in zip(again, run(again, reuse=False)):
            results[index] = result
    return [outcome for outcome, _, _ in results], [forward for _, _, forward in results]


def _all_fail(check: Check, message: str, **material) -> Trial:
    return Trial({name: Verdict(False, message) for name in check.points}, **material)


def _not_returned(function: FunctionSpec, check: Check, outcome: CallOutcome, **material) -> Trial:
    """A call that did not return: if it raised, nothing is judged on this case but the error itself.

    An exception raised on valid input is the student's error, charged once
    for the whole check (`autograder.search`), not once per property it hides.
    A call that hung, ran out of memory or broke the protocol fails every
    property as before: the function is not run again after it.
    """
    message = outcome_failure(function.name, outcome)
    if outcome.status != "raised":
        trial = _all_fail(check, message, **material)
        trial.verdicts[ERROR_PROPERTY] = PASS
        return trial
    verdicts = {name: SKIP for name in check.points}
    verdicts[ERROR_PROPERTY] = Verdict(False, message)
    return Trial(verdicts, **material)


def _usable_array(got, want: np.ndarray) -> bool:
    """An output of the right type and shape, or a reshape away from it (NHWC, keepdims): work a side condition may pay with."""
    return isinstance(got, np.ndarray) and got.dtype.kind in "biuf" and (got.shape == want.shape or got.size == want.size > 0)


def _with_returned(verdicts: dict, check: Check, **material) -> Trial:
    trial = Trial({k: verdicts[k] for k in check.points}, **material)
    trial.verdicts[ERROR_PROPERTY] = PASS
    return trial


def _keywords(check: Check, case) -> dict:
    return check.keywords(case) if check.keywords else {}


def _raised(outcome: CallOutcome) -> dict:
    """What a call that raised leaves for the hints: its one-line error."""
    return {"error": outcome.error} if outcome.status == "raised" else {}


# Each verdict function judges one outcome against ``want``, the expected result
# (`_expected_or_error`), computed once per case before the calls.


def _verdict_value(function, check, case, want, outcome):
    args = check.arguments(case)
    if not outcome.ok:
        return _not_returned(function, check, outcome, got=_raised(outcome), expected={"value": want})
    verdicts = {}
    if isinstance(want, np.ndarray):
        verdicts["shape"], verdicts["values"] = compare_arrays("the result", outcome.value, want, check.rtol)
        usable = _usable_array(outcome.value, want)
    elif isinstance(want, list):  # a table, one (shape, param_count) per layer
        verdicts["shapes"], verdicts["parameter counts"] = compare_layers(outcome.value, want, _layer_labels(args))
        usable = verdicts["shapes"].passed
    else:
        verdicts["value"] = compare_int("the result", outcome.value, want)
        usable = _is_int(outcome.value)
    verdicts["inputs unchanged"] = inputs_unchanged(argument_names(function.signature), args, outcome.args_after)
    return _with_returned(verdicts, check, got={"value": outcome.value}, expected={"value": want}, usable=usable)


def _verdict_forward(function, check, case, want, outcome):
    args = check.arguments(case)
    want, _ = want
    if not outcome.ok:
        return _not_returned(function, check, outcome, got=_raised(outcome), expected={"out": want})
    value = outcome.value
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        failed = Verdict(
            False, f"{function.name} returned {describe_value(value)}; expected the tuple (out, cache): end with `return out, cache`")
        verdicts = {name: failed for name in check.points}
        verdicts["inputs unchanged"] = inputs_unchanged(argument_names(function.signature), args, outcome.args_after)
        return _with_returned(verdicts, check, got={"out": value}, expected={"out": want})
    shape, values = compare_arrays("out", value[0], want, check.rtol)
    verdicts = {
        "output shape": shape,
        "output values": values,
        "inputs unchanged": inputs_unchanged(argument_names(function.signature), args, outcome.args_after),
    }
    return _with_returned(verdicts, check, got={"out": value[0]}, expected={"out": want}, usable=_usable_array(value[0], want))


def _verdict_backward(function, check, case, want, outcome):
    want = want if isinstance(want, tuple) else (want,)
    expected_named = dict(zip(check.outputs, want))
    if not outcome.ok:
        return _not_returned(function, check, outcome, got=_raised(outcome), expected=expected_named)
    value = outcome.value
    if len(check.outputs) == 1:
        got = (value,)
    elif isinstance(value, (tuple, list)) and len(value) == len(check.outputs):
        got = tuple(value)
    else:
        names = ", ".join(check.outputs)
        trial = _all_fail(check, f"{function.name} returned {describe_value(value)}; expected the tuple ({names})", expected=expected_named)
        trial.verdicts[ERROR_PROPERTY] = PASS
        return trial
    verdicts = {}
    for name, mine, theirs in zip(check.outputs, got, want):
        shape, values = compare_arrays(name, mine, theirs, check.rtol)
        verdicts[name] = shape if not shape.passed else values
    usable = all(verdict.passed or "has shape" not in verdict.message for verdict in verdicts.values())
    return _with_returned(verdicts, check, got=dict(zip(check.outputs, got)), expected=expected_named, usable=usable)


def _verdict_raises(function, check, case, want, outcome):
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
    return Trial({name: Verdict(False, outcome_failure(function.name, outcome).rstrip(".") + f"; expected it to raise {check.error}")},
                 got=_raised(outcome))


_VERDICTS = {"value": _verdict_value, "forward": _verdict_forward, "backward": _verdict_backward, "raises": _verdict_raises}


# --------------------------------------------------------------------------- speed

# A speed check is measured from outside the student's interpreter: nothing
# the child computes about itself is believed (its student can rewrite the
# child's clock, or anything else in that process). The grader reads the
# child process's CPU clock (every thread) just before each timed call is sent
# and just after its answer arrives (`Sandbox.call_many(timed=True)`: one call
# at a time, nothing sent ahead), so a call's time includes the child reading
# its arguments and encoding its result; where that clock cannot be read (or
# could miss work: no seccomp), the grader's wall clock around each call
# stands in, and the message says so. That fallback is weaker: on the wall
# clock, work a student spreads over several threads counts once, not per
# thread.
#
# Each timed call gets new values of the timing case's shapes, drawn from the
# course secret (`autograder.secret.derived_seed`), the submission's content,
# the round and the call, so no answer can be remembered from an earlier call
# or prepared in advance; and each timed call's result is checked against the
# reference's, so a fast wrong answer fails. A backward is timed on the cache
# of a fresh (untimed) call of the student's forward on the same new values.
# The fixed case comes first, untimed: a wrong output there fails "not
# timed", and the call doubles as the warm-up.
#
# The reference's op is timed the same way on the same new values, in the
# grader's thread CPU clock (its BLAS held to one thread by threadpoolctl, its
# own pooling threads by reference.limited_threads, as the child's BLAS is by
# OPENBLAS/OMP/MKL_NUM_THREADS=1): reading the call's frame and decoding its
# arguments, the op, encoding the result and copying it out, as the child
# does (measured with a function that returns at once: the child's part
# about 0.36 ms, this emulation about 0.27 ms, the rest, pipe wake-ups,
# counted against the student). Nothing measured in the child is subtracted
# from its time: an overhead the child reported, its student could inflate.
# Every result is kept until the timing is done, as the child keeps its
# results for Refs, so that a function keeping big temporaries (im2col
# columns in its cache) meets fresh memory on every call. The fastest call
# counts on either side. The reference is timed for every submission, just
# before and just after the student's calls, so both meet the same load, with
# the child stopped meanwhile (`Sandbox.paused`), so that a student's thread
# left running between calls cannot slow the reference down (a thread
# copying memory on the other core made it 1.4x slower); a
# function that looks too slow is timed again (up to SPEED_ROUNDS rounds, on
# new values each round; the fastest calls of all rounds count), so that a
# burst of load elsewhere on the machine does not fail it. A function that is
# really too slow fails every round; one beyond FAR_TOO_SLOW times the limit
# is not timed again.
SPEED_ROUNDS = 3
FAR_TOO_SLOW = 4.0


def _engine_module(engine: str):
    if engine == "reference":
        import reference

        return reference
    from . import oracle

    return oracle


def _one_thread(engine: str):
    """The reference's own threads held to one while it is timed (the oracle is single-threaded already)."""
    if engine == "reference":
        import reference

        return reference.limited_threads(1)
    return contextlib.nullcontext()


def fresh_cases(check: Check, count: int, *labels) -> list:
    """``count`` cases of the speed case's shapes with new values, standard normal, from the course secret.

    Every array of ``check.case`` (a dataclass) is drawn again from
    ``derived_seed("speed", *labels, index)``; everything else (the
    convolution's parameters) is kept. Without an instructor's secret
    (``autograder check``) the values are public, which is harmless there.
    """
    case = check.case
    drawn = []
    for index in range(count):
        rng = np.random.default_rng(derived_seed("speed", *labels, index))
        arrays = {
            item.name: rng.standard_normal(value.shape)
            for item in dataclasses.fields(case)
            if isinstance(value := getattr(case, item.name), np.ndarray)
        }
        drawn.append(dataclasses.replace(case, **arrays))
    return drawn


@dataclass
class _ReferenceRun:
    """The reference timed on some cases: per call, thread CPU and wall seconds; its results (the expected values)."""

    cpu: list[float]
    wall: list[float]
    results: list


def _reference_run(function: FunctionSpec, check: Check, engine: str, cases: list) -> _ReferenceRun:
    """The trusted op on each case, timed as the sandbox times the student's call (see the comment above).

    The first case is run once more before, untimed: the warm-up.
    """
    op = getattr(_engine_module(engine), function.reference)
    cpu, wall, results, kept = [], [], [], []
    with threadpool_limits(limits=1, user_api="blas"), _one_thread(engine):
        for index, case in enumerate([cases[0], *cases]):
            # What travels: a backward's cache stays in the child (a Ref), so only dout is read there.
            travelling = check.arguments(case)
            cache = (check.standard_cache(case),) if check.forward else ()
            header, body = protocol.encode_message({"type": "call"}, {"args": travelling}, strict=True)
            frame = b"".join(protocol.frame_pieces(header, body))
            cpu_started, wall_started = time.thread_time(), time.perf_counter()
            [message] = protocol.FrameReader(len(frame)).feed(frame)  # as the child reads the call
            args = protocol.decode_value(message.header["args"], message.body)
            result = op(*args, *cache)
            forward_pair = not check.forward and isinstance(result, tuple)
            sent = (result[0], None) if forward_pair else result  # a forward's cache stays in the child
            header, body = protocol.encode_message({"type": "result"}, {"value": sent})
            reply = b"".join(protocol.frame_pieces(header, body))  # the copy into the pipe
            cpu_seconds, wall_seconds = time.thread_time() - cpu_started, time.perf_counter() - wall_started
            kept.append((args, result, reply))
            if index:
                cpu.append(cpu_seconds)
                wall.append(wall_seconds)
                results.append(result)
    return _ReferenceRun(cpu, wall, results)


def reference_seconds(function: FunctionSpec, check: Check, engine: str, cases: list | None = None) -> float:
    """Fastest CPU time of the trusted op over ``cases`` (by default the speed case, ``check.repeats`` times)."""
    return min(_reference_run(function, check, engine, cases or [check.case] * check.repeats).cpu)


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _output_problem(function: FunctionSpec, check: Check, want, outcome: CallOutcome) -> str:
    """Why ``outcome`` is not the expected ``want`` (the reference's result), or ``""`` if it is right."""
    if not outcome.ok:
        return outcome_failure(function.name, outcome)
    value = outcome.value
    if check.forward:  # a backward: every gradient
        want = want if isinstance(want, tuple) else (want,)
        got = (value,) if len(check.outputs) == 1 else value
        if not (isinstance(got, (tuple, list)) and len(got) == len(check.outputs)):
            return f"{function.name} returned {describe_value(value)}; expected the tuple ({', '.join(check.outputs)})"
        pairs = zip(check.outputs, got, want)
    elif isinstance(want, tuple):  # (out, cache)
        if not (isinstance(value, (tuple, list)) and len(value) == 2):
            return f"{function.name} returned {describe_value(value)}; expected the tuple (out, cache)"
        pairs = [("out", value[0], want[0])]
    else:
        pairs = [("the result", value, want)]
    for name, mine, theirs in pairs:
        shape, values = compare_arrays(name, mine, theirs, check.rtol)
        for verdict in (shape, values):
            if not verdict.passed:
                return verdict.message.splitlines()[0]
    return ""


def _usable_cache(forward: CallOutcome) -> bool:
    return forward.ok and isinstance(forward.value, (tuple, list)) and len(forward.value) == 2 and forward.ref is not None


def _no_cache(check: Check, forward: CallOutcome) -> str:
    reason = outcome_failure(check.forward, forward) if not forward.ok else f"{check.forward} did not return (out, cache)"
    return f"not timed: there is no cache to time it with ({reason})"


def _call_arguments(box, check: Check, case) -> tuple[tuple | None, str]:
    """The arguments of the timed function on ``case``: for a backward, with the cache of a new call of the student's forward."""
    args = check.arguments(case)
    if not check.forward:
        return args, ""
    forward_args = check.forward_arguments(case)
    [forward] = box.call_many(check.forward, [(forward_args, {})], stop_after={"timeout"}, value_items=(),
                              arguments_after=False, max_reply_bytes=reply_limit(forward_args))
    if not _usable_cache(forward):
        return None, _no_cache(check, forward)
    return (*args, forward.ref[1]), ""


def _timed_calls(box, function: FunctionSpec, check: Check, cases: list, expected_results: list) -> tuple[list[CallOutcome], str]:
    """One timed call per case, one at a time, each result checked; the outcomes, or why the speed cannot be judged."""
    outcomes = []
    for case, want in zip(cases, expected_results):
        args, problem = _call_arguments(box, check, case)
        if args is None:
            return [], problem
        [outcome] = box.call_many(
            function.name,
            [(args, {})],
            stop_after={"timeout"},
            value_items=None if check.forward else (0,),  # a forward's cache need not travel
            arguments_after=False,
            timed=True,
            max_reply_bytes=reply_limit(want, args),
        )
        if not outcome.ok:
            return [], f"not timed: {outcome_failure(function.name, outcome)}"
        problem = _output_problem(function, check, want, outcome)
        if problem:
            return [], (
                f"wrong on a timed call ({problem}): every timed call gets new values of the timing case's shapes, "
                "so the result must be computed from them each time"
            )
        outcome.value = None  # judged: only its times are needed now
        outcomes.append(outcome)
    return outcomes, ""


def _paused(box):
    """The sandbox's child stopped while the grader times the reference (see `Sandbox.paused`)."""
    paused = getattr(box, "paused", None)
    return paused() if paused is not None else contextlib.nullcontext()


def _submission_digest(box) -> str:
    """A digest of the submission's code: mixed into the timed calls' values, so that they differ per submission."""
    cells = getattr(getattr(box, "submission", None), "cells", ())
    return content_digest(tuple(getattr(cell, "source", "") for cell in cells))


def judge_speed(box, function: FunctionSpec, check: Check, expected: ExpectedValues) -> Trial:
    """Time the student's function against the trusted op, both measured by the grader (see the comment above).

    The property fails without timing when the function is wrong on the
    fixed case (or, for a backward, when the student's forward fails on it),
    and fails when a timed call's result is wrong. The message gives the
    measured ratio whether the property passes or fails.
    """
    [name] = check.points
    case = check.case
    args, problem = _call_arguments(box, check, case)
    if args is None:
        return Trial({name: Verdict(False, problem)})
    if check.forward:
        want = expected(function.reference, *check.arguments(case), check.standard_cache(case))
    else:
        want = expected(function.reference, *args)
    [first] = box.call_many(function.name, [(args, {})], stop_after={"timeout"}, arguments_after=False,
                            max_reply_bytes=reply_limit(want, args))  # checked, and a warm-up
    problem = _output_problem(function, check, want, first)
    if problem:
        return Trial({name: Verdict(False, f"not timed: the output is wrong on the timing case ({problem})")})
    clock = "CPU"
    seconds = baseline = float("inf")
    for round_number in range(SPEED_ROUNDS):  # a round more only while it looks too slow: load on the machine is not the student's
        cases = fresh_cases(check, check.repeats, function.name, _submission_digest(box), round_number)
        with _paused(box):
            before = _reference_run(function, check, expected.engine, cases)
        timed, problem = _timed_calls(box, function, check, cases, before.results)
        if problem:
            return Trial({name: Verdict(False, problem)})
        with _paused(box):
            after = _reference_run(function, check, expected.engine, cases)
        if clock == "CPU" and all(outcome.cpu_seconds is not None for outcome in timed):
            round_seconds, round_baseline = [o.cpu_seconds for o in timed], before.cpu + after.cpu
        else:  # the child's CPU clock could not be read: the grader's wall clock, on both sides, from now on
            if clock == "CPU":
                clock, seconds, baseline = "wall-clock", float("inf"), float("inf")
            round_seconds, round_baseline = [o.seconds for o in timed], before.wall + after.wall
        seconds, baseline = min(seconds, *round_seconds), min(baseline, *round_baseline)
        ratio = seconds / max(baseline, 1e-9)
        if ratio <= check.max_ratio or ratio > FAR_TOO_SLOW * check.max_ratio:
            break
    whose = "the reference's" if expected.engine == "reference" else "torch's"
    message = f"{ratio:.1f}x {whose} {clock} time ({_duration(seconds)} vs {_duration(baseline)}; limit {check.max_ratio:g}x)"
    passed = ratio <= check.max_ratio
    if not passed:
        message += f": too slow, {function.name} must run within {check.max_ratio:g}x {whose} time"
    return Trial(
        {name: Verdict(passed, message)},
        got={"seconds": seconds, "ratio": ratio},
        expected={"seconds": baseline, "max_ratio": check.max_ratio},
    )
