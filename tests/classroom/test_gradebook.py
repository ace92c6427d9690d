"""The gradebook opens safely when another process creates it at the same moment."""

import threading

import pytest
import sqlalchemy as sa

from autograder.classroom import gradebook
from autograder.classroom.gradebook import Gradebook, GradebookEntry, RosterError, Student, read_roster


def _created_elsewhere_first(path):
    """create_all as it goes when another process wins the race: the table appears, then our CREATE fails."""

    def create_all(bind, **options):
        with Gradebook(path):  # the other process
            pass
        raise sa.exc.OperationalError("CREATE TABLE submissions", {}, Exception("table submissions already exists"))

    return create_all


def test_a_table_created_by_another_process_meanwhile_is_fine(tmp_path, monkeypatch):
    path = tmp_path / "gradebook.db"
    racing = _created_elsewhere_first(path)
    real = gradebook._metadata.create_all
    calls = []

    def create_all(bind, **options):
        if not calls:
            calls.append(1)
            monkeypatch.setattr(gradebook._metadata, "create_all", real)  # the other process creates for real
            return racing(bind, **options)
        return real(bind, **options)

    monkeypatch.setattr(gradebook._metadata, "create_all", create_all)
    with Gradebook(path) as book:
        assert book.entries() == []


def test_other_errors_still_raise(tmp_path, monkeypatch):
    def create_all(bind, **options):
        raise sa.exc.OperationalError("CREATE TABLE submissions", {}, Exception("disk I/O error"))

    monkeypatch.setattr(gradebook._metadata, "create_all", create_all)
    with pytest.raises(sa.exc.OperationalError, match="disk I/O error"):
        Gradebook(tmp_path / "gradebook.db")


def test_many_openers_at_once(tmp_path):
    path, errors = tmp_path / "gradebook.db", []

    def open_it():
        try:
            with Gradebook(path) as book:
                book.entries()
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def _locked():
    return sa.exc.OperationalError("PRAGMA journal_mode=WAL", {}, Exception("database is locked"))


def test_a_gradebook_locked_by_another_opener_is_tried_again(tmp_path, monkeypatch):
    # SQLite answers "locked" at once, without its busy timeout, when two connections that
    # both read go on to write: test_many_openers_at_once met it about once in 70 runs.
    real, calls = Gradebook._set_up, []

    def set_up(self):
        calls.append(1)
        if len(calls) == 1:
            raise _locked()
        real(self)

    monkeypatch.setattr(gradebook, "_SETUP_PAUSE", 0.0)
    monkeypatch.setattr(Gradebook, "_set_up", set_up)
    with Gradebook(tmp_path / "gradebook.db") as book:
        assert book.entries() == []
    assert len(calls) == 2


def test_a_gradebook_locked_for_good_still_raises(tmp_path, monkeypatch):
    def set_up(self):
        raise _locked()

    monkeypatch.setattr(gradebook, "_SETUP_PAUSE", 0.0)
    monkeypatch.setattr(gradebook, "_SETUP_ATTEMPTS", 3)
    monkeypatch.setattr(Gradebook, "_set_up", set_up)
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        Gradebook(tmp_path / "gradebook.db")


# ---------------------------------------------------------------- roster, due dates, missing students


def _graded(student, assignment="conv_layers", points=33.0):
    return GradebookEntry(student, assignment, "h", "1", "graded", points, 33.0, result={"functions": []})


def test_roster_in_nbgraders_import_format(tmp_path):
    path = tmp_path / "students.csv"
    path.write_text("id,first_name,last_name,email\nalice,Alice,Liddell,alice@example.org\n bob ,,,\n", encoding="utf-8")
    assert read_roster(path) == [Student("alice", "Alice", "Liddell", "alice@example.org"), Student("bob")]
    only_ids = tmp_path / "ids.csv"
    only_ids.write_text("id\ncarol\n", encoding="utf-8")
    assert read_roster(only_ids) == [Student("carol")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student,name\nalice,Alice\n", "has no 'id' column"),
        ("id,first_name\nalice,A\n,B\n", "line 3: empty student id"),
        ("id\nalice\nalice\n", "line 3: student id 'alice' is listed twice"),
        (None, "cannot read the roster"),
    ],
    ids=["no id column", "empty id", "repeated id", "no such file"],
)
def test_bad_rosters_say_what_to_fix(tmp_path, text, message):
    path = tmp_path / "students.csv"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError, match=message):
        read_roster(path)


def test_students_without_a_submission_are_missing_with_0(tmp_path):
    with Gradebook(tmp_path / "gradebook.db") as book:
        book.record(_graded("alice"))
        book.record(_graded("bob", "fast_conv", 19.0))
        book.set_roster([Student("alice", "Alice", "Liddell", "a@x.org"), Student("dan", "Dan", "Absent", "d@x.org")])
        book.set_assignment("conv_layers", "2024-03-01T12:00:00+00:00")
        assert [(e.student, e.assignment) for e in book.entries()] == [("alice", "conv_layers"), ("bob", "fast_conv")]
        everyone = {(e.student, e.assignment): e for e in book.entries(missing=True)}
    # The roster's students and everyone who submitted something, for every assignment of the class (as nbgrader export).
    assert sorted(everyone) == [("alice", "conv_layers"), ("alice", "fast_conv"), ("bob", "conv_layers"), ("bob", "fast_conv"),
                                ("dan", "conv_layers"), ("dan", "fast_conv")]
    dan = everyone["dan", "conv_layers"]
    assert (dan.status, dan.points, dan.score, dan.max_points, dan.due_date) == ("missing", 0.0, 0.0, 33.0, "2024-03-01T12:00:00+00:00")
    assert (dan.first_name, dan.last_name, dan.email) == ("Dan", "Absent", "d@x.org")
    assert everyone["alice", "conv_layers"].first_name == "Alice"
    assert everyone["alice", "fast_conv"].max_points == 19.0


