"""`autograder grade --nbgrader`: our scores land in nbgrader's gradebook, and `nbgrader export` reads them back."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook as NbgraderGradebook

from autograder import rubrics
from autograder.gradebook import Gradebook, GradebookEntry
from autograder.nbgrader_sync import course_db_url, write_to_nbgrader


def _nbgrader_scores(db_url: str, assignment: str) -> dict[str, dict[str, float | None]]:
    """``{student: {grade cell: score}}`` as nbgrader holds them."""
    scores = {}
    with NbgraderGradebook(db_url) as gb:
        for submission in gb.assignment_submissions(assignment):
            scores[submission.student.id] = {g.cell.name: g.score for nb in submission.notebooks for g in nb.grades}
    return scores


def test_grade_with_nbgrader_writes_scores_that_nbgrader_export_reads_back(course, released_course, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(released_course, root)  # released: nbgrader's gradebook has the grade cells
    solution = course.cleared(course.solution("conv_layers"))
    course.write(solution, root / "submissions" / "alice" / "conv_layers" / "conv_layers.ipynb")
    course.write(course.buggy(solution, "conv_layers"), root / "submissions" / "bob" / "conv_layers" / "conv_layers.ipynb")

    graded = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "grade", "submissions", "--out", "grades", "--workers", "1", "--nbgrader"],
        cwd=root, env=course.env(), capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "nbgrader: 14 scores of 2 submissions" in graded.stdout
    # One course secret per nbgrader course, in its root (never released: .gitignore'd, refused by release).
    assert (root / ".autograder-secret").stat().st_mode & 0o777 == 0o600
    assert not (root / "grades" / ".secret").exists()

    with Gradebook(root / "grades" / "gradebook.db") as book:
        ours = {e.student: {f["name"]: f["points"] for f in e.result["functions"]} for e in book.entries()}
    assert ours["alice"] == {f.name: f.max_points for f in rubrics.get("conv_layers").functions}
    assert {name for name, points in ours["bob"].items() if points < rubrics.get("conv_layers").function(name).max_points} \
        == course.bugged_functions("conv_layers")
    assert _nbgrader_scores(course_db_url(root), "conv_layers") == ours

    course.nbgrader("export", cwd=root)
    with open(root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == "conv_layers"}
    for student in ("alice", "bob"):
        assert float(rows[student]["raw_score"]) == sum(ours[student].values())
        assert float(rows[student]["max_score"]) == 33.0


def _entry(student: str, status: str, points: dict[str, float]) -> GradebookEntry:
    functions = [{"name": name, "points": value} for name, value in points.items()]
    return GradebookEntry(student=student, assignment="fast_conv", content_hash="x", rubric_version="1", status=status,
                          points=sum(points.values()), max_points=19.0, result={"functions": functions})


def test_write_to_nbgrader_builds_what_is_missing_and_flags_internal_errors(course, tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.db_url = "sqlite:///nb/gradebook.db"\n')
    entries = [
        _entry("carol", "graded", {"conv_forward_im2col": 7.0, "conv_backward_im2col": 10.0}),
        _entry("dave", "internal error", {"conv_forward_im2col": 0.0, "conv_backward_im2col": 0.0}),
    ]
    assert write_to_nbgrader(entries, root) == {"submissions": 2, "grades": 4}
    assert write_to_nbgrader(entries, root) == {"submissions": 2, "grades": 4}  # again: updated, not doubled
    url = course_db_url(root)
    assert url == f"sqlite:///{root / 'nb' / 'gradebook.db'}"
    with NbgraderGradebook(url) as gb:
        notebook = gb.find_notebook("fast_conv", "fast_conv")  # no release: a notebook named like the assignment
        assert {c.name: c.max_score for c in notebook.grade_cells} == {"conv_forward_im2col": 9.0, "conv_backward_im2col": 10.0}
        dave = gb.find_grade("conv_forward_im2col", "fast_conv", "fast_conv", "dave")
        assert dave.auto_score is None and dave.needs_manual_grade
        assert len(gb.assignment_submissions("fast_conv")) == 2
    assert _nbgrader_scores(url, "fast_conv")["carol"] == {"conv_forward_im2col": 7.0, "conv_backward_im2col": 10.0}


def test_course_db_url_defaults_to_nbgraders(tmp_path):
    assert course_db_url(tmp_path) == f"sqlite:///{Path(tmp_path).resolve() / 'gradebook.db'}"
