"""Several server processes opening a new store at once: one upgrades the schema, the others wait and find it
current (without the lock, SQLite answered "database is locked" and PostgreSQL a duplicate-type error)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from incentives.store.db import make_engine, schema_revision

BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]
MIGRATE = "import sys; from incentives.store.db import make_engine, migrate; migrate(make_engine(sys.argv[1]))"


def _fresh_url(backend: str, tmp_path, request) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'new.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.url_for(server.create())


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_that_migrate_a_new_store_at_once_all_succeed(backend, tmp_path, request):
    url = _fresh_url(backend, tmp_path, request)
    processes = [subprocess.Popen([sys.executable, "-c", MIGRATE, url], stderr=subprocess.PIPE) for _ in range(3)]
    failures = [p.stderr.read().decode(errors="replace") for p in processes if p.wait(timeout=120) != 0]
    assert failures == []
    engine = make_engine(url, pool=False)
    assert schema_revision(engine) is not None
    engine.dispose()
