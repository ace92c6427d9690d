"""The gradebook: every graded submission, one row each, written as it finishes.

An SQLite file by default (``grades/gradebook.db``); any SQLAlchemy URL
works. A row holds who and what was graded, the content hash of the files,
the rubric version, the fingerprint of the course secret and the grader's
fingerprint (:mod:`autograder.engine.fingerprint`: package, rubric, Hypothesis,
NumPy and Python versions) they were graded under (so a rerun can skip what
is already graded, and regrades when the secret or the grader changes), the
score, what graded it (those versions, the machine, the sandbox's protections), the submission's timestamp (nbgrader's
``timestamp.txt``), due date, seconds late and late penalty, and the full
result as JSON (every property's verdict, counterexample, hint and timing),
from which all exports are made. Two more tables hold the class: the roster
(``students``: id and the names and email of ``nbgrader db student
import``'s CSV) and the assignments with their due dates; from them
:meth:`Gradebook.entries` can add a ``missing`` entry (0 points) for each
student without a submission, as ``nbgrader export`` lists them.
Gradebooks written before a column existed gain it on opening.
Each :meth:`Gradebook.record` is its own transaction: a run killed at any
moment loses at most the submissions still being graded.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from ..engine.results import Status, SubmissionResult

__all__ = ["GradebookEntry", "submission_result", "Gradebook", "Student", "RosterError", "read_roster", "database_url"]

_metadata = sa.MetaData()
_submissions = sa.Table(
    "submissions",
    _metadata,
    sa.Column("student", sa.String(255), primary_key=True),
    sa.Column("assignment", sa.String(255), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("rubric_version", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # a Status: graded | ungradable | internal error
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("max_points", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("graded_at", sa.String(40), nullable=False),
    sa.Column("result_json", sa.Text, nullable=False),
    sa.Column("secret_fingerprint", sa.String(64), nullable=False, server_default=""),
    sa.Column("grader_json", sa.Text, nullable=False, server_default="{}"),
    sa.Column("timestamp", sa.String(40), nullable=False, server_default=""),  # ISO 8601 UTC, from timestamp.txt
    sa.Column("due_date", sa.String(40), nullable=False, server_default=""),  # ISO 8601 UTC, extension included
    sa.Column("seconds_late", sa.Float, nullable=False, server_default="0"),
    sa.Column("late_penalty", sa.Float, nullable=False, server_default="0"),
    sa.Column("grader_fingerprint", sa.String(64), nullable=False, server_default=""),  # "": graded before fingerprints
)
# Columns added after the first gradebooks were written: (name, SQL type and default) for ALTER TABLE.
_ADDED_COLUMNS = (
    ("secret_fingerprint", "VARCHAR(64) NOT NULL DEFAULT ''"),
    ("grader_json", "TEXT NOT NULL DEFAULT '{}'"),
    ("timestamp", "VARCHAR(40) NOT NULL DEFAULT ''"),
    ("due_date", "VARCHAR(40) NOT NULL DEFAULT ''"),
    ("seconds_late", "FLOAT NOT NULL DEFAULT 0"),
    ("late_penalty", "FLOAT NOT NULL DEFAULT 0"),
    ("grader_fingerprint", "VARCHAR(64) NOT NULL DEFAULT ''"),
)
_students = sa.Table(
    "students",
    _metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("first_name", sa.String(255), nullable=False, default=""),
    sa.Column("last_name", sa.String(255), nullable=False, default=""),
    sa.Column("email", sa.String(255), nullable=False, default=""),
)
_assignments = sa.Table(
    "assignments",
    _metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("due_date", sa.String(40), nullable=False, default=""),  # ISO 8601 UTC, "" for none
)


class RosterError(ValueError):
    """A roster file that cannot be read; the message says what to fix."""


@dataclass(frozen=True)
class Student:
    """One student of the roster, as ``nbgrader db student import`` takes them."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""


