"""Slow: a class folder as instructors really get it, graded by `autograder grade --nbgrader` and by `nbgrader autograde`.

Stray files and checkpoint folders beside the notebook, a notebook whose
helper import fails, a notebook with a syntax error in one cell,
``timestamp.txt`` files and a roster with a student who submitted nothing:
both paths give the same points per function, and every export shows the
missing student and the submission times.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
import subprocess
import sys

import pytest
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook as NbgraderGradebook

from autograder import rubrics
from autograder.nbgrader.sync import course_db_url

pytestmark = pytest.mark.slow

ASSIGNMENT = "conv_layers"
STALE_ZERO_PAD = "import numpy as np\n\ndef zero_pad(x, pad):\n    return x  # an old attempt\n"


def _with_cell(notebook: dict, source: str) -> dict:
    """``notebook`` with one more code cell of the student's, before its first code cell."""
    changed = copy.deepcopy(notebook)
    first_code = next(i for i, cell in enumerate(changed["cells"]) if cell["cell_type"] == "code")
    changed["cells"].insert(first_code, new_code_cell(source))
    return changed


def _points_in_nbgrader(root) -> dict[str, dict[str, float]]:
    with NbgraderGradebook(course_db_url(root)) as gb:
        return {s.student.id: {g.cell.name: g.score for nb in s.notebooks for g in nb.grades}
                for s in gb.assignment_submissions(ASSIGNMENT)}


def test_a_real_class_folder_gets_the_same_points_both_ways(course, released_course, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(released_course, root)
    course.nbgrader("db", "assignment", "add", ASSIGNMENT, "--duedate=2024-03-01 12:00:00 UTC", cwd=root)
    for student in ("alice", "bob", "carol", "dan"):
        course.nbgrader("db", "student", "add", student, f"--first-name={student.title()}", cwd=root)
    solution = course.cleared(course.solution(ASSIGNMENT))
    work = {
        "alice": solution,
        "bob": _with_cell(solution, "from cs231n.im2col import *  # the course's helper package, not installed here"),
        "carol": _with_cell(solution, "def scratch(x:\n    return x"),
    }
    stamps = {"alice": "2024-03-01 10:00:00.000000 UTC", "bob": "2024-03-01 11:00:00.000000 UTC",
              "carol": "2024-03-01 11:30:00.000000 UTC"}
    for student, notebook in work.items():
        folder = root / "submissions" / student / ASSIGNMENT
        course.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text(stamps[student])
    alice = root / "submissions" / "alice" / ASSIGNMENT
    (alice / "scratch.py").write_text(STALE_ZERO_PAD)
    (alice / f"{ASSIGNMENT}.py").write_text(STALE_ZERO_PAD)  # an older export of the notebook
    course.write(course.buggy(solution, ASSIGNMENT), alice / ".ipynb_checkpoints" / f"{ASSIGNMENT}-checkpoint.ipynb")

    graded = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "submissions", "--out", "grades",
                             "--workers", "2", "--nbgrader"], cwd=root, env=course.env(), capture_output=True,
                            text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    by_autograder = _points_in_nbgrader(root)
    full = {function.name: function.max_points for function in rubrics.get(ASSIGNMENT).functions}
    assert by_autograder == {"alice": full, "bob": full, "carol": full}

    course.nbgrader("autograde", ASSIGNMENT, "--force", cwd=root)
    assert _points_in_nbgrader(root) == by_autograder

    # Every export shows the missing student and the submission times.
    with open(root / "grades" / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert rows["dan"]["status"] == "missing" and float(rows["dan"]["score"]) == 0
    assert {student: rows[student]["timestamp"] for student in stamps} == {
        student: stamp.removesuffix(".000000 UTC") for student, stamp in stamps.items()}
    entries = {entry["student"]: entry for entry in json.loads((root / "grades" / "grades.json").read_text())["entries"]}
    assert entries["dan"]["status"] == "missing"
    assert all(entries[student]["timestamp"] for student in stamps)
    report = (root / "grades" / "report.html").read_text()
    assert "dan" in report and "missing" in report
    # The feedback says what was left out and why nothing was lost.
    notes = " ".join(entries["alice"]["result"]["notes"])
    assert "not graded" in notes and "scratch.py" in notes and f"{ASSIGNMENT}.py" in notes and ".ipynb_checkpoints" in notes
    assert "cs231n" in " ".join(entries["bob"]["result"]["notes"])
    assert "SyntaxError" in " ".join(entries["carol"]["result"]["notes"])
