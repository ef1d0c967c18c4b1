"""Clients of one account: profiles kept as versions (an edit adds a version), and the awards they received.

Every function takes the account id and treats another account's client as missing (`NotFound`). A stored
profile version holds no awards: awards live in the `award` table and are merged in for evaluation, so a
recorded award counts against cumulative and yearly caps from the moment it is saved.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, delete, func, or_, select
from sqlmodel import Session

from ..errors import InputError, Problem
from ..profile import AwardRecord, Profile, parse_profile
from .db import read_session, write_session
from .errors import NotFound, StoreError
from .models import Award, BatchJob, Client, ClientVersion, EvaluationRun, utc_now
from .snapshot import canonical_json, merged_document

REF_PATTERN_HELP = "letters, digits, _ . - (1–64)"


def _award_key(record: AwardRecord) -> tuple:
    return (record.scheme_id, record.amount_fen, record.date, record.unit_id, record.source)


def _row_key(award: Award) -> tuple:
    return (award.scheme_id, award.amount_fen, award.award_date, award.unit_id, award.source)


def _check_scheme(scheme_id: str, path: str) -> None:
    from ..evaluate import unknown_scheme_problem
    from ..schemes import catalogue

    if scheme_id not in catalogue().scheme_document:
        raise InputError([unknown_scheme_problem(scheme_id, path)])


def _check_ref(ref: str) -> str:
    ref = ref.strip()
    if not ref or len(ref) > 64 or any(not (ch.isalnum() or ch in "_.-") for ch in ref):
        raise InputError([Problem("ref", f"客户编号“{ref}”格式不对（字母、数字、_ . -，最长 64 个字符）",
                                  f"client ref '{ref}' must be {REF_PATTERN_HELP}")])
    return ref


def owned_client(session: Session, account_id: int, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None or client.account_id != account_id:
        raise NotFound("client")
    return client


def _check_text(value: str | None, path: str) -> None:
    # PostgreSQL text cannot hold NUL, and no real source note contains control characters: refuse them here
    # with a message, rather than fail inside the database.
    if value is not None and any(ord(ch) < 32 for ch in value):
        raise InputError([Problem(path, "不能包含控制字符", "must not contain control characters")])


def _check_award(record: AwardRecord, path: str) -> None:
    _check_scheme(record.scheme_id, f"{path}.scheme_id")
    _check_text(record.source, f"{path}.source")


def _awards_from(profile: Profile) -> list[Award]:
    for index, record in enumerate(profile.awards):
        _check_award(record, f"$.awards[{index}]")
    return [Award(scheme_id=r.scheme_id, amount_fen=r.amount_fen, award_date=r.date, unit_id=r.unit_id,
                  source=r.source) for r in profile.awards]


def profile_document(profile: Profile) -> dict[str, Any]:
    """The profile as the JSON a user writes (yuan strings, ISO dates), unknown facts left out."""
    return profile.model_dump(mode="json", by_alias=True, exclude_none=True)


def version_json(profile: Profile) -> str:
    document = profile_document(profile)
    document.pop("awards", None)
    return canonical_json(document)


def _parse(profile: Profile | dict[str, Any]) -> Profile:
    return profile if isinstance(profile, Profile) else parse_profile(profile)


# --- clients ------------------------------------------------------------------------------------------------


def add_client(session: Session, account_id: int, profile: Profile, ref: str | None = None) -> Client:
    """Insert a client with its first version and its awards, inside the caller's transaction."""
    ref = _check_ref(ref) if ref else (profile.enterprise.uscc or f"c-{secrets.token_hex(4)}")
    if session.scalar(select(Client.id).where(Client.account_id == account_id, Client.ref == ref)) is not None:
        raise StoreError(f"客户编号“{ref}”已存在", f"client ref '{ref}' already exists")
    _check_text(profile.enterprise.name, "$.enterprise.name")
    awards = _awards_from(profile)
    client = Client(account_id=account_id, ref=ref, name=profile.enterprise.name, current_version=1)
    session.add(client)
    session.flush()
    session.add(ClientVersion(client_id=client.id, version=1, profile_json=version_json(profile), created_by=account_id))
    for award in awards:
        award.client_id = client.id
        session.add(award)
    return client


