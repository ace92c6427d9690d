"""Judging a speed check: the student's function timed against the trusted op, both measured by the grader.

A speed check (:class:`autograder.engine.checks.SpeedCheck`) has no search: it times
the function on its one fixed case (:func:`grade_speed`), and its result
carries the measured ratio whether it passes or fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from ..sandbox import CallOutcome, protocol
from .expected import ExpectedValues, InternalError, content_digest
from .forward_cache import usable_forward
from .judge import reply_limit
from .results import PropertyResult
from .search import explain_failure
from .secret import derived_seed
from .verdicts import Trial, Verdict, compare_arrays, describe_value, outcome_failure

if TYPE_CHECKING:
    from .checks import SpeedCheck
    from .rubric import FunctionSpec

__all__ = ["grade_speed", "judge_speed", "reference_seconds", "fresh_cases", "SPEED_ROUNDS", "FAR_TOO_SLOW"]

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
# course secret (`autograder.engine.secret.derived_seed`), the submission's content,
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


def fresh_cases(check: SpeedCheck, count: int, *labels) -> list:
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


def _reference_run(function: FunctionSpec, check: SpeedCheck, engine: str, cases: list) -> _ReferenceRun:
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


def reference_seconds(function: FunctionSpec, check: SpeedCheck, engine: str, cases: list | None = None) -> float:
    """Fastest CPU time of the trusted op over ``cases`` (by default the speed case, ``check.repeats`` times)."""
    return min(_reference_run(function, check, engine, cases or [check.case] * check.repeats).cpu)


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _output_problem(function: FunctionSpec, check: SpeedCheck, want, outcome: CallOutcome) -> str:
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


def _no_cache(check: SpeedCheck, forward: CallOutcome) -> str:
    reason = outcome_failure(check.forward, forward) if not forward.ok else f"{check.forward} did not return (out, cache)"
    return f"not timed: there is no cache to time it with ({reason})"


def _call_arguments(box, check: SpeedCheck, case) -> tuple[tuple | None, str]:
    """The arguments of the timed function on ``case``: for a backward, with the cache of a new call of the student's forward."""
    args = check.arguments(case)
    if not check.forward:
        return args, ""
    forward_args = check.forward_arguments(case)
    [forward] = box.call_many(check.forward, [(forward_args, {})], stop_after={"timeout"}, value_items=(),
                              arguments_after=False, max_reply_bytes=reply_limit(forward_args))
    if not usable_forward(forward):
        return None, _no_cache(check, forward)
    return (*args, forward.ref[1]), ""


def _timed_calls(box, function: FunctionSpec, check: SpeedCheck, cases: list, expected_results: list) -> tuple[list[CallOutcome], str]:
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


def judge_speed(box, function: FunctionSpec, check: SpeedCheck, expected: ExpectedValues) -> Trial:
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


def grade_speed(box, function: FunctionSpec, check: SpeedCheck, expected: ExpectedValues) -> list[PropertyResult]:
    """The one property of a speed check: the measured ratio in the message, passing or not."""
    [(name, points)] = check.points.items()
    result = PropertyResult(function=function.name, property=name, max_points=float(points), passed=False, examples=1, check=check.description)
    try:
        trial = judge_speed(box, function, check, expected)
    except InternalError as error:
        result.internal_error = True
        result.message = f"internal error of the grader (not your fault): {error}"
        return [result]
    verdict = trial.verdicts[name]
    if verdict.passed:
        result.passed, result.message = True, verdict.message
    else:
        explain_failure(result, function, check, expected, name, check.case, trial)
    return [result]
