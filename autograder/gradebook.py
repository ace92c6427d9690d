"""The gradebook: every graded submission, one row each, written as it finishes.

An SQLite file by default (``grades/gradebook.db``); any SQLAlchemy URL
works. A row holds who and what was graded, the content hash of the files,
the rubric version and the fingerprint of the course secret they were graded
under (so a rerun can skip what is already graded, and regrades when the
secret changes), the score, what graded it (versions that decide the cases,
the sandbox's protections), and the full result as JSON (every property's
verdict, counterexample, hint and timing), from which all exports are made.
Gradebooks written before a column existed gain it on opening.
Each :meth:`Gradebook.record` is its own transaction: a run killed at any
moment loses at most the submissions still being graded.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

__all__ = ["GradebookEntry", "Gradebook", "database_url"]

_metadata = sa.MetaData()
_submissions = sa.Table(
    "submissions",
    _metadata,
    sa.Column("student", sa.String(255), primary_key=True),
    sa.Column("assignment", sa.String(255), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("rubric_version", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),  # graded | ungradable | internal error
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("max_points", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("graded_at", sa.String(40), nullable=False),
    sa.Column("result_json", sa.Text, nullable=False),
    sa.Column("secret_fingerprint", sa.String(64), nullable=False, server_default=""),
    sa.Column("grader_json", sa.Text, nullable=False, server_default="{}"),
)
# Columns added after the first gradebooks were written: (name, SQL type and default) for ALTER TABLE.
_ADDED_COLUMNS = (("secret_fingerprint", "VARCHAR(64) NOT NULL DEFAULT ''"), ("grader_json", "TEXT NOT NULL DEFAULT '{}'"))


@dataclass
class GradebookEntry:
    """One graded submission: ``result`` is ``SubmissionResult.to_dict()`` (or a stand-in for an ungradable one).

    ``secret_fingerprint`` names the course secret its cases were drawn from
    (``""``: public cases); ``grader`` records what else decides them and how
    the code was confined: Python, Hypothesis and NumPy versions, and the
    sandbox's ``protections`` on the machine that graded it.
    """

    student: str
    assignment: str
    content_hash: str
    rubric_version: str
    status: str
    points: float
    max_points: float
    seconds: float = 0.0
    error: str = ""
    result: dict = field(default_factory=dict)
    secret_fingerprint: str = ""
    grader: dict = field(default_factory=dict)
    graded_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GradebookEntry:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


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
                # read went on to write ("database is locked"): then try again.
                if self._is_set_up():
                    return
                if "database is locked" not in str(error) or attempt == _SETUP_ATTEMPTS - 1:
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
            return sa.inspect(self.engine).has_table(_submissions.name) and not self._missing_columns()
        except sa.exc.OperationalError:  # locked too: not known to be there yet
            return False

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def is_graded(self, student: str, assignment: str, content_hash: str, rubric_version: str, secret_fingerprint: str = "") -> bool:
        """Whether this exact content was already graded under this rubric version and course secret."""
        columns = (_submissions.c.content_hash, _submissions.c.rubric_version, _submissions.c.secret_fingerprint)
        query = sa.select(*columns).where(_submissions.c.student == student, _submissions.c.assignment == assignment)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return row is not None and tuple(row) == (content_hash, rubric_version, secret_fingerprint)

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
        }
        key = (_submissions.c.student == entry.student) & (_submissions.c.assignment == entry.assignment)
        with self.engine.begin() as connection:
            connection.execute(sa.delete(_submissions).where(key))
            connection.execute(sa.insert(_submissions).values(**values))

    def entries(self, *, assignment: str | None = None, student: str | None = None) -> list[GradebookEntry]:
        """All recorded submissions, sorted by assignment then student."""
        query = sa.select(_submissions).order_by(_submissions.c.assignment, _submissions.c.student)
        if assignment:
            query = query.where(_submissions.c.assignment == assignment)
        if student:
            query = query.where(_submissions.c.student == student)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
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
            )
            for row in rows
        ]
