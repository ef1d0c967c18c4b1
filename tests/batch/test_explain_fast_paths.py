"""The explained table's fast paths give exactly what the plain formulation gives.

- reason texts: a narrow mask per row and a table of the distinct keys equal the Int64 sum of bits and the text
  joined for each row (for one track and for several, through the table and through the look-up);
- status and superseded_by: codes taken as the Enum's own equal a look-up of each code;
- one scheme's rows: the headroom read off the engine's amount, the reasons and what to confirm equal the
  plan's own expressions evaluated on the whole facts frame; the closest track of the loan interest subsidy,
  with its failed conditions counted for the loans that need it only, equals counting them for every loan.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from incentives.batch import explain, long_table
from incentives.batch.columnar import amount_column, evaluate_tables, status_column, winner_column
from incentives.batch.compile_conditions import Reason
from incentives.batch.convert import profiles_to_tables
from incentives.batch.interest_columns import InterestPlan, closest_track
from incentives.batch.scheme_plans import NEEDS_CONFIRMATION, STATUS_NAMES
from incentives.batch.unit_frames import ROW, spread

from .strategies import populations


def _reference_texts(truths: list[list[bool]], reasons: list[Reason]) -> list[str]:
    """Per row, the labels of the reasons that hold, joined (the scalar path's text)."""
    return ["；".join(dict.fromkeys(r.zh for r, holds in zip(reasons, row) if holds)) for row in truths]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12), st.integers(1, 3), st.booleans(), st.data())
def test_distinct_keys_give_each_row_its_joined_text(n_reasons: int, n_tracks: int, wide: bool, data) -> None:
    labels = st.sampled_from(["甲", "乙", "丙", "丁"])  # repeats: a label is named once per text
    tracks = [[Reason(pl.lit(True), data.draw(labels), "x") for _ in range(n_reasons)] for _ in range(n_tracks)]
    rows = data.draw(st.lists(st.tuples(st.integers(0, n_tracks - 1), st.lists(st.booleans(), min_size=n_reasons,
                                                                               max_size=n_reasons)),
                              min_size=1, max_size=40))
    # a width beyond the table's reach takes the look-up path
    width = 17 if wide else n_reasons
    keys = pl.Series([track << width | sum(1 << i for i, b in enumerate(bits) if b) for track, bits in rows],
                     dtype=pl.Int64 if wide else pl.UInt32)
    place, zh, _ = explain._distinct_texts(keys, tracks, width)
    expected = [_reference_texts([bits], tracks[track])[0] for track, bits in rows]
    assert [zh[i] for i in place] == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.booleans()), min_size=1, max_size=9), min_size=1, max_size=30))
def test_a_narrow_mask_equals_the_sum_of_bits(rows: list[list[bool | None]]) -> None:
    width = max(len(r) for r in rows)
    frame = pl.DataFrame({f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)},
                         schema={f"c{i}": pl.Boolean for i in range(width)})
    reasons = [Reason(pl.col(f"c{i}"), str(i), str(i)) for i in range(width)]
    reference = frame.select(pl.sum_horizontal([pl.when(r.when).then(pl.lit(1 << i, dtype=pl.Int64)).otherwise(0)
                                                for i, r in enumerate(reasons)])).to_series()
    narrow = frame.select(explain._mask(reasons, explain._mask_dtype(width))).to_series()
    assert narrow.cast(pl.Int64).to_list() == reference.to_list()


@given(st.lists(st.one_of(st.none(), st.integers(0, len(STATUS_NAMES) - 1)), max_size=30), st.booleans())
def test_codes_taken_as_the_enum_equal_a_look_up(codes: list[int | None], taken: bool) -> None:
    values = list(STATUS_NAMES)
    frame = pl.DataFrame({"code": codes}, schema={"code": pl.Int32})
    looked_up = frame.select(pl.col("code").replace_strict(list(range(len(values))), values, default=None,
                                                           return_dtype=pl.Enum(values))).to_series()
    saved = long_table.CODES_TO_ENUM
    long_table.CODES_TO_ENUM = taken and saved  # both paths, where this polars has the fast one
    try:
        fast = frame.select(explain._from_codes(pl.col("code"), values, pl.Enum(values))).to_series()
        codes_in_place = long_table.as_dtype(frame["code"].cast(long_table.enum_physical(len(values))),
                                             pl.Enum(values))
    finally:
        long_table.CODES_TO_ENUM = saved
    assert fast.dtype == looked_up.dtype and fast.to_list() == looked_up.to_list()
    assert codes_in_place.dtype == looked_up.dtype and codes_in_place.to_list() == looked_up.to_list()


