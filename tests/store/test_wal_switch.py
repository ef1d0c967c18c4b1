"""Switching a new SQLite store to WAL waits out a "database is locked" from another process doing the same,
which SQLite may answer at once instead of through the busy timeout; other errors are not swallowed."""

from __future__ import annotations

import sqlite3

import pytest

from incentives.store import db


class _Cursor:
    def __init__(self, failures: list[str]):
        self.failures = failures
        self.calls = 0

    def execute(self, sql: str) -> None:
        assert sql == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.failures:
            raise sqlite3.OperationalError(self.failures.pop(0))


def test_a_locked_database_is_tried_again_until_the_switch_succeeds(monkeypatch):
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)
    cursor = _Cursor(["database is locked", "database is locked"])
    db._use_wal(cursor)
    assert cursor.calls == 3


def test_another_error_is_raised_at_once(monkeypatch):
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)
    cursor = _Cursor(["disk I/O error"])
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        db._use_wal(cursor)
    assert cursor.calls == 1


def test_a_lock_held_past_the_wait_is_raised(monkeypatch):
    clock = iter(range(0, 10_000, 5))  # each look at the clock is 5 s later
    monkeypatch.setattr(db.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)
    cursor = _Cursor(["database is locked"] * 100)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db._use_wal(cursor)
    assert 1 < cursor.calls < 100
