"""Our scores in nbgrader's own gradebook, so ``nbgrader export`` and formgrader show them.

``autograder grade --nbgrader`` calls :func:`write_to_nbgrader` after
grading. For every graded submission it makes sure nbgrader's gradebook has
the assignment, its notebook and one grade cell per function (named like the
function, worth the rubric's points: the test cells of the released
notebooks), the student and the submission, then sets each grade cell's
``auto_score`` to the points the function earned. A submission the grader
failed on (``internal error``) gets no score and is flagged for manual
grading instead: it is not the student's fault. The submission's timestamp
(its ``timestamp.txt``) and late penalty are written as nbgrader's
autograde writes them (``SubmittedAssignment.timestamp``, the notebook's
``late_submission_penalty``), so ``nbgrader export`` shows the same
timestamp, penalty and score.

:func:`read_course` reads what the course already knows, for the grading
run: the roster (nbgrader's students), each assignment's due date and each
student's extension, and the late-submission plugin ``nbgrader_config.py``
configures (``AssignLatePenalties.plugin_class`` and its options), used as
nbgrader's ``AssignLatePenalties`` uses it.

Both refuse a folder without ``nbgrader_config.py``
(:func:`require_course_root`): nbgrader would make a new, empty gradebook
there, which the course's ``nbgrader export`` never reads.

The gradebook is the one ``nbgrader_config.py`` names (``db_url``, a relative
SQLite path read from the course root), or nbgrader's default,
``<course root>/gradebook.db``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .. import rubrics
from ..classroom.gradebook import GradebookEntry, Student
from ..classroom.lateness import PenaltyPolicy, parse_timestamp
from ..engine.results import Status

__all__ = ["NbgraderSyncError", "Course", "require_course_root", "course_db_url", "read_course", "course_late_policy",
           "write_to_nbgrader"]

#: The file that makes a folder an nbgrader course root.
CONFIG_FILE = "nbgrader_config.py"


class NbgraderSyncError(RuntimeError):
    """The scores cannot be written to nbgrader's gradebook; the message says why."""


def require_course_root(course_root: str | Path = ".") -> Path:
    """``course_root`` resolved, if it holds ``nbgrader_config.py``; otherwise an error saying how to fix it.

    Raises
    ------
    NbgraderSyncError
        No ``nbgrader_config.py`` there.
    """
    root = Path(course_root).resolve()
    if not (root / CONFIG_FILE).is_file():
        raise NbgraderSyncError(
            f"{root} is not an nbgrader course root: it has no {CONFIG_FILE}, so nbgrader's gradebook "
            f"(the one `nbgrader export` reads) is not there; nothing was graded or written"
        )
    return root


