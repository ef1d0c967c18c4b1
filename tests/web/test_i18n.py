"""The interface catalogues: every message in the templates and web code has a Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from incentives.resources import web_assets_dir
from incentives.web import i18n

REPO = Path(__file__).resolve().parents[2]
# the self-check, catalogue and tool pages, and the shared layout (other areas check their own pages)
TEMPLATES = ["base.html", "error.html", "_macros.html", "_selfcheck.html", "index.html", "schemes.html",
             "scheme.html", "rates.html", "deadline.html", "fund.html"]
MODULES = ["labels.py", "rendering.py", "errors.py", "display_values.py"]


def _message_ids() -> set[str]:
    found: set[str] = set()
    sources = [("jinja2", REPO / "web" / "templates" / name) for name in TEMPLATES]
    sources += [("python", REPO / "src" / "incentives" / "web" / name) for name in MODULES]
    for method, path in sources:
        for _, message, _, _ in extract_from_file(method, str(path), keywords={"_": None, "N_": None},
                                                     options={"trimmed": "true"}):
            if isinstance(message, str):
                found.add(message)
    return found


def test_every_interface_message_has_a_chinese_translation():
    with open(web_assets_dir() / "locales" / "zh_CN" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id for m in catalogue if m.id and m.string}
    own = _message_ids()
    assert len(own) > 200
    assert sorted(own - translated) == []


def test_catalogues_load_in_memory_without_a_compile_step():
    assert i18n.gettext("zh-CN", "Evaluate") == "评估"
    assert i18n.gettext("en", "Evaluate") == "Evaluate"
    assert not list((web_assets_dir() / "locales").rglob("*.mo"))


def test_serve_defaults_to_loopback_port_8000(monkeypatch):
    import uvicorn

    from incentives.web import app as web_app

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("INCENTIVES_WEB_WORKERS", raising=False)
    web_app.serve()
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8000
