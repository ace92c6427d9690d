"""Timestamps, lateness and late penalties computed as nbgrader 0.9.6 computes them."""

import os
from datetime import datetime, timedelta

import pytest
from nbgrader.preprocessors import AssignLatePenalties
from nbgrader.utils import parse_utc
from traitlets.config import Config

from autograder.classroom.lateness import LatePolicy, late_penalty, parse_timestamp, read_timestamp
from autograder.nbgrader.late import SubtractLatePenalty

DUE = datetime(2024, 3, 1, 12, 0)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01 12:00:00.000000 UTC",  # nbgrader's own format (Exchange.timestamp_format)
        "2015-02-02 14:58:23.948203 America/Los_Angeles",
        "2015-02-02 14:58:23.948203 PST",
        "2024-03-01 12:00:00",
        "2024-03-01T12:00:00+01:00",
        "2024-03-01 23:59",
        "2024-07-01 09:15:00.5 Europe/Paris",
    ],
)
def test_timestamps_read_as_nbgrader_reads_them(text):
    assert parse_timestamp(text) == parse_utc(text)


@pytest.mark.parametrize(
    ("content", "expected", "problem"),
    [
        (None, None, ""),
        ("2024-03-01 14:30:00.000000 UTC\n", datetime(2024, 3, 1, 14, 30), ""),
        ("", None, "is empty"),
        ("not a date at all", None, "holds no date and time"),
        ("2024-03-01 12:00:00 UTC" + " " * 400, None, "longer than one timestamp"),
        (b"\xff\xfe", None, "cannot be read"),
    ],
    ids=["no file", "nbgrader's format", "empty", "garbage", "too long", "not UTF-8"],
)
def test_read_timestamp(tmp_path, content, expected, problem):
    if content is not None:
        target = tmp_path / "timestamp.txt"
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    stamp, why = read_timestamp(tmp_path)
    assert stamp == expected
    assert (problem in why) if problem else why == ""
    assert "not a date at all" not in why  # the file's text is never echoed


def test_a_timestamp_that_is_a_symlink_is_not_followed(tmp_path):
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("2020-01-01 00:00:00 UTC")
    folder = tmp_path / "submission"
    folder.mkdir()
    os.symlink(secret, folder / "timestamp.txt")
    assert read_timestamp(folder) == (None, "timestamp.txt is not a plain file; the submission has no timestamp")


@pytest.mark.parametrize(
    ("policy", "score", "late", "expected"),
    [
        (LatePolicy(), 30.0, 3600.0, 0.0),
        (LatePolicy("zero"), 30.0, 1.0, 30.0),
        (LatePolicy("subtract", 2, "hour"), 30.0, 1.0, 2.0),  # a started hour counts
        (LatePolicy("subtract", 2, "hour"), 30.0, 2.5 * 3600, 6.0),
        (LatePolicy("subtract", 1, "day"), 30.0, 86400.0, 1.0),
        (LatePolicy("subtract", 10, "hour"), 12.0, 5 * 3600, 12.0),  # kept within the score
        (LatePolicy("subtract", 3, "minute"), 0.0, 600.0, 0.0),
    ],
    ids=["none", "zero", "one second", "2.5 hours", "exactly a day", "capped at the score", "nothing to take"],
)
def test_late_penalty(policy, score, late, expected):
    seconds, penalty = late_penalty(policy, "alice", score, DUE + timedelta(seconds=late), DUE)
    assert (seconds, penalty) == (late, expected)


@pytest.mark.parametrize("submitted, due", [(None, DUE), (DUE, None), (DUE, DUE), (DUE - timedelta(days=1), DUE)],
                         ids=["no timestamp", "no due date", "on the dot", "early"])
def test_not_late_is_never_penalised(submitted, due):
    assert late_penalty(LatePolicy("zero"), "alice", 30.0, submitted, due) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("half",), "method='half'"),
        (("subtract", 1, "fortnight"), "penalty_unit='fortnight'"),
        (("subtract", -1, "hour"), "points_per_unit=-1"),
        (("subtract", float("nan"), "hour"), "points_per_unit=nan"),
    ],
    ids=["unknown method", "unknown unit", "negative points", "nan points"],
)
def test_bad_policies_name_the_parameter(arguments, message):
    with pytest.raises(ValueError, match=message):
        LatePolicy(*arguments)


def _nbgrader_penalty(config: Config, score: float, seconds_late: float) -> float:
    """The penalty nbgrader's AssignLatePenalties step assigns, made from ``config`` as autograde makes it."""
    step = AssignLatePenalties(config=config)
    step.init_plugin()
    penalty = step.plugin_inst.late_submission_penalty("alice", score, seconds_late)
    return 0.0 if penalty is None else min(max(penalty, 0.0), score)


@pytest.mark.parametrize("seconds_late", [1.0, 3599.0, 3601.0, 5 * 86400.0])
def test_subtract_plugin_in_nbgrader_gives_our_penalty(seconds_late):
    config = Config()
    config.AssignLatePenalties.plugin_class = "autograder.nbgrader.late.SubtractLatePenalty"
    config.SubtractLatePenalty.points_per_unit = 1.5
    config.SubtractLatePenalty.penalty_unit = "hour"
    ours = late_penalty(LatePolicy("subtract", 1.5, "hour"), "alice", 20.0, DUE + timedelta(seconds=seconds_late), DUE)[1]
    assert _nbgrader_penalty(config, 20.0, seconds_late) == ours
    assert isinstance(AssignLatePenalties(config=config).plugin_class(), SubtractLatePenalty)


@pytest.mark.parametrize("method", ["none", "zero"])
def test_nbgrader_builtin_methods_give_our_penalty(method):
    config = Config()
    config.LateSubmissionPlugin.penalty_method = method
    ours = late_penalty(LatePolicy(method), "alice", 20.0, DUE + timedelta(hours=1), DUE)[1]
    assert _nbgrader_penalty(config, 20.0, 3600.0) == ours
