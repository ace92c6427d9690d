"""The portable sandbox start (Windows, macOS), simulated on Linux: same verdicts, honest protections.

Each simulated run is a subprocess with ``AUTOGRADER_SANDBOX_SIMULATE`` set and
``portable_shim/sitecustomize.py`` on ``PYTHONPATH``, so the grader's process
lacks ``posix``, ``resource``, ``fcntl`` and ``os.fork`` as on Windows; the
sandbox passes the simulation on to its children.  The transport itself is
also tested in this process with ``start_method="portable"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import grade
from autograder.engine.submission import read_submission
from autograder.sandbox import Limits, Sandbox
from autograder.sandbox.child.simulate import simulated_platform
from autograder.sandbox.protections import KERNEL_PROTECTIONS, summary_line

ROOT = Path(__file__).resolve().parents[2]
SHIM = Path(__file__).resolve().parent / "portable_shim"
EXAMPLES = ROOT / "examples" / "conv_layers"
FAST = 25
LIMITS = Limits(call_timeout=2.0, budget=60.0)


def simulated(code: str = "", *args: str, platform: str = "windows", timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -c code`` (or ``python args...``) as if on *platform*; the completed process."""
    environment = {**os.environ, "AUTOGRADER_SANDBOX_SIMULATE": platform,
                   "PYTHONPATH": os.pathsep.join([str(SHIM), str(ROOT)])}
    command = [sys.executable, *(["-c", textwrap.dedent(code)] if code else args)]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)


GRADE_MANY = """
    import json, sys
    from autograder import grade
    from autograder.sandbox import Limits
    out = {}
    for path in sys.argv[1:]:
        result = grade(path, examples=FAST_EXAMPLES, limits=Limits(call_timeout=2.0, budget=60.0))
        out[path] = {"status": result.status, "points": result.points, "notes": result.notes,
                     "properties": [[f.name, p.property, p.passed, p.points, p.message]
                                    for f in result.functions for p in f.properties],
                     "protections": result.protections}
    print(json.dumps(out))
""".replace("FAST_EXAMPLES", str(FAST))


def _verdicts(result) -> dict:
    return {"status": result.status, "points": result.points, "notes": result.notes,
            "properties": [[f.name, p.property, p.passed, p.points, p.message] for f in result.functions
                           for p in f.properties]}


