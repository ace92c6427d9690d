"""A batch that nothing one submission does can sink: a dead worker strikes only its own job."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import worker_hooks

from autograder import batch

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
