"""The long, explained table of a batch result: one row per enterprise × scheme × unit, with reasons as text.

Reasons are computed as a bit mask per row (one bit per leaf that failed, or is unknown), in the narrowest
integer that holds them; the few distinct masks are turned into text once, in Python. What a row says besides
its numbers (its scheme, unit kind, reasons and what to confirm) is one number per row: its place in its
scheme's small table of descriptions (one per pair of distinct failed and unknown masks), so the scheme's rows
carry one 4-byte column for those six, and the finished table takes their codes from small tables by that
number. The text columns stay dictionary-encoded (Enum) until a writer needs plain strings: an enterprise's
code is its row number, so building and writing tens of millions of rows moves codes, not the text itself. The
rows are put in enterprise order by counting (each row's place follows from how many rows each enterprise
has), not by sorting, and each part's columns are written straight into those places (see long_table). The
Parquet writer takes the same parts block by block instead (streamed_details).
"""

from __future__ import annotations

import operator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial, reduce
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from .compile_conditions import Reason
from .interest_columns import InterestPlan, closest_track
from .long_table import as_dtype, coded, enterprise_places, enum_physical, from_numpy, put, scatter
from .scheme_plans import ELIGIBLE, INELIGIBLE, NEEDS_CONFIRMATION, NOT_IN_FORCE, STATUS_NAMES, Plan
from .unit_frames import ROW, take

if TYPE_CHECKING:
    from .columnar import BatchResult, Evaluated

_MAX_BITS = 62
_TABLE_SIZE = 1 << 16  # reason keys below this index a table of texts; wider ones are looked up
_CODED = pl.Categorical()
# the columns whose text repeats across rows (a scheme's id, its reasons): dictionary-encoded in encoded_details
CODED_COLUMNS = ("scheme_id", "unit_kind", "superseded_by", "reasons_zh", "reasons_en", "to_confirm_zh",
                 "to_confirm_en", "notes_zh", "notes_en")
DETAIL_SCHEMA = {
    "enterprise_id": pl.String, "scheme_id": pl.String, "unit_kind": pl.String, "unit_id": pl.String,
    "status": pl.Enum(STATUS_NAMES), "amount_fen": pl.Int64, "cap_fen": pl.Int64, "binding_cap": pl.Boolean,
    "headroom_fen": pl.Int64, "superseded_by": pl.String, "reasons_zh": pl.String, "reasons_en": pl.String,
    "to_confirm_zh": pl.String, "to_confirm_en": pl.String, "notes_zh": pl.String, "notes_en": pl.String,
}
ENCODED_DETAIL_SCHEMA = DETAIL_SCHEMA | dict.fromkeys(CODED_COLUMNS, _CODED)  # ids: see _Keys


def enum_of(texts: pl.Series) -> pl.Enum | None:
    """An Enum whose i-th category is the i-th text, or None when they repeat or have a null: its codes are
    then row numbers, so a column of it is built from numbers without hashing a string per row."""
    try:
        return pl.Enum(texts)
    except (ValueError, TypeError):
        return None


@dataclass(slots=True)
class _Keys:
    """The ids of the long table's rows, and each unit's place within its enterprise.

    The Enums of the ids are kept as dtypes with their sizes: asking polars for an Enum column's dtype converts
    every category, which for a million ids costs more than building the column.
    """

    enterprise_ids: pl.Series  # enterprise id by enterprise row number
    enterprise: pl.DataType  # an Enum of them when they are distinct (its codes are row numbers), else String
    units: dict[str, pl.Series]  # per unit kind, each unit's id aligned with that kind's facts (one shared dtype)
    ranks: dict[str, np.ndarray]  # per unit kind, each unit's position among its enterprise's units
    unit_dtype: pl.DataType
    n_unit_ids: int  # categories of unit_dtype, when it is an Enum
    schemes: pl.DataType  # scheme ids (scheme_id, superseded_by): an Enum of the catalogue, known before any row
    kinds: pl.DataType  # unit kinds, likewise


