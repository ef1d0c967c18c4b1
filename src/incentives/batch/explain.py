"""The long, explained table of a batch result: one row per enterprise × scheme × unit, with reasons as text.

Reasons are computed as a bit mask per row (one bit per leaf that failed, or is unknown); the few distinct masks
are turned into text once, in Python, and mapped back, so text costs one lookup per row, not one string build.
The repetitive text columns stay dictionary-encoded (Categorical) until a writer needs plain strings: sorting
and writing tens of millions of rows then moves 4-byte codes, not the text itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from .compile_conditions import Reason
from .interest_columns import InterestPlan, closest_track
from .scheme_plans import INELIGIBLE, NOT_IN_FORCE, STATUS_NAMES, Plan
from .unit_frames import ROW

if TYPE_CHECKING:
    from .columnar import BatchResult, Evaluated

_MAX_BITS = 62
_CODED = pl.Categorical()
# the columns whose text repeats across rows (a scheme's id, its reasons): dictionary-encoded in encoded_details
CODED_COLUMNS = ("scheme_id", "unit_kind", "superseded_by", "reasons_zh", "reasons_en", "to_confirm_zh",
                 "to_confirm_en")
DETAIL_SCHEMA = {
    "enterprise_id": pl.String, "scheme_id": pl.String, "unit_kind": pl.String, "unit_id": pl.String,
    "status": pl.Enum(STATUS_NAMES), "amount_fen": pl.Int64, "cap_fen": pl.Int64, "binding_cap": pl.Boolean,
    "headroom_fen": pl.Int64, "superseded_by": pl.String, "reasons_zh": pl.String, "reasons_en": pl.String,
    "to_confirm_zh": pl.String, "to_confirm_en": pl.String,
}
ENCODED_DETAIL_SCHEMA = DETAIL_SCHEMA | dict.fromkeys(CODED_COLUMNS, _CODED)


def _mask(reasons: list[Reason]) -> pl.Expr:
    if len(reasons) > _MAX_BITS:
        raise NotImplementedError("more condition leaves than a mask holds")
    if not reasons:
        return pl.lit(0, dtype=pl.Int64)
    return pl.sum_horizontal([pl.when(r.when).then(pl.lit(1 << i, dtype=pl.Int64)).otherwise(pl.lit(0, dtype=pl.Int64))
                              for i, r in enumerate(reasons)])


def _texts(masks: pl.Series, reasons: list[Reason], joiner_zh: str = "；", joiner_en: str = "; ") -> tuple[pl.Expr, pl.Expr]:
    """The mask column -> (zh, en) text, through a table of the distinct masks actually present."""
    distinct = [m for m in masks.unique().to_list() if m is not None]
    zh, en = [], []
    for mask in distinct:
        picked = [r for i, r in enumerate(reasons) if mask >> i & 1]
        zh.append(joiner_zh.join(dict.fromkeys(r.zh for r in picked)))
        en.append(joiner_en.join(dict.fromkeys(r.en for r in picked)))
    column = pl.col(masks.name)
    return (column.replace_strict(distinct, pl.Series(zh, dtype=_CODED), default=None, return_dtype=_CODED),
            column.replace_strict(distinct, pl.Series(en, dtype=_CODED), default=None, return_dtype=_CODED))


def _status_name(column: str) -> pl.Expr:
    return pl.col(column).replace_strict(list(range(len(STATUS_NAMES))), list(STATUS_NAMES),
                                         return_dtype=pl.Enum(STATUS_NAMES))


def _unit_rows(result: BatchResult, ev: Evaluated, plan: Plan | InterestPlan) -> pl.DataFrame:
    from .columnar import amount_column, status_column, winner_column

    o = plan.order
    scheme = plan.scheme
    facts = ev.facts
    unit_id = pl.lit(None, dtype=pl.String) if scheme.unit == "enterprise" else pl.col("unit_id")
    wide_columns = [status_column(o), amount_column(o)] + ([winner_column(o)] if winner_column(o) in ev.wide.columns else [])
    frame = pl.concat([facts, ev.wide.select(wide_columns)], how="horizontal") if facts.height else None
    if frame is None:
        return pl.DataFrame(schema={ROW: pl.UInt32, **DETAIL_SCHEMA})
    amount = pl.col(amount_column(o))
    if isinstance(plan, InterestPlan):
        extra = result.evaluated["loan"].extra[o]
        track = closest_track(extra, len(plan.tracks))
        frame = frame.with_columns(extra["cap"].alias("_cap"), extra["binding"].alias("_binding"),
                                   extra["headroom"].alias("_headroom"), track.alias("_track"))
        cap, binding, headroom = pl.col("_cap"), pl.col("_binding"), pl.col("_headroom")
        failed_sets = []
        unknown_sets = []
        for conditions in plan.tracks:
            failed_sets.append([r for c in conditions for r in c.failed])
            unknown_sets.append([r for c in conditions for r in c.unknown])
    else:
        has = amount.is_not_null()
        cap = pl.when(has).then(plan.cap) if plan.cap is not None else pl.lit(None, dtype=pl.Int64)
        binding = pl.when(has).then(plan.binding) if plan.binding is not None else pl.lit(None, dtype=pl.Boolean)
        headroom = pl.when(has).then(plan.headroom) if plan.headroom is not None else pl.lit(None, dtype=pl.Int64)
        failed, unknown = plan.reasons()
        failed_sets, unknown_sets = [failed], [unknown]
    frame = frame.with_columns(*[_mask(f).alias(f"_f{i}") for i, f in enumerate(failed_sets)],
                               *[_mask(u).alias(f"_u{i}") for i, u in enumerate(unknown_sets)])
    texts = []
    for i in range(len(failed_sets)):
        fz, fe = _texts(frame[f"_f{i}"], failed_sets[i])
        uz, ue = _texts(frame[f"_u{i}"], unknown_sets[i])
        texts.append((fz, fe, uz, ue))
    if isinstance(plan, InterestPlan):
        picked = []
        for k in range(4):
            expr = texts[0][k]
            for i in range(1, len(texts)):
                expr = pl.when(pl.col("_track") == i).then(texts[i][k]).otherwise(expr)
            picked.append(expr)
    else:
        picked = list(texts[0])
    winner = pl.col(winner_column(o)) if winner_column(o) in frame.columns else pl.lit(None, dtype=pl.Int32)
    ids = [s.id for s in result.catalogue.schemes]
    return frame.select(
        ROW, pl.col("enterprise_id"), pl.lit(scheme.id, dtype=_CODED).alias("scheme_id"),
        pl.lit(scheme.unit, dtype=_CODED).alias("unit_kind"),
        unit_id.alias("unit_id"), _status_name(status_column(o)).alias("status"), amount.alias("amount_fen"),
        cap.cast(pl.Int64).alias("cap_fen"), binding.cast(pl.Boolean).alias("binding_cap"),
        headroom.cast(pl.Int64).alias("headroom_fen"),
        winner.replace_strict(list(range(len(ids))), pl.Series(ids, dtype=_CODED), default=None,
                              return_dtype=_CODED).alias("superseded_by"),
        picked[0].alias("reasons_zh"), picked[1].alias("reasons_en"),
        picked[2].alias("to_confirm_zh"), picked[3].alias("to_confirm_en"),
    )


def _placeholders(result: BatchResult, scheme, version) -> pl.DataFrame:
    from .columnar import NO_UNIT

    enterprises = result.frames.enterprises
    if scheme.unit == "project":
        rows = enterprises.filter(pl.col("_n_projects") == 0)
    elif scheme.unit == "loan":
        rows = enterprises.filter(pl.col("_n_loans") == 0)
    else:
        rows = enterprises
    zh, en = NO_UNIT[scheme.unit]
    status = STATUS_NAMES[NOT_IN_FORCE if version is None else INELIGIBLE]
    return rows.select(
        ROW, "enterprise_id", pl.lit(scheme.id, dtype=_CODED).alias("scheme_id"),
        pl.lit(scheme.unit, dtype=_CODED).alias("unit_kind"),
        pl.lit(None, dtype=pl.String).alias("unit_id"), pl.lit(status, dtype=pl.Enum(STATUS_NAMES)).alias("status"),
        pl.lit(None, dtype=pl.Int64).alias("amount_fen"), pl.lit(None, dtype=pl.Int64).alias("cap_fen"),
        pl.lit(None, dtype=pl.Boolean).alias("binding_cap"), pl.lit(None, dtype=pl.Int64).alias("headroom_fen"),
        pl.lit(None, dtype=pl.String).alias("superseded_by"), pl.lit(zh, dtype=_CODED).alias("reasons_zh"),
        pl.lit(en, dtype=_CODED).alias("reasons_en"), pl.lit(None, dtype=pl.String).alias("to_confirm_zh"),
        pl.lit(None, dtype=pl.String).alias("to_confirm_en"),
    )


def details(result: BatchResult) -> pl.DataFrame:
    """Enterprise order, then catalogue order, then unit order, as the scalar results of each profile."""
    return result.encoded_details.with_columns(pl.col(CODED_COLUMNS).cast(pl.String))


def encoded_details(result: BatchResult) -> pl.DataFrame:
    """The details with the repetitive text columns Categorical (same values as details())."""
    from .scheme_plans import version_on

    by_order = {p.order: (unit, ev, p) for unit, ev in result.evaluated.items() for p in ev.plans}
    parts = []
    for order, scheme in enumerate(result.catalogue.schemes):
        version = version_on(scheme, result.as_of)
        if order in by_order:
            _, ev, plan = by_order[order]
            parts.append(_unit_rows(result, ev, plan))
        if scheme.unit != "enterprise":
            parts.append(_placeholders(result, scheme, version))
    parts = [p.with_columns(pl.col(c).cast(t) for c, t in ENCODED_DETAIL_SCHEMA.items()) for p in parts]
    long = pl.concat(parts, how="vertical").sort(ROW, maintain_order=True)
    return long.drop(ROW)
