"""`incentives users create` makes the first account; `users token` prints a token once."""

from __future__ import annotations

import io
import sys

from incentives.cli import main
from incentives.store.accounts import account_for_token, authenticate
from incentives.store.db import make_engine


def test_users_create_then_token_from_the_command_line(store_url, monkeypatch, capsys):
    monkeypatch.setenv("INCENTIVES_DATABASE_URL", store_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "create", "First@Example.cn", "--name", "李顾问", "--password-stdin"]) == 0
    assert "first@example.cn" in capsys.readouterr().out
    assert main(["users", "token", "first@example.cn"]) == 0
    secret = capsys.readouterr().out.strip()
    engine = make_engine(store_url)
    try:
        assert authenticate(engine, "first@example.cn", "a long enough password", "127.0.0.1").display_name == "李顾问"
        assert account_for_token(engine, secret).email == "first@example.cn"
    finally:
        engine.dispose()


def test_users_create_refuses_a_duplicate_in_both_languages(store_url, monkeypatch, capsys):
    monkeypatch.setenv("INCENTIVES_DATABASE_URL", store_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "create", "dup@example.cn", "--password-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "create", "dup@example.cn", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "已存在" in err and "already exists" in err


def test_evaluate_command_does_not_load_the_database_layer():
    import subprocess

    code = ("import sys; from incentives.cli import build_parser; build_parser(); "
            "print(any(m.startswith('sqlalchemy') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
