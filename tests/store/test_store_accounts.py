"""Accounts: argon2 hashes, sign-in limits per account and per IP, API tokens shown once, web sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from incentives.store import accounts
from incentives.store.db import read_session
from incentives.store.errors import LoginThrottled, NotFound, StoreError
from incentives.store.models import Account, ApiToken, utc_now

PASSWORD = "correct horse battery"


def test_password_is_stored_as_an_argon2_hash_and_signs_in(engine):
    account = accounts.create_account(engine, " Consultant@Example.CN ", PASSWORD, "王顾问")
    with read_session(engine) as session:
        stored = session.get(Account, account.id)
    assert stored.email == "consultant@example.cn"
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert accounts.authenticate(engine, "CONSULTANT@example.cn", PASSWORD, "10.0.0.1").id == account.id
    assert accounts.authenticate(engine, "consultant@example.cn", "wrong password!", "10.0.0.1") is None
    assert accounts.authenticate(engine, "nobody@example.cn", PASSWORD, "10.0.0.1") is None


def test_duplicate_account_and_short_password_are_refused_in_both_languages(engine):
    accounts.create_account(engine, "dup@example.cn", PASSWORD)
    with pytest.raises(StoreError) as duplicate:
        accounts.create_account(engine, "DUP@example.cn", PASSWORD)
    assert "已存在" in duplicate.value.zh and "already exists" in duplicate.value.en
    with pytest.raises(StoreError) as short:
        accounts.create_account(engine, "short@example.cn", "short")
    assert "密码" in short.value.zh and "password" in short.value.en


def test_failed_sign_ins_lock_the_account_for_a_while_even_with_the_right_password(engine):
    accounts.create_account(engine, "target@example.cn", PASSWORD)
    start = utc_now()
    for attempt in range(accounts.MAX_FAILURES_PER_ACCOUNT):
        # each guess from a different address: the per-account limit must still apply
        assert accounts.authenticate(engine, "target@example.cn", "guess", f"10.0.1.{attempt}", now=start) is None
    with pytest.raises(LoginThrottled) as throttled:
        accounts.authenticate(engine, "target@example.cn", PASSWORD, "10.0.2.1", now=start)
    assert 0 < throttled.value.retry_after_seconds <= accounts.FAILURE_WINDOW.total_seconds() + 1
    later = start + accounts.FAILURE_WINDOW + timedelta(seconds=1)
    assert accounts.authenticate(engine, "target@example.cn", PASSWORD, "10.0.2.1", now=later) is not None


def test_failed_sign_ins_from_one_address_are_limited_across_accounts(engine):
    now = utc_now()
    for attempt in range(accounts.MAX_FAILURES_PER_IP):
        accounts.authenticate(engine, f"user{attempt}@example.cn", "guess", "203.0.113.9", now=now)
    accounts.create_account(engine, "fresh@example.cn", PASSWORD)
    with pytest.raises(LoginThrottled):
        accounts.authenticate(engine, "fresh@example.cn", PASSWORD, "203.0.113.9", now=now)
    assert accounts.authenticate(engine, "fresh@example.cn", PASSWORD, "198.51.100.1", now=now) is not None


def test_api_token_is_shown_once_stored_hashed_and_can_be_revoked(engine, account, other_account):
    new = accounts.create_api_token(engine, account.id, "报表脚本")
    with read_session(engine) as session:
        rows = list(session.scalars(select(ApiToken)))
    assert all(new.secret not in (row.token_hash, row.prefix) for row in rows)
    assert accounts.account_for_token(engine, new.secret).id == account.id
    assert accounts.account_for_token(engine, new.secret + "x") is None
    assert [t.name for t in accounts.list_api_tokens(engine, account.id)] == ["报表脚本"]
    with pytest.raises(NotFound):
        accounts.revoke_api_token(engine, other_account.id, new.token.id)  # not theirs: as if missing
    accounts.revoke_api_token(engine, account.id, new.token.id)
    assert accounts.account_for_token(engine, new.secret) is None
    assert accounts.list_api_tokens(engine, account.id) == []


def test_web_session_lasts_until_logout_or_expiry(engine, account):
    now = utc_now()
    cookie, csrf = accounts.start_web_session(engine, account.id, now=now)
    signed_in = accounts.web_session_account(engine, cookie, now=now)
    assert signed_in.account.id == account.id and signed_in.csrf_token == csrf
    assert accounts.web_session_account(engine, cookie, now=now + accounts.SESSION_LIFETIME + timedelta(1)) is None
    accounts.end_web_session(engine, cookie)
    assert accounts.web_session_account(engine, cookie, now=now) is None


def test_production_hasher_uses_argon2id_with_at_least_64_mib():
    from argon2 import Type

    from incentives.store import accounts

    # the module's own hasher, not whatever cheap one another test's fixture swapped in
    hasher = accounts.PRODUCTION_HASHER
    assert hasher.type is Type.ID and hasher.memory_cost >= 65536
    assert hasher.hash("x").startswith("$argon2id$v=19$m=65536")
