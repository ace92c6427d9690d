"""Grading one submission: the pipeline behind ``autograder.grade`` and ``autograder check``.

Stages, in order (each a small function below):

1. ``read``: the ``.py`` file or notebook becomes code cells (never executed here);
2. ``load``: a sandboxed child runs the cells and reports the functions defined;
3. ``judge``: each function's checks run as Hypothesis searches against the
   expected values (reference engine cross-checked by the torch oracle);
4. ``collect``: typed results with scores, counterexamples and hints.

Anything that goes wrong becomes part of the result: an unreadable file is
``"ungradable"``, a bug of ours is ``"internal error"``; no traceback reaches
a student.
"""

from __future__ import annotations

import difflib
import re
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from .. import rubrics
from ..sandbox import CellReport, Limits, LoadReport, Sandbox
from . import store
from .expected import expected_values
from .policy import forbidden_paths
from .results import FunctionResult, PropertyResult, Status, SubmissionResult
from .rubric import Assignment, FunctionSpec
from .search import HangGuard
from .secret import secret_in_use
from .submission import Cell, Submission, SubmissionError, location, read_submission

__all__ = ["grade", "grade_submission", "failed_result"]


def grade(
    path: str | Path,
    *,
    assignment: str = "conv_layers",
    examples: int | None = None,
    limits: Limits | None = None,
    engine: str = "auto",
    progress: Callable[[str], None] | None = None,
    secret: bytes | None = None,
) -> SubmissionResult:
    """Grade one submission against an assignment's rubric.

    Parameters
    ----------
    path : str or Path
        A ``.py`` file or a Jupyter notebook (``.ipynb``), graded whatever its
        name; or a submission folder, where the assignment's released
        notebooks are graded and nothing else (see
        `autograder.engine.submission.graded_files`).
    assignment : str
        The rubric's name (see :mod:`autograder.rubrics`).
    examples : int, optional
        Cases drawn per check; default: the rubric's (at least 100 per function).
    limits : Limits, optional
        Sandbox limits (per-call timeout, time budget, memory, output).
    engine : {"auto", "reference", "oracle"}
        Where expected values come from; ``"auto"`` uses the reference engine
        cross-checked by torch, or torch alone where the reference is not installed.
    progress : callable, optional
        Called with each function's name as its grading starts.
    secret : bytes, optional
        The course secret the cases are drawn from (see :mod:`autograder.engine.secret`):
        the same secret always draws the same cases, and without it they cannot
        be predicted. ``None`` or ``b""``: the public cases ``autograder check`` uses.

    Returns
    -------
    SubmissionResult
        Scores per property and function, feedback material, ``to_dict()``.
    """
    spec = rubrics.get(assignment)
    _check_secret(secret)
    start = time.perf_counter()
    try:
        submission = read_submission(path, notebooks=spec.released_notebooks)  # stage 1: read
    except SubmissionError as error:
        result = failed_result(str(path), spec, Status.UNGRADABLE, str(error))
        result.seconds = time.perf_counter() - start
        return result
    return grade_submission(
        submission, assignment=assignment, examples=examples, limits=limits, engine=engine, progress=progress, secret=secret
    )


def grade_submission(
    submission: Submission,
    *,
    assignment: str = "conv_layers",
    examples: int | None = None,
    limits: Limits | None = None,
    engine: str = "auto",
    progress: Callable[[str], None] | None = None,
    secret: bytes | None = None,
) -> SubmissionResult:
    """Grade a `Submission` already read (from a file, or from a notebook kernel's history).

    The stages after reading: load in the sandbox, judge each function on the
    rubric's cases, collect. Options as for :func:`grade`.
    """
    spec = rubrics.get(assignment)
    _check_secret(secret)
    result = SubmissionResult(
        path=str(submission.path), assignment=spec.name, rubric_version=spec.version, max_points_total=spec.max_points
    )
    start = time.perf_counter()
    try:
        result.notes.extend(submission.notes)
        expected = expected_values(engine)
        result.engine = expected.engine
        # The course's own files, the secret's file where this process knows it, and the stored cases
        # are unreadable to the child.
        with secret_in_use(secret or b""), Sandbox(submission, limits=limits or Limits(), forbidden_paths=forbidden_paths()) as sandbox:
            _prepare(spec, examples, expected)
            report = sandbox.load()  # stage 2: load
            result.protections = dict(sandbox.protections)
            box = HangGuard(sandbox)
            result.notes.extend(note for note in report.notes if note not in submission.notes)  # the reader's notes come back too
            for function in spec.functions:  # stage 3: judge
                if progress:
                    progress(function.name)
                if function.name not in report.functions:
                    result.functions.append(_missing(function, report, submission))
                    continue
                graded = FunctionResult(function.name, defined_at=report.defined.get(function.name, ""))
                for check in function.checks:
                    graded.properties.extend(check.grade(box, function, expected, examples=examples))
                result.functions.append(graded)
            if not any(function.name in report.functions for function in spec.functions):
                result.error = _nothing_loaded(spec, report)
            else:
                _keep(spec, examples, expected)
    except Exception as error:  # a bug of ours: reported as such, never as the student's failure
        result.status = Status.INTERNAL_ERROR
        result.error = f"{type(error).__name__}: {error}"
        result.traceback = traceback.format_exc(limit=8)
    result.seconds = time.perf_counter() - start
    return result


