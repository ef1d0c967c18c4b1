"""An evaluation date on which no scheme is in force (a mistyped year, say) is said to be one, not shown as a
profile that qualifies for nothing."""

from __future__ import annotations

import pytest

from .conftest import client_in


@pytest.mark.parametrize(("lang", "text"), [
    ("zh-CN", "评估日 0001-01-01 没有任何政策有效：请检查评估日"),
    ("en", "No scheme is in force on 0001-01-01: check the evaluation date"),
])
def test_a_date_before_every_scheme_says_so(app, lang: str, text: str) -> None:
    page = client_in(app, lang).get("/", params={"example": "guangzhou-manufacturer", "as_of": "0001-01-01"}).text
    assert 'id="none-in-force"' in page and text in page


def test_a_date_with_schemes_in_force_has_no_such_notice(app) -> None:
    # only the date differs from the case above
    page = client_in(app, "zh-CN").get("/", params={"example": "guangzhou-manufacturer", "as_of": "2026-06-01"}).text
    assert 'id="results"' in page and 'id="none-in-force"' not in page
