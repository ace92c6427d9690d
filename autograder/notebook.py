"""What a notebook's cells call: ``points`` in nbgrader's test cells, ``check`` for students.

These are a student's convenience, not the grading: a student running the
notebook sees a score under each test cell. ``nbgrader autograde`` never runs
them; the course configures it to grade the notebook in the sandbox instead
(:mod:`autograder.nbgrader.execute`), because anything computed in the kernel
the student's code ran in can be rewritten by that code. Should ``points``
find itself under ``nbgrader autograde`` all the same (a course configured
without that step), it refuses to award anything.

Inside a running Jupyter kernel the code the student ran is in IPython's input
history. ``points("conv_forward_naive")`` turns that history, minus our own
test and check cells, into a :class:`~autograder.engine.submission.Submission`,
grades the whole assignment in the sandbox, exactly as ``autograder grade``
does (same rubric, same cases, same scores), and returns the function's
points as a number: nbgrader reads a test cell whose result is a number as
partial credit. The result is remembered per kernel, keyed by the hash of
the sources, so the test cells that follow each other without new student
code in between grade once.

Nothing here writes to stderr: nbgrader scores any test cell with stderr
output 0, so warnings are silenced and whatever the grading machinery or its
child processes write to stderr is kept in :data:`last_stderr` instead.

Examples
--------
>>> is_ours("from autograder.notebook import points\\npoints('zero_pad')")
True
>>> is_ours("def zero_pad(x, pad):\\n    return x")
False
>>> assignment_of("max_pool_backward_naive")
'conv_layers'
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
import warnings
from pathlib import Path

from . import rubrics
from .engine.grading import grade_submission
from .engine.results import Status, SubmissionResult
from .engine.submission import Cell, Submission, strip_magics, strip_ours

__all__ = ["points", "check", "feedback_for", "grade_submission", "kernel_submission", "assignment_of", "is_ours", "strip_ours", "last_stderr"]

#: Path given to submissions read from a kernel's history (a notebook, so the cells run as ``__main__``).
KERNEL_PATH = Path("kernel-history.ipynb")

#: Whatever the last grading wrote to stderr (kept out of the notebook, where it would cost points).
last_stderr = ""

# (assignment, hash of the sources) -> the graded submission; one kernel grades each version once.
_RESULTS: dict[tuple[str, str], SubmissionResult] = {}



# --------------------------------------------------------------------------- what cells call


def points(function: str, assignment: str | None = None) -> float:
    """Points the code run in this kernel earns for ``function``, graded as ``autograder grade`` would.

    Parameters
    ----------
    function : str
        A function of the assignment, e.g. ``"conv_forward_naive"``.
    assignment : str, optional
        The rubric's name; by default the assignment that has ``function``.

    Returns
    -------
    float
        Between 0 and the rubric's points for ``function`` (nbgrader's partial credit).

    Raises
    ------
    KeyError
        If no assignment has ``function``.
    RuntimeError
        Outside an IPython kernel; under ``nbgrader autograde`` (which must grade in
        the sandbox, see `autograder.nbgrader.execute`); or when the grader itself
        failed (not the student's fault).
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        # nbgrader runs this notebook in a kernel: the course's configuration is missing, and
        # whatever the kernel computes the student's code could have rewritten. Award nothing.
        raise RuntimeError(
            "points() awards nothing under `nbgrader autograde`, which ran this notebook in a Jupyter kernel: "
            "the course's nbgrader_config.py must set c.Autograde.autograde_preprocessors to grade in the "
            "sandbox (autograder.nbgrader.execute.SandboxedExecute); tell your instructor")
    assignment = assignment or assignment_of(function)
    rubrics.get(assignment).function(function)  # a KeyError for a name the rubric does not have
    result = _graded(kernel_submission(), assignment)
    try:
        return float(result.function(function).points)
    except KeyError:
        raise RuntimeError(
            f"the grader failed before it reached {function} (not your fault; tell your instructor): {result.error}"
        ) from None


def check(assignment: str | None = None, *, functions: list[str] | None = None) -> None:
    """Grade the code run in this kernel and print the feedback: scores, minimal counterexamples, hints.

    Parameters
    ----------
    assignment : str, optional
        The rubric's name; by default the assignment whose functions this kernel defines.
    functions : list of str, optional
        Only these functions' feedback; by default the assignment's functions
        defined in this kernel (all of them when none is).
    """
    namespace = _shell().user_ns
    if assignment is None:
        assignment = _assignment_in(namespace)
    spec = rubrics.get(assignment)
    result = _graded(kernel_submission(), assignment)
    if functions is None:
        functions = [f.name for f in spec.functions if callable(namespace.get(f.name))] or [f.name for f in spec.functions]
    print(feedback_for(result, functions), end="")


def feedback_for(result: SubmissionResult, functions: list[str] | None = None, *, header: bool = True) -> str:
    """The feedback ``check()`` prints, for some functions of a graded submission.

    Parameters
    ----------
    result : SubmissionResult
        The whole assignment, graded.
    functions : list of str, optional
        Only these functions (and their share of the points); by default all.
    header : bool
        With the score line, the loading notes and the closing "well done";
        without them (a test cell's feedback), only the functions' sections.
    """
    from .outputs.feedback import feedback_text, function_sections

    spec = rubrics.get(result.assignment)
    names = [f.name for f in result.functions] if functions is None else list(functions)
    shown = result.only(names, sum(spec.function(name).max_points for name in names))
    if not header:
        if shown.functions:
            return function_sections(shown.functions)
        shown.notes = []
        return feedback_text(shown)
    text = feedback_text(shown)
    if shown.status == Status.GRADED and all(f.passed for f in shown.functions):
        text += f"\nAll {len(shown.functions)} functions pass every check. Well done.\n"
    return text


# --------------------------------------------------------------------------- reading the kernel


def kernel_submission(shell=None) -> Submission:
    """The code run in this IPython kernel, in execution order, as a `Submission`.

    Each input becomes a cell whose origin is its prompt (``"In [7]"``); our
    own test and check statements (see `strip_ours`) and empty inputs are left
    out; magic and shell lines become ``pass`` with a note, as in a notebook file.
    """
    shell = shell or _shell()
    raw = list(shell.history_manager.input_hist_raw)
    cells, notes = [], []
    for number, source in enumerate(raw):
        if not source or not source.strip():
            continue
        origin = f"In [{number}]"
        source = strip_magics(source, origin, notes)
        source = strip_ours(source) if source is not None else None
        if source is not None and source.strip():
            cells.append(Cell(number, source, origin))
    return Submission(KERNEL_PATH, cells, notes)


def is_ours(source: str) -> bool:
    """Whether a cell is entirely the course's: a test or check cell, no student code in it."""
    return strip_ours(source) is None


def assignment_of(function: str) -> str:
    """The assignment whose rubric has ``function``; a KeyError naming the known functions otherwise."""
    for name, spec in rubrics.ASSIGNMENTS.items():
        if any(f.name == function for f in spec.functions):
            return name
    known = sorted(f.name for spec in rubrics.ASSIGNMENTS.values() for f in spec.functions)
    raise KeyError(f"no assignment has a function named {function!r}; known: {', '.join(known)}")


def _assignment_in(namespace: dict) -> str:
    """The assignment with the most of its functions defined in ``namespace``."""
    counts = {
        name: sum(callable(namespace.get(f.name)) for f in spec.functions)
        for name, spec in rubrics.ASSIGNMENTS.items()
    }
    best = max(counts, key=lambda name: counts[name])
    if counts[best] == 0:
        raise KeyError(
            "this kernel defines none of the assignments' functions yet; run your solution cells first, "
            f"or name the assignment: check({sorted(rubrics.ASSIGNMENTS)[0]!r})"
        )
    return best


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = lambda: None  # noqa: E731
    shell = get_ipython()
    if shell is None:
        raise RuntimeError(
            "points() and check() read the code you ran in a Jupyter kernel; call them from a notebook, "
            "or check a file with `autograder check FILE`"
        )
    return shell


# --------------------------------------------------------------------------- grading


def sources_hash(submission: Submission) -> str:
    """SHA-256 of a submission's cells (their sources, in order)."""
    digest = hashlib.sha256()
    for cell in submission.cells:
        digest.update(cell.source.encode() + b"\0")
    return digest.hexdigest()


def _graded(submission: Submission, assignment: str) -> SubmissionResult:
    key = (assignment, sources_hash(submission))
    if key not in _RESULTS:
        with _silenced():
            _RESULTS[key] = grade_submission(submission, assignment=assignment)
    result = _RESULTS[key]
    if result.status == Status.INTERNAL_ERROR:
        raise RuntimeError(f"the grader failed (not your fault; tell your instructor): {result.error}")
    return result


@contextlib.contextmanager
def _silenced():
    """No warnings, nothing on sys.stderr or file descriptor 2 (child processes included)."""
    global last_stderr
    captured = io.StringIO()
    with tempfile.TemporaryFile() as fd_sink, warnings.catch_warnings(), contextlib.redirect_stderr(captured):
        warnings.simplefilter("ignore")
        with contextlib.suppress(Exception):
            sys.__stderr__.flush()
        saved = _swap_fd(2, fd_sink.fileno())
        try:
            yield
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
            fd_sink.seek(0)
            last_stderr = captured.getvalue() + fd_sink.read().decode(errors="replace")


def _swap_fd(fd: int, target: int) -> int | None:
    """Point ``fd`` at ``target``; returns a copy of the old ``fd`` (None where that is impossible)."""
    try:
        saved = os.dup(fd)
    except OSError:
        return None
    os.dup2(target, fd)
    return saved
