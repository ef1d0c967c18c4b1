"""Each calculator kind in isolation, and money parsing: exact integers of fen, Decimal rates, no float anywhere."""

from __future__ import annotations

import ast
import json
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st

from incentives.calculators.capped_history import annual_percent_with_cap, cumulative_cap
from incentives.calculators.deadline import deadline_after
from incentives.calculators.fixed_award import award_up_to_cap, fixed_award
from incentives.calculators.interest_subsidy import allocate_annual_cap, subsidy_segments
from incentives.calculators.percent_of_base import percent_of_base
from incentives.calculators.rate_table import RateLookupError, find_tool, rate_entry_on, rate_on
from incentives.dates import add_months, is_working_day
from incentives.errors import InputError
from incentives.evaluate import evaluate
from incentives.money import (MoneyError, Rounding, apply_rate, fen_to_yuan, format_cny, format_cny_compact,
                              format_wan, yuan_to_fen)
from incentives.profile import loads_exact, parse_profile, profile_from_json
from incentives.report import evaluation_json
from incentives.resources import examples_dir
from incentives.schemes import catalogue

FEN = st.integers(0, 10**15)
RATES = st.integers(0, 10_000).map(lambda bp: Decimal(bp) / Decimal(10_000))  # 0 .. 1 in steps of 0.0001
CAPS = st.integers(1, 10**11)
LABEL = ("基数", "base")


def _floor(base: int, rate: Decimal) -> int:
    exact = Fraction(base) * Fraction(rate)
    return exact.numerator // exact.denominator


# --- percent of base -------------------------------------------------------------------------------------------


@given(base=FEN, rate=RATES, cap=st.one_of(st.none(), CAPS), more=FEN)
@example(base=10_000_000_000, rate=Decimal("0.30"), cap=3_000_000_000, more=0)  # exactly at the ¥30M cap
@example(base=9_999_999_999, rate=Decimal("0.30"), cap=3_000_000_000, more=1)  # one fen under, then at it
@example(base=33_333_333_334, rate=Decimal("0.15"), cap=5_000_000_000, more=0)  # 0.1 fen over the cap, floored
@example(base=0, rate=Decimal("0.35"), cap=1, more=0)
def test_percent_of_base_is_floor_of_base_times_rate_limited_to_the_cap(base, rate, cap, more) -> None:
    result = percent_of_base(base, rate, cap, Rounding.down_to_fen, base_label=LABEL)
    raw = _floor(base, rate)
    assert result.amount_fen == (raw if cap is None else min(raw, cap))
    assert 0 <= result.amount_fen <= raw
    if cap is not None:
        assert result.amount_fen <= cap
        assert result.binding_cap is (raw >= cap)
        assert result.headroom_fen == cap - result.amount_fen >= 0
    bigger = percent_of_base(base + more, rate, cap, Rounding.down_to_fen, base_label=LABEL)
    assert bigger.amount_fen >= result.amount_fen
    assert result.steps[-1].amount_fen == result.amount_fen  # the last step is the answer


@given(base=FEN, rate=RATES)
@example(base=1, rate=Decimal("0.5"))  # exactly half a fen rounds up
@example(base=3, rate=Decimal("0.5"))
def test_half_up_rounding_rounds_half_a_fen_up(base, rate) -> None:
    exact = Decimal(base) * rate
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert apply_rate(base, rate, Rounding.half_up_to_fen) == expected
    assert apply_rate(base, rate, Rounding.down_to_fen) == int(exact.quantize(Decimal(1), rounding=ROUND_FLOOR))


def test_rate_arithmetic_is_exact_beyond_the_decimal_context() -> None:
    """A long rate times a large base would round in a 28-digit context; the calculator must not."""
    base, rate = 10**15 - 1, Decimal("0.123456789012345678901234567891")
    assert apply_rate(base, rate, Rounding.down_to_fen) == _floor(base, rate)


# --- fixed award and award up to a cap -------------------------------------------------------------------------


@given(amount=CAPS)
def test_a_fixed_award_is_exactly_its_amount(amount) -> None:
    assert fixed_award(amount).amount_fen == amount