# per row, these follow from one number: the row's place in its part's table of descriptions
_DESCRIBED = ("scheme_id", "unit_kind", "reasons_zh", "reasons_en", "to_confirm_zh", "to_confirm_en", "notes_zh",
              "notes_en")


@dataclass(slots=True)
class _Part:
    """One scheme's rows (or its placeholders), in facts order: everything but the enterprise id."""

    # the columns that vary row by row (unit id, status, amounts, superseded_by); one left out is null on
    # every row (or kept in sparse)
    values: pl.DataFrame
    described: np.ndarray  # per row, its row of descriptions (uint16, or uint32 for more than 2^16 of them)
    descriptions: pl.DataFrame  # the _DESCRIBED columns: few rows, one per pair of failed and unknown keys
    rows: np.ndarray  # per row, the enterprise row number
    ranks: np.ndarray | None  # per row, its place among its enterprise's units (None: one row per enterprise)
    rows_of: str = ""  # parts with the same (non-empty) key have the same rows: one kind's units
    # columns with a value only where the scheme gives an amount (the amount, cap, binding, headroom: a few rows
    # in a hundred), kept for those rows only: "_at" (the row in the part, increasing) and the columns. The
    # values frame does not have them.
    sparse: pl.DataFrame | None = None

    def column(self, name: str, dtype: pl.DataType) -> pl.Series:
        """A column for every row of the part, null where it has no value."""
        if name in self.values.columns:
            return self.values.get_column(name)
        if self.sparse is None or name not in self.sparse.columns:
            return pl.repeat(None, self.values.height, dtype=dtype, eager=True)
        values = self.sparse.get_column(name)
        return scatter([values], [self.sparse.get_column("_at").to_numpy()], self.values.height, dtype,
                       values.to_physical().dtype)


