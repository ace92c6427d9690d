"""nbgrader's execute step, replaced: ``nbgrader autograde`` grades the notebook in our sandbox.

nbgrader's own ``Execute`` step runs a submitted notebook top to bottom in a
Jupyter kernel started with the instructor's permissions, then scores each
test cell from its outputs (``nbgrader.utils.determine_grade``): an error or
anything on stderr is 0, a number is partial credit, and *anything else,
nothing at all included, is full credit*. Whatever the test cells compute
runs in the kernel the student's code just ran in, so the student decides
it: replacing ``autograder.notebook.points``, silencing every result with
``get_ipython().ast_node_interactivity = "none"``, or writing files, reading
``solutions/`` and editing the kernel's input history as the instructor.

:class:`SandboxedExecute` takes ``Execute``'s place in the ``Autograde``
converter (``c.Autograde.autograde_preprocessors`` in the course's
``nbgrader_config.py``). It starts no kernel. It reads the notebook's code
cells as ``autograder grade`` reads a notebook file
(:func:`~autograder.engine.submission.read_submission`: our test and check cells
left out, magics skipped), grades them in the sandbox with the assignment's
rubric, and writes each test cell's outputs itself:

1. an ``execute_result`` holding the function's points, the first output,
   which ``determine_grade`` reads as exactly that partial credit;
2. the function's feedback as text (checks, smallest failing call, hint);
3. when the function did not earn every point, an ``error`` output saying so,
   so that nbgrader's feedback marks the cell.

A test cell it does not recognise (a grade id that names no function of the
rubric) gets an error output and no number: 0 points, never the full credit
nbgrader gives a cell that shows nothing. The check cell gets the whole
feedback, as ``check()`` would print it. The later steps (``SaveAutoGrades``,
late penalties, ``generate_feedback``) are nbgrader's own.

When the grader itself fails, or the release is out of date with the rubric
(a test cell worth other points than the rubric gives), the step raises:
nbgrader reports the submission as failed and writes no score, rather than
charging the student for our fault.

The cases are drawn from the course secret in ``.autograder-secret`` of the
folder nbgrader runs in (the course root), the file ``autograder grade
--nbgrader`` uses (created at first use; ``c.SandboxedExecute.secret_file``
names another), so both paths meet the same cases and give the same points.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .. import rubrics
from ..engine.grading import grade
from ..engine.results import Status, SubmissionResult
from ..engine.secret import COURSE_SECRET_FILE, SecretError, read_or_create_secret
from ..engine.submission import strip_ours
from ..notebook import feedback_for

__all__ = ["SandboxedExecute", "SandboxedExecuteError", "AUTOGRADE_PREPROCESSORS", "course_grades_in_sandbox"]

#: nbgrader 0.9.6's ``Autograde.autograde_preprocessors`` with ``Execute`` replaced by ours,
#: as the course's ``nbgrader_config.py`` sets it (a test holds it to nbgrader's defaults).
AUTOGRADE_PREPROCESSORS = [
    "autograder.nbgrader.execute.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


class SandboxedExecuteError(RuntimeError):
    """The notebook cannot be graded, and not through the student's fault; the message says why."""