@given(cap=CAPS, base=st.one_of(st.none(), FEN))
@example(cap=500_000_00, base=500_000_00)  # the voucher at exactly ¥500K
@example(cap=500_000_00, base=499_999_99)
def test_an_award_up_to_a_cap_is_the_smaller_of_base_and_cap(cap, base) -> None:
    result = award_up_to_cap(cap, base, base_label=LABEL)
    assert result.amount_fen == (cap if base is None else min(cap, base))
    assert result.headroom_fen == cap - result.amount_fen
    assert result.binding_cap is (base is None or base >= cap)


# --- caps that earlier awards use up --------------------------------------------------------------------------


@given(cap=CAPS, base=st.one_of(st.none(), FEN), already=st.integers(0, 2 * 10**11), year=st.sampled_from([None, 2026]))
@example(cap=200_000_000, base=None, already=200_000_000, year=None)  # a platform's ¥2M used up exactly
@example(cap=200_000_000, base=None, already=199_999_999, year=None)  # one fen left
def test_an_award_up_to_a_cap_that_earlier_awards_use_never_passes_the_room_left(cap, base, already, year) -> None:
    result = award_up_to_cap(cap, base, base_label=LABEL, already_fen=already, year=year)
    room = max(cap - already, 0)
    assert result.amount_fen == (room if base is None else min(room, base))
    assert 0 <= result.amount_fen <= room and result.headroom_fen == room - result.amount_fen >= 0
    if already:  # the steps show what was already paid: in the cap's year when it is yearly, else in all
        paid = [s for s in result.steps if s.label_en.startswith("already awarded")]
        assert [(s.label_en, s.amount_fen) for s in paid] == [
            ("already awarded" if year is None else f"already awarded in {year}", already)]


@given(base=FEN, rate=RATES, cap=CAPS, already=st.integers(0, 2 * 10**11))
@example(base=1_000_000_000, rate=Decimal("0.30"), cap=200_000_000, already=200_000_000)  # room used up exactly
@example(base=1_000_000_000, rate=Decimal("0.30"), cap=200_000_000, already=199_999_999)  # one fen of room
def test_an_annual_award_never_passes_the_room_left_this_year(base, rate, cap, already) -> None:
    result = annual_percent_with_cap(base, rate, cap, already, Rounding.down_to_fen, year=2026, base_label=LABEL)
    room = max(cap - already, 0)
    assert result.amount_fen == min(_floor(base, rate), room)
    assert 0 <= result.amount_fen <= room
    assert result.headroom_fen == room - result.amount_fen >= 0


@given(cap=CAPS, already=st.integers(0, 2 * 10**11))
@example(cap=2_000_000_000, already=2_000_000_000)
@example(cap=2_000_000_000, already=1_999_999_999)
def test_a_cumulative_cap_offers_exactly_the_room_left(cap, already) -> None:
    result = cumulative_cap(cap, already)
    assert result.amount_fen == max(cap - already, 0)
    assert result.amount_fen + min(already, cap) == cap


# --- loan interest subsidy -------------------------------------------------------------------------------------

LOAN_DAYS = st.integers(1, 1200)
ISSUES = st.dates(date(2025, 1, 1), date(2028, 12, 31))


@given(principal=FEN, rate_bp=st.integers(0, 2000), issue=ISSUES, days=LOAN_DAYS, months=st.integers(1, 24))
@example(principal=1_000_000_000, rate_bp=400, issue=date(2025, 7, 1), days=1095, months=12)  # 140,000.00 exactly
def test_a_loan_subsidy_is_the_floor_of_the_exact_interest_share_split_by_year(principal, rate_bp, issue, days,
                                                                               months) -> None:
    rate, share = Decimal(rate_bp) / 10_000, Decimal("0.35")
    maturity = issue + timedelta(days=days)
    segments = subsidy_segments(principal, rate, issue, maturity, share, months, Rounding.down_to_fen)
    window = (min(add_months(issue, months), maturity) - issue).days
    exact = Fraction(principal) * Fraction(rate) * window * Fraction(share) / 365
    assert sum(s.subsidy_fen for s in segments) == exact.numerator // exact.denominator
    assert sum(s.days for s in segments) == window
    assert all(s.subsidy_fen >= 0 for s in segments)
    assert [s.year for s in segments] == sorted({s.year for s in segments})  # one segment per calendar year
    for segment in segments:
        assert segment.start.year == segment.year and (segment.end - timedelta(days=1)).year == segment.year


