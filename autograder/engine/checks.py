"""The kinds of check, one class each: its own fields, its own validation, its own calls and verdicts.

A check judges one function on the properties in its ``points`` (property ->
points, in the order failures are reported). Every kind but speed is a
Hypothesis search over one ``strategy`` of cases (:class:`SearchedCheck`);
each kind says how the student's function is called on a case, what a
correct function returns there, and how an outcome is judged:

:class:`ValueCheck` (``"value"``)
    ``f(*args)`` returns one value compared with the reference's:
    ``"value"`` for an int (output sizes, parameter counts), ``"shape"`` and
    ``"values"`` for an array, ``"shapes"`` and ``"parameter counts"`` for a
    per-layer table; ``"inputs unchanged"`` too.
:class:`ForwardCheck` (``"forward"``)
    ``f(*args)`` returns ``(out, cache)``: ``"output shape"``,
    ``"output values"``, ``"inputs unchanged"``.
:class:`BackwardCheck` (``"backward"``)
    The student's own forward runs first, and its cache is passed to
    ``f(*args, cache)`` without leaving the sandbox (the course's standard
    cache when that forward fails; tried too where the backward fails and
    that forward was wrong, see :mod:`autograder.engine.cascade`). One property
    per returned gradient, named in ``outputs`` (``"dx"``, ``"dw"``, ``"db"``).
:class:`RaisesCheck` (``"raises"``)
    ``f(*args)`` must raise ``error``: the one property ``"raises <error>"``.
:class:`SpeedCheck` (``"speed"``)
    No search: one fixed ``case``, timed (:mod:`autograder.engine.speed`).

Each class checks its fields when it is built, so that a rubric with a
mistake fails at import, not while grading. Course authors build checks with
the functions of :mod:`autograder.engine.rubric` (``forward_check(...)``,
``speed_check(...)``, ...), not with these classes directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from hypothesis.strategies import SearchStrategy

from . import forward_cache
from .cascade import rescue_backwards
from .expected import ExpectedValues, InternalError
from .judge import Calls
from .results import PropertyResult
from .search import search_check
from .speed import grade_speed
from .verdicts import (
    PASS,
    Trial,
    Verdict,
    argument_names,
    compare_arrays,
    compare_int,
    compare_layers,
    describe_value,
    exception_name,
    inputs_unchanged,
    is_int,
    layer_labels,
    not_returned,
    outcome_failure,
    raised_material,
    returned,
    usable_array,
)

if TYPE_CHECKING:
    from .rubric import FunctionSpec

__all__ = ["Check", "SearchedCheck", "ValueCheck", "ForwardCheck", "BackwardCheck", "RaisesCheck", "SpeedCheck"]


def positional(case) -> tuple:
    """A case's positional arguments: ``case.args``."""
    return case.args


def upstream(case) -> tuple:
    """A backward's arguments before the cache: ``(case.dout,)``."""
    return (case.dout,)


def course_cache(case):
    """The course's standard cache for a case: ``case.cache``."""
    return case.cache


