"""The schema comes from the migrations alone, on SQLite and PostgreSQL, and they undo cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from incentives.store import models  # noqa: F401
from incentives.store.db import downgrade, make_engine, migrate, schema_revision

TABLES = {"account", "api_token", "web_session", "login_failure", "client", "client_version", "award",
          "batch_job", "evaluation_run"}


def test_migrations_run_up_from_empty_and_down_again(empty_url):
    engine = make_engine(empty_url)
    try:
        assert schema_revision(engine) is None
        migrate(engine)
        assert schema_revision(engine) == "0001"
        assert TABLES <= set(inspect(engine).get_table_names())
        downgrade(engine, "base")
        assert schema_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate(engine)  # and up again: the downgrade left nothing behind that would block it
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       SQLModel.metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(engine):
    migrate(engine)
    assert schema_revision(engine) == "0001"


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_default_database_is_a_file_under_the_user_data_directory(monkeypatch, tmp_path):
    from incentives.store.db import database_url

    monkeypatch.delenv("INCENTIVES_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert database_url() == f"sqlite:///{tmp_path / 'incentives' / 'incentives.db'}"
    assert (tmp_path / "incentives").is_dir()
    monkeypatch.setenv("INCENTIVES_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
