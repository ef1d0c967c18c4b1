"""The CLI contract, run as a user runs it: `.venv/bin/incentives` in a subprocess, from a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from incentives.resources import examples_dir, schemes_dir
from incentives.schemes import catalogue

CLI = str(Path(sys.executable).with_name("incentives"))
EXAMPLES = sorted(examples_dir().glob("*.json"))
AS_OF = "2026-06-01"


def run(*args: str, stdin: str | None = None, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def assert_clean_failure(result, *fragments: str) -> list[str]:
    """Exit 2, no traceback, and every problem line names a JSON path and reads zh / en."""
    assert result.returncode == 2, (result.returncode, result.stdout[:300], result.stderr[:300])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return lines


def _profile_problem(document: dict, tmp_path: Path, *fragments: str) -> list[str]:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    lines = assert_clean_failure(run("evaluate", str(path), "--as-of", AS_OF), *fragments)
    for line in lines:
        assert line.startswith("$"), line  # one line per problem, each starting with its JSON path
        path_part, _, reason = line.partition(": ")
        zh, sep, en = reason.partition(" / ")
        assert sep and any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii(), line
    return lines


def _enterprise(**fields) -> dict:
    return {"enterprise": {"name": "测试企业", "region": {"province": "上海市", "city": "上海市", "district": "松江区"},
                           **fields}}


# --- schemes and schemas ---------------------------------------------------------------------------------------


def test_schemes_lists_every_scheme_with_titles_document_and_dates() -> None:
    result = run("schemes", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    rows = {row["id"]: row for row in document["schemes"]}
    assert list(rows) == [s.id for s in catalogue().schemes]
    for row in rows.values():
        assert row["title_zh"] and row["title_en"] and row["document"]
        assert row["in_force"]["from"]
    assert rows["sh-g60/6g"]["in_force"] == {"from": "2026-01-01", "until": "2030-12-31"}
    assert rows["bj-pilot/platform-construction"]["in_force"]["until"] is None
    assert document["rules_version"] == catalogue().rules_version


def test_schemes_text_lists_one_line_per_scheme() -> None:
    result = run("schemes")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == len(catalogue().schemes)
    assert "sh-g60/satellite-licence-award" in result.stdout


def test_schemes_schema_is_a_json_schema_for_scheme_files() -> None:
    result = run("schemes", "schema")
    schema = json.loads(result.stdout)
    assert result.returncode == 0
    assert {"document", "schemes"} <= set(schema["properties"])
    assert schema.get("additionalProperties") is False


def test_profile_schema_documents_the_profile() -> None:
    result = run("profile", "schema")
    schema = json.loads(result.stdout)
    assert result.returncode == 0
    assert {"enterprise", "projects", "loans", "awards", "fund"} <= set(schema["properties"])


# --- evaluate ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_evaluate_json_on_every_bundled_example(example: Path, tmp_path: Path) -> None:
    result = run("evaluate", str(example), "--as-of", AS_OF, "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["as_of"] == AS_OF
    assert document["rules_version"] == catalogue().rules_version
    assert document["total_fen"] <= document["potential_total_fen"]
    assert document["total_fen"] == sum(r["amount_fen"] or 0 for r in document["results"] if r["status"] == "eligible")
    assert {r["scheme_id"] for r in document["results"]} == {s.id for s in catalogue().schemes}
    for row in document["results"]:
        assert {"scheme_id", "unit_id", "status", "amount_fen", "conditions", "steps"} <= set(row)
        assert row["amount_fen"] is None or isinstance(row["amount_fen"], int)


def test_the_songjiang_example_pays_the_satellite_line_and_stacks_the_6g_project() -> None:
    document = json.loads(run("evaluate", str(examples_dir() / "songjiang-satellite.json"), "--as-of", AS_OF).stdout)
    rows = {(r["scheme_id"], r["unit_id"]): r for r in document["results"]}
    assert rows[("sh-g60/satellite-manufacturing", "sat-line")]["amount_fen"] == 36_000_000_00  # 240M × 15%
    assert rows[("sh-g60/6g", "6g-ntn")]["status"] == "superseded"
    assert rows[("sh-g60/6g", "6g-ntn")]["superseded_by"] == "sh-g60/applied-basic-research"


@pytest.mark.parametrize("lang, heading, total", [("zh", "方案", "确定可获合计"), ("en", "Scheme", "Total (eligible)")])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_evaluate_text_is_a_readable_table(example: Path, lang: str, heading: str, total: str) -> None:
    result = run("evaluate", str(example), "--as-of", AS_OF, "--format", "text", "--lang", lang)
    assert result.returncode == 0, result.stderr
    assert heading in result.stdout and total in result.stdout
    assert "¥" in result.stdout


def test_the_text_table_shows_the_notes_that_change_how_an_amount_reads() -> None:
    # boc-fa-2025's subsidised year ended on 2026-06-30: its claims are to check
    args = ("evaluate", str(examples_dir() / "guangzhou-manufacturer.json"), "--as-of", "2026-08-01", "--format", "text")
    zh, en = run(*args), run(*args, "--lang", "en")
    assert "本笔贷款的贴息期已于 2026-06-30 结束" in zh.stdout
    assert "subsidised period ended on 2026-06-30" in en.stdout


def test_evaluate_reads_standard_input() -> None:
    text = (examples_dir() / "guangzhou-manufacturer.json").read_text(encoding="utf-8")
    result = run("evaluate", "-", "--as-of", AS_OF, stdin=text)
    assert result.returncode == 0
    assert json.loads(result.stdout)["total_fen"] > 0


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_same_inputs_date_and_rules_give_byte_identical_output(example: Path, tmp_path: Path) -> None:
    first = run("evaluate", str(example), "--as-of", AS_OF)
    second = run("evaluate", str(example), "--as-of", AS_OF, cwd=tmp_path, env={"PYTHONHASHSEED": "12345"})
    assert first.returncode == 0 and first.stdout.encode() == second.stdout.encode()


def test_the_text_table_is_byte_identical_run_to_run(tmp_path: Path) -> None:
    args = ("evaluate", str(examples_dir() / "guangzhou-manufacturer.json"), "--as-of", AS_OF, "--format", "text")
    first, second = run(*args), run(*args, cwd=tmp_path, env={"PYTHONHASHSEED": "7"})
    assert first.returncode == 0 and first.stdout.encode() == second.stdout.encode()


def test_amounts_given_as_json_numbers_add_up_exactly(tmp_path: Path) -> None:
    """0.1 + 0.2 as floats is 0.30000000000000004; as exact decimals it is 30 fen."""
    profile = {"enterprise": {"name": "x", "region": {"province": "北京市", "city": "北京市"}},
               "projects": [{"id": "a", "activities": ["pilot_services"], "pilot_service_fees_yuan": 0.1},
                            {"id": "b", "activities": ["pilot_services"], "pilot_service_fees_yuan": 0.2}]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile), encoding="utf-8")
    assert "0.1" in path.read_text()
    document = json.loads(run("evaluate", str(path), "--as-of", AS_OF).stdout)
    voucher = next(r for r in document["results"] if r["scheme_id"] == "bj-pilot/innovation-voucher")
    assert voucher["amount_fen"] == 30


# --- bad input: exit 2, one line per problem, JSON path, zh and en, no traceback --------------------------------


def _guangzhou_with_rates(*rates: str) -> dict:
    document = json.loads((examples_dir() / "guangzhou-manufacturer.json").read_text(encoding="utf-8"))
    for loan, rate in zip(document["loans"], rates, strict=True):
        loan["annual_rate"] = rate
    return document


def test_rates_written_as_percentages_evaluate_as_their_fractions(tmp_path: Path) -> None:
    path = tmp_path / "percent.json"
    # the example's 0.04, 0.032 and 0.03, as a person writes them
    path.write_text(json.dumps(_guangzhou_with_rates("4%", "3.2 %", "3％"), ensure_ascii=False), encoding="utf-8")
    written = run("evaluate", str(path), "--as-of", AS_OF)
    assert written.returncode == 0, written.stderr
    fractions = run("evaluate", str(examples_dir() / "guangzhou-manufacturer.json"), "--as-of", AS_OF)
    assert written.stdout == fractions.stdout


def test_a_percentage_over_100_is_named(tmp_path: Path) -> None:
    _profile_problem(_guangzhou_with_rates("4%", "320%", "0.03"), tmp_path, "$.loans[1].annual_rate",
                     "at most 1 (100%)", "不能大于 1（100%）")


def test_a_bad_uscc_check_digit_is_named(tmp_path: Path) -> None:
    _profile_problem(_enterprise(uscc="91110108551385082A"), tmp_path, "$.enterprise.uscc", "check digit")


def test_a_negative_amount_is_named(tmp_path: Path) -> None:
    _profile_problem(_enterprise(revenue_yuan="-5"), tmp_path, "$.enterprise.revenue_yuan", "不能为负数")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_amount_string_is_named(value: str, tmp_path: Path) -> None:
    _profile_problem(_enterprise(total_assets_yuan=value), tmp_path, "$.enterprise.total_assets_yuan", "finite")


def test_a_bare_json_nan_is_refused_as_invalid_json_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    path.write_text('{"enterprise": {"name": "x", "region": {"province": "上海市"}, "revenue_yuan": NaN}}')
    lines = assert_clean_failure(run("evaluate", str(path), "--as-of", AS_OF), "NaN")
    assert len(lines) == 1 and lines[0].startswith("$")


def test_an_amount_finer_than_a_fen_is_named(tmp_path: Path) -> None:
    _profile_problem(_enterprise(revenue_yuan="100.001"), tmp_path, "$.enterprise.revenue_yuan", "two decimal")


def test_an_unknown_industry_code_is_named(tmp_path: Path) -> None:
    _profile_problem(_enterprise(industry_code="9999"), tmp_path, "$.enterprise.industry_code", "9999")


def test_a_maturity_before_issue_is_named(tmp_path: Path) -> None:
    document = {**_enterprise(), "loans": [{"id": "l", "principal_yuan": "100", "annual_rate": "0.03",
                                             "issue_date": "2026-05-01", "maturity_date": "2026-04-01"}]}
    _profile_problem(document, tmp_path, "$.loans[0]", "the maturity date must be after the issue date")


def test_an_award_under_a_scheme_outside_the_catalogue_is_named(tmp_path: Path) -> None:
    # counted against no cap, it would silently leave the headroom as if nothing had been received
    known = {"scheme_id": "sh-g60/scientific-instruments", "amount_yuan": "100", "date": "2025-05-01"}
    typo = {**known, "scheme_id": "sh-g60/scientific-instrument"}
    lines = _profile_problem({**_enterprise(), "awards": [known, typo]}, tmp_path, "$.awards[1].scheme_id",
                             "sh-g60/scientific-instrument", "unknown scheme")
    assert len(lines) == 1
    # named in the same round as the profile's other problems, not once they are fixed
    bad_amount = {**known, "amount_yuan": "-5"}
    lines = _profile_problem({**_enterprise(), "awards": [bad_amount, typo]}, tmp_path, "$.awards[0].amount_yuan",
                             "$.awards[1].scheme_id")
    assert len(lines) == 2


@pytest.mark.parametrize(("field", "value"), [("revenue_yuan", "1,5"), ("revenue_yuan", "30,00,000")])
def test_a_comma_that_does_not_group_thousands_is_named(tmp_path: Path, field: str, value: str) -> None:
    # a decimal comma ("1,5") read as 15 would be ten times off, silently
    _profile_problem(_enterprise(**{field: value}), tmp_path, f"$.enterprise.{field}", "group thousands")


def test_a_percentage_with_a_decimal_comma_is_named_not_read_ten_times_too_high(tmp_path: Path) -> None:
    document = {**_enterprise(), "loans": [{"id": "l", "principal_yuan": "1,000,000", "annual_rate": "3,2%",
                                             "issue_date": "2026-01-05", "maturity_date": "2027-01-05"}]}
    _profile_problem(document, tmp_path, "$.loans[0].annual_rate", "3,2%", "group thousands")


def test_a_date_that_does_not_exist_is_told_apart_from_one_written_wrong(tmp_path: Path) -> None:
    loan = {"id": "l", "principal_yuan": "100", "annual_rate": "0.03", "maturity_date": "2027-04-01"}
    _profile_problem({**_enterprise(), "loans": [{**loan, "issue_date": "2025-02-29"}]}, tmp_path,
                     "$.loans[0].issue_date", "2025-02-29", "does not exist")
    lines = _profile_problem({**_enterprise(), "loans": [{**loan, "issue_date": "2025/02/01"}]}, tmp_path,
                             "$.loans[0].issue_date", "YYYY-MM-DD")
    assert "Input should" not in lines[0]  # our words, not the validation library's


@pytest.mark.parametrize(("rate", "noted"), [("0.45", True), ("0.24", False)])
def test_an_implausibly_high_loan_rate_is_computed_as_given_with_a_note(tmp_path: Path, rate: str, noted: bool) -> None:
    document = json.loads((examples_dir() / "guangzhou-manufacturer.json").read_text(encoding="utf-8"))
    document["loans"][0]["annual_rate"] = rate
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = run("evaluate", str(path), "--as-of", AS_OF, "--format", "json")
    assert result.returncode == 0, result.stderr
    loan = next(r for r in json.loads(result.stdout)["results"]
                if r["scheme_id"] == "gd/loan-interest-subsidy" and r["unit_id"] == document["loans"][0]["id"])
    checks = [n for n in loan["notes"] if n["kind"] == "check"]
    assert len(checks) == int(noted) and (not noted or "45%" in checks[0]["zh"] and "above 24%" in checks[0]["en"])


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    _profile_problem(_enterprise(revenue_yaun="100"), tmp_path, "$.enterprise.revenue_yaun", "不认识的字段")


def test_several_problems_give_one_line_each(tmp_path: Path) -> None:
    document = {**_enterprise(revenue_yuan="-1", industry_code="ZZ"),
                "projects": [{"id": "p", "total_input_yuan": "abc"}]}
    lines = _profile_problem(document, tmp_path, "$.enterprise.revenue_yuan", "$.enterprise.industry_code",
                             "$.projects[0].total_input_yuan")
    assert len(lines) == 3


def test_invalid_json_is_one_clean_line(tmp_path: Path) -> None:
    lines = assert_clean_failure(run("evaluate", "-", "--as-of", AS_OF, stdin="{not json"), "not valid JSON")
    assert len(lines) == 1


def test_a_bad_date_argument_is_a_clean_usage_error() -> None:
    assert_clean_failure(run("evaluate", str(EXAMPLES[0]), "--as-of", "2026-13-01"), "YYYY-MM-DD")


# --- rate and deadline -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, printed", [
    (("tech-relending", "--tenor", "1y", "--on", "2026-01-19"), "0.0125"),
    (("tech-relending", "--tenor", "1y", "--on", "2026-01-18"), "0.0150"),
    (("sme-relending", "--tenor", "3m", "--on", "2026-01-19"), "0.0095"),
    (("sme-relending", "--tenor", "6m", "--on", "2026-01-19"), "0.0115"),
    (("private-enterprise-relending", "--tenor", "1y", "--on", "2026-06-01"), "0.0125"),
    (("rediscount", "--on", "2026-01-19"), "0.0150"),
    (("psl", "--on", "2026-01-18"), "0.0200"),
    (("carbon-reduction", "--on", "2026-01-19"), "0.0125"),
])
def test_rate_prints_the_rate_as_a_decimal_string(args, printed) -> None:
    result = run("rate", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == printed + "\n"


def test_a_single_tenor_tool_rejects_3m() -> None:
    assert_clean_failure(run("rate", "tech-relending", "--tenor", "3m", "--on", "2026-01-19"), "1y")


def test_an_unknown_tool_lists_the_known_tools() -> None:
    lines = assert_clean_failure(run("rate", "helicopter-money", "--on", "2026-01-19"))
    for tool in ("sme-relending", "private-enterprise-relending", "rediscount", "psl", "tech-relending",
                 "carbon-reduction"):
        assert tool in lines[0]


def test_a_date_before_the_first_known_rate_is_a_clean_error() -> None:
    assert_clean_failure(run("rate", "sme-relending", "--tenor", "1y", "--on", "2020-06-30"), "2020-07-01")


@pytest.mark.parametrize("rule, event, deadline", [
    ("ndrc/fund-registration-deadline", "2026-01-15", "2026-02-12"),
    ("ndrc/fund-registration-deadline", "2026-02-10", "2026-03-16"),
    ("ndrc/fund-registration-deadline", "2025-06-01", "2026-01-29"),  # set up before the rules were issued
    ("ndrc/fund-annual-filing-deadline", "2025-12-31", "2026-06-30"),
    ("ndrc/fund-annual-filing-deadline", "2026-08-31", "2027-02-28"),
    ("gd/loan-interest-subsidy-claim", "2025-12-31", "2026-01-15"),
    ("gd/loan-interest-subsidy-claim", "2026-09-30", "2026-10-20"),
])
def test_deadline_prints_an_iso_date(rule, event, deadline) -> None:
    result = run("deadline", rule, "--event-date", event)
    assert result.returncode == 0, result.stderr
    assert result.stdout == deadline + "\n"


def test_deadline_verbose_lists_the_working_days_on_stderr() -> None:
    result = run("deadline", "gd/loan-interest-subsidy-claim", "--event-date", "2025-12-31", "--verbose")
    assert result.stdout == "2026-01-15\n"
    assert "working day 10: 2026-01-15" in result.stderr


def test_a_deadline_in_an_unpublished_calendar_year_is_a_clear_error() -> None:
    lines = assert_clean_failure(run("deadline", "gd/loan-interest-subsidy-claim", "--event-date", "2026-12-31"),
                                 "2027", "Monday-to-Friday")
    assert len(lines) == 1


def test_an_unknown_deadline_rule_lists_the_known_rules() -> None:
    lines = assert_clean_failure(run("deadline", "nope/rule", "--event-date", "2026-01-01"))
    assert all(rule in lines[0] for rule in ("ndrc/fund-registration-deadline", "ndrc/fund-annual-filing-deadline",
                                             "gd/loan-interest-subsidy-claim"))


def test_an_unknown_command_is_a_clean_usage_error() -> None:
    assert_clean_failure(run("evaluat", "x.json"))


# --- broken scheme data fails loudly, never skipped --------------------------------------------------------------

G60 = "shanghai/g60-2025-15.yaml"
_EXTRA_VERSION = """        cap: {yuan: 30_000_000, cite: c1}
      - from: 2030-01-01
        until: null
        cite: in-force
        rate: {value: "0.30", cite: c1}
        cap: {yuan: 30_000_000, cite: c1}
