"""The kernel confines the sandbox child even once the student has switched the Python guards off.

The hostile submission `examples/conv_layers/hostile_escapes_the_sandbox.py`
finds the audit hook with ``gc.get_objects()`` and replaces its code, which
makes ctypes usable; what must still hold is what the kernel refuses:
reading outside the allow-list, seeing other processes in ``/proc``, System V
IPC, clearing the death signal, making the kernel signal the grader.  Also
here: children never outlive the sandbox or the zygote, a failure of the
child's own machinery on a student's value is that call's error only, and
`self_test` notices when a layer is missing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from processes import is_running, wait_until_gone

from autograder import grade
from autograder.engine.submission import read_submission
from autograder.sandbox import Limits, Sandbox, launch, self_test

REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "examples" / "conv_layers" / "hostile_escapes_the_sandbox.py"
FAST = Limits(call_timeout=2.0, budget=30.0, memory_bytes=512 * 2**20)
IS_ROOT = os.geteuid() == 0
needs_x86_64 = pytest.mark.skipif(os.uname().machine != "x86_64", reason="the seccomp filter is written for x86_64")


def sandbox_for(tmp_path: Path, source: str, **options) -> Sandbox:
    path = tmp_path / "hw.py"
    path.write_text(textwrap.dedent(source))
    return Sandbox(read_submission(path), FAST, **options)


def hostile(tmp_path: Path, **options) -> Sandbox:
    return sandbox_for(tmp_path, HOSTILE.read_text(), **options)


def needs(sandbox: Sandbox, *protections: str) -> None:
    for protection in protections:
        if not sandbox.protections.get(protection, "").startswith("on"):
            pytest.skip(f"{protection} is {sandbox.protections.get(protection)} on this machine")


# ---------------------------------------------------------------- the kernel layer holds


@needs_x86_64
@pytest.mark.parametrize("start_method", ["zygote", "exec"])
def test_switching_off_the_audit_hook_opens_nothing(tmp_path, start_method):
    with hostile(tmp_path, start_method=start_method) as sandbox:
        needs(sandbox, "landlock", "seccomp")
        outcome = sandbox.call("escape_attempts")
    assert outcome.ok, outcome.error
    attempts = outcome.value
    assert attempts.pop("audit hook switched off") is True  # the Python layer is no boundary
    files = ("read the course's answer", "list /proc", "read /proc/1/cmdline", "read the parent's cmdline")
    assert {name: attempts.pop(name) for name in files} == {name: "refused (EACCES)" for name in files}
    assert attempts == {name: "refused (EPERM)" for name in (
        "shmget", "msgget", "semget", "prctl PR_SET_PDEATHSIG 0", "fcntl F_SETOWN", "fcntl F_SETSIG",
        "fcntl F_SETFL O_ASYNC", "ioctl FIOASYNC")}


def test_the_hostile_submission_gets_no_point():
    result = grade(HOSTILE, examples=5, limits=FAST)
    assert result.status == "graded" and result.points == 0
    messages = [p.message for f in result.functions for p in f.properties if not p.passed]
    assert any("the course's answers could not be read" in message for message in messages), messages


def test_the_protocol_pipes_still_work_after_the_refused_fcntl(tmp_path):
    # The refusals leave the child usable: it answers the next call.
    with hostile(tmp_path) as sandbox:
        needs(sandbox, "seccomp")
        assert sandbox.call("escape_attempts").ok
        assert sandbox.call("conv_output_size", 5, 3).status == "raised"  # nothing to steal, but an answer


@pytest.mark.skipif(not IS_ROOT, reason="an IPC namespace needs CAP_SYS_ADMIN")
def test_the_child_has_its_own_ipc_namespace(tmp_path):
    source = "import os\ndef ipc():\n    return os.readlink('/proc/self/ns/ipc')\n"
    with sandbox_for(tmp_path, source) as sandbox:
        assert sandbox.protections["ipc namespace"] == "on"
        assert sandbox.call("ipc").value != os.readlink("/proc/self/ns/ipc")


def test_python_can_still_import_what_students_use(tmp_path):
    source = """
        def use():
            import collections, functools, itertools, math
            import numpy as np
            import numpy.fft, numpy.linalg, numpy.random
            from numpy.lib.stride_tricks import as_strided, sliding_window_view
            a = np.random.default_rng(0).normal(size=(4, 4))
            np.testing.assert_allclose(np.linalg.inv(np.linalg.inv(a)), a)
            windows = sliding_window_view(a, (2, 2))
            return (float(np.fft.fft(a).real.sum()), windows.shape, as_strided(a, (2, 2), a.strides).shape,
                    math.prod(itertools.repeat(2, 3)), functools.reduce(int.__add__, [1, 2]),
                    collections.Counter("aab")["a"])
    """
    with sandbox_for(tmp_path, source) as sandbox:
        outcome = sandbox.call("use")
    assert outcome.ok, outcome.error
    assert outcome.value[1:] == ((3, 3, 2, 2), (2, 2), 8, 3, 2)


# ---------------------------------------------------------------- nothing outlives the grader


@needs_x86_64
def test_no_child_outlives_its_sandbox_even_after_clearing_its_death_signal(tmp_path):
    with hostile(tmp_path) as sandbox:
        needs(sandbox, "seccomp")
        assert sandbox.call("escape_attempts").value["prctl PR_SET_PDEATHSIG 0"] == "refused (EPERM)"
        child = sandbox._resources.child.process.pid
        assert is_running(child)
    assert wait_until_gone(child)


@needs_x86_64
def test_no_child_outlives_its_zygote_even_after_clearing_its_death_signal(tmp_path, own_zygote):
    with hostile(tmp_path) as sandbox:
        needs(sandbox, "seccomp")
        assert sandbox.call("escape_attempts").value["prctl PR_SET_PDEATHSIG 0"] == "refused (EPERM)"
        zygote, child = own_zygote.zygote.pid, sandbox._resources.child.process.pid
        os.kill(zygote, signal.SIGKILL)
        assert wait_until_gone(zygote) and wait_until_gone(child)


# ---------------------------------------------------------------- the child's own machinery (issue 10, item 13)

MACHINERY = '''
import sys

class Loud:
    def __eq__(self, other):
        raise RuntimeError("no comparing me")
    __hash__ = object.__hash__

class Odd:
    pass

Odd.__module__ = Loud()  # the loader compares this with the module's name

def deep_cache():
    value = []
    for _ in range(1000):
        value = [value]
    return 1.0, value

def use(cache):
    return 2.0

def low_recursion_limit():
    sys.setrecursionlimit(60)
    value = 1
    for _ in range(30):
        value = [value]
    return value

def fine():
    return 3
'''


@pytest.mark.parametrize("start_method", ["zygote", "exec"])
def test_the_childs_machinery_failing_on_a_student_value_is_that_calls_error(tmp_path, start_method):
    with sandbox_for(tmp_path, MACHINERY, start_method=start_method) as sandbox:
        report = sandbox.load()
        assert report.ok and set(report.functions) >= {"deep_cache", "use", "fine"}, report
        first = sandbox.call("deep_cache")
        assert first.ok
        child = sandbox._resources.child.process.pid
        deep, limited = sandbox.call("use", first.ref[1]), sandbox.call("low_recursion_limit")
        for outcome in (deep, limited):
            # Either it worked, or the call failed with words for the student: never a crash, never a grader path.
            assert outcome.status in ("ok", "raised"), outcome
            assert "os._exit" not in outcome.error and "autograder/" not in outcome.error
            assert "Traceback" not in outcome.output and "autograder/" not in outcome.output
        # Encoding 30 nested lists under a recursion limit of 60 fails in the child's encoder.
        assert limited.status == "raised"
        assert limited.error.startswith("raised RecursionError: maximum recursion depth exceeded"), limited.error
        assert limited.error.endswith("while the sandbox handled this call's arguments or result; a value nested "
                                      "too deeply, or an object whose methods raise, can cause this"), limited.error
        assert sandbox.call("fine").value == 3
        assert sandbox._resources.child.process.pid == child  # the same child served them all


# ---------------------------------------------------------------- the self-test and the fall-backs


def test_the_self_test_finds_every_protection_holding_here():
    held = self_test()
    assert held["landlock"] and held["proc hidden"] and held["seccomp"], held
    if IS_ROOT:
        assert held["ipc namespace"] and held["network namespace"], held


@needs_x86_64
def test_the_seccomp_filter_alone_refuses_ipc_death_signal_and_sigio_owners():
    # Only the seccomp layer, in a throwaway interpreter: as on a kernel without Landlock (or before 6.12,
    # without its signal scoping).  What the child itself needs keeps working.
    script = textwrap.dedent(f"""
        import ctypes, fcntl, importlib.util, os, struct
        spec = importlib.util.spec_from_file_location("child_main", {str(REPO / "autograder" / "sandbox" / "child" / "main.py")!r})
        main = importlib.util.module_from_spec(spec); spec.loader.exec_module(main)
        module = main.load_sibling("kernel_layer")
        libc = ctypes.CDLL(None, use_errno=True)
        read_end, write_end = os.pipe()
        assert module.seccomp({{}})
        def result(attempt):
            try:
                value = attempt()
            except OSError as error:
                return error.errno
            return ctypes.get_errno() if value == -1 else 0
        attempts = {{
            "shmget": lambda: libc.shmget(0, 4096, 0o1000 | 0o600),
            "msgget": lambda: libc.msgget(0, 0o1000 | 0o600),
            "semget": lambda: libc.semget(0, 1, 0o1000 | 0o600),
            "pdeathsig": lambda: libc.prctl(1, 0, 0, 0, 0),
            "dumpable": lambda: libc.prctl(4, 0, 0, 0, 0),
            "setown": lambda: fcntl.fcntl(write_end, fcntl.F_SETOWN, os.getppid()),
            # The kernel reads only the command's low 32 bits, and so must the filter.
            "setown high bits": lambda: libc.syscall(72, write_end, ctypes.c_long((1 << 32) | fcntl.F_SETOWN),
                                                     os.getppid()),
            "setsig": lambda: fcntl.fcntl(write_end, 10, 9),
            "async": lambda: fcntl.fcntl(write_end, fcntl.F_SETFL, os.O_ASYNC | os.O_NONBLOCK),
            "fioasync": lambda: fcntl.ioctl(write_end, 0x5452, struct.pack("i", 1)),
            "fiosetown": lambda: fcntl.ioctl(write_end, 0x8901, struct.pack("i", os.getppid())),
            "setuid": lambda: os.setuid(os.getuid()),
            # still allowed:
            "nonblocking": lambda: os.set_blocking(read_end, False),
            "name": lambda: libc.prctl(15, b"student", 0, 0, 0),
            "fionread": lambda: fcntl.ioctl(read_end, 0x541B, struct.pack("i", 0)),
        }}
        print(" ".join(f"{{name}}={{result(attempt)}}" for name, attempt in attempts.items()))
        print(fcntl.fcntl(write_end, fcntl.F_GETOWN), fcntl.fcntl(write_end, fcntl.F_GETFL) & os.O_ASYNC)
    """)
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=30)
    outcomes, owner = result.stdout.splitlines()
    refused = ["shmget", "msgget", "semget", "pdeathsig", "dumpable", "setown", "setown high bits", "setsig",
               "async", "fioasync", "fiosetown", "setuid"]
    expected = " ".join([f"{name}=1" for name in refused] + ["nonblocking=0", "name=0", "fionread=0"])
    assert outcomes == expected, result.stderr
    assert owner == "0 0"  # no owner, no O_ASYNC: the kernel will signal no one


def test_without_landlock_seccomp_still_refuses(monkeypatch):
    monkeypatch.setattr(launch, "SKIPPED_PROTECTIONS", frozenset({"landlock"}))
    held = self_test()
    assert (held["landlock"], held["proc hidden"], held["seccomp"]) == (False, False, True)


def test_the_self_test_notices_missing_kernel_layers(monkeypatch):
    monkeypatch.setattr(launch, "SKIPPED_PROTECTIONS", frozenset({"landlock", "seccomp"}))
    held = self_test()
    assert (held["landlock"], held["proc hidden"], held["seccomp"]) == (False, False, False)


def test_without_landlock_the_audit_hook_keeps_the_allow_list(tmp_path, monkeypatch):
    monkeypatch.setattr(launch, "SKIPPED_PROTECTIONS", frozenset({"landlock"}))
    source = """
        import os
        def read(path):
            return open(path).read(10)
        def list_folder(path):
            return os.listdir(path)
    """
    with sandbox_for(tmp_path, source) as sandbox:
        assert sandbox.protections["landlock"] == "off (skipped at the grader's request)"
        assert sandbox.protections["proc hidden"].startswith("audit hook only")
        for call in (("read", "/etc/passwd"), ("read", str(HOSTILE)), ("read", "/proc/1/cmdline"),
                     ("list_folder", "/proc"), ("list_folder", "/tmp")):
            outcome = sandbox.call(*call)
            assert outcome.status == "raised" and "is not allowed in the grader's sandbox" in outcome.error, call
        assert sandbox.call("read", os.__file__).ok


def test_a_copy_of_the_reference_elsewhere_cannot_be_imported(tmp_path):
    # Issue 10, item 5: the import blocker refuses only the name `reference`; the allow-list refuses the files.
    copy = tmp_path / "copied"
    copy.mkdir()
    (copy / "my_reference.py").write_text((REPO / "reference" / "conv.py").read_text())
    source = f"""
        import sys
        def steal():
            sys.path.insert(0, {str(copy)!r})
            import my_reference
            return my_reference.__file__
        def read():
            return open({str(copy / "my_reference.py")!r}).read()
    """
    with sandbox_for(tmp_path, source) as sandbox:
        stolen, read = sandbox.call("steal"), sandbox.call("read")
    assert stolen.status == "raised" and "ModuleNotFoundError: No module named 'my_reference'" in stolen.error
    assert read.status == "raised" and "is not allowed in the grader's sandbox" in read.error
