"""Our batch grader against nbgrader's autograde on the same class: rate, cases checked, bugs caught.

Run from the repository root::

    .venv/bin/python bench/bench_batch.py [--students 200] [--workers-list 1,2] [--examples K]
                                          [--dask-workers-list 1,2] [--cache cold|warm]
                                          [--skip-nbgrader] [--keep DIR] [--markdown]

One run does four things:

1. **Class.** ``--students`` submissions of ``conv_layers`` as notebooks (one
   function per code cell, cells shuffled, as ``examples/make_class.py``
   writes them): every other student is correct, the rest are spread evenly
   over the one-mistake mutants of ``examples/conv_layers/mutants.py``.
2. **nbgrader course.** ``source/conv_layers/conv_layers.ipynb``, an
   instructor notebook: a locked setup cell (``rel_error`` and
   ``eval_numerical_gradient_array``, the CS231n helpers), one solution cell
   per function (``### BEGIN SOLUTION`` around the correct body) and
   autograded test cells with CS231n-style *fixed* checks: the assignment's
   conv forward check (linspace inputs, stride 2, pad 1, a hard-coded expected
   output computed here with the ``reference`` engine, ``rel_error < 1e-7``),
   numerical gradient checks of both backwards (``h=1e-5``, seed 231), asserts
   for padding, output size (one ``ValueError``) and the parameter count (760).
   As in CS231n, a backward is checked against the numerical gradient of the
   student's own forward, so a forward mistake costs the backward's points too.
   Points per function are the rubric's (33 in all). ``nbgrader
   generate_assignment`` makes the student version; each student's
   ``submitted/`` notebook is that release with every solution cell replaced
   by the student's function (the code of the class notebook); the students
   are registered with ``nbgrader db student import``.
3. **Timing**, wall clock of each whole command, start-up and writing
   included: ``nbgrader autograde conv_layers --force`` (serial: nbgrader
   has no parallel autograding), then ``autograder grade CLASS --workers W``
   for each W of ``--workers-list``, each into a fresh ``--out`` (our command
   also writes its exports, feedback and HTML report; nbgrader's autograde
   writes no feedback). Scores come from nbgrader's ``nbgrader export`` CSV
   and from our gradebook (``OUT/gradebook.db``). Our grader keeps the drawn
   cases and expected values in its cache (:mod:`autograder.engine.store`), by
   course secret: with ``--cache cold`` (the default) each run has its own
   empty cache and its own secret (``OUT/.secret``), as a new class's first
   run; with ``--cache warm`` every run shares one cache and one secret file,
   filled first by an untimed grading of one student, as a course's later
   runs find them.
4. **Table**: submissions per minute, the cases each tool checks per
   function (ours: distinct Hypothesis-drawn cases judged, as the gradebook
   records them; nbgrader: the fixed cases in the test cells), how many
   correct submissions got full marks and how many buggy ones lost points,
   then the target line.

Targets: our rate at least 30x nbgrader's on a class of 200 and 15x on a
class of 60 (fixed costs count), with at least 100 cases checked per
function of a correct submission (a buggy one that raises on some cases is
judged on those it returned on). The exit status is 0 whatever the numbers (this is a
measurement), 2 when a tool could not run.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
ASSIGNMENT = "conv_layers"
FUNCTIONS = (
    "zero_pad",
    "conv_output_size",
    "conv_param_count",
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
)
#: Our rate against nbgrader's, by the smallest class it applies to: 15x from 60 students, 30x from 200.
RATE_TARGETS = {60: 15.0, 200: 30.0}
EXAMPLES_TARGET = 100
BIN = Path(sys.executable).parent  # the venv's bin: nbgrader runs `alembic` from PATH


def _load_module(name: str, path: Path):
    """Import a script of ``examples/`` (not a package) by its path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _say(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the results."""
    print(f"[bench_batch {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the class


@dataclass(frozen=True)
class Student:
    """One student of the class: an id, which program they submitted, and its functions' code."""

    id: str
    variant: str  # "correct" or a mutant's name
    source: str  # the whole file, as in our class notebook
    functions: tuple[tuple[str, str], ...]  # (function name, its code), the cells of the notebook

    @property
    def buggy(self) -> bool:
        return self.variant != "correct"

    def code_of(self, function: str) -> str:
        return dict(self.functions)[function]


def split_functions(source: str) -> tuple[str, dict[str, str]]:
    """``(header, {name: code})`` of a file of top-level functions, split as ``notebook_from_python`` splits it."""
    header, *blocks = source.split("\ndef ")
    functions = {}
    for block in blocks:
        code = ("def " + block).strip() + "\n"
        functions[code[4 : code.index("(")]] = code
    return header, functions


def make_students(count: int, seed: int = 0) -> list[Student]:
    """About half correct, the rest spread evenly over the mutants, in a shuffled order."""
    mutants = _load_module("bench_mutants", EXAMPLES_DIR / ASSIGNMENT / "mutants.py").MUTANTS
    sources = {"correct": (EXAMPLES_DIR / ASSIGNMENT / "correct.py").read_text()}
    sources.update({mutant.name: mutant.source() for mutant in mutants})
    variants = ["correct" if index % 2 == 0 else mutants[(index // 2) % len(mutants)].name for index in range(count)]
    random.Random(seed).shuffle(variants)
    students = []
    for index, variant in enumerate(variants):
        _, functions = split_functions(sources[variant])
        missing = set(FUNCTIONS) - set(functions)
        if missing:
            raise ValueError(f"{variant}: no {', '.join(sorted(missing))} in its source")
        students.append(Student(f"student_{index:03d}", variant, sources[variant], tuple((name, functions[name]) for name in FUNCTIONS)))
    return students


def write_class(students: list[Student], root: Path) -> Path:
    """Our layout (nbgrader's): ``root/<student>/conv_layers/conv_layers.ipynb``; returns ``root``."""
    notebook_from_python = _load_module("bench_make_class", EXAMPLES_DIR / "make_class.py").notebook_from_python
    for index, student in enumerate(students):
        folder = root / student.id / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(notebook_from_python(student.source, seed=index))
    return root


# --------------------------------------------------------------------------- the nbgrader course

SETUP_CODE = '''\
import numpy as np


def rel_error(x, y):
    """Largest relative error, as the CS231n notebooks measure it."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient of sum(f(x) * df) with respect to x by centered differences, one element at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = np.array(f(x), copy=True)
        x[index] = saved - h
        minus = np.array(f(x), copy=True)
        x[index] = saved
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad
'''


@dataclass(frozen=True)
class GradedCell:
    """An autograded cell of the instructor notebook: which function it checks, its points and fixed cases."""

    grade_id: str
    function: str
    points: int
    cases: int  # distinct inputs the cell tries
    source: str


def _array_literal(array: np.ndarray) -> str:
    """``np.array([...])`` that reads back to exactly ``array`` (shortest round-trip floats)."""
    text = np.array2string(array, separator=", ", floatmode="unique", max_line_width=96, threshold=sys.maxsize)
    return "np.array(" + text.replace("\n", "\n    ") + ")"


def graded_cells() -> list[GradedCell]:
    """CS231n-style fixed checks; expected outputs are computed now by the reference engine and hard-coded."""
    import reference

    x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
    b = np.linspace(-0.1, 0.2, num=3)
    conv_expected, _ = reference.conv_forward(x, w, b, {"stride": 2, "pad": 1})
    pool_input = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    pool_expected, _ = reference.max_pool_forward(pool_input, {"pool_width": 2, "pool_height": 2, "stride": 2})
    assert reference.conv_param_count(3, 10, 5) == 760
    assert (reference.output_size(7, 3, stride=1, pad=1), reference.output_size(7, 3, stride=2)) == (7, 3)
    return [
        GradedCell("test_zero_pad", "zero_pad", 4, 2, textwrap.dedent("""\
            x = np.linspace(-1.0, 1.0, num=2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
            x_before = x.copy()
            x_pad = zero_pad(x, 2)
            assert x_pad.shape == (2, 3, 8, 9), f"x_pad.shape = {x_pad.shape}, expected (2, 3, 8, 9)"
            assert np.array_equal(x_pad[:, :, 2:-2, 2:-2], x), "the middle of x_pad must be x"
            border = np.ones(x_pad.shape, dtype=bool)
            border[:, :, 2:-2, 2:-2] = False
            assert np.all(x_pad[border] == 0), "the border of x_pad must be zeros"
            assert np.array_equal(x, x_before), "zero_pad must not modify x"
            assert zero_pad(x, 0).shape == x.shape
            """)),
        GradedCell("test_conv_output_size", "conv_output_size", 2, 4, textwrap.dedent("""\
            assert conv_output_size(7, 3, stride=1, pad=1) == 7
            assert conv_output_size(7, 3, stride=2) == 3
            assert conv_output_size(32, 5, stride=1, pad=2) == 32
            assert conv_output_size(56, 1) == 56
            """)),
        GradedCell("test_conv_output_size_raises", "conv_output_size", 1, 1, textwrap.dedent("""\
            try:
                conv_output_size(7, 3, stride=3)
            except ValueError:
                pass
            else:
                raise AssertionError("a 3x3 filter with stride 3 does not fit a 7x7 input: expected a ValueError")
            """)),
        GradedCell("test_conv_param_count", "conv_param_count", 2, 1, textwrap.dedent("""\
            # 32x32x3 input, ten 5x5 filters: 5*5*3 + 1 = 76 parameters each
            assert conv_param_count(3, 10, 5) == 760
            """)),
        GradedCell("test_conv_forward_naive", "conv_forward_naive", 7, 1, textwrap.dedent("""\
            x_shape = (2, 3, 4, 4)
            w_shape = (3, 3, 4, 4)
            x = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
            w = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
            b = np.linspace(-0.1, 0.2, num=3)
            conv_param = {"stride": 2, "pad": 1}
            out, _ = conv_forward_naive(x, w, b, conv_param)
            correct_out = """) + _array_literal(conv_expected) + textwrap.dedent("""
            assert out.shape == correct_out.shape, f"out.shape = {out.shape}, expected {correct_out.shape}"
            print("Testing conv_forward_naive, difference:", rel_error(out, correct_out))
            assert rel_error(out, correct_out) < 1e-7
            """)),
        GradedCell("test_conv_backward_naive", "conv_backward_naive", 8, 1, textwrap.dedent("""\
            np.random.seed(231)
            x = np.random.randn(4, 3, 5, 5)
            w = np.random.randn(2, 3, 3, 3)
            b = np.random.randn(2)
            dout = np.random.randn(4, 2, 5, 5)
            conv_param = {"stride": 1, "pad": 1}
            dx_num = eval_numerical_gradient_array(lambda x: conv_forward_naive(x, w, b, conv_param)[0], x, dout)
            dw_num = eval_numerical_gradient_array(lambda w: conv_forward_naive(x, w, b, conv_param)[0], w, dout)
            db_num = eval_numerical_gradient_array(lambda b: conv_forward_naive(x, w, b, conv_param)[0], b, dout)
            out, cache = conv_forward_naive(x, w, b, conv_param)
            dx, dw, db = conv_backward_naive(dout, cache)
            # Your errors should be around 1e-8 or less.
            print("dx error:", rel_error(dx, dx_num))
            print("dw error:", rel_error(dw, dw_num))
            print("db error:", rel_error(db, db_num))
            assert rel_error(dx, dx_num) < 1e-7
            assert rel_error(dw, dw_num) < 1e-7
            assert rel_error(db, db_num) < 1e-7
            """)),
        GradedCell("test_max_pool_forward_naive", "max_pool_forward_naive", 5, 1, textwrap.dedent("""\
            x_shape = (2, 3, 4, 4)
            x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
            pool_param = {"pool_width": 2, "pool_height": 2, "stride": 2}
            out, _ = max_pool_forward_naive(x, pool_param)
            correct_out = """) + _array_literal(pool_expected) + textwrap.dedent("""
            assert out.shape == correct_out.shape, f"out.shape = {out.shape}, expected {correct_out.shape}"
            print("Testing max_pool_forward_naive, difference:", rel_error(out, correct_out))
            assert rel_error(out, correct_out) < 1e-7
            """)),
        GradedCell("test_max_pool_backward_naive", "max_pool_backward_naive", 4, 1, textwrap.dedent("""\
            np.random.seed(231)
            x = np.random.randn(3, 2, 8, 8)
            dout = np.random.randn(3, 2, 4, 4)
            pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
            dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)
            out, cache = max_pool_forward_naive(x, pool_param)
            dx = max_pool_backward_naive(dout, cache)
            # Your error should be on the order of 1e-12.
            print("dx error:", rel_error(dx, dx_num))
            assert rel_error(dx, dx_num) < 1e-7
            """)),
    ]


def _cell(cell_type: str, source: str, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": cell_type, "metadata": {}, "source": source}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = {**nbgrader, "schema_version": 3}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def instructor_notebook(tests: list[GradedCell]) -> dict:
    """The nbgrader source notebook: setup, then each function's solution cell followed by its test cells."""
    _, solutions = split_functions((EXAMPLES_DIR / ASSIGNMENT / "correct.py").read_text())
    cells = [
        _cell("markdown", "# Convolutional layers\n\nImplement each function in NumPy, NCHW layout, CS231n signatures."),
        _cell("code", SETUP_CODE, {"grade": False, "solution": False, "locked": True, "grade_id": "setup"}),
    ]
    for function in FUNCTIONS:
        signature, body = solutions[function].split("\n", 1)
        source = f"{signature}\n    ### BEGIN SOLUTION\n{body.rstrip()}\n    ### END SOLUTION\n"
        cells.append(_cell("code", source, {"grade": False, "solution": True, "locked": False, "grade_id": function}))
        for test in tests:
            if test.function == function:
                cells.append(
                    _cell("code", test.source, {"grade": True, "solution": False, "locked": True, "points": test.points, "grade_id": test.grade_id})
                )
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    }


def nbgrader(course: Path, *args: str, log: Path | None = None) -> float:
    """Run ``nbgrader ARGS`` in ``course``; returns its wall time. With ``log``, each stderr line is time-stamped there."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [str(BIN / "nbgrader"), *args]
    start = time.perf_counter()
    if log is None:
        done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"`nbgrader {' '.join(args)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return seconds
    with subprocess.Popen(command, cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as process, log.open("w") as out:
        for line in process.stderr:
            out.write(f"{time.perf_counter() - start:10.3f} {line}")
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed ({process.returncode}); see {log}")
    return seconds


def build_course(students: list[Student], course: Path) -> list[GradedCell]:
    """An nbgrader course with the assignment generated, every student's notebook submitted, the students registered."""
    tests = graded_cells()
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    (source / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(instructor_notebook(tests), indent=1))
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'conv_bench'\n"
    )
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    released = json.loads((course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    with (course / "students.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "first_name", "last_name", "email"])
        for student in students:
            writer.writerow([student.id, "", "", ""])
            notebook = json.loads(json.dumps(released))
            for cell in notebook["cells"]:
                meta = cell["metadata"].get("nbgrader", {})
                if meta.get("solution"):
                    cell["source"] = student.code_of(meta["grade_id"])
            folder = course / "submitted" / student.id / ASSIGNMENT
            folder.mkdir(parents=True)
            (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook, indent=1))
    nbgrader(course, "db", "student", "import", "students.csv")
    return tests


def nbgrader_scores(course: Path) -> dict[str, tuple[float, float]]:
    """``{student: (score, max_score)}`` from ``nbgrader export`` (its default CSV)."""
    nbgrader(course, "export")
    with (course / "grades.csv").open(newline="") as handle:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(handle)}


def nbgrader_student_seconds(log: Path) -> dict[str, float]:
    """Seconds per student from nbgrader's log: from 'Creating/updating student' to the next student's (or the last line)."""
    starts = []
    last = 0.0
    for line in log.read_text().splitlines():
        stamp, _, text = line.strip().partition(" ")
        try:
            last = float(stamp)
        except ValueError:
            continue
        if "Creating/updating student with ID '" in text:
            starts.append((text.split("'")[1], last))
    ends = [at for _, at in starts[1:]] + [last]
    return {student: end - start for (student, start), end in zip(starts, ends)}


def nbgrader_phases(log: Path) -> dict[str, float]:
    """Seconds nbgrader spent running notebooks: from 'Converting notebook <autograded copy>' to 'Writing ... <autograded copy>'.

    That span is a kernel start, the cells, and the kernel's shutdown; the rest
    of the run is nbgrader's own work (database, copying, sanitizing, scoring).
    """
    stamped = []
    for line in log.read_text().splitlines():
        stamp, _, text = line.strip().partition(" ")
        try:
            stamped.append((float(stamp), text))
        except ValueError:
            continue
    executing, count, started = 0.0, 0, None
    for at, text in stamped:
        if "Converting notebook" in text and "/autograded/" in text:
            started = at
        elif started is not None and text.startswith("[AutogradeApp | INFO] Writing") and "/autograded/" in text:
            executing += at - started
            count += 1
            started = None
    first = stamped[0][0] if stamped else 0.0
    return {"executing": executing, "notebooks executed": count, "first log line": first}


# --------------------------------------------------------------------------- the runs


@dataclass
class Run:
    """One tool's run over the class."""

    tool: str
    workers: int
    submissions: int
    seconds: float
    scores: dict[str, tuple[float, float]]  # student -> (points, max points)
    examples_per_function: dict[str, list[int]] = field(default_factory=dict)  # function -> per submission
    examples_by_student: dict[str, dict[str, int]] = field(default_factory=dict)  # student -> function -> cases (ours)
    examples_per_submission: list[int] = field(default_factory=list)
    seconds_per_submission: dict[str, float] = field(default_factory=dict)  # student -> seconds (ours only)
    notes: dict[str, float] = field(default_factory=dict)

    @property
    def per_minute(self) -> float:
        return 60.0 * self.submissions / self.seconds

    def full_marks(self, students: list[Student], *, buggy: bool) -> int:
        return sum(1 for s in students if s.buggy == buggy and s.id in self.scores and self.scores[s.id][0] >= self.scores[s.id][1])

    def caught(self, students: list[Student]) -> int:
        return sum(1 for s in students if s.buggy and s.id in self.scores and self.scores[s.id][0] < self.scores[s.id][1])


def run_nbgrader(students: list[Student], course: Path, tests: list[GradedCell]) -> Run:
    log = course / "autograde.log"
    seconds = nbgrader(course, "autograde", ASSIGNMENT, "--force", log=log)
    scores = nbgrader_scores(course)
    cases = Counter()
    for test in tests:
        cases[test.function] += test.cases
    return Run(
        "nbgrader autograde",
        1,
        len(scores),
        seconds,
        scores,
        examples_per_function={name: [cases[name]] for name in FUNCTIONS},
        examples_per_submission=[sum(cases.values())],
        seconds_per_submission=nbgrader_student_seconds(log),
        notes=nbgrader_phases(log),
    )


def examples_by_function(result: dict) -> dict[str, int]:
    """Distinct cases judged per function: the properties of one check share its cases, so count each check once."""
    counts: dict[str, int] = {}
    for function in result.get("functions", []):
        checks = {}
        for prop in function["properties"]:
            checks[prop.get("check", "")] = prop["examples"]
        counts[function["name"]] = sum(checks.values())
    return counts


def grader_cache(work: Path, mode: str, name: str) -> Path:
    """The grader's cache folder for one timed run (``CONV_AUTOGRADER_CACHE``): its own, or the one shared by every run."""
    folder = work / ("cache" if mode == "warm" else f"cache_{name}")
    folder.mkdir(exist_ok=True)
    return folder


def shared_secret(work: Path) -> Path:
    """The course secret's file shared by every run with ``--cache warm`` (a run's own ``OUT/.secret`` otherwise)."""
    return work / "course-secret"


def warm_cache(class_root: Path, work: Path, student: str, examples: int | None) -> float:
    """Grade one student, untimed, so that the shared cache holds the class's cases and expected values.

    The cases follow from the course secret: the warm-up and every timed run
    share one secret file, as the runs of a course (``--out grades`` each time) do.
    """
    command = [str(BIN / "autograder"), "grade", str(class_root), "--out", str(work / "warm-up"), "--workers", "1",
               "--student", student, "--secret-file", str(shared_secret(work)),
               *(["--examples", str(examples)] if examples else [])]
    env = {**os.environ, "CONV_AUTOGRADER_CACHE": str(grader_cache(work, "warm", ""))}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise RuntimeError(f"`{' '.join(command)}` exited with {done.returncode}: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def run_ours(class_root: Path, out: Path, workers: int, examples: int | None, *, dask: str | None = None,
             cache: Path | None = None, secret_file: Path | None = None) -> Run:
    from autograder.classroom.gradebook import Gradebook

    command = [str(BIN / "autograder"), "grade", str(class_root), "--out", str(out), "--workers", str(workers)]
    if secret_file:
        command += ["--secret-file", str(secret_file)]
    if dask:
        command += ["--dask", dask]
    if examples:
        command += ["--examples", str(examples)]
    env = {**os.environ, **({"CONV_AUTOGRADER_CACHE": str(cache)} if cache else {})}
    out.mkdir(parents=True)
    start = time.perf_counter()
    with (out.parent / f"{out.name}.log").open("w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 3):  # 3: some internal error, recorded in the gradebook
        raise RuntimeError(f"`{' '.join(command)}` exited with {done.returncode}; see {out.parent / f'{out.name}.log'}")
    with Gradebook(out / "gradebook.db") as book:
        entries = book.entries(assignment=ASSIGNMENT)
    per_function: dict[str, list[int]] = {name: [] for name in FUNCTIONS}
    per_submission = []
    by_student: dict[str, dict[str, int]] = {}
    for entry in entries:
        if entry.status != "graded":
            continue  # an ungradable submission or an internal error checked no cases
        counts = examples_by_function(entry.result)
        for name, count in counts.items():
            per_function.setdefault(name, []).append(count)
        per_submission.append(sum(counts.values()))
        by_student[entry.student] = counts
    return Run(
        "autograder grade --dask" if dask else "autograder grade",
        workers,
        len(entries),
        seconds,
        {e.student: (e.points, e.max_points) for e in entries},
        examples_per_function=per_function,
        examples_per_submission=per_submission,
        examples_by_student=by_student,
        seconds_per_submission={e.student: e.seconds for e in entries},
        notes={"internal errors": sum(e.status == "internal error" for e in entries), "ungradable": sum(e.status == "ungradable" for e in entries)},
    )


def run_on_dask(class_root: Path, out: Path, workers: int, examples: int | None, cache: Path | None = None,
                secret_file: Path | None = None) -> Run:
    """``autograder grade --dask`` on a `distributed.LocalCluster` of ``workers`` one-thread processes, started first.

    The cluster's own start is not timed (the command grades on an existing
    scheduler); the workers' warm-up (imports, cases, expected values) is,
    as the local pool's is.
    """
    from distributed import LocalCluster

    _say(f"LocalCluster of {workers} worker(s)")
    before = os.environ.get("CONV_AUTOGRADER_CACHE")
    if cache:  # the cluster's worker processes inherit it
        os.environ["CONV_AUTOGRADER_CACHE"] = str(cache)
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            return run_ours(class_root, out, workers, examples, dask=cluster.scheduler_address, cache=cache,
                            secret_file=secret_file)
    finally:
        if cache:
            os.environ.pop("CONV_AUTOGRADER_CACHE", None)
            if before is not None:
                os.environ["CONV_AUTOGRADER_CACHE"] = before


# --------------------------------------------------------------------------- the report


def report(runs: list[Run], students: list[Student], markdown: bool) -> list[str]:
    """The comparison table, the target line and the per-variant agreement, as lines of text."""
    buggy = sum(s.buggy for s in students)
    correct = len(students) - buggy
    nb = next((r for r in runs if r.tool.startswith("nbgrader")), None)
    header = ["tool", "workers", "submissions", "seconds", "submissions/min", "vs nbgrader", "cases per function (min per function)", "cases per submission", f"correct at full marks (of {correct})", f"buggy caught (of {buggy})"]
    rows = []
    for run in runs:
        least = {name: min(counts) for name, counts in run.examples_per_function.items() if counts}
        rows.append([
            run.tool,
            str(run.workers),
            str(run.submissions),
            f"{run.seconds:.1f}",
            f"{run.per_minute:.1f}",
            "1.0x" if run is nb else (f"{run.per_minute / nb.per_minute:.2f}x" if nb else "–"),
            f"{min(least.values())} ({min(least, key=least.get)})" if least else "–",
            f"{statistics.median(run.examples_per_submission):.0f}" if run.examples_per_submission else "–",
            str(run.full_marks(students, buggy=False)),
            str(run.caught(students)),
        ])
    lines = []
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |")
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
        lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in rows]
    lines.append("")
    ours = [r for r in runs if r is not nb]
    if ours:
        best = max(ours, key=lambda r: r.per_minute)
        correct = {s.id for s in students if not s.buggy}
        least = min((count for student, counts in best.examples_by_student.items() if student in correct
                     for count in counts.values()), default=0)
        target = max((rate for size, rate in RATE_TARGETS.items() if len(students) >= size), default=None)
        if nb and target is not None:
            ratio = best.per_minute / nb.per_minute
            met = ratio >= target and least >= EXAMPLES_TARGET
            detail = (f"best {ratio:.2f}x nbgrader's rate (workers {best.workers}); fewest cases for a function "
                      f"of a correct submission {least}")
        else:
            met = None
            detail = (f"{'nbgrader skipped' if not nb else f'no target for a class of {len(students)}'}; "
                      f"fewest cases for a function of a correct submission {least}")
        verdict = "met" if met else ("NOT met" if met is not None else "not measured")
        shown = f"{target:g}x" if target is not None else "(none)"
        lines.append(f"target: ours >= {shown} nbgrader's rate with >= {EXAMPLES_TARGET} cases per function: {verdict} ({detail})")
    lines.append("")
    lines += agreement(runs, students, markdown)
    return lines


def agreement(runs: list[Run], students: list[Student], markdown: bool) -> list[str]:
    """Per variant: how many students, and each tool's mean score and how many it marked down."""
    by_variant: dict[str, list[Student]] = {}
    for student in students:
        by_variant.setdefault(student.variant, []).append(student)
    shown = [r for r in runs if r.tool.startswith("nbgrader")] + [r for r in runs if not r.tool.startswith("nbgrader")][:1]
    header = ["variant", "students"]
    for run in shown:
        name = "nbgrader" if run.tool.startswith("nbgrader") else f"{'ours on Dask' if 'dask' in run.tool else 'ours'} (workers {run.workers})"
        header += [f"{name} mean score", f"{name} marked down", f"{name} s/submission"]
    rows = []
    for variant in sorted(by_variant, key=lambda v: (v != "correct", v)):
        group = by_variant[variant]
        row = [variant, str(len(group))]
        for run in shown:
            scores = [run.scores[s.id] for s in group if s.id in run.scores]
            seconds = [run.seconds_per_submission[s.id] for s in group if s.id in run.seconds_per_submission]
            row += [
                f"{statistics.mean(p for p, _ in scores):.1f} / {scores[0][1]:g}" if scores else "–",
                str(sum(p < m for p, m in scores)),
                f"{statistics.mean(seconds):.2f}" if seconds else "–",
            ]
        rows.append(row)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    return lines + ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in rows]


def _workers_list(text: str) -> list[int]:
    try:
        workers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, like 1,2; got {text!r}") from None
    if not workers or min(workers) < 1:
        raise argparse.ArgumentTypeError(f"expected worker counts of at least 1, like 1,2; got {text!r}")
    return workers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200, help="submissions in the class (default 200)")
    parser.add_argument("--workers-list", type=_workers_list, default=[1, 2], help="our grader's worker counts to time (default 1,2)")
    parser.add_argument("--dask-workers-list", type=_workers_list, default=[],
                        help="also time `autograder grade --dask` on a LocalCluster of each of these worker counts (e.g. 1,2)")
    parser.add_argument("--examples", type=int, default=None, help="our cases per check (default: the rubric's)")
    parser.add_argument("--skip-nbgrader", action="store_true", help="time only our grader (quick iterations)")
    parser.add_argument("--cache", choices=("cold", "warm"), default="cold",
                        help="our grader's cache (drawn cases, expected values): cold, each timed run starts from an empty "
                             "one and a new course secret, as the first grading of a new class does (default); warm, one "
                             "shared cache and secret, filled by an untimed grading of one student first, as a later run "
                             "of the same course finds them")
    parser.add_argument("--keep", type=Path, default=None, help="build everything in DIR (created, must be empty) and keep it")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables for the README")
    args = parser.parse_args(argv)
    if args.students < 1:
        parser.error("--students must be at least 1")

    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty; pass a new or empty folder")
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    wall = time.perf_counter()
    try:
        students = make_students(args.students)
        class_root = write_class(students, work / "class")
        (work / "manifest.json").write_text(json.dumps({s.id: s.variant for s in students}, indent=1))
        _say(f"class of {len(students)} ({sum(not s.buggy for s in students)} correct) in {class_root}")
        runs = []
        if not args.skip_nbgrader:
            start = time.perf_counter()
            tests = build_course(students, work / "course")
            _say(f"nbgrader course built in {time.perf_counter() - start:.1f} s; autograding (serial)")
            runs.append(run_nbgrader(students, work / "course", tests))
            _say(f"nbgrader autograde: {runs[-1].seconds:.1f} s")
        secret = shared_secret(work) if args.cache == "warm" else None
        if args.cache == "warm" and (args.workers_list or args.dask_workers_list):
            _say(f"warm-up of the shared cache (one student, untimed): {warm_cache(class_root, work, students[0].id, args.examples):.1f} s")
        for workers in args.workers_list:
            _say(f"autograder grade --workers {workers}")
            runs.append(run_ours(class_root, work / f"out_w{workers}", workers, args.examples,
                                 cache=grader_cache(work, args.cache, f"w{workers}"), secret_file=secret))
            _say(f"autograder grade --workers {workers}: {runs[-1].seconds:.1f} s")
        for workers in args.dask_workers_list:
            runs.append(run_on_dask(class_root, work / f"out_dask{workers}", workers, args.examples,
                                    cache=grader_cache(work, args.cache, f"dask{workers}"), secret_file=secret))
            _say(f"autograder grade --dask (LocalCluster of {workers}): {runs[-1].seconds:.1f} s")
    except (RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        print(f"next: look at the logs under {work} (kept), fix, and run again", file=sys.stderr)
        return 2

    for line in report(runs, students, args.markdown):
        print(line)
    for run in runs:
        if run.notes.get("internal errors"):
            print(
                f"WARNING: {run.tool} --workers {run.workers} recorded {run.notes['internal errors']:.0f} internal error(s) of the grader: "
                f"its rate and scores do not measure grading; see {work / f'out_w{run.workers}.log'} and the gradebook"
            )
    cores = os.cpu_count()
    print()
    print(f"{len(students)} notebooks; Python {sys.version.split()[0]}; {cores} cores; wall time of the whole benchmark {time.perf_counter() - wall:.0f} s")
    nb = next((r for r in runs if r.tool.startswith("nbgrader")), None)
    if nb and nb.notes.get("notebooks executed"):
        print(
            f"nbgrader: {nb.notes['executing']:.1f} s of {nb.seconds:.1f} s running notebooks "
            f"(kernel start + cells) over {nb.notes['notebooks executed']:.0f} notebooks; its first log line after {nb.notes['first log line']:.1f} s"
        )
    for run in runs:
        if run is not nb and run.seconds_per_submission:
            busy = sum(run.seconds_per_submission.values())
            print(
                f"ours, workers {run.workers}: {busy:.1f} s of grading summed over submissions (median {statistics.median(run.seconds_per_submission.values()):.2f} s, "
                f"slowest {max(run.seconds_per_submission.values()):.2f} s: a worker's first, its warm-up included), "
                f"{run.seconds:.1f} s wall; internal errors {run.notes['internal errors']:.0f}, ungradable {run.notes['ungradable']:.0f}"
            )
    if args.keep:
        print(f"kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
