"""The gradebook opens safely when another process creates it at the same moment."""

import threading

import pytest
import sqlalchemy as sa

from autograder import gradebook
from autograder.gradebook import Gradebook


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
