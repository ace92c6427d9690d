"""Submission timestamps, due dates and late penalties, as nbgrader computes them.

nbgrader's ``collect`` (and ``submit``) write ``timestamp.txt`` into each
submission folder: one line such as ``2024-03-01 12:00:00.000000 UTC``
(``Exchange.timestamp_format``, ``%Y-%m-%d %H:%M:%S.%f %Z``). ``autograde``
reads it (``CourseDirectory.get_existing_timestamp``), converts it to naive
UTC (``nbgrader.utils.parse_utc``), and a submission is late by
``max(0, timestamp - due date)`` seconds, the due date including the
student's extension. Only a late submission meets the late-submission
plugin, whose penalty is kept within ``[0, score]``
(``AssignLatePenalties._check_late_penalty``); ``nbgrader export`` then
reports ``score = max(0, raw_score - penalty)``. This module does the same
for ``autograder grade``:

``parse_timestamp`` / ``read_timestamp``
    nbgrader's ``parse_utc`` and ``get_existing_timestamp``.
``LatePolicy``
    The penalty of a plain run: ``none`` (nbgrader's default), ``zero``
    (nbgrader's other built-in method) or ``subtract`` (``points_per_unit``
    for every started ``penalty_unit`` late).
``SubtractLatePenalty``
    The ``subtract`` policy as an nbgrader plugin, so that ``nbgrader
    autograde`` applies the same penalty (nbgrader 0.9.6 has only ``none``
    and ``zero`` built in; its documentation's example plugin subtracts
    points per hour late). Defined in :mod:`autograder.nbgrader.late`, which
    imports nbgrader.
``late_penalty``
    Seconds late and the penalty for one submission under any policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

__all__ = [
    "TIMESTAMP_FILE",
    "UNIT_SECONDS",
    "PENALTY_METHODS",
    "LatePolicy",
    "PenaltyPolicy",
    "parse_timestamp",
    "read_timestamp",
    "late_penalty",
    "iso",
]

#: The file nbgrader's collect and submit write in each submission folder.
TIMESTAMP_FILE = "timestamp.txt"
#: Units a ``subtract`` penalty can count in.
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
#: ``none`` and ``zero`` are nbgrader's ``LateSubmissionPlugin.penalty_method``; ``subtract`` is ours.
PENALTY_METHODS = ("none", "zero", "subtract")
_MAX_TIMESTAMP_BYTES = 200  # one line; a bigger file is not nbgrader's


def parse_timestamp(text: str | datetime) -> datetime:
    """A timestamp as naive UTC, exactly as ``nbgrader.utils.parse_utc`` reads it.

    ``"date time ZONE"`` (three words, nbgrader's own format) takes the zone
    as a name (``UTC``, ``America/Los_Angeles``) or an integer; anything
    else goes to dateutil, and a naive time is taken as UTC.

    Raises
    ------
    ValueError
        When dateutil cannot read it.

    Examples
    --------
    >>> parse_timestamp("2015-02-02 14:58:23.948203 America/Los_Angeles")
    datetime.datetime(2015, 2, 2, 22, 58, 23, 948203)
    >>> parse_timestamp("2024-03-01T12:00:00+01:00")
    datetime.datetime(2024, 3, 1, 11, 0)
    """
    import dateutil.parser
    import dateutil.tz

    if isinstance(text, str):
        parts = text.split(" ")
        try:
            if len(parts) == 3:
                zone: object = parts[2]
                try:
                    zone = int(parts[2])
                except ValueError:
                    zone = dateutil.tz.gettz(parts[2])
                stamp = dateutil.parser.parse(" ".join(parts[:2] + ["TZ"]), tzinfos={"TZ": zone})
            else:
                stamp = dateutil.parser.parse(text)
        except (OverflowError, dateutil.parser.ParserError) as error:
            raise ValueError(f"not a date and time: {text!r} ({error})") from None
    else:
        stamp = text
    if stamp.tzinfo is not None:
        stamp = (stamp - stamp.utcoffset()).replace(tzinfo=None)
    return stamp


def read_timestamp(folder: str | Path) -> tuple[datetime | None, str]:
    """The submission's ``timestamp.txt``, as nbgrader's autograde reads it: ``(naive UTC or None, problem)``.

    No file: ``(None, "")``. An empty, unreadable or unparsable file, or one
    that is a symbolic link, gives ``None`` and says why (nbgrader logs an
    error and grades the submission without a timestamp); the file's text is
    never repeated in the problem.
    """
    path = Path(folder) / TIMESTAMP_FILE
    if not path.exists() and not path.is_symlink():
        return None, ""
    if path.is_symlink() or not path.is_file():
        return None, f"{TIMESTAMP_FILE} is not a plain file; the submission has no timestamp"
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_TIMESTAMP_BYTES + 1)
        text = data.decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None, f"{TIMESTAMP_FILE} cannot be read; the submission has no timestamp"
    if len(data) > _MAX_TIMESTAMP_BYTES:
        return None, f"{TIMESTAMP_FILE} is longer than one timestamp; the submission has no timestamp"
    if not text:
        return None, f"{TIMESTAMP_FILE} is empty; the submission has no timestamp"
    try:
        return parse_timestamp(text), ""
    except ValueError:
        return None, f"{TIMESTAMP_FILE} holds no date and time nbgrader can read; the submission has no timestamp"


def iso(stamp: datetime | None) -> str:
    """A naive UTC time as ISO 8601 with its offset (``2024-03-01T12:00:00+00:00``), ``""`` for None."""
    return "" if stamp is None else stamp.replace(tzinfo=UTC).isoformat()


class PenaltyPolicy(Protocol):
    """What assigns a late submission's penalty (nbgrader's ``late_submission_penalty`` signature)."""

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None: ...


@dataclass(frozen=True)
class LatePolicy:
    """A late-submission penalty: nbgrader's ``none`` or ``zero``, or ``subtract`` points per started unit late.

    Parameters
    ----------
    method : {"none", "zero", "subtract"}
        ``none``: lateness is recorded, no penalty (nbgrader's default).
        ``zero``: a late submission scores 0. ``subtract``: ``points_per_unit``
        for every started ``penalty_unit`` late (1 s late is one unit).
    points_per_unit : float
        Points taken per unit late (``subtract`` only); at least 0.
    penalty_unit : {"minute", "hour", "day", "week"}

    Examples
    --------
    >>> LatePolicy("subtract", 2, "day").late_submission_penalty("alice", 30.0, 86400 + 1)
    4.0
    >>> LatePolicy("zero").late_submission_penalty("alice", 30.0, 5.0)
    30.0
    """

    method: str = "none"
    points_per_unit: float = 1.0
    penalty_unit: str = "hour"

    def __post_init__(self) -> None:
        if self.method not in PENALTY_METHODS:
            raise ValueError(f"late penalty method={self.method!r}; choose one of {', '.join(PENALTY_METHODS)}")
        if self.penalty_unit not in UNIT_SECONDS:
            raise ValueError(f"penalty_unit={self.penalty_unit!r}; choose one of {', '.join(UNIT_SECONDS)}")
        if not (self.points_per_unit >= 0 and math.isfinite(self.points_per_unit)):
            raise ValueError(f"points_per_unit={self.points_per_unit!r} must be a finite number of points, 0 or more")

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        """The penalty before it is kept within ``[0, score]`` (None: no penalty), as an nbgrader plugin returns it."""
        if self.method == "zero":
            return score
        if self.method == "subtract":
            return float(self.points_per_unit * math.ceil(total_seconds_late / UNIT_SECONDS[self.penalty_unit]))
        return None

    def describe(self) -> str:
        """The policy in words: ``"subtract 2 points per started day late"``."""
        if self.method == "subtract":
            return f"subtract {self.points_per_unit:g} point{'s' if self.points_per_unit != 1 else ''} per started {self.penalty_unit} late"
        return {"none": "none (lateness recorded, no penalty)", "zero": "zero (a late submission scores 0)"}[self.method]


def late_penalty(policy: PenaltyPolicy, student: str, score: float, submitted: datetime | None,
                 due: datetime | None) -> tuple[float, float]:
    """``(seconds late, penalty)`` for one submission, as nbgrader's ``AssignLatePenalties`` assigns them.

    Not late (no timestamp, no due date, on time): ``(0, 0)``, and the policy
    is not asked. Late: the policy's penalty, ``None`` read as 0, kept within
    ``[0, score]``.

    >>> late_penalty(LatePolicy("subtract", 5, "hour"), "bob", 12.0, datetime(2024, 3, 2, 3), datetime(2024, 3, 2))
    (10800.0, 12.0)
    """
    if submitted is None or due is None or submitted <= due:
        return 0.0, 0.0
    seconds = (submitted - due).total_seconds()
    penalty = policy.late_submission_penalty(student, score, seconds)
    return seconds, 0.0 if penalty is None else min(max(float(penalty), 0.0), score)
