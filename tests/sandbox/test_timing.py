"""Speed and "inputs unchanged" are measured and decided by the grader, never taken from the child.

The child's interpreter is the student's: whatever it reports about itself
(how long a call took, whether the arguments changed) could be forged. These
tests give the sandbox children that try, and check what the grader sees.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder import grade
from autograder.engine import speed, verdicts
from autograder.engine.secret import use_secret
from autograder.engine.submission import read_submission
from autograder.rubrics import fast_conv
from autograder.sandbox import Limits, Sandbox, process

LIMITS = Limits(call_timeout=5.0, budget=30.0)

CHILD = """
import gc, sys, threading, time, types
import numpy as np

def _spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass

def burn(seconds, threads=0):
    helpers = [threading.Thread(target=_spin, args=(seconds,)) for _ in range(threads)]
    for helper in helpers:
        helper.start()
    _spin(seconds)
    for helper in helpers:
        helper.join()
    return seconds

def burn_with_a_forged_clock(seconds):
    crawling = lambda: 0.0
    time.perf_counter = time.monotonic = time.process_time = crawling
    frame = sys._getframe()
    while frame is not None:
        if frame.f_globals is not globals() and frame.f_globals.get("time") is time:
            frame.f_globals["time"] = types.SimpleNamespace(perf_counter=crawling, monotonic=crawling)
        frame = frame.f_back
    return burn(seconds)

def spoil(x, params):
    # replace any 'unchanged' helper the child may have, then modify both arguments
    for namespace in [item for item in gc.get_objects() if type(item) is dict]:
        if callable(namespace.get("_fingerprint")):
            namespace["_fingerprint"] = lambda *args: 0
    x[...] = 0
    params["pad"] = 99

def forward_with_a_deep_cache(x):
    deep = []
    for _ in range(1000):
        deep = [deep]
    return x * 2, (x, deep)

def backward(dout, cache):
    return dout * 2

def strip_the_arguments():
    # a naive rewrite of the child's reply (its Kernel found up the stack): send no arguments back
    frame = sys._getframe()
    while frame is not None and not hasattr(frame.f_locals.get("self"), "_reply"):
        frame = frame.f_back
    kernel = type(frame.f_locals["self"])
    original = kernel._reply
    def _reply(self, seq, status, error, values, value_items=None):
        if values is not None:
            values.pop("args_after", None)
            values.pop("kwargs_after", None)
        return original(self, seq, status, error, values, value_items)
    kernel._reply = _reply
    return 1
"""


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    path = tmp_path_factory.mktemp("timing") / "hw.py"
    path.write_text(textwrap.dedent(CHILD))
    with Sandbox(read_submission(path), LIMITS) as sandbox:
        sandbox.load()
        yield sandbox


def _fresh_box(tmp_path: Path, source: str = CHILD) -> Sandbox:
    path = tmp_path / "hw.py"
    path.write_text(textwrap.dedent(source))
    return Sandbox(read_submission(path), LIMITS)


# ---------------------------------------------------------------- speed: the child's CPU clock, read by the grader


def test_the_grader_reads_the_childs_cpu_clock_here(box):
    assert box.protections["speed timing"].startswith("CPU time of the child process")


def test_timed_calls_count_the_cpu_of_every_thread_the_student_starts(box):
    [outcome] = box.call_many("burn", [((0.05, 2), {})], timed=True)
    assert outcome.ok and 0.14 <= outcome.cpu_seconds < 0.5, outcome  # three threads of 0.05 s each


def test_a_forged_clock_in_the_child_changes_nothing(box):
    [outcome] = box.call_many("burn_with_a_forged_clock", [((0.1,), {})], timed=True)
    assert outcome.ok and 0.09 <= outcome.cpu_seconds < 0.5, outcome
    assert outcome.seconds >= 0.09  # the grader's own wall clock too


def test_timed_calls_are_not_sent_ahead_so_each_reading_is_its_own(box):
    short, long = box.call_many("burn", [((0.01,), {}), ((0.2,), {})], timed=True)
    assert short.cpu_seconds < 0.1, short  # sent ahead, the long call would have run before the reading
    assert long.cpu_seconds >= 0.19, long


def test_untimed_calls_have_no_cpu_reading(box):
    [outcome] = box.call_many("burn", [((0.0,), {})])
    assert outcome.ok and outcome.cpu_seconds is None and outcome.seconds > 0


def test_without_a_readable_cpu_clock_the_grader_says_it_times_by_wall_clock(tmp_path, monkeypatch):
    monkeypatch.setattr(process, "cpu_clock_of", lambda process: (None, "wall-clock time of each call (forced)"))
    with _fresh_box(tmp_path) as sandbox:
        [outcome] = sandbox.call_many("burn", [((0.05,), {})], timed=True)
        assert outcome.ok and outcome.cpu_seconds is None and outcome.seconds >= 0.05
        assert sandbox.protections["speed timing"].startswith("wall-clock")


def test_the_clock_of_a_process_that_is_not_our_child_is_refused():
    class Stranger:
        pid = 1  # init: readable, but no child of ours

    clock, note = process.cpu_clock_of(Stranger())
    assert clock is None and note.startswith("wall-clock") and "pid 1" in note


SPINNER = """
import threading

def _spin():
    while True:
        pass

threading.Thread(target=_spin, daemon=True).start()  # left running between calls, e.g. to load the machine

def identity(value):
    return value
