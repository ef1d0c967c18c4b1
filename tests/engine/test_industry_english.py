"""English names of the GB/T 4754-2017 sections and divisions, and the search that finds codes by them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentives import industry
from incentives.resources import package_data_dir


def _csv_codes(level: int) -> list[str]:
    with open(package_data_dir() / "gbt4754_2017.csv", encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if int(row["level"]) == level]
    return [row["section"] if level == 1 else row["division"] for row in rows]


def test_every_section_and_division_of_the_table_has_an_english_name() -> None:
    names = industry.english_names()
    sections, divisions = _csv_codes(1), _csv_codes(2)
    assert len(sections) == 20 and len(divisions) == 97
    assert [code for code in sections + divisions if not names.get(code, "").strip()] == []
    assert set(names) == set(sections) | set(divisions)  # groups and classes have no name of their own


def test_the_english_names_are_plain_english() -> None:
    for code, name in industry.english_names().items():
        assert name.isascii() and name == name.strip() and name[0].isupper(), (code, name)


@pytest.mark.parametrize(("code", "english"), [
    ("C", "Manufacturing"),
    ("I", "Information transmission, software and information technology services"),
    ("40", "Manufacture of instruments and meters"),
    ("65", "Software and information technology services"),
    ("39", "Manufacture of computers, communication and other electronic equipment"),
    ("73", "Research and experimental development"),
])
def test_known_names(code: str, english: str) -> None:
    assert industry.english_names()[code] == english


def test_a_group_or_class_shows_its_division_name_and_a_section_its_own() -> None:
    division = industry.english_names()["40"]
    for code in ("40", "402", "4021"):
        assert industry.english_name(industry.lookup(code)) == division
    assert industry.english_name(industry.lookup("C")) == "Manufacturing"
    assert industry.english_name(industry.lookup("C4021")) == division


# --- the loader refuses a broken file -----------------------------------------------------------------------


@pytest.fixture
def english_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Writes an industry_en.json of the test's own for the loader to read; the real one is read again after."""
    industry._rows()  # the Chinese table stays the one already read
    monkeypatch.setattr(industry, "package_data_dir", lambda: tmp_path)
    industry.english_names.cache_clear()

    def write(tables: dict) -> None:
        (tmp_path / "industry_en.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")

    yield write
    industry.english_names.cache_clear()


def test_a_blank_english_name_fails_loudly(english_file) -> None:
    english_file({"sections": {"C": "Manufacturing"}, "divisions": {"40": "  "}})
    with pytest.raises(ValueError, match=r"divisions\.40 has a blank English name"):
        industry.english_names()


def test_a_code_the_chinese_table_lacks_fails_loudly(english_file) -> None:
    english_file({"sections": {"C": "Manufacturing"}, "divisions": {"98": "Made up"}})
    with pytest.raises(ValueError, match=r"divisions\.98 is not in gbt4754_2017\.csv"):
        industry.english_names()


@pytest.mark.parametrize("tables", [{"divisions": {"C": "Manufacturing"}},  # a section among the divisions
                                    {"divisions": {"402": "Special instruments"}},  # a group
                                    {"sections": {"40": "Instruments"}}])  # a division among the sections
def test_a_code_at_the_wrong_level_fails_loudly(english_file, tables: dict) -> None:
    english_file(tables)
    with pytest.raises(ValueError, match="is not in gbt4754_2017.csv at that level"):
        industry.english_names()


def test_an_unknown_table_fails_loudly(english_file) -> None:
    english_file({"sections": {"C": "Manufacturing"}, "classes": {"4021": "Environmental monitors"}})
    with pytest.raises(ValueError, match="unknown tables"):
        industry.english_names()


# --- search -------------------------------------------------------------------------------------------------


def _codes(query: str) -> list[str]:
    return [found.code for found in industry.search_english(query)]


def test_an_english_word_finds_the_division_first_then_its_groups_and_classes() -> None:
    codes = _codes("instrument")
    assert codes[0] == "40"
    assert "401" in codes and "4021" in codes
    assert all(industry.lookup(code).division == "40" for code in codes)
    assert industry.search("instrument") == []  # the Chinese page's search does not read English


@pytest.mark.parametrize("query", ["instrument", "INSTRUMENT", "Instruments", "  instruments  "])
def test_english_search_ignores_case_spacing_and_plurals(query: str) -> None:
    assert _codes(query) == _codes("instrument")


def test_a_division_named_by_the_query_comes_before_the_section_and_the_classes() -> None:
    codes = _codes("software")
    assert codes[:2] == ["65", "I"]
    assert {industry.lookup(code).division for code in codes[2:]} == {"65"}


def test_any_word_of_the_query_finds_and_more_words_rank_higher() -> None:
    assert {"16", "21"} <= set(_codes("tobacco furniture"))
    assert _codes("manufacture of instruments")[0] == "40"  # two words: above the other "Manufacture of"s
    machinery = _codes("machinery")
    assert machinery[:4] == ["34", "35", "38", "43"]  # the divisions before any one division's classes


def test_connecting_and_one_letter_words_match_nothing() -> None:
    assert _codes("of and the") == []
    assert _codes("c") == ["C"]  # the section code, not every word starting with c


def test_english_search_still_finds_codes_and_chinese_names_as_search_does() -> None:
    for query in ("仪器", "软件", "制造", "40", "C", "3743", "4021", "9"):
        assert industry.search_english(query) == industry.search(query), query


@given(st.sampled_from(sorted({found.name_zh for found in industry.industries().values()})),
       st.integers(0, 3), st.integers(1, 4))
def test_a_chinese_query_finds_what_the_chinese_page_finds(name: str, start: int, length: int) -> None:
    query = name[start:start + length] or name
    assert industry.search_english(query) == industry.search(query)
