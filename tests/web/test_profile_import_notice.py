"""Importing a profile that cannot be read says why in the page's language only, and an empty or missing file is
told as such, not as a profile without an enterprise."""

from __future__ import annotations

import re

import pytest

from .conftest import AS_OF, client_in


def _notice(page: str) -> str:
    found = re.search(r'<p class="notice" role="alert">(.*?)</p>', page, flags=re.S)
    assert found, "no notice on the page"
    return found.group(1)


@pytest.mark.parametrize(("lang", "said", "not_said"), [("zh-CN", "不是有效的 JSON", "not valid JSON"),
                                                        ("en", "not valid JSON", "不是有效的 JSON")])
def test_broken_json_is_explained_in_the_page_language(app, lang: str, said: str, not_said: str):
    page = client_in(app, lang).post("/profile/import", data={"as_of": AS_OF},
                                     files={"profile_file": ("p.json", b"{oops", "application/json")})
    assert page.status_code == 400
    assert said in _notice(page.text) and not_said not in _notice(page.text)


@pytest.mark.parametrize(("lang", "said"), [("zh-CN", "文件不能为空"), ("en", "must not be empty")])
@pytest.mark.parametrize("files", [{"profile_file": ("p.json", b"", "application/json")},
                                   {"profile_file": ("p.json", b" \n", "application/json")}, None],
                         ids=["empty", "blank", "no-file"])
def test_an_empty_or_missing_file_says_so(app, lang: str, said: str, files):
    page = client_in(app, lang).post("/profile/import", data={"as_of": AS_OF}, files=files)
    assert page.status_code == 400
    assert said in _notice(page.text)
    assert 'id="error-summary"' not in page.text