def create_client(engine: Engine, account_id: int, profile: Profile | dict[str, Any], ref: str | None = None) -> Client:
    """A new client; awards in the profile become recorded awards."""
    profile = _parse(profile)
    with write_session(engine) as session:
        return add_client(session, account_id, profile, ref)


def save_version(session: Session, account_id: int, client_id: int, profile: Profile,
                 replace_awards: bool) -> ClientVersion | None:
    """Add a version when the profile changed; with replace_awards, make the recorded awards equal the profile's."""
    client = owned_client(session, account_id, client_id)
    _check_text(profile.enterprise.name, "$.enterprise.name")
    if replace_awards:
        new_awards = _awards_from(profile)
        rows = list(session.scalars(select(Award).where(Award.client_id == client_id)))
        if sorted(map(_row_key, rows), key=repr) != sorted(map(_award_key, profile.awards), key=repr):
            session.execute(delete(Award).where(Award.client_id == client_id))
            for award in new_awards:
                award.client_id = client_id
                session.add(award)
    text = version_json(profile)
    current = session.scalar(select(ClientVersion).where(ClientVersion.client_id == client_id,
                                                         ClientVersion.version == client.current_version))
    if current is not None and current.profile_json == text:
        return None
    version = ClientVersion(client_id=client_id, version=client.current_version + 1, profile_json=text,
                            created_by=account_id)
    session.add(version)
    client.current_version = version.version
    client.name = profile.enterprise.name
    client.updated_at = utc_now()
    session.flush()
    return version


def update_client(engine: Engine, account_id: int, client_id: int, profile: Profile | dict[str, Any]) -> ClientVersion | None:
    """Save an edited profile as a new version (None when nothing changed).

    An `awards` key in a dict replaces the recorded awards with its list; without the key they stay as they are.
    """
    replace_awards = not isinstance(profile, dict) or "awards" in profile
    profile = _parse(profile)
    with write_session(engine) as session:
        return save_version(session, account_id, client_id, profile, replace_awards)


def get_client(engine: Engine, account_id: int, client_id: int) -> Client:
    with read_session(engine) as session:
        return owned_client(session, account_id, client_id)


def delete_client(engine: Engine, account_id: int, client_id: int) -> None:
    with write_session(engine) as session:
        client = owned_client(session, account_id, client_id)
        # Children go first so the delete works without ON DELETE CASCADE support in the connection too.
        session.execute(delete(EvaluationRun).where(EvaluationRun.client_id == client_id))
        session.execute(delete(Award).where(Award.client_id == client_id))
        session.execute(delete(ClientVersion).where(ClientVersion.client_id == client_id))
        session.delete(client)


def client_versions(engine: Engine, account_id: int, client_id: int) -> list[ClientVersion]:
    with read_session(engine) as session:
        owned_client(session, account_id, client_id)
        return list(session.scalars(select(ClientVersion).where(ClientVersion.client_id == client_id)
                                    .order_by(ClientVersion.version)))


def current_version(session: Session, account_id: int, client_id: int) -> tuple[Client, ClientVersion]:
    client = owned_client(session, account_id, client_id)
    version = session.scalar(select(ClientVersion).where(ClientVersion.client_id == client_id,
                                                         ClientVersion.version == client.current_version))
    if version is None:
        raise NotFound("version")
    return client, version


def client_document(engine: Engine, account_id: int, client_id: int) -> dict[str, Any]:
    """The current profile with the recorded awards, as the user would write it (for the editor and exports)."""
    with read_session(engine) as session:
        _, version = current_version(session, account_id, client_id)
        awards = list(session.scalars(select(Award).where(Award.client_id == client_id)
                                      .order_by(Award.award_date, Award.id)))
    return merged_document(version.profile_json, awards)


@dataclass(frozen=True)
class ClientSummary:
    client: Client
    latest_run_id: int | None
    latest_as_of: date | None
    total_fen: int | None
    potential_total_fen: int | None


