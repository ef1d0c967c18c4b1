"""The long, explained table of a batch result: one row per enterprise × scheme × unit, with reasons as text.

Reasons are computed as a bit mask per row (one bit per leaf that failed, or is unknown); the few distinct masks
are turned into text once, in Python, and mapped back, so text costs one lookup per row, not one string build.
The repetitive text columns stay dictionary-encoded until a writer needs plain strings: the enterprise and unit
ids are Enum columns gathered by row number from one copy of the ids, the texts Categorical, so building and
writing tens of millions of rows moves 4-byte codes, not the text itself. The rows are put in enterprise order
by counting (each row's place follows from how many rows each enterprise has), not by sorting the long table.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
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
ENCODED_DETAIL_SCHEMA = DETAIL_SCHEMA | dict.fromkeys(CODED_COLUMNS, _CODED)  # ids: see _Keys


def as_enum(texts: pl.Series) -> pl.Series | None:
    """Distinct texts as an Enum column whose i-th value is category i, or None when they repeat or have a null.

    Gathering it by row numbers dictionary-encodes a column without hashing a string per row.
    """
    try:
        dtype = pl.Enum(texts)
    except (ValueError, TypeError):
        return None
    try:
        physical = pl.Series(dtype=dtype).to_physical().dtype
        return pl.int_range(texts.len(), dtype=physical, eager=True).cat.to(dtype).alias(texts.name)
    except (AttributeError, pl.exceptions.PolarsError):  # a polars without Series.cat.to: look each text up
        return texts.cast(dtype)


@dataclass(slots=True)
class _Keys:
    """The id columns of the long table, gathered by row number, and each unit's place within its enterprise."""

    enterprise: pl.Series  # enterprise id by enterprise row number (Enum when the ids are distinct)
    units: dict[str, pl.Series]  # per unit kind, each unit's id aligned with that kind's facts (one shared dtype)
    ranks: dict[str, np.ndarray]  # per unit kind, each unit's position among its enterprise's units
    unit_dtype: pl.DataType
    schemes: pl.DataType  # scheme ids (scheme_id, superseded_by): an Enum of the catalogue, known before any row
    kinds: pl.DataType  # unit kinds, likewise


def _keys(result: BatchResult) -> _Keys:
    enterprises = result.frames.enterprises.sort(ROW)
    ids = enterprises.get_column("enterprise_id")
    coded = as_enum(ids) if ids.len() else None
    n = enterprises.height
    kinds = [unit for unit, ev in result.evaluated.items() if unit != "enterprise" and "unit_id" in ev.facts.columns]
    unit_ids = [result.evaluated[unit].facts.get_column("unit_id").cast(pl.String) for unit in kinds]
    units: dict[str, pl.Series] = {}
    unit_dtype: pl.DataType = pl.String
    if unit_ids:
        every = pl.concat(unit_ids)
        distinct = as_enum(every.drop_nulls().unique(maintain_order=True))
        if distinct is not None:
            unit_dtype = distinct.dtype
            every = every.cast(unit_dtype)
        start = 0
        for unit, part in zip(kinds, unit_ids):
            units[unit] = every.slice(start, part.len())
            start += part.len()
    ranks = {unit: _ranks(result.evaluated[unit].facts.get_column(ROW).to_numpy(), n) for unit in kinds}
    return _Keys(ids if coded is None else coded, units, ranks, unit_dtype,
                 _enum_or_coded([s.id for s in result.catalogue.schemes]),
                 _enum_or_coded(list(dict.fromkeys(s.unit for s in result.catalogue.schemes))))


def _enum_or_coded(values: list[str]) -> pl.DataType:
    """An Enum of a few known texts (its codes go to Arrow as they are), else Categorical."""
    try:
        return pl.Enum(values)
    except (ValueError, TypeError):
        return _CODED