@dataclass(frozen=True, kw_only=True)
class Check:
    """What every kind has: the properties judged and their points, how a case becomes arguments, hints."""

    kind: ClassVar[str] = ""
    points: Mapping[str, float]  # property -> points, in reporting order
    arguments: Callable[[Any], tuple] = positional  # a case -> positional arguments for the student
    hints: tuple = ()  # autograder.engine.hints.Hint, tried on the minimal failing case
    rtol: float = 1e-7  # normwise relative error allowed on values
    description: str = ""  # e.g. "configurations that fit"

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError(f"a {self.kind} check needs points: a mapping of each property it judges to its points")
        if not callable(self.arguments):
            raise ValueError(f"a {self.kind} check's arguments must be a function of a case, got {self.arguments!r}")

    @property
    def max_points(self) -> float:
        return float(sum(self.points.values()))

    @property
    def cache_from(self) -> str | None:
        """The student's forward whose cache the function is called with, if any."""
        return None

    def grade(self, box, function: FunctionSpec, expected: ExpectedValues, *, examples: int | None = None) -> list[PropertyResult]:
        """Judge every property of this check on the student's ``function`` in ``box``."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class SearchedCheck(Check):
    """A check judged by a Hypothesis search over ``strategy`` (:mod:`autograder.engine.search`)."""

    strategy: SearchStrategy
    examples: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.strategy, SearchStrategy):
            raise ValueError(f"a {self.kind} check needs a Hypothesis strategy of cases, got {self.strategy!r}")
        if not (isinstance(self.examples, int) and self.examples >= 1):
            raise ValueError(f"a {self.kind} check needs examples >= 1, got {self.examples!r}")

    def grade(self, box, function: FunctionSpec, expected: ExpectedValues, *, examples: int | None = None) -> list[PropertyResult]:
        return search_check(box, function, self, expected, examples=examples)

    def expected_result(self, function: FunctionSpec, case, expected: ExpectedValues):
        """What a correct function returns on ``case``; raises :class:`InternalError` on a fault of ours."""
        return expected(function.reference, *self.arguments(case))

    def reply_values(self, case) -> tuple:
        """Besides the expected result, the values a reply's size is bounded by (:func:`autograder.engine.judge.reply_limit`)."""
        return (self.arguments(case),)

    def call(self, box, function: FunctionSpec, cases: list, limits: list[int]) -> Calls:
        """One batch of calls of the student's function, one per case."""
        calls = [(self.arguments(case), {}) for case in cases]
        return Calls(box.call_many(function.name, calls, stop_after={"timeout"}, value_items=None, max_reply_bytes=limits))

    def verdict(self, function: FunctionSpec, case, want, outcome) -> Trial:
        """The verdicts on one case: ``outcome`` judged against ``want``, the expected result."""
        raise NotImplementedError

    def after_judging(self, box, function: FunctionSpec, cases: list, wants: list, trials: list, calls: Calls,
                      expected: ExpectedValues, limits: list[int]) -> None:
        """What the kind does once a batch is judged (nothing, unless it says so)."""


@dataclass(frozen=True, kw_only=True)
class ValueCheck(SearchedCheck):
    """A function returning one value (an int, an array or a per-layer table) compared with the reference's."""

    kind: ClassVar[str] = "value"

    def verdict(self, function: FunctionSpec, case, want, outcome) -> Trial:
        args = self.arguments(case)
        if not outcome.ok:
            return not_returned(function.name, self.points, outcome, got=raised_material(outcome), expected={"value": want})
        verdicts = {}
        if isinstance(want, np.ndarray):
            verdicts["shape"], verdicts["values"] = compare_arrays("the result", outcome.value, want, self.rtol)
            usable = usable_array(outcome.value, want)
        elif isinstance(want, list):  # a table, one (shape, param_count) per layer
            verdicts["shapes"], verdicts["parameter counts"] = compare_layers(outcome.value, want, layer_labels(args))
            usable = verdicts["shapes"].passed
        else:
            verdicts["value"] = compare_int("the result", outcome.value, want)
            usable = is_int(outcome.value)
        verdicts["inputs unchanged"] = inputs_unchanged(argument_names(function.signature), args, outcome.args_after)
        return returned(verdicts, self.points, got={"value": outcome.value}, expected={"value": want}, usable=usable)


