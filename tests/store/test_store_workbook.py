"""The portfolio as the batch template workbook: export, import back, nothing lost; bad rows reported."""

from __future__ import annotations

import io

import openpyxl

from store_samples import cluster_profile, guangdong_profile
from incentives.store import clients, portfolio, workbook

AWARD = {"scheme_id": "sh-g60/industry-cluster", "amount_yuan": "1234.56", "date": "2026-01-02", "source": "区科委",
         "unit_id": "cluster-1"}


def _current(engine, account_id):
    return [(c["ref"], c["versions"][-1]["profile"], c["awards"])
            for c in portfolio.export_portfolio(engine, account_id)["clients"]]


def test_workbook_export_then_import_loses_nothing(engine, account, other_account, tmp_path):
    clients.create_client(engine, account.id, cluster_profile(awards=[AWARD]), ref="E1")
    clients.create_client(engine, account.id, guangdong_profile(), ref="E2")
    path = tmp_path / "portfolio.xlsx"
    path.write_bytes(workbook.export_workbook(engine, account.id))
    sheets = openpyxl.load_workbook(path).sheetnames
    assert sheets[:4] == ["企业", "项目", "贷款", "已获资助"]
    outcome = workbook.import_workbook(engine, other_account.id, path)
    assert (outcome.created, outcome.rejected, outcome.errors) == (2, 0, [])
    assert _current(engine, other_account.id) == _current(engine, account.id)
    again = workbook.import_workbook(engine, other_account.id, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_bad_rows_are_reported_per_cell_and_the_other_clients_still_load(engine, account, tmp_path):
    clients.create_client(engine, account.id, cluster_profile(), ref="GOOD")
    clients.create_client(engine, account.id, guangdong_profile(), ref="BAD")
    book = openpyxl.load_workbook(io.BytesIO(workbook.export_workbook(engine, account.id)))
    sheet = book["企业"]
    headers = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index("企业编号")].value == "BAD":
            row[headers.index("营业收入(元)")].value = "很多"
    path = tmp_path / "edited.xlsx"
    book.save(path)
    outcome = workbook.import_workbook(engine, account.id, path)
    assert (outcome.unchanged, outcome.rejected) == (1, 1)
    assert outcome.rows_in == 2
    [error] = [e for e in outcome.errors if e["kind"] == "error"]
    assert error["enterprise_id"] == "BAD" and error["reason_zh"] and error["reason_en"]
