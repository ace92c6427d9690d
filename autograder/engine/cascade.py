"""No cascade from a wrong forward to a right backward: the backward tried again with the course's cache.

A backward is called with the cache of the student's own forward (it never
leaves the sandbox, see `autograder.engine.forward_cache`). When that forward is wrong on a
case, a right backward usually fails there too. So, on a case where the
backward fails with the student's cache *and* the forward was wrong on that
case, the backward is called again with the course's standard cache (ours,
trusted): each property that holds there holds on that case. The forward was
wrong on a case if the forward check failed it there (its output, or its
inputs changed), or if, being wrong on other cases, the cache it returns on
this one visibly holds a wrong x (channels-last, or perturbed): an output can
be right by chance (a 1x1 output is the same in NHWC) while the cache is not.
A backward wrong with both caches still fails, and one whose forward was
right everywhere is never tried again (its own forward's cache is the one it
must work with, whatever its layout). Only failures pay for this: a passing
backward costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .expected import ExpectedValues
from .forward_cache import forward_key
from .judge import reply_limit
from .verdicts import ERROR_PROPERTY, Trial, compare_arrays, inputs_unchanged

if TYPE_CHECKING:
    from .checks import BackwardCheck
    from .rubric import FunctionSpec

__all__ = ["rescue_backwards", "forward_reference", "describe_cache", "cache_problems"]


def forward_reference(function: FunctionSpec, check: BackwardCheck) -> str:
    """The reference op of the backward's forward: the rubric's, else ``conv_backward`` -> ``conv_forward``."""
    return check.forward_reference or function.reference.replace("_backward", "_forward")


def _forward_wrong(box, function: FunctionSpec, check: BackwardCheck, case, expected: ExpectedValues) -> bool | None:
    """Was the student's forward wrong on ``case``? ``None``: right here but wrong elsewhere (look at its cache).

    Wrong: the forward check failed it there (its output, or its inputs
    changed), or, for a case that check did not see (a case met while
    shrinking), the forward called again on it now is. A forward wrong on
    other cases is also wrong here if the cache it returns here visibly holds
    a wrong x (:func:`cache_problems`): its output can be right by chance (a
    1x1 output is the same in NHWC) while its cache is not. A forward right
    everywhere is never looked into: its cache is the one its backward must
    work with.
    """
    args = check.forward_arguments(case)
    key = forward_key(check.forward, args)
    known = getattr(box, "forward_wrong", None)
    known = known if isinstance(known, dict) else {}
    if key not in known:
        if known and not any(known.values()):
            return False  # right on every case the forward check judged: its cache is the backward's to work with
        known[key] = _called_wrong(box, function, check, args, expected)
    return True if known[key] else (None if any(known.values()) else False)


def _called_wrong(box, function: FunctionSpec, check: BackwardCheck, args: tuple, expected: ExpectedValues) -> bool:
    """The forward called on ``args`` now: is its output wrong, or its inputs changed?"""
    try:
        want = expected(forward_reference(function, check), *args)
    except Exception:  # no expected forward here (a grader problem): the backward keeps its verdict
        return False
    want = want[0] if isinstance(want, tuple) else want
    [forward] = box.call_many(check.forward, [(args, {})], stop_after={"timeout"}, value_items=(0,),
                              max_reply_bytes=reply_limit(want, args))
    value = forward.value if forward.ok else None
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        return False  # it did not return (out, cache) now: the backward was given the course's cache then, or keeps its verdict
    _, values = compare_arrays("out", value[0], want, check.rtol)
    return not values.passed or not inputs_unchanged((), args, forward.args_after).passed


def rescue_backwards(box, function: FunctionSpec, check: BackwardCheck, cases: list, wants: list, trials: list,
                     forwards: list, expected: ExpectedValues, limits: list[int]) -> None:
    """Replace, in ``trials``, each failing case whose forward was wrong by its verdicts with either cache."""
    failing = [index for index, trial in enumerate(trials)
               if isinstance(trial, Trial) and not trial.passed and forwards[index] is not None]
    wrong = {index: _forward_wrong(box, function, check, cases[index], expected) for index in failing}
    look = [index for index in failing if wrong[index] is None]
    for index, problem in zip(look, cache_problems(box, check, [cases[index] for index in look])):
        wrong[index] = bool(problem)
    again = [index for index in failing if wrong[index]]
    if not again:
        return
    calls = [((*check.arguments(cases[i]), check.standard_cache(cases[i])), {}) for i in again]
    outcomes = box.call_many(function.name, calls, stop_after={"timeout"}, arguments_after=False,
                             max_reply_bytes=[limits[i] for i in again])
    for index, outcome in zip(again, outcomes):
        standard = check.verdict(function, cases[index], wants[index], outcome)
        trials[index] = _merged(trials[index], standard, check)


def _merged(own: Trial, standard: Trial, check: BackwardCheck) -> Trial:
    """A property holds on the case if it holds with either cache; a failure stays the one seen first."""
    verdicts, from_standard, rescued = {}, False, False
    for name in check.points:
        mine, theirs = own.verdicts[name], standard.verdicts[name]
        if mine.passed and mine.judged:
            verdicts[name] = mine
        elif theirs.passed and theirs.judged:
            verdicts[name], rescued = theirs, True
        elif not mine.judged and theirs.judged:  # raised with the student's cache, wrong with the course's
            verdicts[name], from_standard = theirs, True
        else:
            verdicts[name] = mine
    returned = own.verdicts[ERROR_PROPERTY].passed or standard.verdicts[ERROR_PROPERTY].passed
    verdicts[ERROR_PROPERTY] = own.verdicts[ERROR_PROPERTY] if own.verdicts[ERROR_PROPERTY].passed or not returned \
        else standard.verdicts[ERROR_PROPERTY]
    base = standard if from_standard else own
    merged = Trial(verdicts, got=base.got, expected=base.expected, usable=own.usable or standard.usable, rescued=rescued)
    if not merged.passed:
        merged.note = f"wrong with the course's standard cache too; {check.forward} was wrong on this case"
    return merged


# --------------------------------------------------------------------------- what the cache holds


def describe_cache(box, check: BackwardCheck, case) -> str:
    """What is wrong with the cache the student's forward returns on ``case``, where it can be told; else ``""``."""
    return cache_problems(box, check, [case])[0]