def course_db_url(course_root: str | Path = ".") -> str:
    """nbgrader's gradebook URL for the course at ``course_root``, as nbgrader run there would use it."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(course_root).resolve()
    url = ""
    config_file = root / "nbgrader_config.py"
    if config_file.exists():
        config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
        url = str(config.get("CourseDirectory", {}).get("db_url", "") or "")
    if not url:
        return f"sqlite:///{root / 'gradebook.db'}"
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix):].startswith("/") and url[len(prefix):] != ":memory:":
        path = root / url[len(prefix):]  # relative to the course root, where nbgrader runs
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
    return url


@dataclass
class Course:
    """What an nbgrader course knows before grading: the class, due dates, extensions, the late penalty."""

    roster: list[Student] = field(default_factory=list)
    due_dates: dict[str, datetime | None] = field(default_factory=dict)  # naive UTC, assignments with a rubric
    extensions: dict[tuple[str, str], timedelta] = field(default_factory=dict)  # (assignment, student) -> extension
    late_policy: PenaltyPolicy | None = None


def _open_gradebook(root: Path):
    from nbgrader.api import Gradebook

    try:
        with _alembic_on_path():  # nbgrader runs alembic as a subprocess to create or upgrade its database
            return Gradebook(course_db_url(root))
    except Exception as error:  # a locked or corrupt database, a bad URL
        raise NbgraderSyncError(f"cannot open nbgrader's gradebook {course_db_url(root)}: {error}") from None


def read_course(course_root: str | Path = ".") -> Course:
    """The roster, due dates, extensions and late-penalty plugin of the nbgrader course at ``course_root``.

    Students are nbgrader's (``nbgrader db student add/import``), due dates
    its assignments' (``nbgrader db assignment add A --duedate=...``), kept
    for the assignments that have a rubric; extensions its submissions'.
    """
    root = require_course_root(course_root)
    course = Course(late_policy=course_late_policy(root))
    with _open_gradebook(root) as gb:
        course.roster = sorted((Student(s.id, s.first_name or "", s.last_name or "", s.email or "") for s in gb.students),
                               key=lambda student: student.id)
        for assignment in gb.assignments:
            if assignment.name not in rubrics.ASSIGNMENTS:
                continue
            course.due_dates[assignment.name] = assignment.duedate
            for submission in assignment.submissions:
                if submission.extension is not None:
                    course.extensions[assignment.name, submission.student_id] = submission.extension
    return course


def course_late_policy(course_root: str | Path = ".") -> PenaltyPolicy:
    """The late-submission plugin ``nbgrader_config.py`` configures, made as nbgrader's ``AssignLatePenalties`` makes it.

    nbgrader's ``LateSubmissionPlugin`` (``penalty_method`` ``none`` or
    ``zero``) by default; ``autograder.nbgrader.late.SubtractLatePenalty``
    or any plugin of the course (a module in the course root is found, as
    nbgrader run there finds it).
    """
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config.loader import PyFileConfigLoader

    root = require_course_root(course_root)
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    sys.path.insert(0, str(root))
    try:
        step = AssignLatePenalties(config=config)
        step.init_plugin()
    except Exception as error:  # a plugin class that cannot be imported, a bad option
        raise NbgraderSyncError(f"{root / CONFIG_FILE}: the late-submission plugin cannot be made: {error}") from None
    finally:
        sys.path.remove(str(root))
    return step.plugin_inst


def write_to_nbgrader(entries: Iterable[GradebookEntry], course_root: str | Path = ".") -> dict[str, int]:
    """Write each entry's points per function into nbgrader's gradebook as auto scores.

    Parameters
    ----------
    entries : iterable of GradebookEntry
        Graded submissions (``BatchSummary.entries``); entries of assignments
        without a rubric are left out.
    course_root : str or Path
        The nbgrader course: the folder of ``nbgrader_config.py``.

    Returns
    -------
    dict
        ``{"submissions": written, "grades": grade cells scored}``.

    Raises
    ------
    NbgraderSyncError
        No ``nbgrader_config.py`` in ``course_root``, or its gradebook cannot be opened.

    Notes
    -----
    Missing students (``status="missing"``) are left out: ``nbgrader
    export`` lists the students without a submission itself. A late
    penalty goes on the submission's first notebook (this course's
    assignments are one notebook each), where nbgrader's
    ``AssignLatePenalties`` puts it.
    """
    from nbgrader.api import Grade, MissingEntry, SubmittedNotebook
    from sqlalchemy.exc import SAWarning

    root = require_course_root(course_root)
    counts = {"submissions": 0, "grades": 0}
    entries = [e for e in entries if e.assignment in rubrics.ASSIGNMENTS and e.status != Status.MISSING]
    gradebook = _open_gradebook(root)
    with gradebook as gb, warnings.catch_warnings():
        # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings; they say nothing about our data.
        warnings.simplefilter("ignore", SAWarning)
        for entry in entries:
            cells = _grade_cells(gb, entry.assignment, root)
            gb.update_or_create_student(entry.student)
            submission = gb.update_or_create_submission(entry.assignment, entry.student)
            submission.timestamp = parse_timestamp(entry.timestamp) if entry.timestamp else None
            scores = _scores(entry)
            penalised = ""  # the notebook that carries the late penalty
            for function, (notebook_name, _) in sorted(cells.items(), key=lambda item: item[1][0]):
                notebook = gb.find_notebook(notebook_name, entry.assignment)
                cell = gb.find_grade_cell(function, notebook_name, entry.assignment)
                try:
                    submitted = gb.find_submission_notebook(notebook_name, entry.assignment, entry.student)
                except MissingEntry:  # the notebook entered the gradebook after the submission did
                    submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
                    gb.db.add(submitted)
                    gb.db.flush()
                try:
                    grade = gb.find_grade(function, notebook_name, entry.assignment, entry.student)
                except MissingEntry:
                    grade = Grade(cell_id=cell.id, notebook=submitted)
                    gb.db.add(grade)
                if entry.status == Status.INTERNAL_ERROR:
                    grade.auto_score, grade.needs_manual_grade = None, True
                else:
                    grade.auto_score, grade.needs_manual_grade = scores.get(function, 0.0), False
                if penalised in ("", notebook_name):
                    penalised = notebook_name
                    submitted.late_submission_penalty = entry.late_penalty or None
                counts["grades"] += 1
            gb.db.commit()
            counts["submissions"] += 1
    return counts


@contextlib.contextmanager
def _alembic_on_path():
    saved = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), saved or ""])
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved


def _scores(entry: GradebookEntry) -> dict[str, float]:
    return {f["name"]: float(f["points"]) for f in entry.result.get("functions", [])}


def _grade_cells(gb, assignment: str, root: Path) -> dict[str, tuple[str, float]]:
    """``{function: (notebook, points)}``, adding to nbgrader's gradebook what it lacks.

    A function's grade cell is looked for in the gradebook (a release put it
    there), then in the released notebooks (``assignments/<assignment>/``);
    otherwise it goes into a notebook named like the assignment.
    """
    from nbgrader.api import MissingEntry

    spec = rubrics.get(assignment)
    gb.update_or_create_assignment(assignment)
    known = {cell.name: cell.notebook.name for notebook in gb.find_assignment(assignment).notebooks for cell in notebook.grade_cells}
    released = _released_grade_cells(root / "assignments" / assignment)
    cells = {}
    for function in spec.functions:
        notebook = known.get(function.name) or released.get(function.name) or assignment
        cells[function.name] = (notebook, float(function.max_points))
        try:
            gb.find_notebook(notebook, assignment)
        except MissingEntry:
            gb.add_notebook(notebook, assignment)
        gb.update_or_create_grade_cell(function.name, notebook, assignment, max_score=float(function.max_points), cell_type="code")
    return cells


def _released_grade_cells(folder: Path) -> dict[str, str]:
    """``{grade_id: notebook name}`` of the test cells in a released assignment's notebooks."""
    found = {}
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for cell in notebook.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and "grade_id" in meta:
                found.setdefault(meta["grade_id"], path.stem)
    return found