def read_roster(path: str | Path) -> list[Student]:
    """Students from a CSV with an ``id`` column and optional ``first_name, last_name, email`` (nbgrader's import format).

    Raises
    ------
    RosterError
        No such file, no ``id`` column, an empty or repeated id.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
            columns = [name.strip() for name in reader.fieldnames or []]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"{path}: cannot read the roster ({error})") from None
    if "id" not in columns:
        raise RosterError(f"{path}: the roster has no 'id' column (found {', '.join(map(repr, columns))}); "
                          "expected a header line 'id,first_name,last_name,email' as nbgrader db student import takes")
    students, seen = [], set()
    for line, row in enumerate(rows, start=2):
        row = {(name or "").strip(): value for name, value in row.items()}
        student_id = (row.get("id") or "").strip()
        if not student_id:
            raise RosterError(f"{path}, line {line}: empty student id")
        if student_id in seen:
            raise RosterError(f"{path}, line {line}: student id {student_id!r} is listed twice")
        seen.add(student_id)
        students.append(Student(student_id, *((row.get(name) or "").strip() for name in ("first_name", "last_name", "email"))))
    return students


@dataclass
class GradebookEntry:
    """One graded submission: ``result`` is ``SubmissionResult.to_dict()`` (or a stand-in for an ungradable one).

    ``secret_fingerprint`` names the course secret its cases were drawn from
    (``""``: public cases); ``grader_fingerprint`` is the ``digest`` of the
    grader's fingerprint (:func:`autograder.engine.fingerprint.grader_fingerprint`:
    what else decides them; ``""`` for a row graded before fingerprints, or
    never graded); ``grader`` records that fingerprint whole and how the code
    was confined: the machine, and the sandbox's ``protections`` there.

    ``timestamp`` is when the student submitted (nbgrader's ``timestamp.txt``,
    ISO 8601 UTC; ``""`` without one), not when it was graded (``graded_at``);
    ``due_date`` the due date that applied (the student's extension
    included), ``seconds_late`` and ``late_penalty`` as nbgrader computes
    them (:mod:`autograder.classroom.lateness`); ``points`` is the raw score,
    :attr:`score` the score after the penalty. ``first_name``, ``last_name``
    and ``email`` come from the roster when the entry is read. A student of
    the roster without a submission has ``status="missing"`` and 0 points.
    """

    student: str
    assignment: str
    content_hash: str
    rubric_version: str
    status: Status
    points: float
    max_points: float
    seconds: float = 0.0
    error: str = ""
    result: dict = field(default_factory=dict)
    secret_fingerprint: str = ""
    grader: dict = field(default_factory=dict)
    graded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    timestamp: str = ""
    due_date: str = ""
    seconds_late: float = 0.0
    late_penalty: float = 0.0
    grader_fingerprint: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @property
    def score(self) -> float:
        """The points after the late penalty, never below 0 (``nbgrader export``'s ``score``)."""
        return max(0.0, self.points - self.late_penalty)

    def to_dict(self) -> dict:
        return {**asdict(self), "score": self.score}

    @classmethod
    def from_dict(cls, data: dict) -> GradebookEntry:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


def submission_result(entry: GradebookEntry) -> SubmissionResult:
    """The typed result of an entry; a stand-in made from the entry's own fields if it holds none."""
    if entry.result.get("functions") is not None and "path" in entry.result:
        return SubmissionResult.from_dict(entry.result)
    return SubmissionResult(
        path=entry.result.get("path", ""),
        assignment=entry.assignment,
        rubric_version=entry.rubric_version,
        status=entry.status,
        error=entry.error,
        seconds=entry.seconds,
        max_points_total=entry.max_points,
    )


def database_url(db: str | Path) -> str:
    """An SQLAlchemy URL from ``db``: a URL is kept, a path becomes ``sqlite:///<absolute path>``."""
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve()}"


_SETUP_ATTEMPTS = 40  # opening a new gradebook while others do: tries, about 5 s in all
_SETUP_PAUSE = 0.05  # seconds, times 1 to 4, between tries


