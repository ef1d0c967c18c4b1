"""Killing a writer process (SIGKILL) mid-write loses no committed client and leaves no half-written one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from incentives.store.db import make_engine, read_session
from incentives.store.models import Award, Client, ClientVersion

WRITER = Path(__file__).with_name("store_writer.py")


@pytest.mark.slow
def test_killing_the_writer_mid_write_loses_no_committed_client_and_leaves_no_partial_row(store_url):
    env = {**os.environ, "PYTHONPATH": str(WRITER.parent)}
    writer = subprocess.Popen([sys.executable, str(WRITER), store_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    committed: list[str] = []
    try:
        assert writer.stdout.readline().startswith("account"), writer.stderr.read()
        while len(committed) < 40:
            line = writer.stdout.readline()
            assert line, writer.stderr.read()
            committed.append(line.strip())
    finally:
        os.kill(writer.pid, signal.SIGKILL)  # no cleanup, no rollback handler: as if the power went
        writer.wait()
        writer.stdout.close()
        writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL

    engine = make_engine(store_url)  # a new process view of the files left behind
    try:
        with read_session(engine) as session:
            refs = set(session.scalars(select(Client.ref)))
            assert set(committed) <= refs
            versions = dict(session.execute(select(ClientVersion.client_id, func.count()).group_by(ClientVersion.client_id)).all())
            awards = dict(session.execute(select(Award.client_id, func.count()).group_by(Award.client_id)).all())
            client_ids = list(session.scalars(select(Client.id)))
            # every client that exists is complete: one version and both awards, never a part of them
            assert all(versions.get(cid) == 1 and awards.get(cid) == 2 for cid in client_ids)
            assert set(versions) <= set(client_ids) and set(awards) <= set(client_ids)
            if engine.dialect.name == "sqlite":
                assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()
