"""The sandbox: results cross as plain data, and every hostile submission becomes a status.

Hostile tests use small limits (1 s timeouts, 512 MiB of memory) to keep the
file fast; restarts fork a child from the warm zygote, so they cost milliseconds.
The shared sandbox and the tests of what the student may not do run once per
start method: a child forked from the zygote must be restricted exactly like
a new interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from processes import is_running, wait_until_gone

from autograder.engine.cache import cache_dir
from autograder.engine.policy import forbidden_paths
from autograder.engine.submission import read_submission
from autograder.sandbox import CallOutcome, Limits, LoadReport, Opaque, Ref, Sandbox, launch, warm, zygote_client
from autograder.sandbox.child import main as child_main

REPO = Path(__file__).resolve().parents[2]
FAST = Limits(call_timeout=1.0, budget=30.0, memory_bytes=512 * 2**20, output_bytes=2000)

STUDENT = '''
import os, signal, sys, warnings
import numpy as np

def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out = np.zeros((N, F, 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param, id(x))

def conv_backward_naive(dout, cache):
    x, w, b, conv_param, x_id = cache
    assert id(x) == x_id, "the cache was copied"
    return np.zeros_like(x), np.zeros_like(w), dout.sum(axis=(0, 2, 3))

def identity(value):
    return value

def add_one_in_place(x):
    x += 1
    return None

def shout(text):
    print(text)
    print("to stderr", file=sys.stderr)
    return len(text)

def broadcast():
    return np.ones(3) + np.ones(4)

def warn():
    warnings.warn("careful: this is only a warning")
    return np.float64(1.0) / np.float64(0.0)

def weird_values():
    class Sneaky:
        def __eq__(self, other):
            return True
        @property
        def __class__(self):
            return np.ndarray
    return [np.array([1, None]), np.matrix([[1]]), Sneaky(), (i for i in range(3)), np.arange(3)]

def raise_unprintable():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")
    raise Unprintable()

answer = 42

def segfault():
    os.kill(os.getpid(), signal.SIGSEGV)

def hard_exit():
    os._exit(3)

def abort():
    os.abort()

def spin():
    while True:
        pass

def chatter():
    while True:
        print("x", end="")

def allocate_huge():
    return np.ones(10**10)

def grow_a_list():
    items = []
    while True:
        items.append([0] * 1000)

def close_the_channel():
    os.close(int(sys.argv[2]))
    import time
    time.sleep(30)

def garble_the_channel():
    os.write(int(sys.argv[2]), b"this is not a frame")
    return 1

def where_am_i():
    with open("scratch.txt", "w") as handle:
        handle.write("mine")
    return os.getcwd(), os.environ["HOME"], open("scratch.txt").read()

def use_the_scratch_folder():
    import shutil, tempfile
    os.makedirs("a/b")
    with open("a/b/f.txt", "w") as handle:
        handle.write("x")
    os.rename("a/b/f.txt", "a/g.txt")
    with tempfile.NamedTemporaryFile("w", delete=False) as handle:
        handle.write("y")
    os.remove(handle.name)
    shutil.rmtree("a")
    return os.listdir(".")

def try_import(name):
    __import__(name)

def import_past_the_blocker(name):
    import importlib
    sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "_ImportRefuser"]
    return importlib.import_module(name).__file__

def read_with_realpath_replaced(path):
    import posixpath, stat
    os.path.realpath = posixpath.realpath = lambda path, **options: "/tmp/harmless"
    stat.S_ISLNK = lambda mode: False
    return read(path)

def read(path):
    with open(path) as handle:
        return handle.read(20)

def read_parents_file(name):
    return read(f"/proc/{os.getppid()}/{name}")

def read_relative_to(folder, name):
    directory = os.open(folder, os.O_RDONLY)
    return os.read(os.open(name, os.O_RDONLY, dir_fd=directory), 20)

def write(path):
    with open(path, "w") as handle:
        handle.write("x")

def run_program():
    import subprocess
    return subprocess.run(["true"]).returncode

def shell():
    return os.system("true")

def fork():
    return os.fork()

def connect():
    import socket
    return socket.create_connection(("127.0.0.1", 80))

def signal_parent():
    os.kill(os.getppid(), signal.SIGTERM)

def load_library():
    import ctypes
    return ctypes.CDLL("libc.so.6").getpid()

def behave(action, value=None):
    """One function for batches that mix good and bad calls."""
    if action == "print":
        print(value)
    elif action == "write":
        sys.stdout.write(value)
    elif action == "raise":
        raise ValueError(value)
    elif action == "spin":
        while True:
            pass
    elif action == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif action == "garble":
        os.write(int(sys.argv[2]), b"this is not a frame")
    return value

def killed():
    os.kill(os.getpid(), signal.SIGKILL)

def nap(seconds):
    import time
    time.sleep(seconds)
    return seconds

def fingerprint():
    """What the kernel and the interpreter say about this process, scratch folder's name aside."""
    import resource
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    descriptors = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            # The child keeps its own /proc/<pid> open (see child.kernel_layer._pinned_descriptors).
            descriptors[int(name)] = os.readlink(f"/proc/self/fd/{name}").split(":")[0].replace(
                f"/proc/{os.getpid()}", "/proc/PID")
        except OSError:  # listdir's own descriptor, closed by now
            pass
    folder = os.getcwd()
    mask = os.umask(0o022)
    os.umask(mask)
    return {
        "status": {key: status[key].strip() for key in (
            "Seccomp", "Seccomp_filters", "NoNewPrivs", "CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb",
            "Threads", "SigBlk", "SigIgn", "SigCgt")},
        "standard descriptors": [descriptors.pop(fd) for fd in (0, 1, 2)],
        "other descriptors": sorted(descriptors.values()),
        "limits": [resource.getrlimit(getattr(resource, name)) for name in (
            "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_NPROC")],
        "environment": sorted((key, value.replace(folder, "SCRATCH")) for key, value in os.environ.items()),
        "argv": [sys.argv[0], len(sys.argv), sys.argv[3] == str(os.getppid())],
        "flags": str(sys.flags), "path": sys.path, "meta_path": [type(finder).__name__ for finder in sys.meta_path],
        "own process group and session": [os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid()],
        "scratch mount": [line.split()[8] for line in open("/proc/self/mountinfo") if line.split()[4] == folder],
        "signals": {number.name: str(signal.getsignal(number)) for number in (
            signal.SIGINT, signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM)},
        "umask": mask,
        "main": sys.modules["__main__"].__file__,
        "grader modules": sorted(name for name in sys.modules if name.startswith(("autograder", "_sandbox_zygote"))),
        "namespaces": [os.readlink(f"/proc/self/ns/{kind}") for kind in ("net", "mnt")],
    }
