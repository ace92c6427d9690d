"""`autograder grade --nbgrader`: our scores land in nbgrader's gradebook, and `nbgrader export` reads them back."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook as NbgraderGradebook
from nbgrader.plugins.export import CsvExportPlugin

from autograder import rubrics
from autograder.classroom.gradebook import Gradebook, GradebookEntry, Student
from autograder.classroom.lateness import LatePolicy
from autograder.nbgrader.sync import (
    NbgraderSyncError,
    course_db_url,
    read_course,
    require_course_root,
    write_to_nbgrader,
)


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


# ---------------------------------------------------------------- timestamps, due dates, penalties, roster


SUBTRACT_CONFIG = (
    'c = get_config()\nc.CourseDirectory.db_url = "sqlite:///nb/gradebook.db"\n'
    'c.AssignLatePenalties.plugin_class = "autograder.nbgrader.late.SubtractLatePenalty"\n'
    'c.SubtractLatePenalty.points_per_unit = 2\nc.SubtractLatePenalty.penalty_unit = "hour"\n'
)


def _course_with_class(root: Path) -> Path:
    root.mkdir()
    (root / "nbgrader_config.py").write_text(SUBTRACT_CONFIG)
    with NbgraderGradebook(course_db_url(root)) as gb:
        gb.update_or_create_student("carol", first_name="Carol", last_name="Cole", email="carol@example.org")
        gb.update_or_create_student("dan", first_name="Dan", last_name="Absent")
        gb.update_or_create_assignment("fast_conv", duedate="2024-03-01 12:00:00 UTC")
        gb.update_or_create_assignment("not_ours")  # an assignment graded otherwise: no rubric, left alone
        gb.update_or_create_submission("fast_conv", "dan", extension=dt.timedelta(days=1))
    return root


def test_read_course_takes_nbgraders_roster_due_dates_extensions_and_plugin(tmp_path):
    course = read_course(_course_with_class(tmp_path / "course"))
    assert course.roster == [Student("carol", "Carol", "Cole", "carol@example.org"), Student("dan", "Dan", "Absent", "")]
    assert course.due_dates == {"fast_conv": dt.datetime(2024, 3, 1, 12, 0)}
    assert course.extensions == {("fast_conv", "dan"): dt.timedelta(days=1)}
    for seconds in (1.0, 3600.0, 9000.0):
        assert course.late_policy.late_submission_penalty("x", 19.0, seconds) == LatePolicy("subtract", 2, "hour").late_submission_penalty("x", 19.0, seconds)


def test_the_default_plugin_is_nbgraders_none(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    assert read_course(root).late_policy.late_submission_penalty("x", 19.0, 3600.0) is None


def test_timestamps_and_penalties_reach_nbgrader_export(tmp_path):
    root = _course_with_class(tmp_path / "course")
    late = _entry("carol", "graded", {"conv_forward_im2col": 9.0, "conv_backward_im2col": 6.0})
    late.timestamp, late.seconds_late, late.late_penalty = "2024-03-01T14:30:00+00:00", 9000.0, 6.0
    missing = GradebookEntry("dan", "fast_conv", "", "1", "missing", 0.0, 19.0)
    assert write_to_nbgrader([late, missing], root) == {"submissions": 1, "grades": 2}  # the missing student is not a submission
    export = tmp_path / "export.csv"
    with NbgraderGradebook(course_db_url(root)) as gb:
        CsvExportPlugin(to=str(export)).export(gb)
    with open(export, newline="") as handle:
        rows = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}
    carol = rows["fast_conv", "carol"]
    assert (carol["timestamp"], carol["raw_score"], carol["late_submission_penalty"], carol["score"]) == \
        ("2024-03-01 14:30:00", "15.0", "6.0", "9.0")
    assert rows["fast_conv", "dan"]["score"] == "0.0"  # nbgrader lists the roster's missing student itself


def test_no_course_root_no_gradebook(tmp_path):
    with pytest.raises(NbgraderSyncError, match="has no nbgrader_config.py"):
        write_to_nbgrader([_entry("carol", "graded", {"conv_forward_im2col": 9.0})], tmp_path)
    with pytest.raises(NbgraderSyncError, match="is not an nbgrader course root"):
        read_course(tmp_path)
    with pytest.raises(NbgraderSyncError):
        require_course_root(tmp_path / "nowhere")
    assert not list(tmp_path.rglob("gradebook.db"))


@pytest.mark.slow
def test_late_class_gets_the_same_penalty_from_autograder_and_nbgrader_autograde(course, released_course, tmp_path):
    """A late, buggy notebook and a missing student: `autograder grade --nbgrader` and `nbgrader autograde` agree."""
    root = tmp_path / "course"
    shutil.copytree(released_course, root)
    with open(root / "nbgrader_config.py", "a") as config:
        config.write('\nc.AssignLatePenalties.plugin_class = "autograder.nbgrader.late.SubtractLatePenalty"\n'
                     'c.SubtractLatePenalty.points_per_unit = 2\nc.SubtractLatePenalty.penalty_unit = "hour"\n')
    course.nbgrader("db", "assignment", "add", "conv_layers", "--duedate=2024-03-01 12:00:00 UTC", cwd=root)
    for student in ("alice", "bob", "dan"):
        course.nbgrader("db", "student", "add", student, f"--first-name={student.title()}", cwd=root)
    solution = course.cleared(course.solution("conv_layers"))
    for student, notebook, stamp in (("alice", solution, "2024-03-01 11:00:00.000000 UTC"),
                                     ("bob", course.buggy(solution, "conv_layers"), "2024-03-01 14:30:00.000000 UTC")):
        folder = root / "submissions" / student / "conv_layers"
        course.write(notebook, folder / "conv_layers.ipynb")
        (folder / "timestamp.txt").write_text(stamp)

    graded = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "submissions", "--out", "grades", "--workers", "1", "--nbgrader"],
                            cwd=root, env=course.env(), capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr

    def exported():
        course.nbgrader("export", cwd=root)
        with open(root / "grades.csv", newline="") as handle:
            return {row["student_id"]: {k: row[k] for k in ("timestamp", "raw_score", "late_submission_penalty", "score")}
                    for row in csv.DictReader(handle) if row["assignment"] == "conv_layers"}

    ours = exported()
    with open(root / "grades" / "grades.csv", newline="") as handle:
        our_csv = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert ours["bob"]["timestamp"] == "2024-03-01 14:30:00" and float(ours["bob"]["late_submission_penalty"]) == 6.0
    assert float(ours["bob"]["score"]) == float(our_csv["bob"]["score"]) == float(our_csv["bob"]["raw_score"]) - 6
    assert float(ours["alice"]["late_submission_penalty"]) == 0.0 and our_csv["alice"]["timestamp"] == "2024-03-01 11:00:00"
    assert ours["dan"]["score"] == "0.0" and our_csv["dan"]["status"] == "missing" and our_csv["dan"]["first_name"] == "Dan"

    course.nbgrader("autograde", "conv_layers", "--force", cwd=root)
    assert exported() == ours