def _reference_closest_track(extra: pl.DataFrame, plan: InterestPlan, facts: pl.DataFrame) -> pl.Series:
    """Failed conditions counted for every loan, then the fewest over each enterprise's loans (earlier on a tie)."""
    counts = facts.select(ROW, *[pl.sum_horizontal([pl.when(r.when).then(1).otherwise(0) for c in t for r in c.failed])
                                 .alias(f"_nf{i}") for i, t in enumerate(plan.tracks)])
    missing = counts.filter(extra["track"].is_null())
    if not missing.height:
        return extra["track"]
    per = missing.group_by(ROW).agg(pl.all().sum())
    best = [min(range(len(plan.tracks)), key=lambda i: (row[f"_nf{i}"], i)) for row in per.iter_rows(named=True)]
    chosen = spread(int(extra[ROW].max()) + 1, per[ROW], pl.Series(best, dtype=pl.UInt8))
    return extra["track"].fill_null(chosen.gather(extra[ROW]))


@settings(max_examples=40, deadline=None)
@given(populations(max_size=6))
def test_each_schemes_rows_equal_its_plan_evaluated_on_the_facts(case: tuple[date, list]) -> None:
    as_of, population = case
    result = evaluate_tables(profiles_to_tables(population), as_of)
    keys = explain._keys(result)
    schema = explain.ENCODED_DETAIL_SCHEMA | {"unit_id": keys.unit_dtype, "scheme_id": keys.schemes,
                                              "superseded_by": keys.schemes, "unit_kind": keys.kinds}
    ids = [s.id for s in result.catalogue.schemes]
    for ev in result.evaluated.values():
        if not ev.facts.height:
            continue
        for plan in ev.plans:
            part = explain._unit_rows(result, ev, plan, keys, schema)
            described = part.descriptions[pl.Series(part.described)]
            o = plan.order
            columns = [status_column(o), amount_column(o)] + [c for c in [winner_column(o)] if c in ev.wide.columns]
            frame = pl.concat([ev.facts, ev.wide.select(columns)], how="horizontal")
            if isinstance(plan, InterestPlan):
                extra = result.evaluated["loan"].extra[o]
                track = closest_track(extra, plan, ev.read)
                assert track.to_list() == _reference_closest_track(extra, plan, frame).to_list()
                failed = [[r for c in t for r in c.failed] for t in plan.tracks]
                unknown = [[r for c in t for r in c.unknown] for t in plan.tracks]
                expected_headroom = extra["headroom"]
            else:
                track = pl.Series([0] * frame.height)
                failed, unknown = ([x] for x in plan.reasons())
                has = pl.col(amount_column(o)).is_not_null()
                headroom = pl.lit(None, dtype=pl.Int64) if plan.headroom is None else pl.when(has).then(plan.headroom)
                expected_headroom = frame.with_columns(headroom.cast(pl.Int64).alias("_headroom"))["_headroom"]
            assert part.column("headroom_fen", pl.Int64).to_list() == expected_headroom.to_list()
            confirming = [s == NEEDS_CONFIRMATION for s in frame[status_column(o)].to_list()]
            for sets, column in ((failed, "reasons_zh"), (unknown, "to_confirm_zh")):
                truths = [frame.select([r.when.fill_null(False).alias(f"r{k}") for k, r in enumerate(reasons)]).rows()
                          if reasons else [()] * frame.height for reasons in sets]
                expected = [_reference_texts([truths[t or 0][i]], sets[t or 0])[0]
                            for i, t in enumerate(track.to_list())]
                if column == "to_confirm_zh":  # only where it decides the result
                    expected = [text if confirm else "" for text, confirm in zip(expected, confirming)]
                assert described[column].cast(pl.String).to_list() == expected
            assert described["scheme_id"].cast(pl.String).to_list() == [plan.scheme.id] * frame.height
            statuses = frame[status_column(o)].to_list()
            assert part.values["status"].cast(pl.String).to_list() == [STATUS_NAMES[s] for s in statuses]
            winners = frame[winner_column(o)].to_list() if winner_column(o) in frame.columns else [None] * frame.height
            assert part.values["superseded_by"].cast(pl.String).to_list() == [
                None if w is None else ids[w] for w in winners]
            assert np.array_equal(part.rows, ev.facts[ROW].to_numpy())