def _ranks(rows: np.ndarray, n: int) -> np.ndarray:
    """Each unit's position among the units of its enterprise, in facts order."""
    rows = rows.astype(np.int64, copy=False)
    firsts = np.cumsum(np.bincount(rows, minlength=n)) - np.bincount(rows, minlength=n)
    if rows.size < 2 or bool(np.all(rows[1:] >= rows[:-1])):  # the usual case: units grouped by enterprise
        return np.arange(rows.size, dtype=np.int64) - firsts[rows]
    order = np.argsort(rows, kind="stable")
    ranks = np.empty(rows.size, dtype=np.int64)
    ranks[order] = np.arange(rows.size, dtype=np.int64) - firsts[rows[order]]
    return ranks


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


def _unit_rows(result: BatchResult, ev: Evaluated, plan: Plan | InterestPlan, keys: _Keys,
               schema: dict[str, pl.DataType]) -> tuple[pl.DataFrame, np.ndarray, np.ndarray | None]:
    """One scheme's rows for every unit of its kind (facts order), their enterprise rows and in-enterprise ranks."""
    from .columnar import amount_column, status_column, winner_column

    o = plan.order
    scheme = plan.scheme
    facts = ev.facts
    wide_columns = [status_column(o), amount_column(o)] + ([winner_column(o)] if winner_column(o) in ev.wide.columns else [])
    frame = pl.concat([facts, ev.wide.select(wide_columns)], how="horizontal") if facts.height else None
    if frame is None:
        return pl.DataFrame(schema=_without_ids(schema)), np.zeros(0, dtype=np.int64), None
    rows = facts.get_column(ROW)
    if scheme.unit == "enterprise":
        unit_id, ranks = pl.lit(None, dtype=keys.unit_dtype), None
    else:
        unit_id, ranks = pl.lit(keys.units[scheme.unit]), keys.ranks[scheme.unit]
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
    # lazily, so that the conditions the reasons share (a scheme's gates, its region checks) are computed once
    frame = frame.lazy().with_columns(*[_mask(f).alias(f"_f{i}") for i, f in enumerate(failed_sets)],
                                      *[_mask(u).alias(f"_u{i}") for i, u in enumerate(unknown_sets)]).collect()
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
    long = frame.lazy().select(
        pl.lit(scheme.id, dtype=keys.schemes).alias("scheme_id"),
        pl.lit(scheme.unit, dtype=keys.kinds).alias("unit_kind"),
        unit_id.alias("unit_id"), _status_name(status_column(o)).alias("status"), amount.alias("amount_fen"),
        cap.cast(pl.Int64).alias("cap_fen"), binding.cast(pl.Boolean).alias("binding_cap"),
        headroom.cast(pl.Int64).alias("headroom_fen"),
        winner.replace_strict(list(range(len(ids))), pl.Series(ids, dtype=keys.schemes), default=None,
                              return_dtype=keys.schemes).alias("superseded_by"),
        picked[0].alias("reasons_zh"), picked[1].alias("reasons_en"),
        picked[2].alias("to_confirm_zh"), picked[3].alias("to_confirm_en"),
    ).collect()
    return long, rows.to_numpy(), ranks


def _placeholders(result: BatchResult, scheme, version, keys: _Keys) -> tuple[pl.DataFrame, np.ndarray, None]:
    """One row for each enterprise without a unit of the scheme's kind (every enterprise, for kinds not in
    the tables)."""
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
    at = rows.get_column(ROW)
    long = rows.select(  # ROW keeps the frame's height: every other column is a constant
        ROW, pl.lit(scheme.id, dtype=keys.schemes).alias("scheme_id"),
        pl.lit(scheme.unit, dtype=keys.kinds).alias("unit_kind"),
        pl.lit(None, dtype=keys.unit_dtype).alias("unit_id"), pl.lit(status, dtype=pl.Enum(STATUS_NAMES)).alias("status"),
        pl.lit(None, dtype=pl.Int64).alias("amount_fen"), pl.lit(None, dtype=pl.Int64).alias("cap_fen"),
        pl.lit(None, dtype=pl.Boolean).alias("binding_cap"), pl.lit(None, dtype=pl.Int64).alias("headroom_fen"),
        pl.lit(None, dtype=keys.schemes).alias("superseded_by"), pl.lit(zh, dtype=_CODED).alias("reasons_zh"),
        pl.lit(en, dtype=_CODED).alias("reasons_en"), pl.lit(None, dtype=pl.String).alias("to_confirm_zh"),
        pl.lit(None, dtype=pl.String).alias("to_confirm_en"),
    )
    return long.drop(ROW), at.to_numpy(), None


