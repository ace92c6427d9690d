"""`SandboxedExecute`: nbgrader autograde's execute step, grading in the sandbox instead of a kernel.

The fast tests run the step in this process on notebooks built from the
release and check what nbgrader's own scoring (``determine_grade``) makes of
the outputs it writes; the slow ones run the real ``nbgrader autograde`` on
the hostile notebooks of ``examples/conv_layers/hostile_nbgrader_*.ipynb``.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook as NbgraderGradebook
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from nbgrader.utils import determine_grade
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

import autograder
from autograder import notebook, rubrics
from autograder.classroom.gradebook import Gradebook
from autograder.engine.grading import failed_result
from autograder.nbgrader import execute as nbgrader_execute
from autograder.nbgrader.execute import (
    AUTOGRADE_PREPROCESSORS,
    SandboxedExecute,
    SandboxedExecuteError,
    course_grades_in_sandbox,
    write_outputs,
)
from autograder.nbgrader.release import ReleaseError, release
from autograder.nbgrader.sync import course_db_url

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "examples" / "conv_layers"
ASSIGNMENT = "conv_layers"
FULL = {f.name: f.max_points for f in rubrics.get(ASSIGNMENT).functions}
STUB = {name: 0.0 for name in FULL}


def _resources(assignment: str = ASSIGNMENT) -> dict:
    return {"nbgrader": {"assignment": assignment, "notebook": assignment, "student": "alice"}}


def _test_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")]


def _scores(nb) -> dict[str, float]:
    """What nbgrader's own scoring makes of each test cell."""
    return {c.metadata["nbgrader"].get("grade_id", ""): determine_grade(c)[0] for c in _test_cells(nb)}


# --------------------------------------------------------------------------- configuration


def test_the_course_runs_nbgraders_autograde_steps_with_execute_replaced_by_ours():
    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    assert Execute in defaults
    assert [import_item(name) for name in AUTOGRADE_PREPROCESSORS] == [SandboxedExecute if p is Execute else p for p in defaults]
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.Autograde.autograde_preprocessors == AUTOGRADE_PREPROCESSORS
    course_grades_in_sandbox(ROOT)


@pytest.mark.parametrize("change, message", [
    ("drop", "run students' notebooks in a Jupyter kernel"),
    ("execute", "run students' notebooks in a Jupyter kernel"),
    ("missing", "has no nbgrader_config.py"),
], ids=["without our step", "with nbgrader's Execute too", "no config file"])
def test_a_course_that_would_run_notebooks_in_a_kernel_is_refused_and_not_released(course, tmp_path, change, message):
    root = course.copy_course(tmp_path / "course")
    config = root / "nbgrader_config.py"
    text = config.read_text()
    if change == "drop":
        config.write_text(text[:text.index("c.Autograde.autograde_preprocessors")])
    elif change == "execute":
        config.write_text(text + "\nc.Autograde.autograde_preprocessors.insert(0, 'nbgrader.preprocessors.Execute')\n")
    else:
        config.unlink()
    with pytest.raises(SandboxedExecuteError, match=message):
        course_grades_in_sandbox(root)
    with pytest.raises(ReleaseError, match=message):
        release(course_root=root)
    assert not (root / "build").exists()  # refused before nbgrader ran


def test_points_awards_nothing_under_nbgrader_autograde(monkeypatch):
    # A kernel nbgrader autograde started: the course's configuration is missing, and the
    # kernel is the student's. The test cell must show an error (0 points), never a number.
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(RuntimeError, match="awards nothing under `nbgrader autograde`.*SandboxedExecute"):
        notebook.points("zero_pad")


# --------------------------------------------------------------------------- the step, in process


def test_test_cells_get_the_points_autograder_grade_gives_and_errors_where_functions_failed(course, tmp_path):
    stub = course.released(ASSIGNMENT)
    work = course.fill(stub, course.answers(course.buggy(course.solution(ASSIGNMENT), ASSIGNMENT)))
    nb, _ = SandboxedExecute().preprocess(nbformat.from_dict(copy.deepcopy(work)), _resources())

    by_file = autograder.grade(course.write(work, tmp_path / f"{ASSIGNMENT}.ipynb"), assignment=ASSIGNMENT)
    expected = {f.name: f.points for f in by_file.functions}
    assert _scores(nb) == expected
    assert {name for name, points in expected.items() if points < FULL[name]} == course.bugged_functions(ASSIGNMENT)
    for cell in _test_cells(nb):
        name = cell.metadata["nbgrader"]["grade_id"]
        kinds = [o.output_type for o in cell.outputs]
        failed = expected[name] < FULL[name]
        assert kinds == ["execute_result", "stream"] + (["error"] if failed else []), name
        assert cell.outputs[1].text.startswith(f"## {name}: ")
        if failed:
            assert "Smallest failing call" in cell.outputs[1].text and "TestFailed" in cell.outputs[2].traceback[0]
    check = next(c for c in nb.cells if c.get("id") == "check")
    assert check.outputs[0].text.startswith(f"# {ASSIGNMENT}: {by_file.points:g} / 33 points")


