"""A citation that restates secondary sources says so wherever its text is shown; a verbatim one does not."""

from __future__ import annotations

import html as html_text
import re

import pytest

from .conftest import client_in

AS_OF = "2026-06-01"
RESTATED = {"zh-CN": "据二手来源转述，非文件原文", "en": "Restated from secondary sources, not the document's own words"}
# the loan subsidy's share of interest: 粤金管〔2025〕15号 is known only through reprints and an official Q&A
SHARE_QUOTE = "贴息比例不超过银行贷款利率的35%"


def _cite_blocks(html: str) -> list[str]:
    return [html_text.unescape(b) for b in re.findall(r'<details class="cite">.*?</details>', html, flags=re.S)]


def _meta(block: str) -> str:
    return re.search(r'<p class="cite-meta">(.*?)</p>', block, flags=re.S).group(1)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_results_cards_mark_a_restated_quote_and_only_those(app, lang):
    html = client_in(app, lang).get("/", params={"example": "guangzhou-manufacturer", "as_of": AS_OF}).text
    blocks = _cite_blocks(html)
    # every citation of 粤金管〔2025〕15号 restates (its text is not at hand); 粤金管〔2025〕24号 is quoted as published
    rules = [b for b in blocks if "粤金管〔2025〕15号" in _meta(b)]
    assert len(rules) >= 3 and all(RESTATED[lang] in b for b in rules)
    plan = [b for b in blocks if "粤金管〔2025〕24号" in _meta(b)]
    assert plan and not any(RESTATED[lang] in b for b in plan)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_scheme_page_marks_a_restated_quote(app, lang):
    html = html_text.unescape(client_in(app, lang).get("/schemes/gd/loan-interest-subsidy").text)
    row = next(r for r in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if SHARE_QUOTE in r)
    assert RESTATED[lang] in row
    g60 = html_text.unescape(client_in(app, lang).get("/schemes/sh-g60/applied-basic-research").text)
    assert RESTATED[lang] not in g60