@given(asks=st.lists(st.dictionaries(st.integers(2025, 2028), st.integers(0, 3 * 10**9), min_size=1), max_size=6),
       cap=st.integers(0, 3 * 10**9), paid=st.dictionaries(st.integers(2025, 2028), st.integers(0, 3 * 10**9)))
def test_the_yearly_cap_allocation_never_exceeds_the_room_and_wastes_none(asks, cap, paid) -> None:
    from incentives.calculators.interest_subsidy import Segment

    loans = [(f"l{i}", [Segment(y, date(y, 1, 1), date(y, 12, 31), 364, fen) for y, fen in sorted(ask.items())])
             for i, ask in enumerate(asks)]
    allocated = allocate_annual_cap(loans, cap, paid)
    for year in {y for ask in asks for y in ask}:
        asked = sum(ask.get(year, 0) for ask in asks)
        granted = sum(allocated[f"l{i}"].get(year, 0) for i in range(len(asks)))
        room = max(cap - paid.get(year, 0), 0)
        assert granted == min(asked, room)  # never over the room, and nothing left unused while asked for
    reversed_total = allocate_annual_cap(list(reversed(loans)), cap, paid)
    assert sum(sum(v.values()) for v in reversed_total.values()) == sum(sum(v.values()) for v in allocated.values())


# --- rate table ------------------------------------------------------------------------------------------------

TABLE = catalogue().rates


@given(tool=st.sampled_from([t.id for t in TABLE.tools]), on=st.dates(date(2020, 7, 1), date(2030, 12, 31)))
def test_the_rate_in_effect_is_the_latest_row_on_or_before_the_date(tool, on) -> None:
    rate_tool = find_tool(TABLE, tool)
    if on < rate_tool.rates[0].from_:
        with pytest.raises(RateLookupError):
            rate_entry_on(rate_tool, "1y", on)
        return
    entry = rate_entry_on(rate_tool, "1y", on)
    assert entry.from_ <= on
    assert all(other.from_ <= entry.from_ or other.from_ > on for other in rate_tool.rates)
    assert isinstance(rate_on(rate_tool, "1y", on), Decimal)


def test_the_january_2026_cut_takes_effect_on_the_19th() -> None:
    tech = find_tool(TABLE, "tech-relending")
    assert rate_on(tech, "1y", date(2026, 1, 18)) == Decimal("0.0150")
    assert rate_on(tech, "1y", date(2026, 1, 19)) == Decimal("0.0125")
    sme = find_tool(TABLE, "sme-relending")
    assert [rate_on(sme, t, date(2026, 1, 19)) for t in ("3m", "6m", "1y")] == [
        Decimal("0.0095"), Decimal("0.0115"), Decimal("0.0125")]


def test_a_single_tenor_tool_rejects_other_tenors_and_an_unknown_tool_lists_the_known_ones() -> None:
    with pytest.raises(RateLookupError, match="allowed: 1y"):
        rate_entry_on(find_tool(TABLE, "psl"), "3m", date(2026, 2, 1))
    with pytest.raises(RateLookupError) as error:
        find_tool(TABLE, "helicopter-money")
    assert "tech-relending" in error.value.en and "tech-relending" in error.value.zh


# --- working-day and month deadlines ---------------------------------------------------------------------------


@given(event=st.dates(date(2025, 1, 1), date(2026, 11, 30)), n=st.integers(1, 20))
def test_a_working_day_deadline_counts_every_working_day_and_only_those(event, n) -> None:
    answer = deadline_after(event, working_days=n)
    assert len(answer.working_days) == n
    assert answer.working_days[-1] == answer.deadline > event
    every_day = [event + timedelta(days=d) for d in range(1, (answer.deadline - event).days + 1)]
    assert list(answer.working_days) == [day for day in every_day if is_working_day(day)]


@given(event=st.dates(date(2020, 1, 1), date(2035, 12, 31)), months=st.integers(1, 24))
def test_a_month_deadline_lands_on_the_same_day_or_the_month_end(event, months) -> None:
    answer = deadline_after(event, months=months)
    assert answer.working_days == ()
    assert (answer.deadline.year * 12 + answer.deadline.month) - (event.year * 12 + event.month) == months
    assert answer.deadline.day == event.day or (answer.deadline.day < event.day
                                                and (answer.deadline + timedelta(days=1)).day == 1)


# --- money parsing ---------------------------------------------------------------------------------------------


