"""Batch test helpers: a reference evaluator built on the scalar engine, and small workbooks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import pytest

from incentives.batch.explain import NOTES_JOINER_EN, NOTES_JOINER_ZH
from incentives.evaluate import evaluate
from incentives.results import Status
from incentives.schemes import catalogue


@dataclass
class ReferenceResult:
    details: pl.DataFrame
    summary: pl.DataFrame


def scalar_evaluator(tables, as_of: date, cat=None) -> ReferenceResult:
    """The scalar evaluator looped over profiles: a slow stand-in with the columnar result's shape, for tests."""
    from incentives.batch.convert import tables_to_profiles

    cat = cat or catalogue()
    details, summary = [], []
    names = dict(zip(tables.enterprises["enterprise_id"], tables.enterprises["name"]))
    for enterprise_id, profile in tables_to_profiles(tables):
        evaluation = evaluate(profile, as_of, cat)
        for r in evaluation.results:
            failed = r.failed() if r.status is Status.ineligible else []
            confirm = r.to_confirm() if r.status is Status.needs_confirmation else []
            details.append({
                "enterprise_id": enterprise_id, "scheme_id": r.scheme_id, "unit_kind": r.unit_kind,
                "unit_id": r.unit_id, "status": r.status.value, "amount_fen": r.amount_fen, "cap_fen": r.cap_fen,
                "binding_cap": r.binding_cap, "headroom_fen": r.headroom_fen, "superseded_by": r.superseded_by,
                "reasons_zh": "；".join(f["zh"] for f in failed) or None,
                "reasons_en": "; ".join(f["en"] for f in failed) or None,
                "to_confirm_zh": "；".join(c["zh"] for c in confirm) or None,
                "to_confirm_en": "; ".join(c["en"] for c in confirm) or None,
                "notes_zh": NOTES_JOINER_ZH.join(n["zh"] for n in r.notes if n["kind"] == "check") or None,
                "notes_en": NOTES_JOINER_EN.join(n["en"] for n in r.notes if n["kind"] == "check") or None,
            })
        eligible = [r for r in evaluation.results if r.status is Status.eligible]
        top = sorted(eligible, key=lambda r: -(r.amount_fen or 0))[:3]
        summary.append({
            "enterprise_id": enterprise_id, "name": names[enterprise_id], "total_fen": evaluation.total_fen,
            "potential_total_fen": evaluation.potential_total_fen, "n_eligible": len(eligible),
            "n_to_confirm": sum(r.status is Status.needs_confirmation for r in evaluation.results),
            "top_schemes": "; ".join(r.scheme_id for r in top),
        })
    detail_schema = {"enterprise_id": pl.String, "scheme_id": pl.String, "unit_kind": pl.String,
                     "unit_id": pl.String, "status": pl.String, "amount_fen": pl.Int64, "cap_fen": pl.Int64,
                     "binding_cap": pl.Boolean, "headroom_fen": pl.Int64, "superseded_by": pl.String,
                     "reasons_zh": pl.String, "reasons_en": pl.String, "to_confirm_zh": pl.String,
                     "to_confirm_en": pl.String, "notes_zh": pl.String, "notes_en": pl.String}
    summary_schema = {"enterprise_id": pl.String, "name": pl.String, "total_fen": pl.Int64,
                      "potential_total_fen": pl.Int64, "n_eligible": pl.Int64, "n_to_confirm": pl.Int64,
                      "top_schemes": pl.String}
    return ReferenceResult(pl.DataFrame(details, schema=detail_schema), pl.DataFrame(summary, schema=summary_schema))


@pytest.fixture
def reference_evaluator():
    return scalar_evaluator


AS_OF = date(2026, 6, 1)
