"""Working-day deadlines on the published 2026 calendar (国务院办公厅关于2026年部分节假日安排的通知), and month deadlines.

2026: 元旦 1–3 Jan off, Sun 4 Jan worked; 春节 15–23 Feb off, Sat 14 Feb and Sat 28 Feb worked; 清明 4–6 Apr;
劳动节 1–5 May off, Sat 9 May worked; 端午 19–21 Jun; 中秋 25–27 Sep; 国庆 1–7 Oct off, Sun 20 Sep and Sat 10 Oct worked.
"""

from __future__ import annotations

from datetime import date

import pytest

from incentives.calculators.deadline import deadline_after
from incentives.calculators.deadline import pick_deadline_version
from incentives.dates import is_working_day, nth_working_day_after, quarter_end
from incentives.errors import CalendarNotPublished
from incentives.schemes import catalogue

D = date.fromisoformat


@pytest.mark.parametrize("event, days, deadline", [
    ("2025-12-31", 10, "2026-01-15"),  # the Guangdong Q4 2025 claim deadline
    ("2025-12-31", 20, "2026-01-29"),  # funds set up before the NDRC rules
    ("2026-01-15", 20, "2026-02-12"),
    ("2026-02-10", 20, "2026-03-16"),  # across the Spring Festival and its two make-up Saturdays
    ("2026-03-31", 10, "2026-04-15"),  # Q1 claim, across 清明
    ("2026-06-30", 10, "2026-07-14"),  # Q2 claim
    ("2026-09-30", 10, "2026-10-20"),  # Q3 claim, across 国庆 and the Sat 10 Oct make-up day
])
def test_published_2026_calendar_deadlines(event, days, deadline) -> None:
    assert deadline_after(D(event), working_days=days).deadline == D(deadline)


@pytest.mark.parametrize("day", ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"])
def test_make_up_weekend_days_are_working_days(day) -> None:
    assert D(day).weekday() >= 5
    assert is_working_day(D(day))


@pytest.mark.parametrize("day", ["2026-01-01", "2026-01-02", "2026-02-16", "2026-02-23", "2026-04-06", "2026-05-05",
                                 "2026-06-19", "2026-09-25", "2026-10-01", "2026-10-07"])
def test_statutory_holidays_on_weekdays_are_not_working_days(day) -> None:
    assert D(day).weekday() < 5
    assert not is_working_day(D(day))


def test_day_one_is_the_first_working_day_after_an_event_on_a_holiday() -> None:
    deadline, counted = nth_working_day_after(D("2026-10-01"), 1)
    assert deadline == D("2026-10-08")  # 1–7 Oct are off
    assert counted == [D("2026-10-08")]
    assert nth_working_day_after(D("2026-10-01"), 3)[0] == D("2026-10-10")  # Thu 8, Fri 9, make-up Sat 10


def test_day_one_after_an_event_on_a_make_up_saturday_is_the_next_working_day() -> None:
    assert nth_working_day_after(D("2026-02-14"), 1)[0] == D("2026-02-24")  # 15–23 Feb are the Spring Festival


def test_an_event_on_a_working_day_is_not_itself_day_one() -> None:
    assert nth_working_day_after(D("2026-01-05"), 1)[0] == D("2026-01-06")


def test_a_deadline_that_runs_into_2027_is_an_error_not_a_weekday_guess() -> None:
    with pytest.raises(CalendarNotPublished) as error:
        deadline_after(D("2026-12-18"), working_days=10)  # only 9 working days are left in 2026
    assert error.value.year == 2027
    assert "2027" in error.value.zh and "2027" in error.value.en
    assert "Monday-to-Friday" in error.value.en


def test_a_2027_event_is_an_error_even_for_one_working_day() -> None:
    with pytest.raises(CalendarNotPublished):
        nth_working_day_after(D("2027-03-01"), 1)


def test_a_deadline_that_ends_on_the_last_day_of_2026_still_works() -> None:
    assert deadline_after(D("2026-12-17"), working_days=10).deadline == D("2026-12-31")


def _rule(rule_id: str):
    return catalogue().scheme(rule_id)


def test_a_fund_set_up_before_the_rules_counts_from_31_december_2025() -> None:
    version = pick_deadline_version(_rule("ndrc/fund-registration-deadline"), D("2025-06-01"))
    answer = deadline_after(D("2025-06-01"), working_days=version.working_days.value,
                            legacy_before=version.legacy_before, legacy_event=version.legacy_event)
    assert answer.event == D("2025-12-31")
    assert answer.deadline == D("2026-01-29")


def test_a_fund_first_paid_in_on_31_december_2025_counts_from_that_day() -> None:
    version = pick_deadline_version(_rule("ndrc/fund-registration-deadline"), D("2025-12-31"))
    answer = deadline_after(D("2025-12-31"), working_days=20, legacy_before=version.legacy_before,
                            legacy_event=version.legacy_event)
    assert answer.deadline == D("2026-01-29")


@pytest.mark.parametrize("fiscal_year_end, deadline", [
    ("2025-12-31", "2026-06-30"),
    ("2026-06-30", "2026-12-30"),  # the same day of the month, six months on
    ("2026-08-31", "2027-02-28"),  # clamped to the month's last day
    ("2027-08-31", "2028-02-29"),  # a leap year
    ("2026-03-31", "2026-09-30"),
])
def test_the_annual_filing_is_due_six_calendar_months_after_the_fiscal_year_end(fiscal_year_end, deadline) -> None:
    version = pick_deadline_version(_rule("ndrc/fund-annual-filing-deadline"), D(fiscal_year_end))
    assert version.months.value == 6
    assert deadline_after(D(fiscal_year_end), months=6).deadline == D(deadline)


def test_month_deadlines_need_no_holiday_calendar() -> None:
    assert deadline_after(D("2030-12-31"), months=6).deadline == D("2031-06-30")


@pytest.mark.parametrize("day, end", [("2026-01-01", "2026-03-31"), ("2026-03-31", "2026-03-31"),
                                      ("2026-04-01", "2026-06-30"), ("2026-11-15", "2026-12-31")])
def test_quarter_end(day, end) -> None:
    assert quarter_end(D(day)) == D(end)


def test_a_deadline_result_notes_its_date_and_whether_it_has_passed() -> None:
    from incentives.evaluate import evaluate
    from incentives.profile import parse_profile

    # a fund first paid in on 2026-01-05 registers within 20 working days (the 2026 calendar)
    profile = parse_profile({"enterprise": {"name": "基金管理人", "region": {"province": "北京市", "city": "北京市"}},
                             "fund": {"name": "某产业投资基金", "established_date": "2026-01-05",
                                      "first_paid_in_date": "2026-01-05"}})

    def result_on(as_of: str):
        result = next(r for r in evaluate(profile, D(as_of)).results if r.scheme_id == "ndrc/fund-registration-deadline")
        return result, [n for n in result.notes if n["kind"] == "deadline"]

    before, [note] = result_on("2026-01-20")
    deadline = before.extra["deadline"]
    assert deadline == nth_working_day_after(D("2026-01-05"), 20)[0].isoformat()
    assert (note["zh"], note["en"]) == (f"截止日：{deadline}", f"Deadline: {deadline}")
    # only the evaluation date moves, past the deadline: the note says it has passed
    _, [late] = result_on("2026-06-01")
    assert (late["zh"], late["en"]) == (f"截止日：{deadline}（已过）", f"Deadline: {deadline} (passed)")