class SandboxedExecute(NbGraderPreprocessor):
    """Grade the notebook in the sandbox and write each test cell's points as its output (no kernel).

    nbgrader passes the assignment (``resources["nbgrader"]["assignment"]``);
    its rubric is :func:`autograder.rubrics.get` of that name.
    """

    secret_file = Unicode(
        COURSE_SECRET_FILE,
        help="The course secret the graded cases are drawn from (relative to the folder nbgrader runs in); "
        "the file `autograder grade --nbgrader` uses, created at first use.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources.get("nbgrader", {})
        assignment = info.get("assignment", "")
        notebook = info.get("notebook") or "notebook"
        if assignment not in rubrics.ASSIGNMENTS:
            raise SandboxedExecuteError(
                f"assignment {assignment!r} has no rubric (known: {', '.join(sorted(rubrics.ASSIGNMENTS))}); "
                "this course grades every notebook in the sandbox and never runs it in a kernel")
        self.log.info("Grading %s (%s) in the sandbox", notebook, assignment)
        try:
            secret = read_or_create_secret(Path(self.secret_file).absolute())
        except SecretError as error:
            raise SandboxedExecuteError(str(error)) from None
        result = grade_notebook(nb, assignment, notebook, secret=secret)
        if result.status == Status.INTERNAL_ERROR:
            raise SandboxedExecuteError(f"the grader failed on {notebook} (not the student's fault): {result.error}")
        self.log.info("%s: %g / %g points", notebook, result.points, result.max_points)
        write_outputs(nb, result)
        return nb, resources


def grade_notebook(nb: NotebookNode, assignment: str, name: str = "notebook", *,
                   secret: bytes | None = None) -> SubmissionResult:
    """Grade a notebook as ``autograder grade`` grades the same file: written out, read, sandboxed.

    Writing it to a private folder lets :func:`autograder.grade` read it
    exactly as it reads a submitted file (size limit, magics, our cells left
    out), so the two paths give the same points.
    """
    with tempfile.TemporaryDirectory(prefix="autograder-nbgrader-") as folder:
        path = Path(folder) / f"{Path(name).name}.ipynb"
        path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        return grade(path, assignment=assignment, secret=secret)


def write_outputs(nb: NotebookNode, result: SubmissionResult) -> None:
    """Replace the outputs of every test cell and check cell of ``nb`` with the grading's.

    Raises
    ------
    SandboxedExecuteError
        If a test cell is worth other points than the rubric gives its function
        (``autograder release`` was not run after the rubric changed).
    """
    spec = rubrics.get(result.assignment)
    functions = {f.name for f in spec.functions}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            grade_id = meta.get("grade_id", "")
            if grade_id in functions:
                cell["outputs"] = _test_outputs(result, grade_id, float(meta.get("points", 0)))
            else:
                cell["outputs"] = [_error(
                    "UnknownTest",
                    f"this test cell ({grade_id or 'no grade id'}) names no function of the {result.assignment} "
                    f"rubric ({', '.join(sorted(functions))}), so it earns nothing; tell your instructor")]
            cell["execution_count"] = None
        elif _is_check_cell(cell):
            cell["outputs"] = [new_output("stream", name="stdout", text=feedback_for(result))]
            cell["execution_count"] = None


def _test_outputs(result: SubmissionResult, function: str, cell_points: float) -> list[NotebookNode]:
    graded = result.function(function)
    if cell_points != graded.max_points:
        raise SandboxedExecuteError(
            f"the test cell {function} is worth {cell_points:g} points in nbgrader's gradebook, but the "
            f"{result.assignment} rubric gives {graded.max_points:g}; run `autograder release` and release again")
    outputs = [
        new_output("execute_result", data={"text/plain": repr(float(graded.points))}, execution_count=None),
        new_output("stream", name="stdout", text=feedback_for(result, functions=[function], header=False)),
    ]
    if not graded.passed:
        outputs.append(_error(
            "TestFailed", f"{function} earned {graded.points:g} of {graded.max_points:g} points: "
                          "the feedback above says which checks failed and why"))
    return outputs


def _error(name: str, message: str) -> NotebookNode:
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


def _is_check_cell(cell: NotebookNode) -> bool:
    """A cell of ours (no student code) that calls ``check``: it shows the whole feedback."""
    source = cell.get("source", "")
    source = source if isinstance(source, str) else "".join(source)
    return "check" in source and strip_ours(source) is None


def course_grades_in_sandbox(course_root: str | Path = ".") -> None:
    """Refuse a course whose ``nbgrader_config.py`` would let ``nbgrader autograde`` run notebooks in a kernel.

    Raises
    ------
    SandboxedExecuteError
        If the file is missing, or its ``Autograde.autograde_preprocessors``
        does not have :class:`SandboxedExecute` in place of nbgrader's ``Execute``.
    """
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(course_root).resolve()
    fix = (f"set c.Autograde.autograde_preprocessors = {AUTOGRADE_PREPROCESSORS!r} in {root / 'nbgrader_config.py'} "
           "(see the README's nbgrader section)")
    if not (root / "nbgrader_config.py").is_file():
        raise SandboxedExecuteError(f"{root} has no nbgrader_config.py; {fix}")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    steps = config.get("Autograde", {}).get("autograde_preprocessors")
    names = [_dotted(step) for step in steps] if isinstance(steps, list) else []
    if "autograder.nbgrader.execute.SandboxedExecute" not in names or any(name.endswith(".Execute") for name in names):
        raise SandboxedExecuteError(
            "nbgrader autograde would run students' notebooks in a Jupyter kernel with your permissions, "
            f"where a test cell can be made to show nothing and get full credit; {fix}")


def _dotted(step) -> str:
    """``"package.module.Class"`` for a class or its dotted name (how nbconvert accepts preprocessors)."""
    if isinstance(step, str):
        return step
    return f"{getattr(step, '__module__', '')}.{getattr(step, '__qualname__', type(step).__name__)}"