def _prepare(spec: Assignment, examples: int | None, expected) -> None:
    """Take the stored cases and expected values; a store that cannot be read is computed again, as without one."""
    try:
        store.prepare(spec, examples, expected)
    except OSError:
        pass


def _keep(spec: Assignment, examples: int | None, expected) -> None:
    """Store what this grading drew and computed, for the next process; a store that cannot be written is skipped."""
    try:
        store.keep(spec, examples, expected)
    except OSError:
        pass


def _check_secret(secret) -> None:
    if secret is not None and type(secret) is not bytes:
        raise TypeError(f"secret must be bytes (or None for the public cases), got {type(secret).__name__}; encode text with .encode()")


def failed_result(path: str, spec: Assignment, status: str, reason: str) -> SubmissionResult:
    """A submission that could not be graded (``"ungradable"`` or ``"internal error"``): every property failed with ``reason``."""
    result = SubmissionResult(path, spec.name, spec.version, status=status, error=reason, max_points_total=spec.max_points)
    result.functions = [_not_graded(function, reason) for function in spec.functions]
    return result


def _not_graded(function: FunctionSpec, reason: str) -> FunctionResult:
    graded = FunctionResult(function.name, note=reason)
    for check in function.checks:
        for name, points in check.points.items():
            graded.properties.append(PropertyResult(function.name, name, float(points), passed=False, message=reason, check=check.description))
    return graded


def _nothing_loaded(spec: Assignment, report: LoadReport) -> str:
    """The ``error`` of a submission in which none of the assignment's functions could be loaded."""
    failed = next((cell for cell in report.cells if cell.status not in ("ok", "not run")), None)
    if failed is None:
        return f"the submission defines none of the functions of {spec.name}"
    return f"none of the functions of {spec.name} could be loaded; {failed.error or failed.origin + ' ' + failed.status}"


def _missing(function: FunctionSpec, report: LoadReport, submission: Submission) -> FunctionResult:
    """A function the load did not define: why, where it is in the source, or what it might be called."""
    found = _definition_in_source(function.name, submission)
    if found is not None:
        cell, line = found
        return _not_graded(function, f"{function.name} is defined at {location(cell.origin, line)}, "
                                     f"but that definition {_why_not_run(cell, line, report)}")
    close = difflib.get_close_matches(function.name, report.functions, n=1)
    reason = f"your file defines no function named {function.name}"
    reason += f"; did you mean to name {close[0]!r} {function.name!r}?" if close else f"; define {function.signature}"
    return _not_graded(function, reason)


def _definition_in_source(name: str, submission: Submission) -> tuple[Cell, int] | None:
    """The last ``def name`` at the top level of the submission's units: its unit and line, or None."""
    pattern = re.compile(rf"^(?:async\s+)?def\s+{re.escape(name)}\s*\(", re.MULTILINE)
    found = None
    for cell in submission.cells:
        for match in pattern.finditer(cell.source):
            found = cell, cell.first_line + cell.source.count("\n", 0, match.start())
    return found


def _why_not_run(cell: Cell, line: int, report: LoadReport) -> str:
    """Why the definition at ``line`` of ``cell`` did not run, from the load's report on that unit."""
    outcome = next((item for item in report.cells if item.index == cell.index), None)
    if outcome is None or outcome.status == "ok" and not outcome.stopped_at:
        return "was replaced or deleted by code that ran after it"
    if outcome.status == "raised" and "SyntaxError" in outcome.error and (
            cell.kind == "statement" or outcome.stopped_at >= line):
        return f"could not be read: {outcome.error}; fix the syntax error"
    if outcome.status == "not run":
        ended = next((item for item in report.cells if item.status == "exited" and item.error
                      and _same_file(item, cell)), None)
        return f"did not run: {ended.error}, and the rest of the file was not run" if ended else \
            "did not run: loading stopped before it (see the notes above)"
    if outcome.stopped_at and outcome.stopped_at <= line or outcome.status in ("hung", "crashed", "protocol"):
        return f"did not run: {outcome.error or outcome.origin + ' ' + outcome.status}"
    return "was replaced or deleted by code that ran after it"


def _same_file(item: CellReport, cell: Cell) -> bool:
    # A load report's origin is where the unit is ("conv.py, line 3"): same file if it starts with the cell's file.
    return cell.origin == "file" or item.origin.startswith(f"{cell.origin}, ")