@given(fen=FEN)
def test_yuan_text_round_trips_to_the_same_fen(fen) -> None:
    assert yuan_to_fen(str(fen_to_yuan(fen))) == fen
    assert yuan_to_fen(fen // 100) == fen // 100 * 100


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), float("inf"), float("-inf"), True, False, None, [1],
                                   "NaN", "Infinity", "-Infinity", "sNaN", "-1", "-0.01", "0.001", "1.005",
                                   "1.0000000000000000000000000001", "abc", "", "1e400", Decimal("NaN"),
                                   Decimal("-5"), -1])
def test_amounts_that_are_not_exact_finite_non_negative_fen_are_rejected(value) -> None:
    with pytest.raises(MoneyError) as error:
        yuan_to_fen(value)
    assert error.value.zh and error.value.en


@pytest.mark.parametrize("value, fen", [(0, 0), (5, 500), ("0.1", 10), ("0.10", 10), ("1.500", 150), ("1,234.56", 123456),
                                        ("1_000", 100000), (" 7 ", 700), ("1E+2", 10000), (Decimal("0.2"), 20),
                                        ("0.000", 0)])
def test_exact_amounts_are_accepted(value, fen) -> None:
    assert yuan_to_fen(value) == fen


def test_json_numbers_are_parsed_exactly_never_through_float() -> None:
    data = loads_exact('{"a": 0.1, "b": 0.2, "c": 12345678901234.56}')
    assert data["a"] + data["b"] == Decimal("0.3")
    assert data["c"] == Decimal("12345678901234.56")
    for bad in ('{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'):
        with pytest.raises(InputError):
            loads_exact(bad)


def test_a_python_float_in_a_profile_is_rejected_with_its_path() -> None:
    with pytest.raises(InputError) as error:
        parse_profile({"enterprise": {"name": "x", "region": {"province": "上海市"}, "revenue_yuan": 1.5}})
    assert [p.path for p in error.value.problems] == ["$.enterprise.revenue_yuan"]


def _loan_profile(rate: object) -> dict:
    return {"enterprise": {"name": "x", "region": {"province": "上海市"}},
            "loans": [{"id": "l", "principal_yuan": "100", "annual_rate": rate, "issue_date": "2026-01-01",
                       "maturity_date": "2027-01-01"}]}


@pytest.mark.parametrize("written, rate", [
    ("2.8%", "0.028"), ("2.8 %", "0.028"), (" 3.5% ", "0.035"), ("3.5％", "0.035"), ("0%", "0"), ("100%", "1"),
    (".5%", "0.005"), ("1.0000000000000000000000000000000001%", "0.010000000000000000000000000000000001"),
    ("0.028", "0.028"),
])
def test_a_rate_may_be_written_as_a_percentage_and_reads_exactly(written: str, rate: str) -> None:
    [loan] = parse_profile(_loan_profile(written)).loans
    assert loan.annual_rate == Decimal(rate) and isinstance(loan.annual_rate, Decimal)


@pytest.mark.parametrize("written, reason", [
    ("280%", "at most 1 (100%)"), ("100.01%", "at most 1 (100%)"), ("2.8", "at most 1 (100%)"),
    ("-1%", "must not be negative"), ("abc%", "not a valid number"), ("%", "not a valid number"),
    ("2.8%%", "not a valid number"), ("NaN%", "finite"),
])
def test_a_percentage_outside_0_to_100_or_not_a_number_is_named(written: str, reason: str) -> None:
    with pytest.raises(InputError) as error:
        parse_profile(_loan_profile(written))
    [problem] = error.value.problems
    assert problem.path == "$.loans[0].annual_rate" and reason in problem.en and problem.zh


def _rate_pattern() -> str:
    from incentives.profile import profile_json_schema

    schema = profile_json_schema()["$defs"]["Loan"]["properties"]["annual_rate"]
    [pattern] = [option["pattern"] for option in schema["anyOf"] if option.get("type") == "string"]
    return pattern


def test_the_documented_rate_pattern_allows_the_percent_form() -> None:
    import re

    pattern = _rate_pattern()
    for text in ("2.8%", "2.8 %", "100%", "0.035", "1"):
        assert re.search(pattern, text), text
    for text in ("101%", "100.5%", "-1%", "2.8%%", "%"):
        assert not re.search(pattern, text), text


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_rate_string_the_schema_allows_is_accepted(data) -> None:
    text = data.draw(st.from_regex(_rate_pattern()))
    [loan] = parse_profile(_loan_profile(text)).loans
    assert 0 <= loan.annual_rate <= 1


