"""Language switch: a plain link that sets the cookie and returns to the page it came from."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from ..i18n import LANG_COOKIE, LANGS

router = APIRouter()

ONE_YEAR = 365 * 24 * 3600


@router.get("/lang/{lang}")
async def switch_language(lang: str, next: str = "/") -> RedirectResponse:
    # only same-site paths: "//host" or "https://..." would make this an open redirect
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = RedirectResponse(target, status_code=303)
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return response
