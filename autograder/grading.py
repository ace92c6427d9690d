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
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from . import rubrics
from .expected import expected_values
from .results import FunctionResult, PropertyResult, SubmissionResult
from .rubric import Assignment, FunctionSpec
from .sandbox import Limits, Sandbox, default_forbidden_paths
from .search import HangGuard, search_check
from .secret import kept_from_students, secret_in_use
from .submission import Submission, SubmissionError, read_submission

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
        A ``.py`` file or a Jupyter notebook (``.ipynb``).
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
        The course secret the cases are drawn from (see :mod:`autograder.secret`):
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
        submission = read_submission(path)  # stage 1: read
    except SubmissionError as error:
        result = failed_result(str(path), spec, "ungradable", str(error))
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
        # The secret's file, where this process knows it, is unreadable to the child as the grader's own files are.
        forbidden = (*default_forbidden_paths(), *kept_from_students()) if kept_from_students() else None
        with secret_in_use(secret or b""), Sandbox(submission, limits=limits or Limits(), forbidden_paths=forbidden) as sandbox:
            report = sandbox.load()  # stage 2: load
            box = HangGuard(sandbox)
            result.notes.extend(note for note in report.notes if note not in submission.notes)  # the reader's notes come back too
            for function in spec.functions:  # stage 3: judge
                if progress:
                    progress(function.name)
                if function.name not in report.functions:
                    result.functions.append(_missing(function, report.functions))
                    continue
                graded = FunctionResult(function.name)
                for check in function.checks:
                    graded.properties.extend(search_check(box, function, check, expected, examples=examples))
                result.functions.append(graded)
    except Exception as error:  # a bug of ours: reported as such, never as the student's failure
        result.status = "internal error"
        result.error = f"{type(error).__name__}: {error}"
        result.notes.append("grader traceback (for the instructor): " + traceback.format_exc(limit=8))
    result.seconds = time.perf_counter() - start
    return result


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


def _missing(function: FunctionSpec, defined: list[str]) -> FunctionResult:
    close = difflib.get_close_matches(function.name, defined, n=1)
    reason = f"your file defines no function named {function.name}"
    reason += f"; did you mean to name {close[0]!r} {function.name!r}?" if close else f"; define {function.signature}"
    return _not_graded(function, reason)