@dataclass(frozen=True, kw_only=True)
class ForwardCheck(SearchedCheck):
    """A forward pass: ``f(*args)`` returns ``(out, cache)``, judged on ``out``; its calls serve the backward check."""

    kind: ClassVar[str] = "forward"

    def call(self, box, function: FunctionSpec, cases: list, limits: list[int]) -> Calls:
        arguments = [self.arguments(case) for case in cases]
        outcomes = box.call_many(function.name, [(args, {}) for args in arguments], stop_after={"timeout"},
                                 value_items=(0,), max_reply_bytes=limits)  # the cache need not travel
        forward_cache.remember_forwards(box, function.name, arguments, outcomes)
        return Calls(outcomes)

    def verdict(self, function: FunctionSpec, case, want, outcome) -> Trial:
        args = self.arguments(case)
        want, _ = want
        if not outcome.ok:
            return not_returned(function.name, self.points, outcome, got=raised_material(outcome), expected={"out": want})
        value = outcome.value
        unchanged = inputs_unchanged(argument_names(function.signature), args, outcome.args_after)
        if not (isinstance(value, (tuple, list)) and len(value) == 2):
            failed = Verdict(
                False, f"{function.name} returned {describe_value(value)}; expected the tuple (out, cache): end with `return out, cache`")
            verdicts = {name: failed for name in self.points}
            verdicts["inputs unchanged"] = unchanged
            return returned(verdicts, self.points, got={"out": value}, expected={"out": want})
        shape, values = compare_arrays("out", value[0], want, self.rtol)
        verdicts = {"output shape": shape, "output values": values, "inputs unchanged": unchanged}
        return returned(verdicts, self.points, got={"out": value[0]}, expected={"out": want}, usable=usable_array(value[0], want))

    def after_judging(self, box, function: FunctionSpec, cases: list, wants: list, trials: list, calls: Calls,
                      expected: ExpectedValues, limits: list[int]) -> None:
        forward_cache.remember_forward_verdicts(box, function.name, [self.arguments(case) for case in cases], trials)


@dataclass(frozen=True, kw_only=True)
class BackwardCheck(SearchedCheck):
    """A backward pass, called with ``dout`` and the cache of the student's own ``forward``; one property per gradient."""

    kind: ClassVar[str] = "backward"
    arguments: Callable[[Any], tuple] = upstream
    forward: str  # the student's forward that makes the cache
    outputs: tuple[str, ...]  # names of the returned gradients, in order
    forward_arguments: Callable[[Any], tuple] = positional
    standard_cache: Callable[[Any], Any] = course_cache  # the course's cache, when the forward fails
    forward_reference: str = ""  # the forward's reference op (default: the backward's, "_backward" -> "_forward")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.forward and self.outputs and callable(self.forward_arguments) and callable(self.standard_cache)):
            raise ValueError("a backward check needs forward, forward_arguments, standard_cache and outputs")
        if set(self.points) != set(self.outputs):
            raise ValueError(f"a backward check scores its outputs {self.outputs}, got points for {tuple(self.points)}")

    @property
    def cache_from(self) -> str | None:
        return self.forward

    def expected_result(self, function: FunctionSpec, case, expected: ExpectedValues):
        return expected(function.reference, *self.arguments(case), self.standard_cache(case))

    def reply_values(self, case) -> tuple:
        return (self.arguments(case), self.standard_cache(case))  # the student's cache sent back is about the standard one

    def call(self, box, function: FunctionSpec, cases: list, limits: list[int]) -> Calls:
        notes = [""] * len(cases)
        outcomes, forwards = forward_cache.run_backward(box, function, self, cases, notes, limits)
        return Calls(outcomes, notes, forwards)

    def verdict(self, function: FunctionSpec, case, want, outcome) -> Trial:
        want = want if isinstance(want, tuple) else (want,)
        expected_named = dict(zip(self.outputs, want))
        if not outcome.ok:
            return not_returned(function.name, self.points, outcome, got=raised_material(outcome), expected=expected_named)
        value = outcome.value
        if len(self.outputs) == 1:
            got = (value,)
        elif isinstance(value, (tuple, list)) and len(value) == len(self.outputs):
            got = tuple(value)
        else:
            names = ", ".join(self.outputs)
            message = f"{function.name} returned {describe_value(value)}; expected the tuple ({names})"
            return returned({name: Verdict(False, message) for name in self.points}, self.points, expected=expected_named)
        verdicts = {}
        for name, mine, theirs in zip(self.outputs, got, want):
            shape, values = compare_arrays(name, mine, theirs, self.rtol)
            verdicts[name] = shape if not shape.passed else values
        usable = all(verdict.passed or "has shape" not in verdict.message for verdict in verdicts.values())
        return returned(verdicts, self.points, got=dict(zip(self.outputs, got)), expected=expected_named, usable=usable)

    def after_judging(self, box, function: FunctionSpec, cases: list, wants: list, trials: list, calls: Calls,
                      expected: ExpectedValues, limits: list[int]) -> None:
        if any(isinstance(trial, Trial) and not trial.passed for trial in trials):  # a passing backward costs nothing more
            rescue_backwards(box, function, self, cases, wants, trials, calls.forwards, expected, limits)


