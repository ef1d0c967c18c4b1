"""A problem with a region as a whole (missing, or a city not in the province) links to its province picker, which
is marked invalid and pointed at the message, as every other bad field is."""

from __future__ import annotations

import re

import pytest

from .conftest import AS_OF, client_in


def _province_select(page: str, prefix: str) -> str:
    return re.search(rf'<select id="f-{prefix}-province"[^>]*>', page, flags=re.S).group(0)


@pytest.mark.parametrize("region", [{}, {"enterprise-region-province": "上海市", "enterprise-region-city": "广州市"}],
                         ids=["missing", "city-not-in-province"])
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_summary_link_of_a_region_lands_on_its_province_picker(app, lang: str, region: dict[str, str]):
    page = client_in(app, lang).post("/", data={"as_of": AS_OF, "enterprise-name": "测试企业", **region}).text
    assert 'href="#f-enterprise-region"' not in page
    assert '<a href="#f-enterprise-region-province">' in page
    select = _province_select(page, "enterprise-region")
    assert 'aria-invalid="true"' in select and 'aria-describedby="e-enterprise-region"' in select
    assert 'id="e-enterprise-region"' in page


def test_a_valid_region_leaves_the_province_picker_unmarked(app):
    page = client_in(app, "zh-CN").post("/", data={"as_of": AS_OF, "enterprise-region-province": "上海市"}).text
    assert "aria-invalid" not in _province_select(page, "enterprise-region")
