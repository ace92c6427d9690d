"""Judging a batch of cases of one check: one batch of calls in the sandbox, then one verdict per case.

:func:`judge_many` asks the check (one class per kind, :mod:`autograder.engine.checks`)
for each case's expected value, lets it make its calls, and has it judge each
outcome into a :class:`~autograder.engine.verdicts.Trial`. The calls' replies are
bounded here (:func:`reply_limit`), from what each case's result can be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .expected import ExpectedValues, InternalError

if TYPE_CHECKING:
    from .checks import SearchedCheck
    from .rubric import FunctionSpec

__all__ = ["Calls", "judge_many", "reply_limit", "REPLY_SIZE_FACTOR", "REPLY_MARGIN_BYTES"]


@dataclass
class Calls:
    """The outcomes of one batch of calls, one per case, with what the judging of each needs besides."""

    outcomes: list
    notes: list[str] = field(default_factory=list)  # per case: e.g. that a backward was given the standard cache
    forwards: list = field(default_factory=list)  # a backward's: per case, the forward outcome whose cache it was given


def judge_many(box, function: FunctionSpec, check: SearchedCheck, cases: list, expected: ExpectedValues) -> list:
    """Judge ``cases`` with one batch of calls (two for a backward: its forward first).

    Returns one :class:`~autograder.engine.verdicts.Trial` per case, or the
    :class:`InternalError` that computing its expected value raised (our
    fault, not the student's). A function that times out is not run on the
    remaining cases.

    Each reply is bounded by what the case's result can be
    (:func:`reply_limit`): a larger one is refused unread, a ``"protocol"``
    failure of this function. Each call's value is let go once its case is
    judged.
    """
    wants, limits = _wants_and_limits(function, check, cases, expected)
    calls = check.call(box, function, cases, limits)
    outcomes, notes = calls.outcomes, calls.notes or [""] * len(cases)
    trials = []
    for index, (case, want, note) in enumerate(zip(cases, wants, notes)):
        outcome, outcomes[index] = outcomes[index], None  # judged, then let go
        if isinstance(want, InternalError):
            trials.append(want)
            continue
        trial = check.verdict(function, case, want, outcome)
        trial.note = trial.note or (note if not trial.passed else "")
        trials.append(trial)
    check.after_judging(box, function, cases, wants, trials, calls, expected, limits)
    return trials


#: Per grader process: (check, case, engine) by their ids -> (check, function, case, engine, expected, reply limit).
#: Every submission meets the same drawn cases, so each is looked up and bounded once.
_PER_CASE: dict[tuple[int, int, int], tuple] = {}
PER_CASE_ENTRIES = 8192


def _wants_and_limits(function: FunctionSpec, check: SearchedCheck, cases: list,
                      expected: ExpectedValues) -> tuple[list, list[int]]:
    """Each case's expected result (or its :class:`InternalError`) and reply limit, remembered per case object.

    Both follow from the check, the function, the case and the engine alone;
    the drawn cases are the same objects for every submission a process
    grades, so they are computed once (a content digest and a walk of the
    arrays per case saved for each later submission).
    """
    wants, limits = [], []
    for case in cases:
        key = (id(check), id(case), id(expected))
        kept = _PER_CASE.get(key)
        if kept is None or kept[0] is not check or kept[1] is not function or kept[2] is not case or kept[3] is not expected:
            want = _expected_or_error(function, check, case, expected)
            limit = reply_limit(None if isinstance(want, InternalError) else want, *check.reply_values(case))
            if len(_PER_CASE) >= PER_CASE_ENTRIES:
                _PER_CASE.clear()
            kept = _PER_CASE[key] = (check, function, case, expected, want, limit)
        wants.append(kept[4])
        limits.append(kept[5])
    return wants, limits


def _expected_or_error(function: FunctionSpec, check: SearchedCheck, case, expected: ExpectedValues):
    """What a correct function gives on ``case`` (:meth:`SearchedCheck.expected_result`), or the :class:`InternalError` it raised."""
    try:
        return check.expected_result(function, case, expected)
    except InternalError as error:
        return error


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


def _array_bytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_array_bytes(item) for item in value)
    if isinstance(value, dict):
        return sum(_array_bytes(item) for item in value.values())
    return 0