def cache_problems(box, check: BackwardCheck, cases: list) -> list[str]:
    """For each case, what is visibly wrong with the cache the student's forward returns (one batch of calls).

    Visibly wrong: x is not in it as given, but x channels-last is, or an
    array of x's shape that is not x. Anything else (x_pad, im2col columns,
    a mask) says nothing. The cache comes from the student's process, so it
    only ever decides whether the backward is *also* tried with the course's
    cache, which credits nothing but a backward right on the course's cache.
    """
    problems = [""] * len(cases)
    arguments = [check.forward_arguments(case) for case in cases]
    if not cases:
        return problems
    try:
        outcomes = box.call_many(check.forward, [(args, {}) for args in arguments], stop_after={"timeout"},
                                 arguments_after=False,
                                 max_reply_bytes=[reply_limit(args, check.standard_cache(case)) for args, case in zip(arguments, cases)])
    except Exception:  # words only: a failure to fetch them costs no verdict
        return problems
    for index, (case, outcome) in enumerate(zip(cases, outcomes)):
        value = getattr(outcome, "value", None) if getattr(outcome, "ok", False) else None
        x = getattr(case, "x", None)
        if isinstance(x, np.ndarray) and isinstance(value, (tuple, list)) and len(value) == 2:
            problems[index] = _what_is_wrong(x, [a for a in _arrays_in(value[1], depth=3) if a.dtype.kind in "biuf"])
    return problems


def _what_is_wrong(x: np.ndarray, arrays: list[np.ndarray]) -> str:
    if any(a.shape == x.shape and np.array_equal(a, x) for a in arrays):
        return ""  # x is there as given: nothing to say about it
    if x.ndim == 4:
        nhwc = x.transpose(0, 2, 3, 1)
        if any(a.shape == nhwc.shape and np.array_equal(a, nhwc) for a in arrays):
            return "the cache your forward returns holds x in NHWC (channels last): cache x as given, (N, C, H, W)"
    if any(a.shape == x.shape for a in arrays):
        return "the cache your forward returns holds an array of x's shape that is not x: cache x itself, unchanged"
    return ""


def _arrays_in(value, depth: int) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if depth <= 0:
        return []
    if isinstance(value, (tuple, list)):
        return [a for item in value[:16] for a in _arrays_in(item, depth - 1)]
    if isinstance(value, dict):
        return [a for item in list(value.values())[:16] for a in _arrays_in(item, depth - 1)]
    return []
