"""The sources table of a batch's results: every cited value, condition and assumption of every scheme, with
its document, clause and quoted text, and whether each version was in force on the evaluation date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import openpyxl
import polars as pl
import pytest

from incentives.batch.runner import Job, run_batch
from incentives.batch.sources import SOURCES_SCHEMA, sources_table
from incentives.schemes import catalogue

from .helpers import write_workbook

AS_OF = date(2026, 6, 1)
CAT = catalogue()


def _cited_values(dumped: Any) -> int:
    """How many cited values a dumped version holds (a rate, an amount or a count beside its `cite`, or a bare
    `…_cite`), counted on the plain dump: another walk than the table's own."""
    if isinstance(dumped, list):
        return sum(_cited_values(item) for item in dumped)
    if not isinstance(dumped, dict):
        return 0
    here = set(dumped) in ({"value", "cite"}, {"yuan", "cite"})
    bare = sum(1 for key in dumped if key.endswith("_cite"))
    return here + bare + sum(_cited_values(value) for value in dumped.values())


def _cited_conditions(dumped: Any) -> int:
    """Condition nodes with a citation, and compliance rules (cited as a whole)."""
    if isinstance(dumped, list):
        return sum(_cited_conditions(item) for item in dumped)
    if not isinstance(dumped, dict):
        return 0
    node = any(key in dumped for key in ("field", "all", "any", "not_", "violation_when"))
    return (node and dumped.get("cite") is not None) + sum(_cited_conditions(value) for value in dumped.values())


@pytest.mark.parametrize("scheme", CAT.schemes, ids=lambda s: s.id)
def test_every_cited_value_and_condition_of_a_scheme_is_a_row(scheme):
    table = sources_table(CAT, AS_OF).filter(pl.col("scheme_id") == scheme.id)
    for version in scheme.versions:
        rows = table.filter(pl.col("version_from") == version.from_)
        assert rows.filter(pl.col("kind") == "in_force").height == 1
        dumped = version.model_dump()
        assert rows.filter(pl.col("kind") == "value").height == _cited_values(dumped)
        assert rows.filter(pl.col("kind") == "condition").height == _cited_conditions(dumped)
    outside = scheme.model_dump(exclude={"versions"})
    assert table.filter(pl.col("kind") == "condition", pl.col("version_from").is_null()).height == \
        _cited_conditions(outside)
    assert table.filter(pl.col("kind") == "assumption").height == len(scheme.assumptions)
    cited = table.filter(pl.col("kind").is_in(["in_force", "value", "condition"]))
    assert cited.select(pl.col("document", "clause", "quote_zh", "confidence").is_null().any()).row(0) == \
        (False,) * 4


def test_a_quote_restated_from_secondary_sources_says_so_and_a_verbatim_one_says_it_is_the_text():
    rows = sources_table(CAT, AS_OF).filter(pl.col("quote_zh").is_not_null())
    share = rows.filter(pl.col("scheme_id") == "gd/loan-interest-subsidy", pl.col("item_en") == "Share of interest subsidised")
    assert share["quote_wording"].to_list() == ["转述（据二手来源，非文件原文）/ restated from secondary sources"]
    assert share["source"].item()  # and names those sources
    g60 = rows.filter(pl.col("scheme_id") == "sh-g60/applied-basic-research", pl.col("kind") == "value")
    assert set(g60["quote_wording"]) == {"原文 / verbatim"}


def test_the_loan_subsidys_yearly_cap_and_share_read_as_the_policy_states_them():
    rows = sources_table(CAT, AS_OF).filter(pl.col("scheme_id") == "gd/loan-interest-subsidy",
                                            pl.col("kind") == "value")
    values = dict(zip(rows["item_en"], rows["value"]))
    version = next(s for s in CAT.schemes if s.id == "gd/loan-interest-subsidy").versions[0]
    # 20,000,000 yuan a year per enterprise, 35% of the interest, 12 months: the scheme file's own values
    assert values["Yearly cap per enterprise"] == f"{version.annual_cap_per_enterprise.yuan:,} 元" == "20,000,000 元"
    assert values["Share of interest subsidised"] == "35%"
    assert values["Months subsidised"] == "12"


def test_whether_a_version_was_in_force_follows_the_evaluation_date():
    scheme = next(s for s in CAT.schemes if any(v.until is not None for v in s.versions))
    version = next(v for v in scheme.versions if v.until is not None)

    def in_force(on: date) -> list[bool]:
        table = sources_table(CAT, on)
        return table.filter(pl.col("scheme_id") == scheme.id, pl.col("version_from") == version.from_,
                            pl.col("kind") == "in_force")["in_force_on_as_of"].to_list()

    assert in_force(version.from_ - timedelta(days=1)) == [False]
    assert in_force(version.from_) == [True]
    assert in_force(version.until) == [True]
    assert in_force(version.until + timedelta(days=1)) == [False]


def _one_client(tmp_path):
    return write_workbook(tmp_path / "clients.xlsx", {
        "企业": [["企业编号", "企业名称", "省份", "城市"], ["E1", "甲公司", "上海市", "上海市"]]})


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "parquet"])
def test_every_output_format_carries_the_sources(tmp_path, fmt):
    out = tmp_path / ("results.xlsx" if fmt == "xlsx" else "results")
    run_batch(Job(_one_client(tmp_path), out, AS_OF, fmt))
    expected = sources_table(CAT, AS_OF)
    if fmt == "xlsx":
        rows = list(openpyxl.load_workbook(out)["依据"].iter_rows(values_only=True))
        header = rows.index(next(r for r in rows if r[0] == "方案编号"))
        body = rows[header + 1:]
        assert len(body) == expected.height
        assert [r[0] for r in body] == expected["scheme_id"].to_list()
        assert [r[11] for r in body] == expected["quote_zh"].to_list()  # 原文
        assert [r[12] for r in body] == expected["quote_wording"].to_list()  # 原文或转述
    elif fmt == "csv":
        written = pl.read_csv(out / "sources.csv", schema_overrides=SOURCES_SCHEMA)
        assert written.equals(expected)
    else:
        assert pl.read_parquet(out / "sources").equals(expected)