"""


@pytest.mark.parametrize("old, new, fragments", [
    ("base_label_zh: 项目总投入", "base_lable_zh: 项目总投入", ["schemes[0]", "base_lable_zh", "Extra inputs"]),
    ("cite: c1}", "cite: c99}", ["schemes[0].conditions[2].cite", "unknown citation 'c99'"]),
    ("        cap: {yuan: 30_000_000, cite: c1}\n", _EXTRA_VERSION, ["schemes[0]", "versions overlap"]),
    ("  published: 2025-12-25", "  published: [2025-12-25", ["(yaml)"]),
    ("    one_off: true\n    cap_in_total: true\n", "    one_off: false\n    cap_in_total: true\n",
     ["cap_in_total is for a one-off cap"]),
], ids=["typo-key", "unknown-citation", "overlapping-versions", "yaml-syntax", "total-cap-of-a-yearly-award"])
def test_a_broken_scheme_file_fails_with_file_path_and_message(tmp_path: Path, old: str, new: str,
                                                               fragments: list[str]) -> None:
    root = tmp_path / "schemes"
    shutil.copytree(schemes_dir(), root)
    target = root / G60
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run("evaluate", str(EXAMPLES[0]), "--as-of", AS_OF, env={"INCENTIVES_SCHEMES_DIR": str(root)})
    assert_clean_failure(result, str(target), *fragments)
    assert result.stdout == ""


def test_every_command_that_reads_the_schemes_refuses_broken_data(tmp_path: Path) -> None:
    root = tmp_path / "schemes"
    shutil.copytree(schemes_dir(), root)
    (root / G60).write_text((root / G60).read_text(encoding="utf-8").replace("cite: c1}", "cite: c99}", 1),
                            encoding="utf-8")
    env = {"INCENTIVES_SCHEMES_DIR": str(root)}
    for args in (("schemes",), ("rate", "psl", "--on", "2026-01-19"),
                 ("deadline", "gd/loan-interest-subsidy-claim", "--event-date", "2025-12-31")):
        assert_clean_failure(run(*args, env=env), "unknown citation 'c99'")


def test_an_empty_scheme_directory_fails_loudly(tmp_path: Path) -> None:
    assert_clean_failure(run("schemes", env={"INCENTIVES_SCHEMES_DIR": str(tmp_path)}), "no scheme files")


def test_an_unknown_city_is_reported_with_its_province_named_in_english_and_in_chinese():
    from pydantic import ValidationError

    from incentives.profile import Region

    with pytest.raises(ValidationError) as raised:
        Region(province="广东省", city="Gotham")
    assert "Guangdong has no city “Gotham” / 广东省没有“Gotham”" in str(raised.value)


def test_a_known_city_in_the_wrong_province_is_named_in_english_in_the_english_half():
    from pydantic import ValidationError

    from incentives.profile import Region

    with pytest.raises(ValidationError) as raised:
        Region(province="上海市", city="广州市")
    assert "Shanghai has no city “Guangzhou” / 上海市没有“广州市”" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        Region(province="广东省", city="广州市", district="松江区")
    assert "Guangzhou has no district “Songjiang District” / 广州市没有“松江区”" in str(raised.value)