def test_the_student_path_imports_where_posix_resource_fcntl_and_fork_are_missing():
    run = simulated("""
        import os, sys
        import autograder, autograder.notebook, autograder.cli, autograder.engine.grading
        import autograder.sandbox.parent, autograder.sandbox.portable, autograder.sandbox.child.main
        from autograder.notebook import points, check
        hidden = []
        for name in ("posix", "resource", "fcntl"):
            try:
                __import__(name)
            except ImportError:
                hidden.append(name)
        print(hidden, hasattr(os, "fork"), hasattr(os, "pidfd_open"), "resource" in sys.modules)
        print(autograder.sandbox.portable.portable_platform()[0])
    """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["['posix', 'resource', 'fcntl'] False False False", "windows"]


def test_simulation_names_are_checked():
    assert simulated_platform({"AUTOGRADER_SANDBOX_SIMULATE": " MacOS "}) == "macos"
    with pytest.raises(ValueError, match="names no platform the sandbox can simulate; use one of windows, macos"):
        simulated_platform({"AUTOGRADER_SANDBOX_SIMULATE": "beos"})


def test_check_gives_full_marks_to_the_correct_file_and_names_what_is_missing():
    run = simulated("", "-m", "autograder.cli", "check", str(EXAMPLES / "correct.py"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "conv_layers: 33 / 33 points" in run.stdout
    assert "All 7 functions pass every check" in run.stdout
    [line] = [line for line in run.stdout.splitlines() if line.startswith("sandbox:")]
    assert line == ("sandbox: portable subprocess: timeouts and crash isolation, audit hook; not available on this "
                    "platform: landlock, seccomp, network namespace, ipc namespace, read allow-list, proc hidden, "
                    "private scratch tmpfs, resource limits, capabilities")


def test_check_gives_less_to_a_buggy_file():
    run = simulated("", "-m", "autograder.cli", "check", str(EXAMPLES / "buggy_bias_forgotten.py"))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "conv_layers: 29 / 33 points" in run.stdout
    assert "bias" in run.stdout


def test_speed_is_judged_on_the_wall_clock_and_says_so():
    fast = simulated("", "-m", "autograder.cli", "check", "--assignment", "fast_conv", str(ROOT / "examples/fast_conv/correct.py"))
    assert fast.returncode == 0, fast.stdout + fast.stderr
    assert "fast_conv: 19 / 19 points" in fast.stdout
    slow = simulated("", "-m", "autograder.cli", "check", "--assignment", "fast_conv", str(ROOT / "examples/fast_conv/slow.py"))
    assert slow.returncode == 1, slow.stdout + slow.stderr
    assert "fast_conv: 15 / 19 points" in slow.stdout
    assert "x the reference's wall-clock time" in slow.stdout and "too slow, conv_forward_im2col" in slow.stdout


def test_simulated_windows_grades_as_linux_does():
    """Same cases, same verdicts, same messages: timeouts, sys.exit, refused imports and reads, a bug."""
    names = ["correct.py", "buggy_pad_twice.py", "hostile_infinite_loop.py", "hostile_sys_exit.py",
             "hostile_imports_torch.py", "hostile_reads_files.py"]
    paths = [str(EXAMPLES / name) for name in names]
    run = simulated("", "-c", textwrap.dedent(GRADE_MANY), *paths)
    assert run.returncode == 0, run.stderr
    portable = json.loads(run.stdout)
    for path in paths:
        linux = grade(path, examples=FAST, limits=LIMITS)
        assert linux.protections["process start"].startswith(("forked", "new interpreter"))
        got = portable[path]
        assert got["protections"]["process start"].startswith("portable subprocess (simulated windows")
        assert {key: got[key] for key in ("status", "points", "notes", "properties")} == _verdicts(linux), path
    assert portable[paths[0]]["points"] == 33
    timed_out = [p for p in portable[paths[2]]["properties"] if not p[2]]
    assert timed_out and all("did not return within 2 s (an infinite loop?)" in p[4] for p in timed_out)
    assert {p[0] for p in timed_out} == {"conv_forward_naive"}


SOURCE = """
import os, signal, sys

print("loaded")

def double(x):
    print("doubling", x)
    return 2 * x

def spin():
    while True:
        pass

def abort():
    os.abort()

def segfault():
    os.kill(os.getpid(), signal.SIGSEGV)

def shout(count):
    sys.stdout.write("y" * count)
    print("to stderr", file=sys.stderr)
    return count

def platform_modules():
    found = []
    for name in ("posix", "resource", "fcntl"):
        try:
            __import__(name)
            found.append(name)
        except ImportError:
            pass
    return found, hasattr(os, "fork")

def hog():
    return bytearray(3 * 2**30)
"""

SANDBOX_RUN = """
    import json, sys
    from autograder.sandbox import Limits, Sandbox, missing_kernel_protections
    from autograder.engine.submission import read_submission
    with Sandbox(read_submission(sys.argv[1]), Limits(call_timeout=2.0, memory_bytes=2**30)) as box:
        report = box.load()
        outcomes = {name: box.call(name) for name in ("spin", "abort", "segfault", "platform_modules")}
        outcomes["double"] = box.call("double", 21)
        if sys.argv[2] == "macos":
            outcomes["hog"] = box.call("hog")
        print(json.dumps({"load_output": report.output, "protections": box.protections,
                          "missing": missing_kernel_protections(box.protections),
                          "outcomes": {name: [o.status, o.error, o.value, o.output] for name, o in outcomes.items()}}))
"""


@pytest.mark.parametrize("platform", ["windows", "macos"])
def test_simulated_child_times_out_crashes_alone_and_reports_its_protections(tmp_path, platform):
    path = tmp_path / "hw.py"
    path.write_text(SOURCE)
    run = simulated("", "-c", textwrap.dedent(SANDBOX_RUN), str(path), platform, platform=platform)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    outcomes = got["outcomes"]
    assert got["load_output"] == "loaded\n"
    assert outcomes["spin"][:2] == ["timeout", "did not return within 2 s (an infinite loop?)"]
    assert outcomes["abort"][:2] == ["crashed", "the process crashed (signal SIGABRT)"]
    assert outcomes["segfault"][:2] == ["crashed", "the process crashed (signal SIGSEGV)"]
    assert outcomes["double"] == ["ok", "", 42, "doubling 21\n"]  # a new child after each crash
    protections = got["protections"]
    assert protections["process start"].startswith(f"portable subprocess (simulated {platform}")
    assert protections["speed timing"].startswith("wall-clock time of each call")
    assert protections["audit hook"] == "on"
    if platform == "windows":
        assert outcomes["platform_modules"][2] == [[], False]
        assert got["missing"] == list(KERNEL_PROTECTIONS)
        assert protections["resource limits"].startswith("unavailable (no resource module on windows)")
    else:
        assert outcomes["platform_modules"][2] == [["posix", "resource", "fcntl"], True]
        assert got["missing"] == [name for name in KERNEL_PROTECTIONS if name != "resource limits"]
        assert protections["resource limits"].startswith("on (address space 1073741824 bytes")
        assert outcomes["hog"][0] == "memory" and outcomes["hog"][1].startswith("ran out of memory (limit 1 GiB)")


def test_class_grading_still_refuses_the_portable_sandbox_unless_allowed():
    run = simulated("""
        from autograder.classroom.batch import machine_protections
        from autograder.sandbox import missing_kernel_protections
        print(",".join(missing_kernel_protections(machine_protections())))
    """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ",".join(KERNEL_PROTECTIONS)


def test_summary_line_only_when_something_is_missing():
    full = {name: "on" for name in KERNEL_PROTECTIONS} | {"capabilities": "dropped"}
    assert summary_line(full) is None
    assert summary_line({}) is None
    line = summary_line(full | {"landlock": "unavailable (Function not implemented)", "process start": "forked"})
    assert line.startswith("sandbox: separate process: timeouts and crash isolation, seccomp, network namespace")
    assert line.endswith("; not available on this platform: landlock")


# ---------------------------------------------------------------- the transport, in this process


@pytest.fixture
def portable_box(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text(SOURCE)
    limits = Limits(call_timeout=2.0, output_bytes=2**20)
    with Sandbox(read_submission(path), limits, start_method="portable") as box:
        yield box


def test_portable_start_on_linux_says_it_installed_no_kernel_protection(portable_box):
    assert portable_box.load().functions[:2] == ["double", "spin"]
    assert portable_box.protections["process start"] == (
        "portable subprocess (the portable start installs none (start_method='portable'))")
    assert portable_box.protections["landlock"].startswith("unavailable (the portable start installs none")
    assert portable_box.protections["resource limits"].startswith("on (address space")


def test_portable_pipelined_calls_keep_their_own_output(portable_box):
    sizes = [10, 200_000, 0, 70_000]  # more than a pipe holds, while later calls wait in the request pipe
    outcomes = portable_box.call_many("shout", [((size,), {}) for size in sizes])
    assert [o.value for o in outcomes] == sizes
    assert [o.output for o in outcomes] == ["y" * size + "to stderr\n" for size in sizes]


def test_portable_large_arrays_cross_both_ways(portable_box):
    import numpy as np

    x = np.arange(3_000_000, dtype=np.float64)
    outcome = portable_box.call("double", x)
    assert outcome.ok and np.array_equal(outcome.value, 2 * x)
    assert outcome.output.startswith("doubling [0.000000e+00 1.000000e+00")


def test_unknown_start_method_is_refused(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text(SOURCE)
    with pytest.raises(ValueError, match="start_method must be 'zygote', 'exec' or 'portable', got 'spawn'"):
        Sandbox(read_submission(path), start_method="spawn")
