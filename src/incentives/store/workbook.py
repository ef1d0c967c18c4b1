"""The portfolio as the batch template workbook (企业 / 项目 / 贷款 / 已获资助): import it, export it.

Import reuses the batch readers and validator, so a workbook the batch page accepts is accepted here with the
same per-cell errors; each accepted enterprise becomes a client (its 企业编号 is the client ref) and its
已获资助 rows become recorded awards. Export writes cells the readers take back exactly: amounts as yuan text,
yes/no as 是/否, lists joined with ";", dates as YYYY-MM-DD.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from ..errors import InputError
from ..profile import Profile, parse_profile
from .clients import add_client, awards_by_client, current_versions, save_version
from .db import read_session, write_session
from .errors import StoreError
from .models import Client
from .snapshot import merged_document, yuan_text


@dataclass
class WorkbookImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # one per bad cell or client

    @property
    def rows_in(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected


def read_workbook(path: Path) -> tuple[list[tuple[str, Profile]], list[dict[str, Any]], int]:
    """Accepted (enterprise id, profile) pairs, the error report rows, and how many enterprises were rejected."""
    # (an enterprise the validator passed but the profile model refuses is counted as rejected as well)
    from ..batch.readers import UnusableInput, collect, make_workdir, open_input
    from ..batch.validate import validate

    workdir = make_workdir()
    try:
        try:
            raw = collect(open_input(path, workdir))
        except UnusableInput as error:
            raise StoreError(error.zh, error.en) from None
        checked = validate(raw)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    errors = [_report_row(row) for row in checked.errors.iter_rows(named=True)]
    accepted = checked.tables.enterprises.height
    pairs = _profiles(checked.tables, errors)
    return pairs, errors, checked.counts.rejected + accepted - len(pairs)


def client_error(ref: str, path: str, zh: str, en: str) -> dict[str, Any]:
    """A whole-client problem, shaped like the batch validator's report rows."""
    return {"sheet": "企业", "row": None, "column": path, "value": None, "reason_zh": zh, "reason_en": en,
            "enterprise_id": ref, "kind": "error"}


def _report_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: (value.isoformat() if isinstance(value, date) else value) for key, value in row.items()}


def _profiles(tables, errors: list[dict[str, Any]]) -> list[tuple[str, Profile]]:
    from ..batch.convert import _by_enterprise, profile_dict

    projects, loans, awards = (_by_enterprise(t) for t in (tables.projects, tables.loans, tables.awards))
    out = []
    for row in tables.enterprises.iter_rows(named=True):
        ref = row["enterprise_id"]
        try:
            out.append((ref, parse_profile(profile_dict(row, projects.get(ref, []), loans.get(ref, []),
                                                        awards.get(ref, [])))))
        except InputError as error:
            errors += [client_error(ref, p.path, p.zh, p.en) for p in error.problems]
    return out


def import_workbook(engine: Engine, account_id: int, path: Path) -> WorkbookImport:
    """New 企业编号 become clients; known ones get a new version and their awards replaced by the sheet's."""
    pairs, errors, rejected = read_workbook(path)
    outcome = WorkbookImport(rejected=rejected, errors=errors)
    for ref, profile in pairs:
        try:
            with write_session(engine) as session:
                existing = session.scalar(select(Client).where(Client.account_id == account_id, Client.ref == ref))
                if existing is None:
                    add_client(session, account_id, profile, ref)
                    outcome.created += 1
                    continue
                before = existing.current_version
                version = save_version(session, account_id, existing.id, profile, replace_awards=True)
                if version is not None or existing.current_version != before:
                    outcome.updated += 1
                else:
                    outcome.unchanged += 1
        except (InputError, StoreError) as error:
            problems = error.problems if isinstance(error, InputError) else [error]
            outcome.errors += [client_error(ref, getattr(p, "path", "$"), p.zh, p.en) for p in problems]
            outcome.rejected += 1
    return outcome


# --- export -------------------------------------------------------------------------------------------------


def portfolio_profiles(engine: Engine, account_id: int) -> list[tuple[str, Profile]]:
    with read_session(engine) as session:
        pairs = current_versions(session, account_id)
        awards = awards_by_client(session, [client.id for client, _ in pairs])
    return [(client.ref, parse_profile(merged_document(version.profile_json, awards[client.id])))
            for client, version in pairs]


def _cell(column, value: Any) -> Any:
    if value is None:
        return None
    if column.file_name is not None and column.file_name.endswith("_yuan"):
        return yuan_text(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, (int, str)) else str(value)


def export_workbook(engine: Engine, account_id: int) -> bytes:
    """The account's clients (current versions and recorded awards) as a template workbook."""
    import xlsxwriter

    from ..batch.convert import profiles_to_tables
    from ..batch.tables import SHEETS

    tables = profiles_to_tables(portfolio_profiles(engine, account_id))
    frames = {"enterprises": tables.enterprises, "projects": tables.projects, "loans": tables.loans,
              "awards": tables.awards}
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
    bold = workbook.add_format({"bold": True})
    for sheet_name, (table, columns) in SHEETS.items():
        sheet = workbook.add_worksheet(sheet_name)
        for index, column in enumerate(columns):
            sheet.write_string(0, index, column.header_zh, bold)
        for row_number, row in enumerate(frames[table].iter_rows(named=True), start=1):
            for index, column in enumerate(columns):
                value = _cell(column, row.get(column.name))
                if value is None:
                    continue
                if isinstance(value, int):
                    sheet.write_number(row_number, index, value)
                else:
                    sheet.write_string(row_number, index, value)
    workbook.close()
    return buffer.getvalue()