def test_the_solution_gets_full_marks_and_no_error(course):
    work = course.fill(course.released(ASSIGNMENT), course.answers(course.solution(ASSIGNMENT)))
    nb, _ = SandboxedExecute().preprocess(nbformat.from_dict(work), _resources())
    assert _scores(nb) == FULL
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error" or o.get("name") == "stderr"]
    check = next(c for c in nb.cells if c.get("id") == "check")
    assert "All 7 functions pass every check" in check.outputs[0].text


def _ungraded(assignment: str = ASSIGNMENT):
    return failed_result("x.ipynb", rubrics.get(assignment), "ungradable", "the notebook could not be read")


def test_a_test_cell_we_do_not_know_shows_an_error_and_earns_nothing(course):
    nb = nbformat.from_dict(course.released(ASSIGNMENT))
    spare = copy.deepcopy(_test_cells(nb)[0])
    spare.metadata.nbgrader.update(grade_id="zero_padd", points=4)
    nameless = copy.deepcopy(spare)
    del nameless.metadata.nbgrader["grade_id"]
    spare.outputs = nameless.outputs = []  # what shows nothing would be full credit for nbgrader
    nb.cells += [spare, nameless]
    write_outputs(nb, _ungraded())
    assert determine_grade(spare)[0] == determine_grade(nameless)[0] == 0
    assert [o.ename for o in spare.outputs] == ["UnknownTest"] and "zero_padd" in spare.outputs[0].evalue
    # Every test cell shows something explicit, so none is full credit by showing nothing.
    assert all(c.outputs and c.outputs[0].output_type in ("execute_result", "error") for c in _test_cells(nb))
    assert set(_scores(nb).values()) == {0}


def test_a_test_cell_worth_other_points_than_the_rubric_fails_the_notebook_not_the_student(course):
    nb = nbformat.from_dict(course.released(ASSIGNMENT))
    _test_cells(nb)[0].metadata.nbgrader["points"] = 40
    with pytest.raises(SandboxedExecuteError, match="worth 40 points.*rubric gives 4.*autograder release"):
        write_outputs(nb, _ungraded())


def test_a_grader_failure_fails_the_notebook_instead_of_scoring_it(course, monkeypatch):
    failed = failed_result("x.ipynb", rubrics.get(ASSIGNMENT), "internal error", "RuntimeError: the sandbox did not start")
    monkeypatch.setattr(nbgrader_execute, "grade", lambda path, assignment, **options: failed)
    with pytest.raises(SandboxedExecuteError, match="not the student's fault.*sandbox did not start"):
        SandboxedExecute().preprocess(nbformat.from_dict(course.released(ASSIGNMENT)), _resources())


def test_an_assignment_without_a_rubric_is_refused(course):
    with pytest.raises(SandboxedExecuteError, match="'essay' has no rubric"):
        SandboxedExecute().preprocess(nbformat.from_dict(course.released(ASSIGNMENT)), _resources("essay"))


def test_a_notebook_cannot_run_the_solutions_of_a_readable_course_root():
    # A course root anyone may read (pytest's own temp folders are private to their owner, which would hide it).
    root = Path(tempfile.mkdtemp(prefix="course-", dir="/var/tmp"))
    try:
        root.chmod(0o755)
        shutil.copytree(ROOT / "solutions", root / "solutions")
        nb, _ = SandboxedExecute().preprocess(_hostile("reads_solutions", root), _resources())
    finally:
        shutil.rmtree(root)
    assert _scores(nb) == STUB


# --------------------------------------------------------------------------- the real nbgrader, attacked


def _nbgrader_points(root: Path) -> dict[str, dict[str, float]]:
    with NbgraderGradebook(course_db_url(root)) as gb:
        return {s.student.id: {g.cell.name: g.score for nb in s.notebooks for g in nb.grades}
                for s in gb.assignment_submissions(ASSIGNMENT)}


