"""A backward check reuses the calls its forward check made: the student's caches stay in the sandbox.

A backward check needs the student's own cache, so it calls the student's
forward on each case first. The forward check before it has usually called
that forward on the very same arguments already, and its result (cache
included) is still kept in the child: its Ref is passed on instead of
calling again. The child keeps a bounded number of results; a Ref it no
longer holds answers "stale", and those cases are run again the long way.
The forward check also records on which cases the forward was wrong, for
:mod:`autograder.engine.cascade`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .expected import content_digest
from .judge import reply_limit
from .verdicts import Trial

if TYPE_CHECKING:
    from .checks import BackwardCheck
    from .rubric import FunctionSpec

__all__ = ["forward_key", "remember_forwards", "remember_forward_verdicts", "usable_forward", "run_backward"]


def forward_key(function_name: str, args: tuple) -> str:
    """The key of a forward call by its function and arguments."""
    return content_digest((function_name, args))


def remember_forwards(box, function_name: str, arguments: list[tuple], outcomes: list) -> None:
    """Keep the forward calls that worked (their results stay in the child) for a backward check to reuse.

    Only their Refs are needed: what they returned is not kept.
    """
    kept = getattr(box, "forwards", None)
    if kept is None:
        return
    for args, outcome in zip(arguments, outcomes):
        if usable_forward(outcome):
            kept[forward_key(function_name, args)] = dataclasses.replace(
                outcome, value=(None, None), args_after=(), kwargs_after={}, output="")


def remember_forward_verdicts(box, function_name: str, arguments: list[tuple], trials: list) -> None:
    """Whether the forward was wrong on each case: a backward failing with its cache there is tried on the course's."""
    wrong = getattr(box, "forward_wrong", None)
    if wrong is None:
        return
    for args, trial in zip(arguments, trials):
        if isinstance(trial, Trial):
            wrong[forward_key(function_name, args)] = not trial.passed


def usable_forward(outcome) -> bool:
    """A forward call that returned ``(out, cache)`` whose result the child still holds (a Ref to pass on)."""
    return outcome.ok and isinstance(outcome.value, (tuple, list)) and len(outcome.value) == 2 and outcome.ref is not None


def _forwards(box, check: BackwardCheck, cases: list, *, reuse: bool) -> tuple[list, list[bool]]:
    """The student's forward outcome for each case, and whether it was an earlier call's."""
    kept = getattr(box, "forwards", None) if reuse else None
    arguments = [check.forward_arguments(case) for case in cases]
    found = [kept.get(forward_key(check.forward, args)) if kept is not None else None for args in arguments]
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


def run_backward(box, function: FunctionSpec, check: BackwardCheck, cases: list, notes: list[str], limits: list[int]) -> tuple[list, list]:
    """Call the student's backward on each case with the cache of the student's forward (or the course's).

    Returns the backward's outcomes and, per case, the forward's outcome
    whose cache it was given (None where it was given the course's).
    """

    def run(indices: list[int], reuse: bool) -> list:
        forwards, reused = _forwards(box, check, [cases[i] for i in indices], reuse=reuse)
        calls = []
        for index, forward in zip(indices, forwards):
            if usable_forward(forward):
                cache = forward.ref[1]
            else:
                cache = check.standard_cache(cases[index])
                notes[index] = f"{check.forward} failed on this case, so {function.name} was given the course's standard cache"
            calls.append(((*check.arguments(cases[index]), cache), {}))
        outcomes = box.call_many(function.name, calls, stop_after={"timeout"}, arguments_after=False,
                                 max_reply_bytes=[limits[index] for index in indices])  # a backward's inputs are not judged
        return [(outcome, was_reused, forward if usable_forward(forward) else None)
                for outcome, was_reused, forward in zip(outcomes, reused, forwards)]

    results = run(list(range(len(cases))), reuse=True)
    again = [i for i, (outcome, was_reused, _) in enumerate(results) if was_reused and outcome.status == "stale"]
    if again:
        for index, result in zip(again, run(again, reuse=False)):
            results[index] = result
    return [outcome for outcome, _, _ in results], [forward for _, _, forward in results]