def details(result: BatchResult) -> pl.DataFrame:
    """Enterprise order, then catalogue order, then unit order, as the scalar results of each profile."""
    encoded = result.encoded_details
    plain = [name for name, dtype in encoded.schema.items() if DETAIL_SCHEMA[name] == pl.String and dtype != pl.String]
    return encoded.with_columns(pl.col(plain).cast(pl.String))


def encoded_details(result: BatchResult) -> pl.DataFrame:
    """The details with the ids Enum and the repetitive text Categorical (same values as details())."""
    from .scheme_plans import version_on

    keys = _keys(result)
    schema = ENCODED_DETAIL_SCHEMA | {"enterprise_id": keys.enterprise.dtype, "unit_id": keys.unit_dtype,
                                      "scheme_id": keys.schemes, "superseded_by": keys.schemes,
                                      "unit_kind": keys.kinds}
    by_order = {p.order: (unit, ev, p) for unit, ev in result.evaluated.items() for p in ev.plans}
    jobs = []
    for order, scheme in enumerate(result.catalogue.schemes):
        version = version_on(scheme, result.as_of)
        if order in by_order:
            _, ev, plan = by_order[order]
            jobs.append(partial(_unit_rows, result, ev, plan, keys, schema))
        if scheme.unit != "enterprise":
            jobs.append(partial(_placeholders, result, scheme, version, keys))
    # two schemes at a time: each one's query has serial steps (distinct masks, small look-ups) that leave a
    # core idle; polars releases the GIL while it computes. Parts come back in catalogue order.
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda job: job(), jobs))
    # the id columns already have their dtype (and naming a dtype of a million categories in an expression is slow)
    fixed = {c: t for c, t in schema.items() if c not in ("enterprise_id", "unit_id")}
    frames = [frame.with_columns(pl.col(c).cast(t) for c, t in fixed.items()) for frame, _, _ in parts]
    n = result.frames.enterprises.height
    order, per_enterprise = in_enterprise_order([(rows, ranks) for _, rows, ranks in parts], n)
    if not frames or order.size == 0:
        return pl.DataFrame(schema=schema)
    # one contiguous buffer per column first: gathering across hundreds of chunks costs more than the copy;
    # the parts are let go before the gather, so two copies of the long table exist at once, not three
    long = pl.concat(frames, how="vertical", rechunk=True)
    del parts, frames
    # each enterprise's rows are one run, so its id column is the ids repeated: read in order, not gathered
    runs = pl.Series(np.repeat(np.arange(n, dtype=np.uint32), per_enterprise))
    return long.select(keys.enterprise.gather(runs).alias("enterprise_id"), pl.all().gather(pl.Series(order)))


def _without_ids(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    return {name: dtype for name, dtype in schema.items() if name != "enterprise_id"}


def in_enterprise_order(parts: list[tuple[np.ndarray, np.ndarray | None]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The gather order that stably sorts concatenated parts by enterprise row number, without sorting.

    Part k holds, for each of its rows, the enterprise row and the row's rank among that enterprise's rows in
    the part (None: at most one per enterprise). Each enterprise's rows are contiguous in the output, starting
    after the rows of the enterprises before it; within it, part by part, then by rank. Also returns the
    number of rows of each enterprise.
    """
    total = np.zeros(n, dtype=np.int64)
    for rows, _ in parts:
        total += np.bincount(rows, minlength=n)[:n] if rows.size else 0
    next_free = np.cumsum(total) - total
    size = int(total.sum())
    destination = np.empty(size, dtype=np.int64)
    at = 0
    for rows, ranks in parts:
        if not rows.size:
            continue
        place = next_free[rows]
        destination[at:at + rows.size] = place if ranks is None else place + ranks
        next_free += np.bincount(rows, minlength=n)[:n]
        at += rows.size
    order = np.empty(size, dtype=np.uint32 if size < 2**32 else np.uint64)
    order[destination] = np.arange(size, dtype=order.dtype)
    return order, total