def _yuan_pattern() -> str:
    """The amount pattern as the published JSON Schema states it (the optional field nests it one level down)."""
    from incentives.profile import profile_json_schema

    field = profile_json_schema()["$defs"]["Enterprise"]["properties"]["revenue_yuan"]
    options = [option for outer in field["anyOf"] for option in outer.get("anyOf", [outer])]
    return next(option["pattern"] for option in options if option.get("type") == "string")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_amount_string_the_schema_allows_is_accepted_and_others_are_refused(data) -> None:
    import re

    pattern = _yuan_pattern()
    text = data.draw(st.from_regex(pattern) | st.text(alphabet="0123456789,._ +-", max_size=20))
    document = {"enterprise": {"name": "x", "region": {"province": "上海市"}, "revenue_yuan": text}}
    if re.search(pattern, text):
        assert parse_profile(document).enterprise.revenue_fen >= 0
    else:
        with pytest.raises(InputError):
            parse_profile(document)


def test_formatting_money_for_people() -> None:
    assert format_cny(123456789) == "¥1,234,567.89"
    assert format_cny(5) == "¥0.05"
    assert format_wan(1234567) == "1.23万元"


@pytest.mark.parametrize("fen, shown", [
    (263_120_000, "¥2.63M"),  # 263.12万元
    (5_400_000_000, "¥54.00M"),  # 5,400.00万元
    (26_312_345, "¥263.12K"),
    (26_312_500, "¥263.13K"),  # half a hundredth of the unit rounds up
    (99_499_999, "¥995.00K"),
    (99_500_000, "¥1.00M"),  # the largest unit that reads at least 1.00 once rounded
    (150_000_000_000, "¥1.50B"),
    (10**15, "¥10,000.00B"),  # the profile's ten-trillion-yuan limit
    (99_499, "¥994.99"),  # under ¥1.00K: in full
    (99_500, "¥1.00K"),
    (0, "¥0.00"),
    (-263_120_000, "-¥2.63M"),
])
def test_compact_yuan_for_english_charts(fen: int, shown: str) -> None:
    assert format_cny_compact(fen) == shown


@given(fen=st.integers(min_value=0, max_value=10**15))
def test_compact_yuan_is_the_exact_amount_rounded_half_up_in_its_unit(fen: int) -> None:
    shown = format_cny_compact(fen)
    if shown[-1] not in "KMB":
        assert shown == format_cny(fen)
        return
    unit = {"K": 10**3, "M": 10**6, "B": 10**9}[shown[-1]]
    hundredths = int(shown[1:-1].replace(",", "").replace(".", ""))
    assert 2 * abs(fen - hundredths * unit) <= unit  # within half a hundredth of the unit
    assert hundredths >= 100 and (shown[-1] == "B" or hundredths < 100_000)  # 1.00 up to 999.99 of the unit


_MONEY_MODULES = ["money.py", "evaluate.py", "profile.py", "conditions.py", "facts.py", "sme_size.py", "report.py",
                  "dates.py", "results.py", "calculators"]


def test_the_engine_source_has_no_float_no_round_and_divides_only_decimals() -> None:
    root = Path(__import__("incentives").__file__).parent
    offences = []
    for name in _MONEY_MODULES:
        for path in ([root / name] if name.endswith(".py") else sorted((root / name).glob("*.py"))):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                where = f"{path.name}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Constant) and isinstance(node.value, float):
                    offences.append(f"{where} float literal")
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("float", "round"):
                    offences.append(f"{where} {node.func.id}()")
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                    left = node.left
                    if not (isinstance(left, ast.Call) and getattr(left.func, "id", "") in ("Decimal", "Fraction")):
                        offences.append(f"{where} true division of a non-Decimal: {ast.unparse(node)}")
    assert offences == []


@pytest.mark.parametrize("example_name", sorted(p.name for p in examples_dir().glob("*.json")))
def test_the_result_document_carries_no_float(example_name) -> None:
    profile = profile_from_json((examples_dir() / example_name).read_bytes())
    text = evaluation_json(evaluate(profile, date(2026, 6, 1)))

    def refuse(number: str):
        raise AssertionError(f"float {number} in the result document")

    document = json.loads(text, parse_float=refuse)
    assert document["total_fen"] >= 0