def _keys(result: BatchResult) -> _Keys:
    enterprises = result.frames.enterprises.sort(ROW)
    ids = enterprises.get_column("enterprise_id")
    n = enterprises.height
    kinds = [unit for unit, ev in result.evaluated.items() if unit != "enterprise" and "unit_id" in ev.facts.columns]
    unit_ids = [result.evaluated[unit].facts.get_column("unit_id").cast(pl.String) for unit in kinds]
    units: dict[str, pl.Series] = {}
    unit_dtype: pl.DataType = pl.String
    n_unit_ids = 0
    if unit_ids:
        every = pl.concat(unit_ids)
        distinct = every.drop_nulls().unique(maintain_order=True)
        if (dtype := enum_of(distinct)) is not None:
            unit_dtype, n_unit_ids = dtype, distinct.len()
            every = every.cast(unit_dtype)
        start = 0
        for unit, part in zip(kinds, unit_ids):
            units[unit] = every.slice(start, part.len())
            start += part.len()
    ranks = {unit: _ranks(result.evaluated[unit].facts.get_column(ROW).to_numpy(), n) for unit in kinds}
    return _Keys(ids, (enum_of(ids) if n else None) or pl.String, units, ranks, unit_dtype, n_unit_ids,
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


def _mask_dtype(bits: int) -> pl.DataType:
    """The narrowest integer that holds `bits` bits: narrow masks are cheaper to build and index a table."""
    if bits > _MAX_BITS:
        raise NotImplementedError("more condition leaves than a mask holds")
    return pl.UInt8 if bits <= 8 else pl.UInt16 if bits <= 16 else pl.UInt32 if bits <= 32 else pl.Int64


def _mask(reasons: list[Reason], dtype: pl.DataType) -> pl.Expr:
    if not reasons:
        return pl.lit(0, dtype=dtype)
    zero = pl.lit(0, dtype=dtype)
    bits = [pl.when(r.when).then(pl.lit(1 << i, dtype=dtype)).otherwise(zero) for i, r in enumerate(reasons)]
    return reduce(operator.or_, bits)


def _text_of(mask: int, reasons: list[Reason], joiner_zh: str, joiner_en: str) -> tuple[str, str]:
    picked = [r for i, r in enumerate(reasons) if mask >> i & 1]
    return joiner_zh.join(dict.fromkeys(r.zh for r in picked)), joiner_en.join(dict.fromkeys(r.en for r in picked))


def _distinct_texts(keys: pl.Series, tracks: list[list[Reason]], width: int, joiner_zh: str = "；",
                    joiner_en: str = "; ") -> tuple[np.ndarray, list[str], list[str]]:
    """Each row's place among the distinct reason keys, and the (zh, en) text of each; a key is
    track << width | that track's mask.

    The few distinct keys are turned into text in Python. Narrow keys find their place through a table of every
    key (a gather), wider ones through a look-up of the distinct keys.
    """
    distinct = [k for k in keys.unique().to_list() if k is not None]
    low = (1 << width) - 1
    texts = [_text_of(k & low, tracks[k >> width], joiner_zh, joiner_en) for k in distinct]
    size = len(tracks) << width
    if size <= _TABLE_SIZE:
        table = np.zeros(size, dtype=np.uint32)
        table[distinct] = np.arange(len(distinct), dtype=np.uint32)
        place = table[keys.to_numpy()]
    else:
        place = keys.replace_strict(distinct, list(range(len(distinct))), return_dtype=pl.UInt32).to_numpy()
    return place, [z for z, _ in texts], [e for _, e in texts]


def _reason_key(tracks: list[list[Reason]]) -> tuple[pl.Expr, int]:
    """Each row's key into _distinct_texts: the mask of its track's reasons, the track in the bits above."""
    width = max(len(reasons) for reasons in tracks)
    dtype = _mask_dtype(width + (len(tracks) - 1).bit_length())
    masks = [_mask(reasons, dtype) for reasons in tracks]
    if len(masks) == 1:
        return masks[0], width
    track = pl.col("_track").fill_null(0)
    key = masks[0]
    for i in range(1, len(masks)):
        key = pl.when(track == i).then(masks[i]).otherwise(key)
    return key | (track.cast(dtype) * pl.lit(1 << width, dtype=dtype)), width


def _from_codes(column: pl.Expr, values: list[str], dtype: pl.DataType) -> pl.Expr:
    """Integer codes -> values[code] as `dtype` (null stays null). Where dtype is the Enum of `values`, the
    codes are the Enum's own (see long_table.as_dtype)."""
    if isinstance(dtype, pl.Enum) and dtype == pl.Enum(values):
        return as_dtype(column.cast(enum_physical(len(values))), dtype)
    return column.replace_strict(list(range(len(values))), pl.Series(values, dtype=dtype), default=None,
                                 return_dtype=dtype)


def _status_name(column: str) -> pl.Expr:
    return _from_codes(pl.col(column), list(STATUS_NAMES), pl.Enum(STATUS_NAMES))


def _unit_rows(result: BatchResult, ev: Evaluated, plan: Plan | InterestPlan, keys: _Keys,
               schema: dict[str, pl.DataType]) -> _Part:
    """One scheme's rows for every unit of its kind (facts order), with their descriptions, enterprise rows and
    in-enterprise ranks."""
    from .columnar import amount_column, status_column, winner_column

    o = plan.order
    scheme = plan.scheme
    facts = ev.facts
    if not facts.height:
        return _Part(pl.DataFrame(schema=_values_schema(schema)), np.zeros(0, dtype=np.uint32),
                     _descriptions(scheme, keys, [], [], [], []), np.zeros(0, dtype=np.int64), None)
    wide_columns = [status_column(o), amount_column(o)] + ([winner_column(o)] if winner_column(o) in ev.wide.columns else [])
    # the columns the rules read, already in one chunk each (see columnar._contiguous), and the scheme's results,
    # taken as columns (an eager select would copy the whole wide frame into line) and put in one chunk too
    frame = ev.read.hstack([ev.wide.get_column(c).rechunk() for c in wide_columns])
    rows = facts.get_column(ROW)
    amount = pl.col(amount_column(o))
    # columns taken as they are (a lazy query copies even the columns it only passes through)
    taken = {}
    ranks = None  # enterprise-wide schemes: one row per enterprise, and no unit id
    if scheme.unit != "enterprise":
        taken["unit_id"], ranks = keys.units[scheme.unit], keys.ranks[scheme.unit]
    # the amount and what follows from it, for the rows with an amount only (null elsewhere)
    sparse_columns = [amount.alias("amount_fen")]
    if isinstance(plan, InterestPlan):
        extra = result.evaluated["loan"].extra[o]
        track = closest_track(extra, plan, ev.read)
        frame = frame.hstack([track.alias("_track").rechunk()])
        taken |= {"cap_fen": extra["cap"].cast(pl.Int64), "binding_cap": extra["binding"].cast(pl.Boolean),
                  "headroom_fen": extra["headroom"].cast(pl.Int64)}
        failed_sets = [[r for c in conditions for r in c.failed] for conditions in plan.tracks]
        unknown_sets = [[r for c in conditions for r in c.unknown] for conditions in plan.tracks]
    else:
        # the headroom from the amount the engine computed, rather than the amount's arithmetic once more
        on_amounts = {"cap_fen": (plan.cap, pl.Int64), "binding_cap": (plan.binding, pl.Boolean),
                      "headroom_fen": (plan.headroom_given(amount), pl.Int64)}
        # a scheme without a cap (or binding, or headroom): null on every row
        sparse_columns += [expr.cast(dtype).alias(name) for name, (expr, dtype) in on_amounts.items()
                           if expr is not None]
        failed, unknown = plan.reasons()
        failed_sets, unknown_sets = [failed], [unknown]
    failed_key, failed_width = _reason_key(failed_sets)
    unknown_key, unknown_width = _reason_key(unknown_sets)
    # what to confirm only where it decides the result: a row that failed (or is out of force, or went to
    # another scheme) has nothing to confirm, so its unknowns are dropped, keeping the track bits above them
    keep_track = pl.lit(1 << unknown_width, dtype=pl.UInt64)
    unknown_key = pl.when(pl.col(status_column(o)) == NEEDS_CONFIRMATION).then(unknown_key.cast(pl.UInt64)) \
        .otherwise(unknown_key.cast(pl.UInt64) // keep_track * keep_track)
    winner = pl.col(winner_column(o)) if winner_column(o) in frame.columns else pl.lit(None, dtype=pl.Int32)
    # one lazy query, so that the conditions the reasons share (a scheme's gates, its region checks, a leaf's
    # failed and unknown tests) are computed once
    lazy = frame.lazy()
    long, sparse = pl.collect_all([
        lazy.select(
            _status_name(status_column(o)).alias("status"),
            _from_codes(winner, [s.id for s in result.catalogue.schemes], keys.schemes).alias("superseded_by"),
            failed_key.alias("_failed"), unknown_key.alias("_unknown")),
        lazy.with_row_index("_at").filter(amount.is_not_null()).select("_at", *sparse_columns),
    ])
    failed_at, reasons_zh, reasons_en = _distinct_texts(long["_failed"], failed_sets, failed_width)
    unknown_at, confirm_zh, confirm_en = _distinct_texts(long["_unknown"], unknown_sets, unknown_width)
    # a row's description is its pair of distinct failed and unknown keys: a table of every pair (few of each)
    pairs = len(reasons_zh) * len(confirm_zh)
    described = failed_at * np.uint32(len(confirm_zh)) + unknown_at
    failed_of, unknown_of = np.divmod(np.arange(pairs), len(confirm_zh))
    if pairs > _TABLE_SIZE:  # only the pairs that occur
        present, described = np.unique(described, return_inverse=True)
        failed_of, unknown_of = failed_of[present], unknown_of[present]
    descriptions = _descriptions(scheme, keys, [reasons_zh[i] for i in failed_of], [reasons_en[i] for i in failed_of],
                                 [confirm_zh[i] for i in unknown_of], [confirm_en[i] for i in unknown_of])
    if isinstance(plan, InterestPlan):
        described, descriptions = _with_check_notes(described, descriptions, extra, ev.read, result.as_of)
    elif getattr(scheme, "event", None) == "quarter_end":
        described, descriptions = _with_deadline_note(described, descriptions, frame.get_column(status_column(o)),
                                                      plan.version, result.as_of)
    values = long.drop("_failed", "_unknown").hstack([column.alias(name) for name, column in taken.items()])
    narrow = np.uint16 if descriptions.height <= 1 << 16 else np.uint32
    return _Part(values, described.astype(narrow, copy=False), descriptions, rows.to_numpy(), ranks,
                 "" if ranks is None else scheme.unit, sparse)


def _descriptions(scheme, keys: _Keys, reasons_zh: list, reasons_en: list, confirm_zh: list,
                  confirm_en: list) -> pl.DataFrame:
    size = len(reasons_zh)
    return pl.DataFrame([
        pl.Series("scheme_id", [scheme.id] * size, dtype=keys.schemes),
        pl.Series("unit_kind", [scheme.unit] * size, dtype=keys.kinds),
        pl.Series("reasons_zh", reasons_zh, dtype=_CODED), pl.Series("reasons_en", reasons_en, dtype=_CODED),
        pl.Series("to_confirm_zh", confirm_zh, dtype=_CODED), pl.Series("to_confirm_en", confirm_en, dtype=_CODED),
        pl.Series("notes_zh", [None] * size, dtype=_CODED), pl.Series("notes_en", [None] * size, dtype=_CODED),
    ])


# a loan's check notes in one cell: each is a sentence of its own (their texts hold "；" and "：" already)
NOTES_JOINER_ZH, NOTES_JOINER_EN = "。", ". "


def _with_check_notes(described: np.ndarray, descriptions: pl.DataFrame, extra: pl.DataFrame, read: pl.DataFrame,
                      as_of) -> tuple[np.ndarray, pl.DataFrame]:
    """The loans' check notes (loan_tracks: a rate above 24%, a subsidised window already over, awards beyond
    the whole subsidy) as more descriptions: one per pair of a row's description and its distinct notes.

    Few loans have a note, and their facts (a rate, a date, two amounts) take few distinct values, so each
    distinct set of facts is written out once, with the scalar engine's own texts."""
    from decimal import Decimal

    from ..loan_tracks import implausible_rate_note, over_received_note, window_ended_note
    from ..profile import IMPLAUSIBLE_RATE

    top, bottom = IMPLAUSIBLE_RATE.as_integer_ratio()
    high = pl.col("_rate_num") * bottom > pl.col("_rate_den") * top
    facts = pl.DataFrame([read.get_column("_rate_num"), read.get_column("_rate_den"),
                          *[extra.get_column(c) for c in ("ended_on", "received", "whole")]])
    keys = ["_rate_num", "_rate_den", "ended_on", "received", "whole"]
    groups = (facts.lazy().with_row_index("_at")
              .filter(high.fill_null(False) | pl.col("ended_on").is_not_null() | pl.col("received").is_not_null())
              .with_columns(pl.when(high).then(pl.col(["_rate_num", "_rate_den"])))
              .group_by(keys, maintain_order=True).agg(pl.col("_at")).collect())
    if not groups.height:
        return described, descriptions
    texts = []
    for num, den, ended_on, received, whole in groups.select(keys).iter_rows():
        notes = [*(implausible_rate_note(Decimal(num) / Decimal(den)) if num is not None else []),
                 *(window_ended_note(ended_on, as_of) if ended_on is not None else []),
                 *(over_received_note(received, whole) if received is not None else [])]
        texts.append((NOTES_JOINER_ZH.join(n["zh"] for n in notes),
                      NOTES_JOINER_EN.join(as_sentence(n["en"]) for n in notes)))
    at = groups.get_column("_at").explode().to_numpy()
    variant = np.repeat(np.arange(len(texts), dtype=np.uint64), groups.get_column("_at").list.len().to_numpy())
    return _with_notes(described, descriptions, at, variant, texts)


def _with_notes(described: np.ndarray, descriptions: pl.DataFrame, at: np.ndarray, variant: np.ndarray,
                texts: list[tuple[str, str]]) -> tuple[np.ndarray, pl.DataFrame]:
    """Rows `at` take the notes texts[variant]: one more description per pair of a row's description and its
    notes that occurs, so the long table stays dictionary-encoded."""
    pairs = described[at].astype(np.uint64) * np.uint64(len(texts)) + variant
    present, inverse = np.unique(pairs, return_inverse=True)
    of_description, of_variant = np.divmod(present, np.uint64(len(texts)))
    noted = descriptions[of_description.astype(np.int64)].with_columns(
        pl.Series("notes_zh", [texts[v][0] for v in of_variant], dtype=_CODED),
        pl.Series("notes_en", [texts[v][1] for v in of_variant], dtype=_CODED))
    described = described.astype(np.uint32)
    described[at] = descriptions.height + inverse
    return described, pl.concat([descriptions, noted])


def _with_deadline_note(described: np.ndarray, descriptions: pl.DataFrame, status: pl.Series, version,
                        as_of) -> tuple[np.ndarray, pl.DataFrame]:
    """A quarter-end deadline's date as the check note of every row the scalar engine computes it for (eligible or
    to confirm): the same date for every row, so one more description per description those rows use. No note
    while the holiday calendar is not published: the deadline is then to confirm, as in the scalar engine."""
    from ..calculators.deadline import deadline_for_version, deadline_note
    from ..dates import quarter_end
    from ..errors import CalendarNotPublished

    if version is None:  # not in force on the evaluation date: no row computes a deadline
        return described, descriptions
    try:
        note = deadline_note(deadline_for_version(version, quarter_end(as_of)).deadline, as_of)
    except CalendarNotPublished:
        return described, descriptions
    at = np.flatnonzero(status.is_in([ELIGIBLE, NEEDS_CONFIRMATION]).to_numpy())
    if not at.size:
        return described, descriptions
    return _with_notes(described, descriptions, at, np.zeros(at.size, dtype=np.uint64),
                       [(note["zh"], as_sentence(note["en"]))])


def as_sentence(text: str) -> str:
    """A note as the sentence it is in a cell of notes: capitalised (the texts are written to follow a colon)."""
    return text[:1].upper() + text[1:]


def _placeholders(result: BatchResult, scheme, version, keys: _Keys) -> _Part:
    """One row for each enterprise without a unit of the scheme's kind (every enterprise, for kinds not in
    the tables)."""
    from .columnar import NO_UNIT

    # only the row numbers: filtering the whole enterprise frame would copy every one of its columns
    enterprises = take(result.frames.enterprises, [ROW, "_n_projects", "_n_loans"])
    if scheme.unit == "project":
        rows = enterprises.filter(pl.col("_n_projects") == 0).select(ROW)
    elif scheme.unit == "loan":
        rows = enterprises.filter(pl.col("_n_loans") == 0).select(ROW)
    else:
        rows = enterprises.select(ROW)
    zh, en = NO_UNIT[scheme.unit]
    status = STATUS_NAMES[NOT_IN_FORCE if version is None else INELIGIBLE]
    at = rows.get_column(ROW)
    # the status is the one column with a value: the others are null on every row, so left out (see _Part)
    values = rows.select(ROW, pl.lit(status, dtype=pl.Enum(STATUS_NAMES)).alias("status")).drop(ROW)  # ROW: the height
    return _Part(values, np.zeros(at.len(), dtype=np.uint16),
                 _descriptions(scheme, keys, [zh], [en], [None], [None]), at.to_numpy(), None)


def details(result: BatchResult) -> pl.DataFrame:
    """Enterprise order, then catalogue order, then unit order, as the scalar results of each profile."""
    encoded = result.encoded_details
    plain = [name for name, dtype in encoded.schema.items() if DETAIL_SCHEMA[name] == pl.String and dtype != pl.String]
    return encoded.with_columns(pl.col(plain).cast(pl.String))


def explained_parts(result: BatchResult) -> tuple[_Keys, dict[str, pl.DataType], list[_Part]]:
    """Every scheme's rows and placeholders (catalogue order), each in facts order, with the keys and the
    schema of the long table they make."""
    from .scheme_plans import version_on

    keys = _keys(result)
    schema = ENCODED_DETAIL_SCHEMA | {"enterprise_id": keys.enterprise, "unit_id": keys.unit_dtype,
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
        return keys, schema, list(pool.map(lambda job: job(), jobs))


def encoded_details(result: BatchResult) -> pl.DataFrame:
    """The details with the ids and the repetitive text as Enums (same values as details())."""
    keys, schema, parts = explained_parts(result)
    n = result.frames.enterprises.height
    places, per_enterprise = enterprise_places([(part.rows, part.ranks) for part in parts], n)
    size = int(per_enterprise.sum())
    if size == 0:
        return pl.DataFrame(schema=schema)
    offsets, descriptions = numbered_descriptions(parts)
    # every column is put in place on its own, two at a time (numpy and polars release the GIL)
    with ThreadPoolExecutor(max_workers=2) as pool:
        numbers = pool.submit(put, [part.described + o for part, o in zip(parts, offsets)], places, size, np.uint32)
        columns = {"enterprise_id": pool.submit(_enterprise_column, keys, per_enterprise)}
        physical = _physical_types(keys)
        columns |= {c: pool.submit(_column_in_place, [part.column(c, dtype) for part in parts], places, size,
                                   dtype, physical.get(c))
                    for c, dtype in _values_schema(schema).items()}
        described = numbers.result()
        columns |= {c: pool.submit(_described_column, descriptions.get_column(c), described, schema[c])
                    for c in _DESCRIBED}
        return pl.DataFrame([columns[c].result().alias(c) for c in schema])


def numbered_descriptions(parts: list[_Part]) -> tuple[np.ndarray, pl.DataFrame]:
    """The parts' tables of descriptions as one, and where each part's starts in it: a row's description number
    across the parts is its part's offset plus its `described`."""
    offsets = np.cumsum([0] + [part.descriptions.height for part in parts[:-1]], dtype=np.uint32)
    return offsets, pl.concat([part.descriptions for part in parts], how="vertical")


def _physical_types(keys: _Keys) -> dict[str, pl.DataType]:
    """The integer codes of the Enum columns the parts hold, known without asking polars for the Enums."""
    out = {"status": enum_physical(len(STATUS_NAMES))}
    if isinstance(keys.unit_dtype, pl.Enum):
        out["unit_id"] = enum_physical(keys.n_unit_ids)
    if isinstance(keys.schemes, pl.Enum):
        out["superseded_by"] = enum_physical(keys.schemes.categories.len())
    return out


def _enterprise_column(keys: _Keys, per_enterprise: np.ndarray) -> pl.Series:
    """Each row's enterprise id. The rows are in enterprise order, so the enterprise row numbers are each
    repeated for that enterprise's rows; they are the codes of an Enum of the ids."""
    codes = pl.Series(np.repeat(np.arange(per_enterprise.size, dtype=np.uint32), per_enterprise))
    if not isinstance(keys.enterprise, pl.Enum):
        return keys.enterprise_ids.gather(codes)
    return as_dtype(codes.cast(enum_physical(keys.enterprise_ids.len())), keys.enterprise)


def _column_in_place(columns: list[pl.Series], places: list[np.ndarray], size: int, dtype: pl.DataType,
                     physical: pl.DataType | None) -> pl.Series:
    if dtype.is_numeric() or dtype == pl.Boolean:
        return scatter(columns, places, size, dtype, dtype)
    if physical is not None:
        return scatter(columns, places, size, dtype, physical)
    # text without codes: concatenated, then gathered into order
    starts = np.cumsum([0] + [column.len() for column in columns])
    order = put([np.arange(a, b) for a, b in zip(starts, starts[1:])], places, size, np.int64)
    return pl.concat(columns).gather(pl.Series(order))


def _described_column(texts: pl.Series, described: np.ndarray, dtype: pl.DataType) -> pl.Series:
    """A description column for every row, by each row's description number: codes from a small table."""
    enum, codes, valid = coded(texts.cast(pl.String).to_list(), dtype)
    return as_dtype(from_numpy(codes[described], valid[described] if not valid.all() else None,
                               enum_physical(enum.categories.len())), enum)


def _values_schema(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """The columns each part holds per row (the ids and the described columns come from elsewhere)."""
    return {name: dtype for name, dtype in schema.items() if name != "enterprise_id" and name not in _DESCRIBED}


