"""The students' package against the instructor's install: size, install time, ``autograder check`` time.

Makes three fresh virtual environments in a temporary folder, each with
torch (the CPU build of constraints.txt, from this machine's files) first,
since both packages need it and the goal counts what comes besides it:

* ``student``: the wheel ``./dev wheel`` builds (``packaging/build_student.py``);
* ``instructor``: this checkout (``pip install .``), what ``./dev`` installs
  but not editable;

both with ``-c constraints.txt``. For each it reports the size added besides
torch (``du`` of the venv after, minus after torch alone) and the install
time; then it times ``autograder check`` from the shell on each assignment's
``examples/<assignment>/correct.py`` (copied under a name that says nothing,
so the assignment is inferred from the functions), the first of
``--repeat`` runs (each venv and engine with its own empty cache: the cases
drawn and the expected values computed) and the median of the others (they
come from the cache, :mod:`autograder.engine.store`), in the student's venv (the torch oracle: the reference is
not there) and in the instructor's (with the reference, and with
``--engine oracle``). pip's cache is whatever this machine has (warm after
the first run): the install times are not a download's.

Usage: ``.venv/bin/python bench/bench_student.py [--repeat 5] [--markdown]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from student_package import load_builder  # noqa: E402

ASSIGNMENTS = ("conv_layers", "conv_extras", "fast_conv")


def _mib(folder: Path) -> float:
    return int(subprocess.run(["du", "-sk", str(folder)], capture_output=True, text=True, check=True).stdout.split()[0]) / 1024


def _pip(python: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def make_venv(folder: Path, *requirements: str) -> dict:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    _pip(python, "torch==2.13.0")
    base = _mib(folder)
    seconds = _pip(python, *requirements, "-c", str(ROOT / "constraints.txt"))
    return {"python": python, "added_mib": _mib(folder) - base, "install_s": seconds, "with_torch_mib": _mib(folder)}


def time_check(venv: dict, assignment: str, work: Path, repeat: int, *extra: str) -> tuple[float, float]:
    """The first run's time (the grader's cache empty: cases drawn, expected values computed) and the median of the others."""
    path = work / f"attempt_{assignment}.py"
    shutil.copy(ROOT / "examples" / assignment / "correct.py", path)
    cache = work / f"cache-{venv['python'].parents[1].name}-{assignment}-{'-'.join(extra) or 'auto'}"
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment["CONV_AUTOGRADER_CACHE"] = str(cache)  # its own, empty at the first run
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([str(venv["python"].parent / "autograder"), "check", str(path), *extra],
                              capture_output=True, text=True, cwd=work, env=environment)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"autograder check {path.name} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return times[0], statistics.median(times[1:] or times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    arguments = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-student-") as temporary:
        work = Path(temporary)
        wheel = next(p for p in load_builder().build(work / "dist") if p.suffix == ".whl")
        wheel_kib = wheel.stat().st_size / 1024
        venvs = {"student": make_venv(work / "student", str(wheel)),
                 "instructor": make_venv(work / "instructor", str(ROOT))}
        rows = []
        for assignment in ASSIGNMENTS:
            rows.append((assignment,
                         time_check(venvs["student"], assignment, work, arguments.repeat),
                         time_check(venvs["instructor"], assignment, work, arguments.repeat),
                         time_check(venvs["instructor"], assignment, work, arguments.repeat, "--engine", "oracle")))
    print(f"students' wheel: {wheel.name}, {wheel_kib:.0f} KiB")
    if arguments.markdown:
        print("\n| install | added besides torch | venv with torch | install time |\n| --- | ---: | ---: | ---: |")
        for name, venv in venvs.items():
            print(f"| {name} | {venv['added_mib']:.0f} MiB | {venv['with_torch_mib']:.0f} MiB | {venv['install_s']:.1f} s |")
        print(f"\n| `autograder check`: first run (cache empty) / median of the other {arguments.repeat - 1} | student (oracle) "
              "| instructor (reference) | instructor (oracle) |\n| --- | ---: | ---: | ---: |")
        for assignment, *sides in rows:
            print(f"| {assignment} | " + " | ".join(f"{first:.2f} / {warm:.2f} s" for first, warm in sides) + " |")
    else:
        for name, venv in venvs.items():
            print(f"{name:>10}: +{venv['added_mib']:.0f} MiB besides torch ({venv['with_torch_mib']:.0f} MiB with it), installed in {venv['install_s']:.1f} s")
        for assignment, student, reference, oracle in rows:
            print(f"check {assignment:>12} (first run / median of the others): student {student[0]:.2f} / {student[1]:.2f} s, "
                  f"instructor {reference[0]:.2f} / {reference[1]:.2f} s (reference), {oracle[0]:.2f} / {oracle[1]:.2f} s (oracle)")


if __name__ == "__main__":
    main()
