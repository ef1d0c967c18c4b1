"""Evaluation runs of saved clients, and the difference between two runs.

A run keeps what it needs to be reproduced: the exact input (profile plus the awards recorded at the time), its
SHA-256, the as-of date and the rules version. The stored result is the summary of every scheme × unit (status,
amount, cap, headroom) and the totals; the full explanation is re-derived from the input when it is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from ..evaluate import Evaluation, evaluate
from ..profile import Profile, parse_profile
from ..schemes import Catalogue, catalogue
from .clients import owned_client, current_version
from .db import read_session, write_session
from .errors import NotFound
from .models import Award, Client, EvaluationRun
from .snapshot import PreparedRun, prepare_run


def run_row(prepared: PreparedRun, as_of: date, ran_by: int | None, batch_job_id: int | None = None) -> EvaluationRun:
    return EvaluationRun(client_id=prepared.client_id, client_version_id=prepared.client_version_id,
                         batch_job_id=batch_job_id, as_of=as_of, rules_version=prepared.rules_version,
                         input_sha256=prepared.input_sha256, input_json=prepared.input_json,
                         result_json=prepared.result_json, total_fen=prepared.total_fen,
                         potential_total_fen=prepared.potential_total_fen, ran_by=ran_by)


def run_client(engine: Engine, account_id: int, client_id: int, as_of: date, cat: Catalogue | None = None) -> EvaluationRun:
    """Evaluate the client's current version with its recorded awards as of the date, and store the run."""
    cat = cat or catalogue()
    with read_session(engine) as session:
        _, version = current_version(session, account_id, client_id)
        awards = list(session.scalars(select(Award).where(Award.client_id == client_id)))
    # Evaluated outside the write transaction: the run names the version it used, so a concurrent edit is fine.
    prepared = prepare_run(client_id, version.id, version.profile_json, awards, as_of, cat)
    with write_session(engine) as session:
        owned_client(session, account_id, client_id)  # still there, and still this account's
        run = run_row(prepared, as_of, account_id)
        session.add(run)
        session.flush()
        return run


def _owned_run(session: Session, account_id: int, run_id: int) -> EvaluationRun:
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise NotFound("run")
    client = session.get(Client, run.client_id)
    if client is None or client.account_id != account_id:
        raise NotFound("run")
    return run


def get_run(engine: Engine, account_id: int, run_id: int) -> EvaluationRun:
    with read_session(engine) as session:
        return _owned_run(session, account_id, run_id)


def list_runs(engine: Engine, account_id: int, client_id: int, limit: int = 100) -> list[EvaluationRun]:
    """The client's runs, newest first."""
    with read_session(engine) as session:
        owned_client(session, account_id, client_id)
        return list(session.scalars(select(EvaluationRun).where(EvaluationRun.client_id == client_id)
                                    .order_by(EvaluationRun.id.desc()).limit(limit)))


def run_input(run: EvaluationRun) -> Profile:
    return parse_profile(json.loads(run.input_json))


def run_evaluation(run: EvaluationRun, cat: Catalogue | None = None) -> Evaluation:
    """The full evaluation (with explanations) of a stored run, recomputed from its input and date."""
    return evaluate(run_input(run), run.as_of, cat or catalogue())


def run_summary(run: EvaluationRun) -> dict[str, Any]:
    return json.loads(run.result_json)


# --- diff ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowChange:
    scheme_id: str
    unit_id: str | None
    status_before: str | None  # None: the row did not exist (a project added, a scheme added to the rules)
    status_after: str | None
    amount_before_fen: int | None
    amount_after_fen: int | None
    headroom_before_fen: int | None
    headroom_after_fen: int | None

    @property
    def status_changed(self) -> bool:
        return self.status_before != self.status_after

    @property
    def amount_changed(self) -> bool:
        return self.amount_before_fen != self.amount_after_fen

    @property
    def headroom_changed(self) -> bool:
        return self.headroom_before_fen != self.headroom_after_fen

    def as_dict(self) -> dict[str, Any]:
        return {"scheme_id": self.scheme_id, "unit_id": self.unit_id,
                "status_before": self.status_before, "status_after": self.status_after,
                "amount_before_fen": self.amount_before_fen, "amount_after_fen": self.amount_after_fen,
                "headroom_before_fen": self.headroom_before_fen, "headroom_after_fen": self.headroom_after_fen}


@dataclass(frozen=True)
class RunDiff:
    before_id: int | None
    after_id: int | None
    as_of_before: str
    as_of_after: str
    rules_version_before: str
    rules_version_after: str
    input_sha256_before: str
    input_sha256_after: str
    total_before_fen: int
    total_after_fen: int
    changes: list[RowChange]

    @property
    def rules_changed(self) -> bool:
        return self.rules_version_before != self.rules_version_after

    @property
    def input_changed(self) -> bool:
        return self.input_sha256_before != self.input_sha256_after

    @property
    def as_of_changed(self) -> bool:
        return self.as_of_before != self.as_of_after

    def as_dict(self) -> dict[str, Any]:
        return {"before_run_id": self.before_id, "after_run_id": self.after_id,
                "as_of": {"before": self.as_of_before, "after": self.as_of_after, "changed": self.as_of_changed},
                "rules_version": {"before": self.rules_version_before, "after": self.rules_version_after,
                                  "changed": self.rules_changed},
                "input_sha256": {"before": self.input_sha256_before, "after": self.input_sha256_after,
                                 "changed": self.input_changed},
                "total_fen": {"before": self.total_before_fen, "after": self.total_after_fen},
                "changes": [c.as_dict() for c in self.changes]}


def diff_summaries(before: dict[str, Any], after: dict[str, Any]) -> list[RowChange]:
    """The scheme × unit rows whose status, amount or headroom differ (rows present on one side only included)."""
    def keyed(summary):
        return {(r["scheme_id"], r["unit_id"]): r for r in summary["results"]}

    old, new = keyed(before), keyed(after)
    order = list(old) + [key for key in new if key not in old]
    changes = []
    for key in order:
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and all(a.get(k) == b.get(k) for k in ("status", "amount_fen", "headroom_fen")):
            continue
        changes.append(RowChange(key[0], key[1],
                                 a["status"] if a else None, b["status"] if b else None,
                                 a["amount_fen"] if a else None, b["amount_fen"] if b else None,
                                 a.get("headroom_fen") if a else None, b.get("headroom_fen") if b else None))
    return changes


def diff_runs(engine: Engine, account_id: int, before_id: int, after_id: int) -> RunDiff:
    """What changed between two runs of the account (any clients), and whether rules or inputs changed."""
    with read_session(engine) as session:
        before = _owned_run(session, account_id, before_id)
        after = _owned_run(session, account_id, after_id)
    a, b = run_summary(before), run_summary(after)
    return RunDiff(before.id, after.id, before.as_of.isoformat(), after.as_of.isoformat(), before.rules_version,
                   after.rules_version, before.input_sha256, after.input_sha256, before.total_fen, after.total_fen,
                   diff_summaries(a, b))
