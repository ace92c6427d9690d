"""`autograder grade` on a class as nbgrader hands it over: timestamp.txt files, a due date, a penalty, a roster.

Every export (grades.csv, grades.json, Gradescope, feedback), the report and
the summary show when each student submitted, how late, the penalty, and
the student of the roster who submitted nothing. Also: `--nbgrader` refuses
to run outside an nbgrader course root.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.classroom.gradebook import Gradebook
from autograder.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "conv_layers"
DUE = "2024-03-01 12:00"
CLASS = {  # student -> (example, timestamp.txt)
    "alice": ("correct", "2024-03-01 11:59:00.000000 UTC"),  # on time
    "bob": ("buggy_bias_forgotten", "2024-03-01 09:30:00.000000 America/New_York"),  # 14:30 UTC: 2 h 30 min late
    "carol": ("correct", None),  # no timestamp.txt: not known to be late
}
ROSTER = "id,first_name,last_name,email\nalice,Alice,Liddell,alice@example.org\nbob,Bob,Baker,bob@example.org\n" \
         "carol,Carol,Cole,\ndan,Dan,Absent,dan@example.org\n"


def _autograder(*args, cwd=ROOT):
    command = [sys.executable, "-m", "autograder.cli", *map(str, args)]
    env = {**os.environ, "COLUMNS": "200"}  # the summary table on one line per assignment
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("late_class")
    for student, (example, stamp) in CLASS.items():
        folder = base / "submissions" / student / "conv_layers"
        folder.mkdir(parents=True)
        shutil.copy(EXAMPLES / f"{example}.py", folder / "conv_layers.py")
        if stamp:
            (folder / "timestamp.txt").write_text(stamp + "\n")
    (base / "students.csv").write_text(ROSTER)
    out = base / "grades"
    done = _autograder("grade", base / "submissions", "--out", out, "--workers", "1", "--examples", "5", "--secret", "late",
                       "--due-date", DUE, "--late-penalty", "subtract", "--penalty-per-unit", "2", "--penalty-unit", "hour",
                       "--roster", base / "students.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    return base, out, done


def test_csv_has_timestamps_due_date_penalty_names_and_the_missing_student(graded):
    _, out, _ = graded
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"alice", "bob", "carol", "dan"}
    alice, bob, carol, dan = (rows[s] for s in ("alice", "bob", "carol", "dan"))
    assert (alice["timestamp"], alice["duedate"], alice["late_submission_penalty"], alice["score"]) == \
        ("2024-03-01 11:59:00", "2024-03-01 12:00:00", "0", "33")
    # 2.5 hours late: three started hours at 2 points each, off the raw 29.
    assert (bob["timestamp"], bob["raw_score"], bob["late_submission_penalty"], bob["score"]) == ("2024-03-01 14:30:00", "29", "6", "23")
    assert (bob["first_name"], bob["last_name"], bob["email"]) == ("Bob", "Baker", "bob@example.org")
    assert (carol["timestamp"], carol["score"]) == ("", "33")
    assert (dan["status"], dan["raw_score"], dan["score"], dan["timestamp"], dan["max_score"], dan["conv_forward_naive"]) == \
        ("missing", "0", "0", "", "33", "0")
    assert (dan["first_name"], dan["email"]) == ("Dan", "dan@example.org")


def test_json_holds_the_same(graded):
    _, out, _ = graded
    document = json.loads((out / "grades.json").read_text())
    entries = {entry["student"]: entry for entry in document["entries"]}
    assert entries["bob"]["timestamp"] == "2024-03-01T14:30:00+00:00"
    assert (entries["bob"]["seconds_late"], entries["bob"]["late_penalty"], entries["bob"]["score"]) == (9000.0, 6.0, 23.0)
    assert entries["bob"]["graded_at"] != entries["bob"]["timestamp"]
    assert (entries["dan"]["status"], entries["dan"]["points"], entries["dan"]["score"]) == ("missing", 0.0, 0.0)
    stats = document["summary"]["assignments"]["conv_layers"]
    assert (stats["count"], stats["missing"], stats["late"]) == (3, 1, 1)
    assert stats["mean_final_score"] == pytest.approx((33 + 23 + 33) / 3)


def test_gradescope_and_feedback_are_for_submissions_only(graded):
    _, out, _ = graded
    bob = json.loads((out / "gradescope" / "bob" / "conv_layers" / "results.json").read_text())
    assert bob["extra_data"]["late_penalty"] == 6.0 and bob["extra_data"]["timestamp"] == "2024-03-01T14:30:00+00:00"
    # Gradescope attaches results to a submission: a student who submitted nothing gets no results.json, nor feedback.
    assert not (out / "gradescope" / "dan").exists() and not (out / "feedback" / "dan").exists()
    assert (out / "feedback" / "bob" / "conv_layers.md").exists()


def test_report_lists_the_missing_student_and_the_lateness(graded):
    _, out, _ = graded
    page = (out / "report.html").read_text()
    assert "1 missing" in page
    missing = page[page.index("<h3>Missing</h3>"):]
    assert '<a class="student" href="#student-dan">dan</a>' in missing[:600]
    assert 'id="student-dan"' in page and "No submission: 0 / 33 points." in page
    assert "late 2 h 30 min, &minus;6" in page
    bob = page[page.index('id="student-bob"'):page.index('id="student-carol"')]
    assert "29 / 33 &minus; 6 late penalty = <b>23</b>" in bob
    assert "submitted 2024-03-01 14:30 UTC; due 2024-03-01 12:00 UTC; late by 2 h 30 min." in bob
    assert "Your output is exactly the expected one minus the bias" in bob  # the feedback bob got


def test_summary_shows_late_and_missing(graded):
    _, _, done = graded
    assert "Missing (on the roster, no submission; 0 in every export): dan (conv_layers)" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "conv_layers" in line and "/ 33" in line)
    # The mean of the raw points (33, 29, 33), and after bob's late penalty of 6.
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == \
        ["conv_layers", "3", "31.7 / 33 (29.7 after penalties)", "2", "1", "0", "0", "1"]


def test_a_later_due_date_on_a_rerun_lifts_the_penalty(graded, tmp_path):
    base, out, _ = graded
    copy = tmp_path / "grades"
    shutil.copytree(out, copy)
    again = _autograder("grade", base / "submissions", "--out", copy, "--examples", "5", "--secret", "late",
                        "--due-date", "conv_layers=2024-03-02 00:00", "--late-penalty", "subtract", "--penalty-per-unit", "2")
    assert again.returncode == 0, again.stderr
    assert "Graded 0, skipped 3" in again.stdout  # nothing graded again: only the dates
    with Gradebook(copy / "gradebook.db") as book:
        bob = next(e for e in book.entries(missing=True) if e.student == "bob")
        dan = next(e for e in book.entries(missing=True) if e.student == "dan")  # the roster is kept without --roster
    assert (bob.seconds_late, bob.late_penalty, bob.score, bob.due_date) == (0.0, 0.0, 29.0, "2024-03-02T00:00:00+00:00")
    assert dan.status == "missing"


# ---------------------------------------------------------------- --nbgrader needs a course root


def _one_submission(base: Path) -> Path:
    folder = base / "submissions" / "alice" / "conv_layers"
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLES / "correct.py", folder / "conv_layers.py")
    return base / "submissions"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "is not an nbgrader course root: it has no nbgrader_config.py"),
        (["--course-root", "{base}/elsewhere"], "elsewhere is not an nbgrader course root"),
        (["--roster", "{base}/students.csv"], "--roster cannot be combined with --nbgrader"),
        (["--due-date", "2024-03-01"], "--due-date cannot be combined with --nbgrader"),
    ],
    ids=["current folder", "--course-root", "with --roster", "with --due-date"],
)
def test_nbgrader_outside_a_course_root_writes_nothing_and_exits_2(tmp_path, monkeypatch, extra, message):
    submissions = _one_submission(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    args = ["grade", str(submissions), "--nbgrader", "--out", str(tmp_path / "grades"), *[a.format(base=tmp_path) for a in extra]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert message in text and "next:" in text
    if not extra or extra[0] == "--course-root":
        assert "--course-root PATH" in text
    assert not list(tmp_path.rglob("gradebook.db")) and not (tmp_path / "grades").exists()
    assert not list(tmp_path.rglob(".autograder-secret"))


def test_course_root_is_only_for_nbgrader(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(_one_submission(tmp_path)), "--course-root", str(tmp_path)])
    assert result.exit_code == 2 and "--course-root is for --nbgrader" in result.output


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--due-date", "conv_layer=2024-03-01"], "no assignment named 'conv_layer'"),
        (["--due-date", "next tuesday-ish"], "not a date and time"),
        (["--roster", "{base}/no-such.csv"], "cannot read the roster"),
    ],
    ids=["unknown assignment", "bad date", "missing roster"],
)
def test_bad_schedule_options_exit_2(tmp_path, option, message):
    args = ["grade", str(_one_submission(tmp_path)), "--out", str(tmp_path / "grades"), *[a.format(base=tmp_path) for a in option]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and not (tmp_path / "grades").exists()
