"""One ASGI middleware at the edge: security headers and X-Rules-Version on every response, the request body
limit (413), and a friendly page for any unexpected error (details go to the log, never to the browser)."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import readable_size
from .problems import one_problem

log = logging.getLogger("incentives.web")
BATCH_UPLOAD_PATH = "/batch/upload"  # an over-limit upload here gets the batch form back (batch_routes)

# Only scripts served by this app run; no inline script or style, no framing, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class BodyTooLarge(Exception):
    pass


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, rules_version: str, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.headers = [
            (b"x-rules-version", rules_version.encode()),
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + self.headers
            await send(message)

        limit = _limit_for(scope, self.max_body_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(scope, send_with_headers, limit)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await self._too_large(scope, send_with_headers, limit)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await self._server_error(scope, receive, send_with_headers)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        size = readable_size(limit)  # as the upload forms state their limits
        body = one_problem("$", f"文件或请求过大：上限为 {size}", f"file or request too large: the limit is {size}")
        if _wants_json(scope):
            await _send(send, 413, json.dumps(body, ensure_ascii=False).encode(), b"application/json")
            return
        if scope.get("path") == BATCH_UPLOAD_PATH:  # the batch form again, saying so, rather than an error page
            from .batch_routes import too_large_page

            await _send(send, 413, bytes(too_large_page(Request(scope), limit).body), b"text/html; charset=utf-8")
            return
        from .errors import error_page_html

        html = error_page_html(Request(scope), 413, body["problems"][0])
        await _send(send, 413, html.encode(), b"text/html; charset=utf-8")

    async def _server_error(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = {"path": "$", "zh": "服务器内部错误，已记录，请稍后再试", "en": "internal error; it has been logged, please try again later"}
        if _wants_json(scope):
            await _send(send, 500, json.dumps({"problems": [problem]}, ensure_ascii=False).encode(), b"application/json")
            return
        from .errors import error_page_html

        try:
            html = error_page_html(Request(scope, receive), 500, problem)
        except Exception:  # the error page itself must never fail into a traceback
            log.exception("error page failed")
            html = "<!doctype html><title>500</title><p>服务器内部错误 / Internal error</p>"
        await _send(send, 500, html.encode(), b"text/html; charset=utf-8")


def _limit_for(scope: Scope, default: int) -> int:
    """Workbook uploads (batch runs, portfolio imports) have their own limit, from the app's settings."""
    from .config import BATCH_UPLOAD_PREFIX

    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    path = str(scope.get("path", ""))
    if settings is not None and (path.startswith(BATCH_UPLOAD_PREFIX) or path == "/portfolio/import"):
        return getattr(settings, "batch_upload_bytes", default)
    return default


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _wants_json(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")


async def _send(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers: list[Any] = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