def test_a_new_roster_replaces_the_old_one(tmp_path):
    with Gradebook(tmp_path / "gradebook.db") as book:
        book.set_roster([Student("alice"), Student("zed")])
        book.set_roster([Student("alice")])
        assert book.roster() == [Student("alice")]


def test_lateness_is_recorded_and_the_score_follows(tmp_path):
    with Gradebook(tmp_path / "gradebook.db") as book:
        book.record(_graded("bob", points=29.0))
        assert book.set_lateness("bob", "conv_layers", timestamp="2024-03-01T14:30:00+00:00", due_date="2024-03-01T12:00:00+00:00",
                                 seconds_late=9000.0, late_penalty=6.0)
        assert not book.set_lateness("nobody", "conv_layers", timestamp="", due_date="", seconds_late=0.0, late_penalty=0.0)
        (bob,) = book.entries()
    assert (bob.timestamp, bob.seconds_late, bob.late_penalty, bob.points, bob.score) == ("2024-03-01T14:30:00+00:00", 9000.0, 6.0, 29.0, 23.0)
    assert bob.to_dict()["score"] == 23.0 and GradebookEntry.from_dict(bob.to_dict()) == bob


def test_a_gradebook_written_before_lateness_gains_its_columns(tmp_path):
    path = tmp_path / "gradebook.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # the table as the first gradebooks had it
        connection.exec_driver_sql(
            "CREATE TABLE submissions (student VARCHAR(255), assignment VARCHAR(255), content_hash VARCHAR(64) NOT NULL, "
            "rubric_version VARCHAR(64) NOT NULL, status VARCHAR(32) NOT NULL, error TEXT NOT NULL, points FLOAT NOT NULL, "
            "max_points FLOAT NOT NULL, seconds FLOAT NOT NULL, graded_at VARCHAR(40) NOT NULL, result_json TEXT NOT NULL, "
            "PRIMARY KEY (student, assignment))")
        connection.exec_driver_sql("INSERT INTO submissions VALUES ('alice', 'conv_layers', 'h', '1', 'graded', '', 33, 33, 1, 'x', '{}')")
    engine.dispose()
    with Gradebook(path) as book:
        (alice,) = book.entries(missing=True)
    assert (alice.timestamp, alice.seconds_late, alice.late_penalty, alice.score) == ("", 0.0, 0.0, 33.0)


def test_a_gradebook_written_before_grader_fingerprints_gains_the_column_and_its_rows_are_not_graded(tmp_path):
    path = tmp_path / "gradebook.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # the table as it was just before grader_fingerprint
        connection.exec_driver_sql(
            "CREATE TABLE submissions (student VARCHAR(255), assignment VARCHAR(255), content_hash VARCHAR(64) NOT NULL, "
            "rubric_version VARCHAR(64) NOT NULL, status VARCHAR(32) NOT NULL, error TEXT NOT NULL, points FLOAT NOT NULL, "
            "max_points FLOAT NOT NULL, seconds FLOAT NOT NULL, graded_at VARCHAR(40) NOT NULL, result_json TEXT NOT NULL, "
            "secret_fingerprint VARCHAR(64) NOT NULL DEFAULT '', grader_json TEXT NOT NULL DEFAULT '{}', "
            "timestamp VARCHAR(40) NOT NULL DEFAULT '', due_date VARCHAR(40) NOT NULL DEFAULT '', "
            "seconds_late FLOAT NOT NULL DEFAULT 0, late_penalty FLOAT NOT NULL DEFAULT 0, PRIMARY KEY (student, assignment))")
        connection.exec_driver_sql("INSERT INTO submissions (student, assignment, content_hash, rubric_version, status, error, "
                                   "points, max_points, seconds, graded_at, result_json, secret_fingerprint) "
                                   "VALUES ('alice', 'conv_layers', 'h', 'v', 'graded', '', 33, 33, 1, 'x', '{}', 's')")
    engine.dispose()
    with Gradebook(path) as book:
        (alice,) = book.entries()
        assert (alice.grader_fingerprint, alice.points, alice.secret_fingerprint) == ("", 33.0, "s")
        assert not book.is_graded("alice", "conv_layers", "h", "v", "s", grader_fingerprint="abc")
        assert not book.is_graded("alice", "conv_layers", "h", "v", "s", grader_fingerprint="")  # "" never counts as graded
        book.record(GradebookEntry("alice", "conv_layers", "h", "v", "graded", 30.0, 33.0, secret_fingerprint="s", grader_fingerprint="abc"))
        assert book.is_graded("alice", "conv_layers", "h", "v", "s", grader_fingerprint="abc")
        assert not book.is_graded("alice", "conv_layers", "h", "v", "s", grader_fingerprint="abd")
        assert book.entries()[0].grader_fingerprint == "abc"
    with Gradebook(path) as book:  # opened again: the column is there, nothing added twice
        assert book.entries()[0].grader_fingerprint == "abc"