class Gradebook:
    """Read and write graded submissions.

    Parameters
    ----------
    db : str or Path
        A file path (SQLite, created with its folder if missing) or an SQLAlchemy URL.
    """

    def __init__(self, db: str | Path) -> None:
        self.url = database_url(db)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url)
        for attempt in range(_SETUP_ATTEMPTS):
            try:
                self._set_up()
                return
            except sa.exc.OperationalError as error:
                # Another process (the grader, an export, a report) opened the same new gradebook at
                # the same moment: it created the table between our check and our CREATE (fine), or
                # SQLite refused one of us at once, without waiting, as two connections that both
                # read went on to write ("database is locked"), or the other is still creating the
                # tables, one at a time ("already exists" for one, the next not there yet): try again.
                if self._is_set_up():
                    return
                retry = "database is locked" in str(error) or "already exists" in str(error)
                if not retry or attempt == _SETUP_ATTEMPTS - 1:
                    raise
                time.sleep(_SETUP_PAUSE * (1 + attempt % 4))

    def _set_up(self) -> None:
        if self.engine.dialect.name == "sqlite":
            # Several processes (a rerun, an export) may read while one writes.
            with self.engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        _metadata.create_all(self.engine)
        missing = self._missing_columns()
        if missing:
            with self.engine.begin() as connection:
                for name, definition in missing:
                    connection.exec_driver_sql(f"ALTER TABLE {_submissions.name} ADD COLUMN {name} {definition}")

    def _missing_columns(self) -> list[tuple[str, str]]:
        present = {column["name"] for column in sa.inspect(self.engine).get_columns(_submissions.name)}
        return [(name, definition) for name, definition in _ADDED_COLUMNS if name not in present]

    def _is_set_up(self) -> bool:
        try:
            inspector = sa.inspect(self.engine)
            return all(inspector.has_table(table.name) for table in _metadata.sorted_tables) and not self._missing_columns()
        except sa.exc.OperationalError:  # locked too: not known to be there yet
            return False

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def is_graded(self, student: str, assignment: str, content_hash: str, rubric_version: str, secret_fingerprint: str = "",
                  *, grader_fingerprint: str) -> bool:
        """Whether this exact content was already graded under this rubric version, course secret and grader fingerprint.

        A row without a grader fingerprint (written before there were any)
        is never graded: nothing says what drew its cases.
        """
        columns = (_submissions.c.content_hash, _submissions.c.rubric_version, _submissions.c.secret_fingerprint,
                   _submissions.c.grader_fingerprint)
        query = sa.select(*columns).where(_submissions.c.student == student, _submissions.c.assignment == assignment)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        wanted = (content_hash, rubric_version, secret_fingerprint, grader_fingerprint)
        return row is not None and bool(grader_fingerprint) and tuple(row) == wanted

    def record(self, entry: GradebookEntry) -> None:
        """Write one submission's result in its own transaction, replacing an older one."""
        values = {
            "student": entry.student,
            "assignment": entry.assignment,
            "content_hash": entry.content_hash,
            "rubric_version": entry.rubric_version,
            "status": entry.status,
            "error": entry.error,
            "points": entry.points,
            "max_points": entry.max_points,
            "seconds": entry.seconds,
            "graded_at": entry.graded_at,
            "result_json": json.dumps(entry.result, sort_keys=True),
            "secret_fingerprint": entry.secret_fingerprint,
            "grader_json": json.dumps(entry.grader, sort_keys=True),
            "timestamp": entry.timestamp,
            "due_date": entry.due_date,
            "seconds_late": entry.seconds_late,
            "late_penalty": entry.late_penalty,
            "grader_fingerprint": entry.grader_fingerprint,
        }
        key = (_submissions.c.student == entry.student) & (_submissions.c.assignment == entry.assignment)
        with self.engine.begin() as connection:
            connection.execute(sa.delete(_submissions).where(key))
            connection.execute(sa.insert(_submissions).values(**values))

    def set_lateness(self, student: str, assignment: str, *, timestamp: str, due_date: str,
                     seconds_late: float, late_penalty: float) -> bool:
        """Update a recorded submission's timestamp, due date, lateness and penalty; False if it is not recorded."""
        key = (_submissions.c.student == student) & (_submissions.c.assignment == assignment)
        values = {"timestamp": timestamp, "due_date": due_date, "seconds_late": seconds_late, "late_penalty": late_penalty}
        with self.engine.begin() as connection:
            return connection.execute(sa.update(_submissions).where(key).values(**values)).rowcount > 0

    def set_roster(self, students: list[Student]) -> None:
        """Make ``students`` the class roster, replacing the one held before (one transaction)."""
        with self.engine.begin() as connection:
            connection.execute(sa.delete(_students))
            if students:
                connection.execute(sa.insert(_students), [vars(student) for student in students])

    def roster(self) -> list[Student]:
        """The roster, sorted by id (empty when none was given)."""
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(_students).order_by(_students.c.id)).mappings().all()
        return [Student(**row) for row in rows]

    def set_assignment(self, name: str, due_date: str = "") -> None:
        """Record an assignment of the class and its due date (ISO 8601 UTC, ``""`` for none)."""
        with self.engine.begin() as connection:
            connection.execute(sa.delete(_assignments).where(_assignments.c.name == name))
            connection.execute(sa.insert(_assignments).values(name=name, due_date=due_date))

    def assignments(self) -> dict[str, str]:
        """``{assignment: due date}`` of every assignment recorded or graded."""
        with self.engine.connect() as connection:
            known = dict(connection.execute(sa.select(_assignments.c.name, _assignments.c.due_date)).all())
            graded = connection.execute(sa.select(_submissions.c.assignment).distinct()).scalars().all()
        return {name: known.get(name, "") for name in sorted({*known, *graded})}

    def entries(self, *, assignment: str | None = None, student: str | None = None, missing: bool = False) -> list[GradebookEntry]:
        """Recorded submissions, sorted by assignment then student, with the roster's names and email.

        With ``missing``, also a ``missing`` entry (0 points, the rubric's
        maximum) for each assignment of the class and each student without
        a submission for it: the students of the roster and those who
        submitted any assignment, as ``nbgrader export`` lists them.
        """
        query = sa.select(_submissions).order_by(_submissions.c.assignment, _submissions.c.student)
        if assignment:
            query = query.where(_submissions.c.assignment == assignment)
        if student:
            query = query.where(_submissions.c.student == student)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        roster = {person.id: person for person in self.roster()}
        found = [
            GradebookEntry(
                student=row["student"],
                assignment=row["assignment"],
                content_hash=row["content_hash"],
                rubric_version=row["rubric_version"],
                status=row["status"],
                points=row["points"],
                max_points=row["max_points"],
                seconds=row["seconds"],
                error=row["error"],
                result=json.loads(row["result_json"]),
                secret_fingerprint=row["secret_fingerprint"],
                grader=json.loads(row["grader_json"]),
                graded_at=row["graded_at"],
                timestamp=row["timestamp"],
                due_date=row["due_date"],
                seconds_late=row["seconds_late"],
                late_penalty=row["late_penalty"],
                grader_fingerprint=row["grader_fingerprint"],
            )
            for row in rows
        ]
        if missing:
            found += self._missing(found if not (assignment or student) else self.entries(), roster, assignment, student)
        for entry in found:
            person = roster.get(entry.student)
            if person is not None:
                entry.first_name, entry.last_name, entry.email = person.first_name, person.last_name, person.email
        return sorted(found, key=lambda entry: (entry.assignment, entry.student))

    def _missing(self, submitted: list[GradebookEntry], roster: dict[str, Student], assignment: str | None,
                 student: str | None) -> list[GradebookEntry]:
        """A ``missing`` entry for each (assignment, student) of the class without a submission."""
        from .. import rubrics

        have = {(entry.assignment, entry.student) for entry in submitted}
        students = sorted({*roster, *(entry.student for entry in submitted)})
        made = []
        for name, due_date in self.assignments().items():
            try:
                spec = rubrics.get(name)
            except KeyError:  # an assignment whose rubric is gone: nothing to say what it is worth
                continue
            for person in students:
                if (name, person) in have or (assignment and name != assignment) or (student and person != student):
                    continue
                made.append(GradebookEntry(
                    student=person, assignment=name, content_hash="", rubric_version=spec.version, status=Status.MISSING,
                    points=0.0, max_points=float(spec.max_points), error="no submission", due_date=due_date, graded_at="",
                ))
        return made
