"""Benchmark: re-run a saved portfolio of 10,000 clients as of a date, results written to the store.

    .venv/bin/python bench/bench_store.py                       # SQLite (a temporary file)
    .venv/bin/python bench/bench_store.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

With --postgres, a uniquely named database is created on that server for the run and dropped afterwards.
Target: at most 30 s for the re-run on each database. Loading the portfolio is timed separately.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.pool import NullPool

from incentives.profile import parse_profile
from incentives.store import accounts, portfolio
from incentives.store.clients import version_json
from incentives.store.db import make_engine, migrate, read_session, write_session
from incentives.store.models import Award, Client, ClientVersion, EvaluationRun, utc_now

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = date(2026, 6, 1)


def synthetic_profiles(count: int, seed: int = 7) -> list[dict]:
    """Variations of the bundled examples: amounts, headcounts, certificates and award histories differ."""
    rng = random.Random(seed)
    bases = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    bases = [b for b in bases if _valid(b)]
    out = []
    for number in range(count):
        profile = copy.deepcopy(bases[number % len(bases)])
        enterprise = profile["enterprise"]
        enterprise["name"] = f"{enterprise['name']}{number}"
        enterprise.pop("uscc", None)
        enterprise["employees"] = rng.randint(5, 2000)
        enterprise["revenue_yuan"] = str(rng.randint(1, 900) * 1_000_000)
        enterprise.setdefault("certifications", {})["hnte"] = rng.random() < 0.6
        for project in profile.get("projects", []):
            if "total_input_yuan" in project:
                project["total_input_yuan"] = str(rng.randint(1, 400) * 1_000_000)
        profile["awards"] = [a for a in profile.get("awards", []) if rng.random() < 0.7]
        out.append(profile)
    return out


def _valid(profile: dict) -> bool:
    from incentives.errors import InputError

    try:
        parse_profile(profile)
        return True
    except InputError:
        return False


def load_portfolio(engine, account_id: int, profiles: list[dict]) -> None:
    """Bulk-insert the clients, first versions and awards (what add_client writes, in a few statements)."""
    for start in range(0, len(profiles), 1000):
        batch = [parse_profile(p) for p in profiles[start:start + 1000]]
        refs = [f"B{start + offset:06d}" for offset in range(len(batch))]
        with write_session(engine) as session:
            ids = session.execute(insert(Client).returning(Client.id, Client.ref),
                                  [{"account_id": account_id, "ref": ref, "name": p.enterprise.name,
                                    "current_version": 1, "created_at": utc_now(), "updated_at": utc_now()}
                                   for ref, p in zip(refs, batch)]).all()
            by_ref = {ref: client_id for client_id, ref in ids}
            session.execute(insert(ClientVersion), [
                {"client_id": by_ref[ref], "version": 1, "profile_json": version_json(p), "created_by": account_id,
                 "created_at": utc_now()} for ref, p in zip(refs, batch)])
            awards = [{"client_id": by_ref[ref], "scheme_id": a.scheme_id, "amount_fen": a.amount_fen,
                       "award_date": a.date, "unit_id": a.unit_id, "source": a.source, "created_at": utc_now()}
                      for ref, p in zip(refs, batch) for a in p.awards]
            if awards:
                session.execute(insert(Award), awards)


def bench(url: str, count: int, workers: int | None) -> dict:
    engine = make_engine(url)
    migrate(engine)
    account = accounts.create_account(engine, f"bench-{uuid.uuid4().hex[:6]}@example.cn", "bench password 1")
    started = time.perf_counter()
    load_portfolio(engine, account.id, synthetic_profiles(count))
    loaded = time.perf_counter() - started
    started, cpu = time.perf_counter(), _cpu_seconds()
    outcome = portfolio.rerun_portfolio(engine, account.id, AS_OF, workers=workers)
    rerun, rerun_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    with read_session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(EvaluationRun))
    engine.dispose()
    return {"database": engine.dialect.name, "clients": count, "load_s": round(loaded, 2),
            "rerun_s": round(rerun, 2), "rerun_cpu_s": round(rerun_cpu, 2), "load_average": os.getloadavg()[0], "evaluated": outcome.evaluated, "rejected": outcome.rejected,
            "runs_stored": stored, "per_client_ms": round(rerun / count * 1000, 3)}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children: on a shared machine, wall time alone misleads."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None, help="evaluation processes (default: by size)")
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (a database is created on it)")
    args = parser.parse_args()
    if args.postgres:
        admin = create_engine(args.postgres, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        name = f"incentives_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            print(json.dumps(bench(url, args.clients, args.workers)))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as directory:
            print(json.dumps(bench(f"sqlite:///{directory}/bench.db", args.clients, args.workers)))


if __name__ == "__main__":
    main()
