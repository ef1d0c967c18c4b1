"""The whole portfolio of an account: re-run every client as of a date, export it and import it back.

A re-run reads every current version and its awards once, evaluates them chunk by chunk with the columnar
engine (or one by one with the scalar engine, in worker processes for a large portfolio), and writes the runs
in chunks; each chunk commits together with the job's progress and
lease, so a job is either still held, finished, or failed with its runs removed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, insert, select

from ..errors import InputError
from ..profile import parse_profile
from . import jobs, snapshot
from .clients import add_client, awards_by_client, save_version
from .db import read_session, write_session
from .errors import StoreError
from .models import Award, Client, ClientVersion, EvaluationRun, utc_now
from .snapshot import PreparedRun, WorkItem, award_document

EXPORT_FORMAT = "incentives-portfolio"
EXPORT_VERSION = 1
PARALLEL_THRESHOLD = 2000  # below this, starting worker processes costs more than it saves
COLUMNAR_CHUNK = 1000  # clients per columnar evaluation and per commit
SCALAR_CHUNK = 250


@dataclass
class RerunOutcome:
    evaluated: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _work_items(engine: Engine, account_id: int) -> list[WorkItem]:
    # Plain rows, not ORM objects: a large portfolio is read once, and object loading would dominate.
    versions = (select(Client.id, Client.ref, ClientVersion.id, ClientVersion.profile_json)
                .join(ClientVersion, and_(ClientVersion.client_id == Client.id,
                                          ClientVersion.version == Client.current_version))
                .where(Client.account_id == account_id).order_by(Client.id))
    awards = (select(Award.client_id, Award.id, Award.scheme_id, Award.amount_fen, Award.award_date, Award.unit_id,
                     Award.source)
              .join(Client, Client.id == Award.client_id).where(Client.account_id == account_id)
              .order_by(Award.client_id, Award.award_date, Award.id))
    with read_session(engine) as session:
        rows = session.execute(versions).all()
        by_client: dict[int, list[dict[str, Any]]] = {}
        for client_id, *award in session.execute(awards):
            by_client.setdefault(client_id, []).append(award_document(_AwardRow(*award)))
    return [WorkItem(client_id, ref, version_id, profile_json, by_client.get(client_id, []))
            for client_id, ref, version_id, profile_json in rows]


@dataclass(frozen=True)
class _AwardRow:
    id: int
    scheme_id: str
    amount_fen: int
    award_date: date
    unit_id: str | None
    source: str | None


def _chunks(items: list[WorkItem], size: int) -> list[list[WorkItem]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _evaluated(chunks: list[list[WorkItem]], as_of: date, workers: int,
               columnar: bool) -> Iterator[list[PreparedRun | dict]]:
    evaluate_chunk = snapshot.evaluate_chunk_preferring_columnar if columnar else snapshot.evaluate_chunk
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield evaluate_chunk(chunk, as_of)
        return
    # forkserver, not fork: the web server runs jobs in threads, and forking a threaded process can deadlock.
    # The fork server imports only the database-free evaluation code, once; workers fork from it ready to go.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["incentives.store.snapshot"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=snapshot.warm_up) as pool:
        yield from pool.map(evaluate_chunk, chunks, [as_of] * len(chunks))


def _row(prepared: PreparedRun, as_of: date, ran_by: int, job_id: int | None, now) -> dict[str, Any]:
    return {"client_id": prepared.client_id, "client_version_id": prepared.client_version_id,
            "batch_job_id": job_id, "as_of": as_of, "rules_version": prepared.rules_version,
            "input_sha256": prepared.input_sha256, "input_json": prepared.input_json,
            "result_json": prepared.result_json, "total_fen": prepared.total_fen,
            "potential_total_fen": prepared.potential_total_fen, "ran_by": ran_by, "ran_at": now}


def default_workers(count: int) -> int:
    return min(os.cpu_count() or 1, 4) if count >= PARALLEL_THRESHOLD else 1


def rerun_portfolio(engine: Engine, account_id: int, as_of: date, *, job_id: int | None = None,
                    owner: str | None = None, workers: int | None = None, chunk_size: int | None = None,
                    columnar: bool = True,
                    on_progress: Callable[[int, int], None] | None = None) -> RerunOutcome:
    """Evaluate every client of the account as of the date and store one run each.

    `columnar` evaluates each chunk in one go with the batch engine; otherwise each client goes through the
    scalar engine (in `workers` processes for a large portfolio). With `job_id`, each chunk's runs commit
    together with the job's progress; the caller finishes the job.
    """
    chunk_size = chunk_size or (COLUMNAR_CHUNK if columnar else SCALAR_CHUNK)
    items = _work_items(engine, account_id)
    if job_id is not None:
        jobs.start_job(engine, job_id, owner, len(items))
    if workers is None:
        # The columnar engine already uses every core (polars); extra processes only add start-up and copying.
        workers = 1 if columnar else default_workers(len(items))
    outcome = RerunOutcome()
    done = 0
    for results in _evaluated(_chunks(items, chunk_size), as_of, workers, columnar):
        now = utc_now()
        rows = [_row(r, as_of, account_id, job_id, now) for r in results if isinstance(r, PreparedRun)]
        errors = [r for r in results if not isinstance(r, PreparedRun)]
        with write_session(engine) as session:
            if rows:
                session.execute(insert(EvaluationRun), rows)
            outcome.evaluated += len(rows)
            outcome.rejected += len(errors)
            outcome.errors += errors
            done += len(results)
            if job_id is not None:
                jobs.heartbeat(engine, job_id, owner, done, outcome.evaluated, outcome.rejected, session=session)
        if on_progress:
            on_progress(done, len(items))
    return outcome


def run_portfolio_job(engine: Engine, account_id: int, job_id: int, owner: str, as_of: date,
                      workers: int | None = None, chunk_size: int | None = None) -> None:
    """The body of a "re-run portfolio" job: it ends `succeeded`, or `failed` with the reason."""
    try:
        with jobs.kept_alive(engine, job_id, owner):
            outcome = rerun_portfolio(engine, account_id, as_of, job_id=job_id, owner=owner, workers=workers,
                                      chunk_size=chunk_size)
    except jobs.JobLeaseLost:
        return
    except Exception as error:  # noqa: BLE001 - any failure must end the job, with its reason, not leave it running
        jobs.fail_job(engine, job_id, owner, f"{type(error).__name__}: {error}")
        return
    jobs.finish_job(engine, job_id, owner, outcome.evaluated, outcome.rejected, outcome.errors)


# --- export / import ----------------------------------------------------------------------------------------


def export_portfolio(engine: Engine, account_id: int) -> dict[str, Any]:
    """Every client with every profile version (oldest first) and the recorded awards."""
    with read_session(engine) as session:
        clients = list(session.scalars(select(Client).where(Client.account_id == account_id).order_by(Client.id)))
        ids = [c.id for c in clients]
        versions: dict[int, list[ClientVersion]] = {cid: [] for cid in ids}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            for version in session.scalars(select(ClientVersion).where(ClientVersion.client_id.in_(chunk))
                                           .order_by(ClientVersion.version)):
                versions[version.client_id].append(version)
        awards = awards_by_client(session, ids)
    out = []
    for client in clients:
        history = versions[client.id]
        out.append({
            "ref": client.ref,
            "name": client.name,
            "created_at": client.created_at.isoformat(),
            "versions": [{"version": v.version, "created_at": v.created_at.isoformat(),
                          "profile": json.loads(v.profile_json)} for v in history],
            "awards": [award_document(a) for a in sorted(awards[client.id], key=lambda a: (a.award_date, a.id))],
        })
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": utc_now().isoformat(), "clients": out}


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def import_portfolio(engine: Engine, account_id: int, document: dict[str, Any]) -> ImportOutcome:
    """Load an export: new refs become clients with their version history; known refs get a new version.

    Each client is imported in its own transaction: one bad client is reported and the others still load.
    """
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise StoreError("不是本系统导出的客户组合文件", f"not an {EXPORT_FORMAT} document")
    if document.get("version") != EXPORT_VERSION:
        raise StoreError(f"不支持的导出版本 {document.get('version')}", f"unsupported export version {document.get('version')}")
    outcome = ImportOutcome()
    for index, entry in enumerate(document.get("clients") or []):
        ref = entry.get("ref") if isinstance(entry, dict) else None
        try:
            _import_client(engine, account_id, entry, outcome)
        except InputError as error:
            outcome.errors += [{"index": index, "ref": ref, **p.as_dict()} for p in error.problems]
        except StoreError as error:
            outcome.errors.append({"index": index, "ref": ref, "path": "$", "zh": error.zh, "en": error.en})
        except (KeyError, TypeError, ValueError) as error:
            outcome.errors.append({"index": index, "ref": ref, "path": "$", "zh": f"客户条目格式不对：{error}",
                                   "en": f"malformed client entry: {error}"})
    return outcome


def _import_client(engine: Engine, account_id: int, entry: dict[str, Any], outcome: ImportOutcome) -> None:
    profiles = [parse_profile(v["profile"]) for v in entry["versions"]]
    if not profiles:
        raise StoreError("客户没有任何版本", "client has no versions")
    awards = parse_profile({**entry["versions"][-1]["profile"], "awards": entry.get("awards") or []}).awards
    with write_session(engine) as session:
        existing = session.scalar(select(Client).where(Client.account_id == account_id, Client.ref == entry["ref"]))
        if existing is None:
            client = add_client(session, account_id, profiles[0].model_copy(update={"awards": list(awards)}),
                                entry["ref"])
            for profile in profiles[1:]:
                save_version(session, account_id, client.id, profile, replace_awards=False)
            _restore_timestamps(session, client, entry)
            outcome.created += 1
            return
        final = profiles[-1].model_copy(update={"awards": list(awards)})
        before = (existing.current_version,
                  sorted(((a.scheme_id, a.amount_fen, a.award_date, a.unit_id, a.source)
                          for a in session.scalars(select(Award).where(Award.client_id == existing.id))), key=repr))
        save_version(session, account_id, existing.id, final, replace_awards=True)
        after_awards = sorted(((a.scheme_id, a.amount_fen, a.date, a.unit_id, a.source) for a in awards), key=repr)
        changed = existing.current_version != before[0] or after_awards != before[1]
        if changed:
            outcome.updated += 1
        else:
            outcome.unchanged += 1


def _restore_timestamps(session, client: Client, entry: dict[str, Any]) -> None:
    """Keep the history's dates: an imported client shows when each version was first saved."""
    from datetime import datetime

    if entry.get("created_at"):
        client.created_at = datetime.fromisoformat(entry["created_at"])
    stamps = {v.get("version"): v.get("created_at") for v in entry["versions"]}
    for position, version in enumerate(session.scalars(select(ClientVersion).where(
            ClientVersion.client_id == client.id).order_by(ClientVersion.version)), start=1):
        stamp = stamps.get(position)
        if stamp:
            version.created_at = datetime.fromisoformat(stamp)
