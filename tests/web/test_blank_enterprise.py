"""A form sent with the enterprise section left blank names each required field, not the section as a whole."""

from __future__ import annotations

import pytest

from .conftest import AS_OF, assert_field_flagged, client_in, error_summary


@pytest.mark.parametrize(("lang", "name", "region"), [("zh-CN", "企业名称", "注册地"),
                                                      ("en", "Firm name", "Registered region")])
def test_a_blank_form_names_the_firm_name_and_the_region(app, lang: str, name: str, region: str):
    page = client_in(app, lang).post("/", data={"as_of": AS_OF, "action": "evaluate"})
    assert page.status_code == 422
    summary = error_summary(page.text)
    assert [item.split("：" if lang == "zh-CN" else ":")[0] for item in summary] == [name, region]
    assert_field_flagged(page.text, "enterprise-name")