"""


def test_the_child_is_stopped_while_the_grader_times_the_reference(tmp_path):
    import time

    with _fresh_box(tmp_path, SPINNER) as sandbox:
        sandbox.load()
        child = sandbox._resources.child
        with sandbox.paused() as stopped:
            assert stopped
            before = child.cpu_seconds()
            time.sleep(0.2)
            assert child.cpu_seconds() - before < 0.005  # its spinning thread is stopped too
        before = child.cpu_seconds()
        time.sleep(0.3)
        assert child.cpu_seconds() - before > 0.01  # running again
        assert sandbox.call("identity", 1).value == 1


def test_without_seccomp_the_cpu_clock_is_not_trusted_for_speed():
    note = "CPU time of the child process"
    assert process.without_processes(7, note, {"seccomp": "on (no fork, exec)"}) == (7, note)
    for protections in ({"seccomp": "unavailable (Operation not permitted)"}, {}):
        clock, why = process.without_processes(7, note, protections)
        assert clock is None and why.startswith("wall-clock") and "start processes" in why


# ---------------------------------------------------------------- inputs unchanged: decided by the grader


def test_the_arguments_always_come_back_and_the_grader_sees_the_change(box):
    x, params = np.ones((2, 2)), {"stride": 1, "pad": 0}
    outcome = box.call("spoil", x, params)
    assert outcome.ok
    np.testing.assert_array_equal(outcome.args_after[0], np.zeros((2, 2)))
    assert outcome.args_after[1] == {"stride": 1, "pad": 99}
    verdict = verdicts.inputs_unchanged(("x", "params"), (x, params), outcome.args_after)
    assert not verdict.passed and "x was modified" in verdict.message


def test_arguments_that_did_not_come_back_are_not_vouched_for():
    verdict = verdicts.inputs_unchanged(("x",), (np.ones(2),), ())
    assert not verdict.passed and "could not be checked" in verdict.message
    assert verdicts.inputs_unchanged(("x",), (np.ones(2),), (np.ones(2),)).passed


def test_a_reply_without_the_arguments_is_a_protocol_error(tmp_path):
    with _fresh_box(tmp_path) as sandbox:
        outcome = sandbox.call("strip_the_arguments")  # its own reply is the first without them
        assert outcome.status == "protocol" and "arguments after the call" in outcome.error
        [untimed] = sandbox.call_many("burn", [((0.0,), {})], arguments_after=False)
        assert untimed.ok and untimed.args_after == ()  # not asked for, not needed


def test_a_deep_cache_passed_back_by_ref_does_not_end_the_child(box):
    # The child once fingerprinted every argument to tell whether it changed, and died of RecursionError here.
    [forward] = box.call_many("forward_with_a_deep_cache", [((np.ones(3),), {})], value_items=(0,))
    assert forward.ok
    for arguments_after in (True, False):
        [outcome] = box.call_many("backward", [((np.ones(3), forward.ref[1]), {})], arguments_after=arguments_after)
        assert outcome.ok, outcome
        np.testing.assert_array_equal(outcome.value, np.full(3, 2.0))


# ---------------------------------------------------------------- fresh values for every timed call


def test_fresh_cases_keep_the_shapes_and_change_the_values():
    check = fast_conv.CONV_FORWARD_IM2COL.checks[1]
    first, second = speed.fresh_cases(check, 2, "f", "digest", 0)
    for case in (first, second):
        assert case.x.shape == check.case.x.shape and case.w.shape == check.case.w.shape
        assert case.conv_param == check.case.conv_param
        assert not np.array_equal(case.x, check.case.x)
    assert not np.array_equal(first.x, second.x)
    again = speed.fresh_cases(check, 1, "f", "digest", 0)[0]
    np.testing.assert_array_equal(again.x, first.x)  # deterministic for the same labels and secret


def test_fresh_cases_depend_on_the_course_secret():
    check = fast_conv.CONV_FORWARD_IM2COL.checks[1]
    public = speed.fresh_cases(check, 1, "f")[0]
    try:
        use_secret(b"the instructor's secret")
        secret = speed.fresh_cases(check, 1, "f")[0]
    finally:
        use_secret(b"")
    assert not np.array_equal(public.x, secret.x)


def test_the_reference_is_timed_with_the_protocols_work_on_the_same_values():
    function = fast_conv.CONV_FORWARD_IM2COL
    check = function.checks[1]
    cases = speed.fresh_cases(check, 2, "reference")
    run = speed._reference_run(function, check, "reference", cases)
    assert len(run.cpu) == len(run.wall) == len(run.results) == 2 and min(run.cpu) > 0
    import reference

    np.testing.assert_allclose(run.results[1][0], reference.conv_forward(*cases[1].args)[0])


def test_speed_falls_back_to_wall_clock_on_both_sides(monkeypatch):
    monkeypatch.setattr(process, "cpu_clock_of", lambda process: (None, "wall-clock time of each call (forced)"))
    examples = Path(__file__).resolve().parents[2] / "examples" / "fast_conv"
    result = grade(examples / "correct.py", assignment="fast_conv", examples=5, limits=LIMITS)
    # Wall-clock times follow the machine's load (other jobs on two cores), so only the
    # correctness points are certain; the speed verdict must be made, on the wall clock.
    assert all(p.passed for f in result.functions for p in f.properties if p.property != "speed")
    for function in result.functions:
        [speed] = [p for p in function.properties if p.property == "speed"]
        assert "x the reference's wall-clock time (" in speed.message, speed.message
        assert "not timed" not in speed.message


def test_the_speed_check_stops_the_child_around_each_timing_of_the_reference(monkeypatch):
    stops = []
    original = Sandbox.paused

    def recording(self):
        stops.append(self._resources.child is not None)
        return original(self)

    monkeypatch.setattr(Sandbox, "paused", recording)
    examples = Path(__file__).resolve().parents[2] / "examples" / "fast_conv"
    result = grade(examples / "correct.py", assignment="fast_conv", examples=5, limits=LIMITS)
    assert result.points == 19
    assert len(stops) >= 4 and all(stops)  # before and after the student's calls, for each function