def _completed_run_filter():
    """Runs from a batch job count only once the job succeeded: a running or failed job's runs are not results."""
    return or_(EvaluationRun.batch_job_id.is_(None),
               EvaluationRun.batch_job_id.in_(select(BatchJob.id).where(BatchJob.status == "succeeded")))


def list_clients(engine: Engine, account_id: int, search: str | None = None, limit: int = 200,
                 offset: int = 0) -> list[ClientSummary]:
    """Clients with their latest completed run's totals, newest edit first; search matches name or ref."""
    latest = (select(EvaluationRun.client_id, func.max(EvaluationRun.id).label("run_id"))
              .join(Client, Client.id == EvaluationRun.client_id)
              .where(Client.account_id == account_id, _completed_run_filter())
              .group_by(EvaluationRun.client_id).subquery())
    query = (select(Client, EvaluationRun.id, EvaluationRun.as_of, EvaluationRun.total_fen,
                    EvaluationRun.potential_total_fen)
             .outerjoin(latest, latest.c.client_id == Client.id)
             .outerjoin(EvaluationRun, EvaluationRun.id == latest.c.run_id)
             .where(Client.account_id == account_id))
    if search and search.strip():
        pattern = f"%{_escape_like(search.strip().lower())}%"
        query = query.where(or_(func.lower(Client.name).like(pattern, escape="\\"),
                                func.lower(Client.ref).like(pattern, escape="\\")))
    query = query.order_by(Client.updated_at.desc(), Client.id.desc()).limit(limit).offset(offset)
    with read_session(engine) as session:
        return [ClientSummary(row[0], row[1], row[2], row[3], row[4]) for row in session.execute(query)]


def count_clients(engine: Engine, account_id: int) -> int:
    with read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(Client).where(Client.account_id == account_id))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- awards -------------------------------------------------------------------------------------------------


def list_awards(engine: Engine, account_id: int, client_id: int) -> list[Award]:
    with read_session(engine) as session:
        owned_client(session, account_id, client_id)
        return list(session.scalars(select(Award).where(Award.client_id == client_id)
                                    .order_by(Award.award_date, Award.id)))


def add_award(engine: Engine, account_id: int, client_id: int, record: AwardRecord | dict[str, Any]) -> Award:
    """Record an award the client received (validated like the profile's `awards` entries)."""
    if not isinstance(record, AwardRecord):
        record = _parse_award(record)
    _check_award(record, "$")
    with write_session(engine) as session:
        client = owned_client(session, account_id, client_id)
        award = Award(client_id=client_id, scheme_id=record.scheme_id, amount_fen=record.amount_fen,
                      award_date=record.date, unit_id=record.unit_id, source=record.source)
        session.add(award)
        client.updated_at = utc_now()
        session.flush()
        return award


def _parse_award(data: dict[str, Any]) -> AwardRecord:
    from pydantic import ValidationError

    from ..profile import problems_from

    try:
        return AwardRecord.model_validate(data)
    except ValidationError as error:
        raise InputError(problems_from(error)) from None


def remove_award(engine: Engine, account_id: int, client_id: int, award_id: int) -> None:
    with write_session(engine) as session:
        client = owned_client(session, account_id, client_id)
        award = session.get(Award, award_id)
        if award is None or award.client_id != client_id:
            raise NotFound("award")
        session.delete(award)
        client.updated_at = utc_now()


def awards_by_client(session: Session, client_ids: list[int]) -> dict[int, list[Award]]:
    out: dict[int, list[Award]] = {cid: [] for cid in client_ids}
    for start in range(0, len(client_ids), 900):  # stays under SQLite's bound-parameter limit
        chunk = client_ids[start:start + 900]
        for award in session.scalars(select(Award).where(Award.client_id.in_(chunk))):
            out[award.client_id].append(award)
    return out


def current_versions(session: Session, account_id: int) -> list[tuple[Client, ClientVersion]]:
    """Every client of the account with its current version, in id order."""
    query = (select(Client, ClientVersion)
             .join(ClientVersion, and_(ClientVersion.client_id == Client.id,
                                       ClientVersion.version == Client.current_version))
             .where(Client.account_id == account_id).order_by(Client.id))
    return [(row[0], row[1]) for row in session.execute(query)]
