"""Job runners for the batch tests: importable by name in the grading workers (``tests`` is on their path).

A worker process unpickles the function it runs by module and name, so these
cannot live in a test module (imported by path, under a name of pytest's).
"""

from __future__ import annotations

import os

from autograder.classroom import batch


def grade_or_die(job: batch.Job, examples: int | None, secret: bytes | None = None) -> dict:
    """Grade the job, unless its student is named ``kills_worker...``: then the worker process dies at once.

    That stands for a submission whose grading kills the worker (the machine's
    out-of-memory killer, say), which the grader must charge to that one job.
    """
    if job.student.startswith("kills_worker"):
        os._exit(9)
    return batch.grade_job(job, examples, secret)


def quick_or_die(job: batch.Job, examples: int | None, secret: bytes | None = None) -> dict:
    """Like `grade_or_die` without grading: an entry naming the job and the worker's pid."""
    if job.student.startswith("kills_worker"):
        os._exit(9)
    return {"student": job.student, "status": "graded", "pid": os.getpid()}
