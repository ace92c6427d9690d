"""`autograder grade SUBMISSIONS`: a whole class end to end, resume after SIGKILL, workers and Dask agree."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.classroom import batch
from autograder.classroom.gradebook import Gradebook
from autograder.cli import main
from autograder.engine.secret import fingerprint_of

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import make_class  # noqa: E402

EXAMPLES = "8"  # cases per check: the expected scores below hold from 8 up
CLASS = {  # student -> (status, points)
    "correct": ("graded", 33),
    "buggy_bias_forgotten": ("graded", 29),
    "buggy_nhwc": ("graded", 27),  # a notebook, cells shuffled
    "stub": ("graded", 0),
    "template_returns_none": ("graded", 0),  # the untouched CS231n template: no points for no work
    "buggy_backward_crashes_without_pad": ("graded", 30),  # its error charged once: dx's 3 points
    "hostile_memory_hog": ("graded", 26),
    "unreadable_notebook": ("ungradable", 0),
    "empty_folder": ("ungradable", 0),
    "symlink_out": ("ungradable", 0),
}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    full = make_class.build(tmp_path_factory.mktemp("class"))
    for student in full.iterdir():  # keep CLASS's students, for conv_layers only: quick and enough
        for folder in [student] if student.name not in CLASS else [a for a in student.iterdir() if a.name != "conv_layers"]:
            shutil.rmtree(folder)
    return full


def _autograder(*args, timeout=600):
    command = [sys.executable, "-m", "autograder.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def _normalized(db) -> list[dict]:
    """Gradebook rows without what legitimately differs between runs (timings, timestamps)."""
    rows = []
    with Gradebook(db) as book:
        for entry in book.entries():
            data = entry.to_dict()
            for key in ("graded_at", "seconds"):
                data.pop(key)
            data["result"].pop("seconds")
            data["result"].pop("traceback", None)
            rows.append(data)
    return rows


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    """One course secret for every run here: runs into different --out folders must draw the same cases."""
    path = tmp_path_factory.mktemp("course") / ".autograder-secret"
    path.write_text("5ec7e7" * 10 + "\n")
    return path


@pytest.fixture(scope="module")
def clean_run(submissions, tmp_path_factory, secret_file):
    out = tmp_path_factory.mktemp("grades")
    completed = _autograder("grade", submissions, "--out", out, "--workers", "2", "--examples", EXAMPLES, "--secret-file", secret_file)
    assert completed.returncode == 0, completed.stderr
    return out, completed


def test_every_student_gets_the_expected_score(clean_run):
    out, _ = clean_run
    with Gradebook(out / "gradebook.db") as book:
        got = {e.student: (e.status, e.points) for e in book.entries()}
    assert got == CLASS


def test_the_run_ends_with_a_summary_and_where_results_went(clean_run):
    out, completed = clean_run
    assert "Class summary" in completed.stdout
    assert f"Graded {len(CLASS)}, skipped 0" in completed.stdout
    for name in ("gradebook.db", "grades.csv", "grades.json", "report.html"):
        assert name in completed.stdout and (out / name).exists()


def test_the_summary_names_the_secret_and_the_sandbox_protections(clean_run, secret_file):
    out, completed = clean_run
    fingerprint = fingerprint_of(secret_file.read_bytes().strip())
    text = " ".join(completed.stdout.split())  # long lines wrap
    assert f"Cases drawn from the course secret in {secret_file} (fingerprint {fingerprint})" in text
    for protection in ("landlock on", "seccomp on", "network namespace on", "private scratch tmpfs on", "capabilities dropped"):
        assert protection in text, protection
    grading = json.loads((out / "grades.json").read_text())["summary"]["grading"]
    assert grading["secret_fingerprints"] == [{"fingerprint": fingerprint, "submissions": len(CLASS)}]
    assert not (out / ".secret").exists()  # the secret file given is the one used


def test_exports_hold_the_expected_scores(clean_run):
    out, _ = clean_run
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert {s: float(rows[s]["score"]) for s in rows} == {s: p for s, (_, p) in CLASS.items()}
    assert float(rows["buggy_bias_forgotten"]["conv_forward_naive"]) == 3
    exported = json.loads((out / "grades.json").read_text())
    text = json.dumps(exported)
    assert "Your output is exactly the expected one minus the bias" in text
    gradescope = json.loads((out / "gradescope" / "buggy_nhwc" / "conv_layers" / "results.json").read_text())
    assert gradescope["score"] == 27 and sum(t["score"] for t in gradescope["tests"]) == 27
    feedback = (out / "feedback" / "buggy_bias_forgotten" / "conv_layers.md").read_text()
    assert "Smallest failing call" in feedback and "minus the bias" in feedback


def test_rerun_skips_what_is_graded(clean_run, submissions, secret_file):
    out, _ = clean_run
    again = _autograder("grade", submissions, "--out", out, "--examples", EXAMPLES, "--secret-file", secret_file)
    assert again.returncode == 0
    assert f"Graded 0, skipped {len(CLASS)}" in again.stdout


def test_sigkill_then_resume_equals_a_clean_run(clean_run, submissions, tmp_path, secret_file):
    out = tmp_path / "grades"
    command = [sys.executable, "-m", "autograder.cli", "grade", str(submissions), "--out", str(out), "--workers", "1", "--examples", EXAMPLES, "--secret-file", str(secret_file)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    recorded = 0
    while time.time() < deadline and recorded < 3:
        # The class grades from 1 to len(CLASS) recorded in about 0.4 s (stub and unreadable ones are quick):
        # a poll every 0.2 s could miss the whole window, one every 20 ms (an open is 3-15 ms) does not.
        time.sleep(0.02)
        if (out / "gradebook.db").exists():
            with Gradebook(out / "gradebook.db") as book:
                recorded = len(book.entries())
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 3 <= recorded < len(CLASS), "the kill should land partway through"
    resumed = _autograder("grade", submissions, "--out", out, "--workers", "1", "--examples", EXAMPLES, "--secret-file", secret_file)
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipped {recorded}" in resumed.stdout or "skipped" in resumed.stdout
    assert _normalized(out / "gradebook.db") == _normalized(clean_run[0] / "gradebook.db")


def test_one_worker_and_a_dask_cluster_give_the_same_gradebook(clean_run, submissions, tmp_path, secret_file):
    one = tmp_path / "one"
    assert _autograder("grade", submissions, "--out", one, "--workers", "1", "--examples", EXAMPLES, "--secret-file", secret_file).returncode == 0
    assert _normalized(one / "gradebook.db") == _normalized(clean_run[0] / "gradebook.db")
    script = (
        "import sys\n"
        "from distributed import LocalCluster\n"
        "from autograder.classroom.batch import grade_class\n"
        "if __name__ == '__main__':\n"
        "    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host='127.0.0.1') as cluster:\n"
        f"        grade_class({str(submissions)!r}, out={str(tmp_path / 'dask')!r}, dask=cluster.scheduler_address, examples={EXAMPLES}, export=False, secret_file={str(secret_file)!r})\n"
    )
    path = tmp_path / "run_dask.py"
    path.write_text(script)
    completed = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert _normalized(tmp_path / "dask" / "gradebook.db") == _normalized(clean_run[0] / "gradebook.db")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grade", "{tmp}/no/such/folder"], "no such folder"),
        (["grade", "{root}/README.md"], "found a file"),
        (["grade", "{tmp}"], "no submissions found"),
        (["grade", "{root}/examples", "--assignment", "conv_layer"], "Did you mean 'conv_layers'"),
        (["export", "--out", "{tmp}/grades"], "no gradebook at"),
        (["report", "--out", "{tmp}/grades"], "no gradebook at"),
    ],
    ids=["missing folder", "a file", "empty folder", "unknown assignment", "export without gradebook", "report without gradebook"],
)
def test_bad_folders_say_what_to_do_and_exit_2(args, message, tmp_path):
    args = [a.format(tmp=tmp_path, root=ROOT) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "next:" in result.output


def test_internal_errors_exit_3(monkeypatch, tmp_path):
    summary = batch.BatchSummary(jobs=1, graded=1, internal_errors=1, db_url="sqlite:///x")
    monkeypatch.setattr("autograder.cli.instructor.grade_class", lambda *a, **k: summary)
    result = CliRunner().invoke(main, ["grade", str(tmp_path)])
    assert result.exit_code == 3
    assert "internal error of the grader" in result.output


def test_a_grader_bug_becomes_an_internal_error_entry(monkeypatch, submissions):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("our bug")

    monkeypatch.setattr("autograder.engine.grading.grade", broken)
    entry = batch.grade_job(batch.Job("correct", "conv_layers", str(submissions / "correct" / "conv_layers")))
    assert entry["status"] == "internal error" and "ZeroDivisionError: our bug" in entry["error"]
    assert entry["points"] == 0 and entry["max_points"] == 33
