"""A batch that nothing one submission does can sink: a dead worker strikes only its own job."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import worker_hooks

from autograder.classroom import batch

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "examples" / "conv_layers" / "correct.py"


def jobs(*students: str) -> list[batch.Job]:
    return [batch.Job(student, "conv_layers", f"/nonexistent/{student}") for student in students]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_death_strikes_only_the_job_that_caused_it(workers):
    queue = jobs("kills_worker", "ada", "bob", "cyd", "dee", "eve")
    entries = list(batch._pool_results(queue, workers, None, run=worker_hooks.quick_or_die))
    by_student = {entry["student"]: entry for entry in entries}
    assert sorted(by_student) == sorted(job.student for job in queue)
    assert len(entries) == len(queue)  # each recorded once
    assert by_student["kills_worker"]["status"] == "internal error"
    assert "died twice" in by_student["kills_worker"]["error"]
    assert all(by_student[name]["status"] == "graded" for name in ("ada", "bob", "cyd", "dee", "eve"))


def test_two_killers_in_one_batch_are_both_found_and_nobody_else_is_struck():
    queue = jobs("ada", "kills_worker_1", "bob", "kills_worker_2", "cyd")
    entries = {entry["student"]: entry["status"] for entry in
               batch._pool_results(queue, 2, None, run=worker_hooks.quick_or_die)}
    assert entries == {"ada": "graded", "bob": "graded", "cyd": "graded",
                       "kills_worker_1": "internal error", "kills_worker_2": "internal error"}


@pytest.mark.slow
def test_correct_submissions_queued_behind_a_worker_killer_get_full_marks(tmp_path):
    for student in ("kills_worker", "ada", "bob", "cyd"):
        folder = tmp_path / student / "conv_layers"
        folder.mkdir(parents=True)
        shutil.copy(CORRECT, folder / "conv_layers.py")
    found, _ = batch.discover(tmp_path)
    entries = {entry["student"]: entry for entry in
               batch._pool_results(found, 2, 10, run=worker_hooks.grade_or_die)}
    assert entries["kills_worker"]["status"] == "internal error"
    for student in ("ada", "bob", "cyd"):
        assert entries[student]["status"] == "graded"
        assert entries[student]["points"] == entries[student]["max_points"] == 33


# ---------------------------------------------------------------- symbolic links between students' folders


@pytest.fixture
def linked_class(tmp_path):
    """A class with every kind of folder link: into a classmate's folder, out of the class, inside one's own."""
    root = tmp_path / "submitted"  # nbgrader's layout: submitted/<student>/<assignment>/
    own = root / "alice" / "conv_layers"
    own.mkdir(parents=True)
    shutil.copy(CORRECT, own / "conv_layers.py")
    (own / "timestamp.txt").write_text("2026-12-07 12:00:00")
    (root / "bob").mkdir()
    (root / "bob" / "conv_layers").symlink_to(own)  # bob's assignment folder is alice's
    (root / "carol").symlink_to(root / "alice")  # carol's whole folder is alice's
    outside = tmp_path / "elsewhere" / "conv_layers"
    outside.mkdir(parents=True)
    shutil.copy(CORRECT, outside / "conv_layers.py")
    (root / "dan").mkdir()
    (root / "dan" / "conv_layers").symlink_to(outside)  # out of the class altogether
    drafts = root / "erin" / "drafts" / "v2"
    drafts.mkdir(parents=True)
    shutil.copy(CORRECT, drafts / "conv_layers.py")
    (root / "erin" / "conv_layers").symlink_to(drafts)  # inside erin's own folder: her work
    (root / "fay").mkdir()
    (root / "fay" / "conv_layers").symlink_to(root / "fay" / "conv_layers")  # a loop
    return root


def test_folders_linking_out_of_their_students_folder_are_ungradable(linked_class):
    found, _ = batch.discover(linked_class)
    problems = {job.student: job.problem for job in found}
    assert sorted(problems) == ["alice", "bob", "carol", "dan", "erin"]  # fay's loop is no folder at all
    assert problems["alice"] == problems["erin"] == ""
    assert "bob/conv_layers: a symbolic link that leads outside the student's folder" in problems["bob"]
    assert str(linked_class.resolve() / "alice" / "conv_layers") in problems["bob"]
    assert "carol: the student's folder is a symbolic link" in problems["carol"]
    assert "dan/conv_layers: a symbolic link that leads outside the student's folder" in problems["dan"]


def test_an_ungradable_linked_folder_is_recorded_with_its_reason_and_never_read(linked_class, monkeypatch):
    found, _ = batch.discover(linked_class, student="bob")

    def no_reading(*args, **kwargs):
        raise AssertionError("the classmate's files were read")

    monkeypatch.setattr(batch, "content_hash", no_reading)
    [job] = found
    entry = batch.grade_job(job)
    assert entry["status"] == "ungradable" and entry["points"] == 0
    assert "leads outside the student's folder" in entry["error"] and "submit the files themselves" in entry["error"]
    assert entry["content_hash"].startswith("ungradable:")


def test_a_link_inside_the_students_own_folder_is_graded(linked_class):
    [job] = batch.discover(linked_class, student="erin")[0]
    entry = batch.grade_job(job, examples=5)
    assert entry["status"] == "graded" and entry["points"] == 33


@pytest.mark.slow
def test_on_a_dask_cluster_a_worker_killer_is_recorded_and_the_others_graded():
    from distributed import LocalCluster

    queue = jobs("ada", "kills_worker", "bob", "cyd")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        entries = {entry["student"]: entry["status"] for entry in
                   batch._dask_results(queue, cluster.scheduler_address, None, run=worker_hooks.quick_or_die)}
    assert entries == {"ada": "graded", "bob": "graded", "cyd": "graded", "kills_worker": "internal error"}