@dataclass(frozen=True, kw_only=True)
class RaisesCheck(SearchedCheck):
    """Arguments that must make the function raise ``error`` (an exception class name)."""

    kind: ClassVar[str] = "raises"
    error: str = "ValueError"

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.points) != 1:
            raise ValueError(f"a raises check judges one property, got {tuple(self.points)}")

    def expected_result(self, function: FunctionSpec, case, expected: ExpectedValues):
        """None: the reference raised the error the rubric names, as it must (an :class:`InternalError` otherwise)."""
        try:
            expected(function.reference, *self.arguments(case))
        except (ValueError, TypeError) as error:
            if type(error).__name__ != self.error:
                raise InternalError(f"the rubric expects {self.error} from {function.reference} here, got {error!r}") from None
            return None
        raise InternalError(f"the rubric expects {self.error} from {function.reference} here, but it returned")

    def verdict(self, function: FunctionSpec, case, want, outcome) -> Trial:
        [name] = self.points
        if outcome.status == "raised" and exception_name(outcome) == self.error:
            return Trial({name: PASS})
        if outcome.ok:
            message = f"{function.name} returned {describe_value(outcome.value)}; expected it to raise {self.error}"
            return Trial({name: Verdict(False, message)}, got={"value": outcome.value})
        if outcome.status == "raised" and exception_name(outcome) == "AssertionError":
            message = (
                f"{function.name} raised AssertionError; raise {self.error}(...) instead "
                "(assert statements are skipped when Python runs with -O)"
            )
            return Trial({name: Verdict(False, message)})
        message = outcome_failure(function.name, outcome).rstrip(".") + f"; expected it to raise {self.error}"
        return Trial({name: Verdict(False, message)}, got=raised_material(outcome))


@dataclass(frozen=True, kw_only=True)
class SpeedCheck(Check):
    """The function timed on one fixed ``case`` against the reference's op (:mod:`autograder.engine.speed`).

    It must first be right on the case (else the property fails, "not
    timed"); then it is timed on ``repeats`` calls, each with new values of
    the case's shapes and each result checked (the fastest counts), and
    passes when its time over the reference's is at most ``max_ratio``. The
    measured ratio is reported either way. With ``forward`` set, the function
    is a backward: the student's forward makes each cache it is called with.
    """

    kind: ClassVar[str] = "speed"
    case: Any  # the fixed case it is timed on
    max_ratio: float = 5.0  # the student's time over the reference's, at most
    repeats: int = 5  # timed calls (after one warm-up); the fastest counts
    forward: str | None = None  # a backward's forward, which makes the cache
    forward_arguments: Callable[[Any], tuple] | None = None
    standard_cache: Callable[[Any], Any] | None = None
    outputs: tuple[str, ...] = ()  # a backward's gradients

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.case is None:
            raise ValueError("a speed check is timed on one fixed case: give case")
        if len(self.points) != 1:
            raise ValueError(f"a speed check judges one property, got {tuple(self.points)}")
        if not (self.max_ratio > 0 and self.repeats >= 1):
            raise ValueError(f"a speed check needs max_ratio > 0 and repeats >= 1, got {self.max_ratio} and {self.repeats}")
        if self.forward and not (self.forward_arguments and self.standard_cache and self.outputs):
            raise ValueError("a speed check of a backward needs forward_arguments, standard_cache and outputs")

    @property
    def cache_from(self) -> str | None:
        return self.forward

    def grade(self, box, function: FunctionSpec, expected: ExpectedValues, *, examples: int | None = None) -> list[PropertyResult]:
        return grade_speed(box, function, self, expected)
