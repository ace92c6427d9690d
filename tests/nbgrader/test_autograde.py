"""Slow: the real nbgrader (autograde, grading each notebook in the sandbox) against `autograder grade`, per function.

Run with ``./dev test -m slow tests/nbgrader``: a few minutes, mostly grading
(and, for the solution notebooks, running them top to bottom in a kernel).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook as NbgraderGradebook

from autograder import rubrics
from autograder.classroom.gradebook import Gradebook
from autograder.nbgrader.release import source_assignments
from autograder.nbgrader.sync import course_db_url

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = source_assignments(ROOT)


def _nbgrader_points(root: Path, assignment: str) -> dict[str, dict[str, float]]:
    """``{student: {function: points}}`` from nbgrader's gradebook, after `nbgrader autograde`."""
    found = {}
    with NbgraderGradebook(course_db_url(root)) as gb:
        for submission in gb.assignment_submissions(assignment):
            found[submission.student.id] = {g.cell.name: g.score for nb in submission.notebooks for g in nb.grades}
    return found


def _autograder_points(root: Path, assignment: str) -> dict[str, dict[str, float]]:
    """``{student: {function: points}}`` from `autograder grade` run on the course's submissions/."""
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "submissions", "--assignment", assignment,
                           "--out", "grades", "--workers", "2"], cwd=root, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    with Gradebook(root / "grades" / "gradebook.db") as book:
        return {e.student: {f["name"]: f["points"] for f in e.result["functions"]} for e in book.entries(assignment=assignment)}


def _expect(course, assignment: str, points: dict[str, dict[str, float]], correct: str, buggy: str) -> None:
    full = {f.name: f.max_points for f in rubrics.get(assignment).functions}
    assert points[correct] == full
    lost = {name for name, value in points[buggy].items() if value < full[name]}
    assert lost == course.bugged_functions(assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_autograde_gives_the_points_autograder_grade_gives(course, released_course, tmp_path, assignment):
    root = tmp_path / "course"
    shutil.copytree(released_course, root)
    solution = course.cleared(course.solution(assignment))
    course.write(solution, root / "submissions" / "alice" / assignment / f"{assignment}.ipynb")
    course.write(course.buggy(solution, assignment), root / "submissions" / "bob" / assignment / f"{assignment}.ipynb")

    course.nbgrader("autograde", assignment, cwd=root)
    by_nbgrader = _nbgrader_points(root, assignment)
    by_autograder = _autograder_points(root, assignment)

    assert by_nbgrader == by_autograder
    _expect(course, assignment, by_autograder, "alice", "bob")
    for student, failed in (("alice", set()), ("bob", course.bugged_functions(assignment))):
        # Each test cell shows its points first; an error follows only where the function lost points.
        graded = course.read(root / "build" / "nbgrader" / "autograded" / student / assignment / f"{assignment}.ipynb")
        tests = {course.grade_id(c): c["outputs"] for c in graded["cells"]
                 if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")}
        assert all(outputs[0]["output_type"] == "execute_result" for outputs in tests.values())
        assert {name for name, outputs in tests.items() if any(o["output_type"] == "error" for o in outputs)} == failed
        assert not [o for outputs in tests.values() for o in outputs if o.get("name") == "stderr"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_round_trip(course, released_course, tmp_path, assignment):
    """Release, students fill in the stubs (one right, one with the known bugs), collect, grade both ways."""
    root = tmp_path / "course"
    shutil.copytree(released_course, root)
    stub = course.read(root / "assignments" / assignment / f"{assignment}.ipynb")
    solution = course.solution(assignment)
    work = {
        "carol": course.fill(stub, course.answers(solution)),
        "dave": course.fill(stub, course.answers(course.buggy(solution, assignment))),
    }
    for student, notebook in work.items():  # what `nbgrader collect` leaves: submissions/<student>/<assignment>/
        assert "### BEGIN SOLUTION" not in str(notebook)
        course.write(notebook, root / "submissions" / student / assignment / f"{assignment}.ipynb")

    course.nbgrader("autograde", assignment, cwd=root)
    by_nbgrader = _nbgrader_points(root, assignment)
    by_autograder = _autograder_points(root, assignment)

    assert by_nbgrader == by_autograder
    _expect(course, assignment, by_autograder, "carol", "dave")
    # nbgrader's own export sees the same totals.
    course.nbgrader("export", cwd=root)
    import csv

    with open(root / "grades.csv", newline="") as handle:
        totals = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle) if row["assignment"] == assignment}
    assert totals == {student: sum(points.values()) for student, points in by_autograder.items()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_runs_top_to_bottom_in_a_kernel(course, tmp_path, assignment):
    nb = nbformat.read(str(ROOT / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [(c.get("id"), o.ename, o.evalue) for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    stderr = [(c.get("id"), o.text) for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert not errors and not stderr
    scores = {c.metadata["nbgrader"]["grade_id"]: float(o.data["text/plain"]) for c in nb.cells
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
              for o in c.outputs if o.output_type == "execute_result"}
    assert scores == {f.name: f.max_points for f in rubrics.get(assignment).functions}
    check = "".join(o.text for c in nb.cells if c.get("id") == "check" for o in c.outputs if o.output_type == "stream")
    assert "pass every check" in check
    if assignment == "conv_extras":  # the activation-map picture
        assert any("image/png" in o.get("data", {}) for c in nb.cells if c.get("id") == "activation_map" for o in c.outputs)