def _autograder_points(root: Path) -> dict[str, dict[str, float]]:
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "submissions", "--assignment", ASSIGNMENT,
                           "--out", str(root.parent / "grades"), "--workers", "2"],
                          cwd=root, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    with Gradebook(root.parent / "grades" / "gradebook.db") as book:
        return {e.student: {f["name"]: f["points"] for f in e.result["functions"]} for e in book.entries(assignment=ASSIGNMENT)}


def _hostile(name: str, root: Path) -> dict:
    """A hostile notebook, told where the course is (a student may well know)."""
    text = (HOSTILE / f"hostile_nbgrader_{name}.ipynb").read_text(encoding="utf-8")
    return nbformat.reads(text.replace("COURSE_ROOT = None", f"COURSE_ROOT = {str(root)!r}"), as_version=4)


def _tree(folder: Path, *, leave_out: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file under ``folder`` and its SHA-256 (but those under ``leave_out``; the grader creates the course secret on first use)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] not in leave_out}


def _course_with(course, released_course, tmp_path, submissions: dict[str, object]) -> Path:
    root = tmp_path / "course"
    shutil.copytree(released_course, root)
    for student, work in submissions.items():
        work = work(root) if callable(work) else work
        course.write(work, root / "submissions" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for folder in (root, tmp_path):  # what the writing notebook appends to, inside and outside the course
        (folder / "sentinel.txt").write_text("left alone\n")
    return root


@pytest.mark.slow
def test_hostile_notebooks_get_the_stubs_score_and_write_nothing_under_nbgrader_autograde(course, released_course, tmp_path):
    correct = course.fill(course.released(ASSIGNMENT), course.answers(course.solution(ASSIGNMENT)))
    hostile = ("replaces_points", "shows_nothing", "writes_files", "reads_solutions")
    root = _course_with(course, released_course, tmp_path, {
        "correct": correct, **{name: (lambda r, name=name: _hostile(name, r)) for name in hostile}})
    before = _tree(tmp_path, leave_out=("course",)), _tree(root, leave_out=("build", ".autograder-secret"))

    course.nbgrader("autograde", ASSIGNMENT, cwd=root)

    by_nbgrader = _nbgrader_points(root)
    assert by_nbgrader == {"correct": FULL, **{name: STUB for name in hostile}}
    # Nothing written outside the course, nor in it (but build/ and the course secret), no mark left;
    # Hypothesis's files are in the grader's cache, not in the course nor in autograded/ (autograder.engine.cache).
    assert (_tree(tmp_path, leave_out=("course",)), _tree(root, leave_out=("build", ".autograder-secret"))) == before
    assert not list(tmp_path.rglob(".hypothesis"))
    assert (root / "sentinel.txt").read_text() == (tmp_path / "sentinel.txt").read_text() == "left alone\n"
    assert not list(tmp_path.rglob("HOSTILE_WAS_HERE"))
    # Every test cell nbgrader scored shows a number or an error: none scored by showing nothing.
    for student in by_nbgrader:
        graded = nbformat.read(root / "build" / "nbgrader" / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        assert all(c.outputs[0].output_type in ("execute_result", "error") for c in _test_cells(graded)), student
        assert _scores(graded) == by_nbgrader[student]
    assert _autograder_points(root) == by_nbgrader


@pytest.mark.slow
def test_nbgraders_own_execute_step_is_what_these_notebooks_fool(course, released_course, tmp_path):
    """Why the step is replaced: the same notebooks run by nbgrader's ``Execute`` in a kernel."""
    root = _course_with(course, released_course, tmp_path, {
        "replaces_points": lambda r: _hostile("replaces_points", r), "writes_files": lambda r: _hostile("writes_files", r)})
    config = root / "nbgrader_config.py"
    text = config.read_text()
    config.write_text(text[:text.index("c.Autograde.autograde_preprocessors")])  # nbgrader's defaults

    course.nbgrader("autograde", ASSIGNMENT, cwd=root)

    points = _nbgrader_points(root)
    assert points["replaces_points"] == FULL  # a stub, at full marks
    assert points["writes_files"] == STUB  # points() refuses under nbgrader autograde: errors, 0 ...
    for folder in (root, tmp_path):  # ... but the kernel wrote as the instructor, inside the course and outside
        assert (folder / "HOSTILE_WAS_HERE").exists()
        assert "appended by a student's notebook" in (folder / "sentinel.txt").read_text()