'''


def make_sandbox(tmp_path: Path, source: str, *, name: str = "hw.py", limits: Limits = FAST, **options) -> Sandbox:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    options.setdefault("forbidden_paths", forbidden_paths())
    return Sandbox(read_submission(path), limits, **options)


def make_notebook(tmp_path: Path, *sources: str, limits: Limits = FAST) -> Sandbox:
    cells = [{"cell_type": "code", "source": textwrap.dedent(source), "metadata": {}, "outputs": []}
             for source in sources]
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    return Sandbox(read_submission(path), limits)


START_METHODS = ["zygote", "exec"]


def assert_started_by(sandbox: Sandbox, start_method: str) -> None:
    """The child started as asked: a quiet fall-back to a new interpreter would leave the zygote untested."""
    started = sandbox.protections["process start"]
    assert started.startswith("forked from the zygote" if start_method == "zygote" else "new interpreter"), started


@pytest.fixture(scope="module", params=START_METHODS)
def box(request, tmp_path_factory):
    """One sandbox for the tests that do not end the child, once per start method."""
    with make_sandbox(tmp_path_factory.mktemp("student"), STUDENT, start_method=request.param) as sandbox:
        assert_started_by(sandbox, request.param)
        yield sandbox


@pytest.fixture(params=START_METHODS)
def start_method(request) -> str:
    return request.param


# ---------------------------------------------------------------- results


def test_load_reports_the_functions_defined(box):
    report = box.load()
    assert isinstance(report, LoadReport) and report.ok
    assert report.to_dict()["ok"] is True
    assert "conv_forward_naive" in report.functions and "conv_backward_naive" in report.functions
    assert "answer" not in report.functions and "np" not in report.functions


def test_the_protections_that_need_no_privilege_are_on(box):
    for name in ("audit hook", "resource limits"):
        assert box.protections[name].startswith("on"), (name, box.protections[name])
    # The kernel layers depend on the machine; on the course machines (x86_64 Linux, root) all install.
    if os.geteuid() == 0:
        assert box.protections["network namespace"] == "on"
        assert box.protections["capabilities"] == "dropped"


def needs(box: Sandbox, protection: str) -> None:
    if not box.protections.get(protection, "").startswith("on"):
        pytest.skip(f"{protection} is {box.protections.get(protection)} on this machine")


def test_an_array_result_crosses_as_a_new_array(box):
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 5))
    w = np.random.default_rng(1).normal(size=(4, 3, 3, 3))
    outcome = box.call("conv_forward_naive", x, w, np.arange(4.0), {"stride": 2, "pad": 1})
    assert isinstance(outcome, CallOutcome) and outcome.ok and outcome.error == ""
    out, cache = outcome.value
    assert out.shape == (2, 4, 3, 3) and out.dtype == np.float64
    np.testing.assert_allclose(out[0, 1, 1, 1], np.sum(x[0, :, 1:4, 1:4] * w[1]) + 1.0)
    assert cache[3] == {"stride": 2, "pad": 1}  # a tuple holding a dict
    assert outcome.seconds > 0


@pytest.mark.parametrize("value", [7, 7.0, np.float64(7.0), np.int32(7), np.bool_(True), True, None, "text",
                                   2 + 1j, [1, (2, {"a": [3.5]})]], ids=repr)
def test_values_keep_their_exact_type(box, value):
    result = box.call("identity", value).value
    assert type(result) is type(value) and result == value


def test_nan_arrays_cross_fine(box):
    result = box.call("identity", np.array([np.nan, 1.0])).value
    assert np.isnan(result[0]) and result[1] == 1.0


def test_args_after_shows_in_place_modification(box):
    x = np.zeros(3)
    outcome = box.call("add_one_in_place", x)
    np.testing.assert_array_equal(outcome.args_after[0], np.ones(3))
    np.testing.assert_array_equal(x, np.zeros(3))  # the grader's own array is untouched


def test_kwargs_are_passed_and_reported(box):
    outcome = box.call("identity", value=np.arange(2))
    np.testing.assert_array_equal(outcome.value, np.arange(2))
    assert list(outcome.kwargs_after) == ["value"]


def test_a_ref_hands_the_childs_cache_to_backward_without_copying(box):
    x = np.ones((1, 2, 4, 4))
    forward = box.call("conv_forward_naive", x, np.ones((3, 2, 3, 3)), np.zeros(3), {"stride": 1, "pad": 0})
    assert isinstance(forward.ref, Ref)
    dout = np.arange(12.0).reshape(1, 3, 2, 2)
    backward = box.call("conv_backward_naive", dout, forward.ref[1])
    assert backward.ok, backward.error
    dx, dw, db = backward.value
    assert dx.shape == x.shape and dw.shape == (3, 2, 3, 3)
    np.testing.assert_array_equal(db, dout.sum(axis=(0, 2, 3)))


def test_untransferable_values_arrive_as_opaque_placeholders(box):
    values = box.call("weird_values").value
    assert values[0] == Opaque("ndarray[object]", "an object array")
    assert values[1].type_name == "numpy.matrix" and "ndarray subclass" in values[1].detail
    assert isinstance(values[2], Opaque) and "Sneaky" in values[2].type_name  # __class__ does not fool it
    assert values[3].type_name == "generator"
    np.testing.assert_array_equal(values[4], np.arange(3))


def test_an_exception_is_one_line_with_the_students_line(box):
    outcome = box.call("broadcast")
    assert outcome.status == "raised" and outcome.value is None and outcome.ref is None
    assert outcome.error.startswith("raised ValueError: operands could not be broadcast together")
    line = STUDENT.splitlines().index("def broadcast():") + 2
    assert outcome.error.endswith(f"(line {line})")
    assert "\n" not in outcome.error


def test_an_exception_that_cannot_be_printed_is_still_reported(box):
    outcome = box.call("raise_unprintable")
    assert outcome.status == "raised"
    assert outcome.error.startswith("raised raise_unprintable.<locals>.Unprintable: <a value that cannot be shown>")


def test_a_ref_path_that_does_not_exist_is_reported(box):
    ref = box.call("identity", (1, 2)).ref
    outcome = box.call("identity", ref[5])
    assert outcome.status == "raised"
    assert outcome.error == ("raised IndexError: tuple index out of range, when the grader indexed a value "
                             "the code returned earlier")


def test_arguments_that_cannot_be_sent_are_the_graders_mistake(box):
    with pytest.raises(TypeError, match="cannot send ndarray.object. to the sandbox"):
        box.call("identity", np.array([None]))


def test_warnings_are_output_not_failures(box):
    outcome = box.call("warn")
    assert outcome.ok and outcome.value == np.inf
    assert "careful: this is only a warning" in outcome.output


def test_printed_output_belongs_to_its_call(box):
    outcome = box.call("shout", "hello")
    assert outcome.value == 5
    assert outcome.output == "hello\nto stderr\n"


@pytest.mark.parametrize("name, message", [
    ("nope", "no function named nope is defined (found: conv_forward_naive, conv_backward_naive"),
    ("answer", "answer is a int, not a function"),
])
def test_a_missing_function_is_reported(box, name, message):
    outcome = box.call(name)
    assert outcome.status == "missing"
    assert outcome.error.startswith(message)


def test_a_ref_from_another_sandbox_is_stale(box, tmp_path):
    with make_sandbox(tmp_path, "def f():\n    return (1, 2)\n") as other:
        ref = other.call("f").ref
    outcome = box.call("identity", ref[0])
    assert outcome.status == "stale" and "another sandbox" in outcome.error


def test_old_results_are_released_and_their_refs_go_stale(tmp_path):
    with make_sandbox(tmp_path, STUDENT, limits=Limits(kept_results=2)) as sandbox:
        first = sandbox.call("identity", [1]).ref
        for value in range(2):
            sandbox.call("identity", value)
        outcome = sandbox.call("identity", first)
        assert outcome.status == "stale" and "the sandbox keeps the last 2 results" in outcome.error


def test_results_whose_arrays_exceed_the_kept_bytes_are_released(tmp_path):
    with make_sandbox(tmp_path, STUDENT, limits=Limits(kept_result_bytes=2**20)) as sandbox:
        first = sandbox.call("identity", (np.zeros(100_000), "cache")).ref  # 800 kB
        second = sandbox.call("identity", (np.zeros(100_000)[::2], "cache")).ref  # a view keeps all 800 kB
        outcome = sandbox.call("identity", first[1])
        assert outcome.status == "stale" and "with at most 1 MiB of arrays" in outcome.error
        assert sandbox.call("identity", second[1]).value == "cache"  # the newest is always kept


def test_the_child_runs_in_a_scratch_folder_that_is_deleted(tmp_path, start_method):
    with make_sandbox(tmp_path, STUDENT, start_method=start_method) as sandbox:
        assert_started_by(sandbox, start_method)
        folder, home, content = sandbox.call("where_am_i").value
        assert home == folder and content == "mine"
        assert folder.startswith(os.path.realpath(tempfile_root()))
        assert Path(folder).is_dir()
    assert not Path(folder).exists()


def tempfile_root() -> str:
    import tempfile
    return tempfile.gettempdir()


# ---------------------------------------------------------------- batches


def assert_same(got, want, where="value"):
    """Equal values of equal types, arrays compared exactly."""
    assert type(got) is type(want), (where, got, want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape, where
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for index, (mine, theirs) in enumerate(zip(got, want)):
            assert_same(mine, theirs, f"{where}[{index}]")
    elif isinstance(want, dict):
        assert list(got) == list(want), where
        for key in want:
            assert_same(got[key], want[key], f"{where}[{key!r}]")
    else:
        assert got == want, where


def assert_same_outcomes(batch: list[CallOutcome], singles: list[CallOutcome]) -> None:
    assert len(batch) == len(singles)
    for index, (mine, theirs) in enumerate(zip(batch, singles)):
        assert (mine.status, mine.error, mine.output) == (theirs.status, theirs.error, theirs.output), index
        assert_same(mine.value, theirs.value, f"call {index}: value")
        assert_same(mine.args_after, theirs.args_after, f"call {index}: args_after")
        assert_same(mine.kwargs_after, theirs.kwargs_after, f"call {index}: kwargs_after")
        assert (mine.ref is None) == (theirs.ref is None), index
        assert mine.seconds > 0 or mine.status in ("missing", "stale"), index


@pytest.mark.parametrize("name, calls", [
    ("behave", [(("print", "a"), {}), (("raise", "bad value"), {}), (("return", [1, (2.5, np.arange(3))]), {}),
                (("write",), {"value": "no newline"}), (("write", "\x00CA"), {}), (("print", "b"), {})]),
    ("add_one_in_place", [((np.zeros(3),), {}), ((np.arange(4),), {}), ((), {"x": np.ones((2, 2))})]),
    ("identity", [((np.float32(1.5),), {}), (([None, "text", 2 + 1j],), {}), ((), {"value": {"a": np.int8(3)}})]),
    ("nope", [((1,), {}), ((), {})]),
], ids=["mixed outcomes and output", "args after", "types", "missing"])
def test_a_batch_gives_the_outcomes_of_one_call_each(box, name, calls):
    batch = box.call_many(name, calls)
    singles = [box.call(name, *args, **kwargs) for args, kwargs in calls]
    assert_same_outcomes(batch, singles)
    if name == "behave":
        assert [outcome.output for outcome in batch] == ["a\n", "", "", "no newline", "\x00CA", "b\n"]
        assert batch[1].error.startswith("raised ValueError: bad value (line ")


def test_the_replies_of_calls_sent_ahead_are_read_together(tmp_path, monkeypatch):
    # The grader lets replies gather before it reads (see Child.next_message): far fewer reads than calls.
    from autograder.sandbox.process import Child

    reads = []
    read_replies = Child._read_replies
    monkeypatch.setattr(Child, "_read_replies", lambda child: reads.append(1) or read_replies(child))
    with make_sandbox(tmp_path, STUDENT, limits=Limits(call_timeout=10, budget=60)) as sandbox:
        sandbox.load()
        reads.clear()
        outcomes = sandbox.call_many("identity", [((index,), {}) for index in range(300)])
    assert [outcome.value for outcome in outcomes] == list(range(300))
    assert len(reads) < 40, f"{len(reads)} reads of the reply pipe for 300 calls"


@pytest.mark.parametrize("send_ahead", [None, 3000], ids=["default window", "small window"])
def test_batched_forwards_hand_their_caches_to_batched_backwards(box, monkeypatch, send_ahead):
    # 40 forwards and their 40 backwards: more than the old 32 kept results.
    if send_ahead is not None:
        monkeypatch.setattr("autograder.sandbox.parent._SEND_AHEAD_BYTES", send_ahead)
    rng = np.random.default_rng(5)
    cases = [(rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(3, 3, 3, 3)), rng.normal(size=3),
              {"stride": 1 + index % 2, "pad": 1}) for index in range(40)]
    forwards = box.call_many("conv_forward_naive", [(case, {}) for case in cases])
    singles = [box.call("conv_forward_naive", *case) for case in cases]
    assert all(outcome.ok for outcome in forwards)
    for mine, theirs in zip(forwards, singles):  # the cache holds id(x), which differs
        assert_same((mine.value[0], mine.args_after), (theirs.value[0], theirs.args_after))
    douts = [rng.normal(size=outcome.value[0].shape) for outcome in forwards]
    backwards = box.call_many("conv_backward_naive",
                              [((dout, forward.ref[1]), {}) for dout, forward in zip(douts, forwards)])
    assert [outcome.status for outcome in backwards] == ["ok"] * 40, backwards[0].error
    for dout, backward in zip(douts, backwards):
        np.testing.assert_array_equal(backward.value[2], dout.sum(axis=(0, 2, 3)))


def test_value_items_send_back_only_the_asked_items_and_keep_the_rest_for_refs(box):
    rng = np.random.default_rng(6)
    x, w, b = rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    [whole] = box.call_many("conv_forward_naive", [((x, w, b, {"stride": 1, "pad": 0}), {})])
    [only_out] = box.call_many("conv_forward_naive", [((x, w, b, {"stride": 1, "pad": 0}), {})], value_items={0})
    [nothing] = box.call_many("conv_forward_naive", [((x, w, b, {"stride": 1, "pad": 0}), {})], value_items=())
    assert type(only_out.value) is tuple and len(only_out.value) == 2 and only_out.value[1] is None
    np.testing.assert_array_equal(only_out.value[0], whole.value[0])
    assert nothing.value == (None, None)
    dout = np.ones_like(whole.value[0])
    [backward] = box.call_many("conv_backward_naive", [((dout, nothing.ref[1]), {})])  # the cache stayed in the child
    assert backward.ok
    np.testing.assert_array_equal(backward.value[2], dout.sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("action, status, message", [
    ("spin", "timeout", "did not return within 1 s (an infinite loop?)"),
    ("segfault", "crashed", "the process crashed (signal SIGSEGV)"),
    ("garble", "protocol", "the reply could not be read: the reply did not start with the protocol marker"),
])
def test_a_call_that_ends_the_child_mid_batch_leaves_the_others_their_outcomes(tmp_path, action, status, message):
    with make_sandbox(tmp_path, STUDENT) as sandbox:
        before = sandbox.call("identity", (np.ones(2), "cache")).ref
        started = time.monotonic()
        outcomes = sandbox.call_many("behave", [
            (("return", before[1]), {}), (("print", "first"), {}), ((action,), {}),
            (("print", "third"), {}), (("return", before[1]), {}), (("return", 7), {})])
        assert [outcome.status for outcome in outcomes] == ["ok", "ok", status, "ok", "stale", "ok"]
        assert outcomes[2].error.startswith(message)
        assert [outcome.output for outcome in outcomes] == ["", "first\n", "", "third\n", "", ""]
        assert outcomes[0].value == "cache" and outcomes[5].value == 7
        assert "before the sandbox restarted" in outcomes[4].error
        assert time.monotonic() - started < 3.0
        # Results from the batch before the restart are stale too; those after it work.
        assert sandbox.call("identity", outcomes[1].ref).status == "stale"
        assert sandbox.call("identity", outcomes[5].ref).value == 7


def test_a_budget_spent_mid_batch_stops_the_rest(tmp_path):
    limits = Limits(call_timeout=5, budget=1.0)
    with make_sandbox(tmp_path, STUDENT, limits=limits) as sandbox:
        started = time.monotonic()
        outcomes = sandbox.call_many("behave", [(("return", 1), {}), (("spin",), {}), (("return", 2), {})])
        assert [outcome.status for outcome in outcomes] == ["ok", "budget", "budget"]
        assert "ran out during this call" in outcomes[1].error and "used up" in outcomes[2].error
        assert time.monotonic() - started < 2.0


def test_long_output_is_split_between_the_calls_that_printed_it(tmp_path):
    # Outputs longer than one read of the pipe, so markers fall anywhere in a read.
    limits = Limits(call_timeout=5, output_bytes=2**20)
    texts = [chr(ord("a") + index) * (70_000 + 997 * index) for index in range(8)]
    with make_sandbox(tmp_path, STUDENT, limits=limits) as sandbox:
        outcomes = sandbox.call_many("behave", [(("write", text), {}) for text in texts])
        assert [outcome.output for outcome in outcomes] == texts


@pytest.mark.parametrize("calls, words", [
    ([(1, 2, 3)], "call 0 is (1, 2, 3) (tuple), expected an (args, kwargs) pair"),
    ([((1,), {}), (np.ones(2), {})], "call 1 is (array([1., 1.]), {}) (tuple), expected an (args, kwargs) pair"),
    ([((1,), [1])], "call 0 is ((1,), [1]) (tuple), expected an (args, kwargs) pair"),
    ([((), {1: 2})], "call 0 has a keyword that is not a str"),
    ([((np.array([None]),), {})], "cannot send ndarray[object] to the sandbox"),
], ids=["not a pair", "args not a tuple", "kwargs not a dict", "keyword not a str", "unsendable"])
def test_a_malformed_batch_is_the_graders_mistake(box, calls, words):
    with pytest.raises(TypeError) as raised:
        box.call_many("identity", calls)
    assert words in str(raised.value)


# ---------------------------------------------------------------- what the student may not do


@pytest.mark.parametrize("name", ["torch", "scipy.signal", "reference", "reference.conv", "autograder.sandbox",
                                  "solutions"])
def test_blocked_imports_name_the_module(box, name):
    outcome = box.call("try_import", name)
    top = name.split(".")[0]
    assert outcome.status == "raised"
    assert f"ImportError: {top} is not available here: this exercise asks you to write it in NumPy" in outcome.error


@pytest.mark.parametrize("name, words", [
    ("run_program", "starting other programs is not allowed"),
    ("shell", "running shell commands is not allowed"),
    ("fork", "starting new processes is not allowed"),
    ("connect", "network access is not allowed"),
    ("signal_parent", "sending signals to other processes is not allowed"),
    ("load_library", "ctypes is not allowed"),
])
def test_dangerous_operations_are_refused(box, name, words):
    outcome = box.call(name)
    assert outcome.status == "raised"
    assert "PermissionError" in outcome.error and words in outcome.error


def test_reading_what_python_needs_is_allowed(box):
    # The standard library's sources (tracebacks and inspect read them) and NumPy's.
    assert box.call("read", os.__file__).ok
    assert box.call("read", np.__file__).ok
    assert box.call("read", "/proc/self/status").value.startswith("Name:")


@pytest.mark.parametrize("path", ["/etc/passwd", "/tmp", str(Path.home()), str(REPO / "examples"),
                                  str(REPO / "tests" / "conftest.py"), "/proc/1/cmdline", "/proc"])
def test_reading_anything_else_is_refused(box, path):
    outcome = box.call("read", path)
    assert outcome.status == "raised" and "PermissionError" in outcome.error, outcome
    assert "is not allowed in the grader's sandbox" in outcome.error


@pytest.mark.parametrize("path", ["/tmp/autograder-sandbox-escape.txt", "/proc/self/cwd/../autograder-sandbox-escape.txt"])
def test_writing_outside_the_scratch_folder_is_refused(box, path):
    outcome = box.call("write", path)
    assert "PermissionError: writing to /tmp/autograder-sandbox-escape.txt is not allowed" in outcome.error
    assert not Path("/tmp/autograder-sandbox-escape.txt").exists()


def test_the_scratch_folder_is_fully_usable(box):
    outcome = box.call("use_the_scratch_folder")
    assert outcome.ok, outcome.error
    assert "a" not in outcome.value


def test_the_parents_process_files_are_out_of_reach(box):
    outcome = box.call("read", f"/proc/{os.getpid()}/environ")
    assert outcome.status == "raised" and "is not allowed in the grader's sandbox" in outcome.error
    # The direct parent too: the zygote for a forked child.
    outcome = box.call("read_parents_file", "environ")
    assert outcome.status == "raised" and "is not allowed in the grader's sandbox" in outcome.error


@pytest.mark.parametrize("folder", ["reference", "autograder", ".git", "examples/conv_layers", "tests"])
def test_reading_the_graders_own_files_is_refused(box, folder):
    # In a git worktree, .git is a file naming the repository's folder.
    target = REPO / folder if (REPO / folder).is_file() else \
        next(path for path in (REPO / folder).iterdir() if path.is_file())
    outcome = box.call("read", str(target))
    assert outcome.status == "raised"
    assert "is not allowed in the grader's sandbox: the grader's own files are private" in outcome.error


def test_forbidden_paths_hold_even_past_the_audit_hook(tmp_path, start_method):
    # With the audit hook switched off (see test_sandbox_confinement), only Landlock refuses.
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answer.txt").write_text("42")
    source = STUDENT + (REPO / "examples" / "conv_layers" / "hostile_escapes_the_sandbox.py").read_text()
    with make_sandbox(tmp_path, source, forbidden_paths=[secret], start_method=start_method) as sandbox:
        assert_started_by(sandbox, start_method)
        needs(sandbox, "landlock")
        assert sandbox.call("switch_off_the_audit_hook").value is True
        for call in (("read_relative_to", str(tmp_path), "secret/answer.txt"), ("read", str(secret / "answer.txt"))):
            outcome = sandbox.call(*call)
            assert outcome.status == "raised" and "PermissionError: [Errno 13]" in outcome.error, outcome


def test_tampering_with_the_python_guards_does_not_open_the_way(tmp_path, start_method):
    with make_sandbox(tmp_path, STUDENT, start_method=start_method) as sandbox:
        assert_started_by(sandbox, start_method)
        for name in ("torch", "reference.conv"):
            outcome = sandbox.call("import_past_the_blocker", name)
            assert outcome.status == "raised" and "PermissionError" in outcome.error, outcome
        outcome = sandbox.call("read_with_realpath_replaced", str(REPO / "reference" / "__init__.py"))
        assert outcome.status == "raised" and "the grader's own files are private" in outcome.error


def test_the_engines_forbidden_paths_are_the_whole_repository_and_the_graders_cache():
    assert forbidden_paths() == (REPO, cache_dir())


def test_the_python_guards_alone_cover_what_landlock_would(tmp_path):
    # Where Landlock is missing, the audit hook must refuse directory descriptors outside the scratch folder.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    script = textwrap.dedent(f"""
        import importlib.util, os
        spec = importlib.util.spec_from_file_location("child_main", {str(Path(child_main.__file__))!r})
        main = importlib.util.module_from_spec(spec); spec.loader.exec_module(main)
        module = main.load_sibling("restrictions")
        os.chdir({str(scratch)!r})
        module._install_audit_hook(scratch={str(scratch)!r}, readable=main.load_sibling("read_access").python_read_access(),
                                   forbidden_reads=[({str(REPO / "reference")!r}, "")],
                                   blocked=frozenset({{"torch"}}), own_pid=os.getpid(),
                                   block_posixsubprocess=True, kernel_guards_files=False)
        attempts = {{
            "folder descriptor": lambda: os.open({str(tmp_path)!r}, os.O_RDONLY),
            "write outside": lambda: open({str(tmp_path / "x.txt")!r}, "w"),
            "read forbidden": lambda: open({str(REPO / "reference" / "__init__.py")!r}),
            "read outside": lambda: open("/etc/passwd"),
            "list proc": lambda: os.listdir("/proc"),
            "import": lambda: __import__("torch"),
            "subprocess": lambda: __import__("subprocess"),
        }}
        for name, attempt in attempts.items():
            try:
                attempt()
                print(name, "allowed")
            except (PermissionError, ImportError):
                print(name, "refused")
        descriptor = os.open(".", os.O_RDONLY)  # inside the scratch folder: fine
        try:
            os.mkdir("d", dir_fd=descriptor)
        except PermissionError:
            print("dir_fd refused")
    """)
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.stdout.splitlines() == [
        "folder descriptor refused", "write outside refused", "read forbidden refused", "read outside refused",
        "list proc refused", "import refused", "subprocess refused", "dir_fd refused"], result.stderr


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the seccomp filter is written for x86_64")
def test_the_kernel_filter_refuses_fork_and_sockets_without_the_audit_hook():
    # Install only the seccomp layer in a throwaway interpreter: os.fork then fails in the kernel.
    script = textwrap.dedent(f"""
        import importlib.util, os, socket
        spec = importlib.util.spec_from_file_location("child_main", {str(Path(child_main.__file__))!r})
        main = importlib.util.module_from_spec(spec); spec.loader.exec_module(main)
        protections = {{}}
        assert main.load_sibling("kernel_layer").seccomp(protections), protections
        for attempt in (os.fork, lambda: socket.socket(), lambda: os.kill(1, 0)):
            try:
                attempt()
            except PermissionError:
                print("refused")
        os.kill(os.getpid(), 0)  # signalling itself is still allowed
    """)
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["refused"] * 3, result.stderr


# ---------------------------------------------------------------- calls that end the child


def test_a_timeout_restarts_the_child_transparently(tmp_path):
    with make_sandbox(tmp_path, STUDENT) as sandbox:
        forward = sandbox.call("identity", (np.ones(2), "cache"))
        started = time.monotonic()
        outcome = sandbox.call("spin")
        assert outcome.status == "timeout"
        assert outcome.error == "did not return within 1 s (an infinite loop?)"
        assert 1.0 <= time.monotonic() - started < 3.0
        assert sandbox.call("identity", 5).value == 5  # restarted and reloaded
        stale = sandbox.call("identity", forward.ref[1])
        assert stale.status == "stale" and "before the sandbox restarted" in stale.error


@pytest.mark.parametrize("name, status, message", [
    ("segfault", "crashed", "the process crashed (signal SIGSEGV)"),
    ("abort", "crashed", "the process crashed (signal SIGABRT)"),
    ("hard_exit", "crashed", "the process exited (exit code 3)"),
    ("killed", "memory", "ran out of memory (limit 512 MiB); the system stopped the process"),
    ("garble_the_channel", "protocol", "the reply could not be read: the reply did not start with the protocol marker"),
    ("close_the_channel", "crashed", "the process closed its channel to the grader and was stopped"),
])
def test_a_dead_or_garbled_child_is_a_status_and_the_next_call_works(tmp_path, start_method, name, status, message):
    # Through the zygote, the exit status travels from the zygote's waitpid to the grader over its socket.
    with make_sandbox(tmp_path, STUDENT, start_method=start_method) as sandbox:
        assert_started_by(sandbox, start_method)
        outcome = sandbox.call(name)
        assert outcome.status == status
        assert outcome.error.startswith(message)
        assert sandbox.call("identity", [1]).value == [1]


@pytest.mark.parametrize("name", ["allocate_huge", "grow_a_list"])
def test_running_out_of_memory_is_reported_as_memory(tmp_path, start_method, name):
    limits = Limits(call_timeout=10, memory_bytes=512 * 2**20)
    with make_sandbox(tmp_path, STUDENT, limits=limits, start_method=start_method) as sandbox:
        assert_started_by(sandbox, start_method)
        outcome = sandbox.call(name)
        assert outcome.status == "memory"
        assert outcome.error.startswith("ran out of memory (limit 512 MiB)")
        assert sandbox.call("identity", 1).ok


def test_endless_printing_times_out_with_capped_output(tmp_path):
    with make_sandbox(tmp_path, STUDENT) as sandbox:
        outcome = sandbox.call("chatter")
        assert outcome.status == "timeout"
        kept, _, note = outcome.output.partition("\n[")
        assert kept == "x" * FAST.output_bytes
        assert "more bytes of output were discarded: a submission's output is cut at 1.95 KiB" in note
        assert len(sandbox._capture.kept) == FAST.output_bytes  # the parent kept no more than the cap


def test_a_spent_budget_stops_every_later_call(tmp_path):
    limits = Limits(call_timeout=5, budget=1.0)
    with make_sandbox(tmp_path, STUDENT, limits=limits) as sandbox:
        outcome = sandbox.call("spin")
        assert outcome.status == "budget"
        assert "time budget of 1 s for this submission ran out during this call" in outcome.error
        started = time.monotonic()
        later = sandbox.call("identity", 1)
        assert later.status == "budget" and "used up" in later.error
        assert time.monotonic() - started < 0.05


def test_the_graders_time_between_calls_does_not_count(tmp_path):
    limits = Limits(call_timeout=1, budget=0.5)
    with make_sandbox(tmp_path, STUDENT, limits=limits) as sandbox:
        assert sandbox.call("identity", 1).ok
        time.sleep(0.6)  # the grader busy with its oracle
        assert sandbox.call("identity", 2).ok


def test_an_oversized_result_becomes_a_placeholder(tmp_path):
    limits = Limits(message_bytes=2**20)
    with make_sandbox(tmp_path, "import numpy as np\ndef big():\n    return np.zeros(10**6), 1\n",
                      limits=limits) as sandbox:
        outcome = sandbox.call("big")
        assert outcome.ok
        assert isinstance(outcome.value[0], Opaque) and "too large" in outcome.value[0].detail
        assert outcome.value[1] == 1


# ---------------------------------------------------------------- loading


def test_notebook_cells_load_in_any_order_and_failures_are_notes(tmp_path):
    sandbox = make_notebook(
        tmp_path,
        "!pip install torch\nresult = helper(2)\nprint('result', result)",  # needs a later cell
        "import sys\nsys.exit(0)\nprint('not printed')",
        "while True:\n    pass",
        "import os\nos._exit(4)",
        "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)",
        "def helper(x):\n    return x + 1",
        "import torch",
        "1 / 0",
        "import os, sys\nos.write(int(sys.argv[2]), b'junk')",
    )
    with sandbox:
        report = sandbox.load()
        assert not report.ok
        assert report.functions == ["helper"]
        assert [cell.status for cell in report.cells] == [
            "ok", "exited", "hung", "crashed", "crashed", "ok", "raised", "raised", "protocol"]
        assert report.notes == [
            "code cell 1: skipped the shell/magic line `!pip install torch`",
            "code cell 3 did not finish within 1 s and was skipped",
            "code cell 4 ended the process (exit code 4) and was skipped",
            "code cell 5 ended the process (signal SIGSEGV) and was skipped",
            "code cell 9 garbled the channel to the grader (the reply did not start with the protocol marker "
            "(got b'junk'); something else wrote to the protocol channel) and was skipped",
            "code cell 2, line 2: called sys.exit(0); the rest of that cell was not run",
            "code cell 7, line 1: ImportError: torch is not available here: this exercise asks you to write it in "
            "NumPy",
            "code cell 8, line 1: ZeroDivisionError: division by zero",
        ]
        assert report.output.endswith("result 3\n")
        assert "not printed" not in report.output
        assert sandbox.call("helper", 1).value == 2
        assert sandbox.load() is report


def test_an_error_points_at_the_cell_that_defined_the_function(tmp_path):
    with make_notebook(tmp_path, "import numpy as np", "def f(x):\n    y = x + 1\n    return np.ones(2) + np.ones(3)") as sandbox:
        assert sandbox.call("f", 1).error.endswith("(code cell 2, line 3)")


def test_an_empty_submission_loads_with_no_functions(tmp_path):
    with make_sandbox(tmp_path, "") as sandbox:
        report = sandbox.load()
        assert report.ok and report.functions == [] and report.cells == []
        assert sandbox.call("conv_forward_naive").status == "missing"


def test_a_python_file_that_exits_at_import_still_defines_what_came_before(tmp_path):
    with make_sandbox(tmp_path, "def f():\n    return 1\nraise SystemExit(2)\ndef g():\n    return 2\n") as sandbox:
        report = sandbox.load()
        assert report.notes == ["line 3: called sys.exit(2); the rest of the file was not run"]
        assert report.functions == ["f"]  # g comes after the exit: Python would not define it
        assert [cell.status for cell in report.cells] == ["ok", "exited", "not run"]


def test_a_syntax_error_names_the_line(tmp_path):
    with make_sandbox(tmp_path, "x = 1\ndef f(:\n    pass\n") as sandbox:
        report = sandbox.load()
        assert [cell.status for cell in report.cells] == ["ok", "raised"]
        assert report.notes == ["line 2: SyntaxError: invalid syntax"]  # the line once, no file name


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="Limits.call_timeout must be positive"):
        Limits(call_timeout=0)


# ---------------------------------------------------------------- the zygote


def test_a_forked_child_is_restricted_exactly_like_a_new_interpreter(tmp_path):
    fingerprints, protections = {}, {}
    for start_method in START_METHODS:
        with make_sandbox(tmp_path, STUDENT, start_method=start_method) as sandbox:
            assert_started_by(sandbox, start_method)
            outcome = sandbox.call("fingerprint")
            assert outcome.ok, outcome.error
            # Own namespaces are new ones each time: compare whether they are the grader's.
            outcome.value["namespaces"] = [link == os.readlink(f"/proc/self/ns/{kind}")
                                           for link, kind in zip(outcome.value["namespaces"], ("net", "mnt"))]
            fingerprints[start_method] = outcome.value
            protections[start_method] = {name: state for name, state in sandbox.protections.items()
                                         if name != "process start"}
    forked, new = fingerprints["zygote"], fingerprints["exec"]
    for key in new:
        assert forked[key] == new[key], key
    assert protections["zygote"] == protections["exec"]
    # Nothing of the zygote's reaches the student: no socket to ask it for an unrestricted fork, no grader module.
    assert forked["other descriptors"] == ["/proc/PID"] + ["pipe"] * 3 and forked["grader modules"] == []
    assert forked["main"] == str(launch.CHILD_SCRIPT) and forked["argv"] == [str(launch.CHILD_SCRIPT), 4, True]
    assert forked["status"]["Threads"] == "1" and forked["own process group and session"] == [True, True]


def test_a_grader_started_with_sigint_ignored_gives_every_child_pythons_handler(tmp_path):
    # Started in the background (nohup, `&`), the grader ignores SIGINT; its zygote would pass that on.
    (tmp_path / "hw.py").write_text("import signal\ndef handler():\n    return getattr(signal.getsignal(signal.SIGINT), '__name__', str(signal.getsignal(signal.SIGINT)))\n")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from autograder.engine.policy import forbidden_paths
        from autograder.engine.submission import read_submission
        from autograder.sandbox import Sandbox
        for method in ("zygote", "exec"):
            with Sandbox(read_submission(Path({str(tmp_path / "hw.py")!r})), forbidden_paths=forbidden_paths(),
                         start_method=method) as box:
                print(method, box.protections["process start"].split()[0], box.call("handler").value)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["zygote forked default_int_handler", "exec new default_int_handler"], done.stdout


def test_each_forked_child_draws_its_own_random_numbers(tmp_path):
    source = "import numpy as np, random\ndef draw():\n    return float(np.random.random()), random.random()\n"
    draws = set()
    for _ in range(2):
        with make_sandbox(tmp_path, source) as sandbox:
            assert_started_by(sandbox, "zygote")
            draws.add(sandbox.call("draw").value)
    assert len(draws) == 2 and len({numpy_draw for numpy_draw, _ in draws}) == 2


def test_two_sandboxes_at_once_keep_apart(tmp_path):
    source = "import os\ncalls = 0\ndef count():\n    global calls\n    calls += 1\n    return calls, os.getpid()\n"
    with make_sandbox(tmp_path, source, name="a.py") as first, make_sandbox(tmp_path, source, name="b.py") as second:
        assert_started_by(first, "zygote")
        assert_started_by(second, "zygote")
        for expected in (1, 2, 3):
            assert first.call("count").value[0] == expected
        assert second.call("count").value[0] == 1
        assert first.call("count").value[1] != second.call("count").value[1]


def test_sandboxes_in_two_threads_at_once(tmp_path):
    def grade(name: str) -> list[tuple[str, object]]:
        with make_sandbox(tmp_path, STUDENT, name=name) as sandbox:
            assert_started_by(sandbox, "zygote")
            calls = [sandbox.call("identity", (name, index)) for index in range(20)]
            calls += [sandbox.call("segfault"), sandbox.call("hard_exit"), sandbox.call("identity", name)]
            return [(outcome.status, outcome.value if outcome.ok else outcome.error) for outcome in calls]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(grade, ["a.py", "b.py"]))
    for name, result in zip(["a.py", "b.py"], results):
        assert result == [("ok", (name, index)) for index in range(20)] + [
            ("crashed", "the process crashed (signal SIGSEGV)"),
            ("crashed", "the process exited (exit code 3); the code must not call os._exit() or end the interpreter"),
            ("ok", name)]


def test_a_zygote_that_dies_mid_call_costs_the_student_nothing(tmp_path, own_zygote):
    with make_sandbox(tmp_path, STUDENT, limits=Limits(call_timeout=5)) as sandbox:
        assert_started_by(sandbox, "zygote")
        zygote, child = own_zygote.zygote.pid, sandbox._resources.child.process.pid
        killer = threading.Timer(0.3, os.kill, (zygote, signal.SIGKILL))
        killer.start()
        outcome = sandbox.call("nap", 1.0)
        killer.join()
        # The child died with the zygote; the call ran again in a child of a new zygote.
        assert (outcome.status, outcome.value, outcome.error) == ("ok", 1.0, "")
        assert wait_until_gone(zygote) and wait_until_gone(child)
        assert own_zygote.zygote.pid != zygote
        assert sandbox.protections["process start"] == f"forked from the zygote (pid {own_zygote.zygote.pid})"
        assert sandbox.call("identity", 5).value == 5
        # In a batch, the calls sent ahead to the lost child are sent again to the new one.
        killer = threading.Timer(0.45, os.kill, (own_zygote.zygote.pid, signal.SIGKILL))
        killer.start()
        outcomes = sandbox.call_many("nap", [((0.3,), {})] * 4)
        killer.join()
        assert [(outcome.status, outcome.value) for outcome in outcomes] == [("ok", 0.3)] * 4


def test_a_zygote_that_dies_while_the_cells_run_costs_the_student_nothing(tmp_path, own_zygote):
    source = "import time\nprint('loading')\ntime.sleep(1.0)\ndef f():\n    return 1\n"
    with make_sandbox(tmp_path, source, limits=Limits(call_timeout=5)) as sandbox:
        assert_started_by(sandbox, "zygote")
        killer = threading.Timer(0.3, os.kill, (own_zygote.zygote.pid, signal.SIGKILL))
        killer.start()
        report = sandbox.load()
        killer.join()
        assert report.ok and report.functions == ["f"] and report.notes == []
        assert report.output == ("loading\n\n[the sandbox restarted, not because of this code; "
                                 "the cells run again]\nloading\n")
        assert sandbox.call("f").value == 1


def test_a_zygote_that_died_between_sandboxes_is_replaced(tmp_path, own_zygote):
    with make_sandbox(tmp_path, STUDENT) as sandbox:
        assert sandbox.call("identity", 1).ok
    zygote = own_zygote.zygote.pid
    os.kill(zygote, signal.SIGKILL)
    assert wait_until_gone(zygote)
    with make_sandbox(tmp_path, STUDENT) as sandbox:
        assert sandbox.protections["process start"] == f"forked from the zygote (pid {own_zygote.zygote.pid})"
        assert own_zygote.zygote.pid != zygote
        assert sandbox.call("identity", 2).value == 2


def test_without_the_zygote_children_start_as_new_interpreters(tmp_path, own_zygote):
    own_zygote.enabled = False  # as after prestart(False)
    with make_sandbox(tmp_path, STUDENT) as sandbox:
        assert sandbox.protections["process start"] == \
            "new interpreter: no zygote (warm processes are off: prestart(False))"
        assert sandbox.call("identity", 1).value == 1


def test_a_failing_zygote_costs_the_submission_nothing_and_is_given_up(tmp_path, own_zygote, monkeypatch):
    def refuse(zygote, fds, timeout):
        raise zygote_client.ZygoteUnavailable("it could not fork (no memory, say)")

    monkeypatch.setattr(zygote_client.Zygote, "fork", refuse)
    notes = []
    for _ in range(warm.ZygoteKeeper.MAX_FAILURES + 1):
        with make_sandbox(tmp_path, STUDENT) as sandbox:
            assert sandbox.call("identity", 1).value == 1
            notes.append(sandbox.protections["process start"])
    assert notes == ["new interpreter: the zygote failed (it could not fork (no memory, say))"] * 3 + [
        "new interpreter: no zygote (it failed 3 times in a row; last: it could not fork (no memory, say))"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="on one core OpenBLAS starts no thread of its own")
def test_a_zygote_with_blas_threads_refuses_to_fork(monkeypatch):
    # Without OPENBLAS_NUM_THREADS=1, NumPy's import starts threads that fork() would not copy.
    monkeypatch.setattr(zygote_client, "child_environment", lambda: {"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    zygote = zygote_client.Zygote()
    with pytest.raises(zygote_client.ZygoteUnavailable, match="threads after importing NumPy; forking needs one"):
        zygote.fork((0, 1, 2), timeout=30)


def test_the_zygote_and_its_children_die_with_the_grader(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text("def f():\n    return 1\n")
    script = textwrap.dedent(f"""
        import time
        from autograder.sandbox import Sandbox, warm
        from autograder.engine.submission import read_submission
        box = Sandbox(read_submission({str(path)!r}))
        box.start()
        print(warm.zygote_keeper.zygote.pid, box._resources.child.process.pid, flush=True)
        time.sleep(60)
    """)
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        zygote, child = (int(pid) for pid in grader.stdout.readline().split())
        assert is_running(zygote) and is_running(child)
    finally:
        grader.kill()
        grader.wait()
        grader.stdout.close()
    assert wait_until_gone(zygote) and wait_until_gone(child)
