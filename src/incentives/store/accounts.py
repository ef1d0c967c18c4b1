"""Accounts (argon2 password hashes), failed sign-in limits per account and per IP, API tokens, web sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, select

from .db import read_session, write_session
from .errors import LoginThrottled, NotFound, StoreError
from .models import Account, ApiToken, LoginFailure, WebSession, utc_now

MIN_PASSWORD_LENGTH = 10
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5  # guesses at one account, from anywhere
MAX_FAILURES_PER_IP = 20  # guesses from one address, at any accounts
SESSION_LIFETIME = timedelta(days=7)
TOKEN_PREFIX = "inc_"

PRODUCTION_HASHER = PasswordHasher()  # argon2id, 64 MiB, the library's vetted defaults
_hasher = PRODUCTION_HASHER  # tests swap in a cheap hasher here
# Verified against when the e-mail is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_account(engine: Engine, email: str, password: str, display_name: str | None = None) -> Account:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise StoreError(f"电子邮箱“{email}”无效", f"invalid e-mail address '{email}'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StoreError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    with write_session(engine) as session:
        if session.scalar(select(Account.id).where(Account.email == email)) is not None:
            raise StoreError(f"账户 {email} 已存在", f"account {email} already exists")
        account = Account(email=email, display_name=display_name or email, password_hash=_hasher.hash(password))
        session.add(account)
        session.flush()
        return account


def get_account(engine: Engine, account_id: int) -> Account:
    with read_session(engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound("account")
        return account


def _throttle(session, email: str, ip: str, now: datetime) -> None:
    since = now - FAILURE_WINDOW
    by_account = session.scalar(select(func.count()).where(LoginFailure.email == email, LoginFailure.at > since))
    by_ip = session.scalar(select(func.count()).where(LoginFailure.ip == ip, LoginFailure.at > since))
    if by_account >= MAX_FAILURES_PER_ACCOUNT or by_ip >= MAX_FAILURES_PER_IP:
        column = LoginFailure.email == email if by_account >= MAX_FAILURES_PER_ACCOUNT else LoginFailure.ip == ip
        oldest = session.scalar(select(func.min(LoginFailure.at)).where(column, LoginFailure.at > since))
        retry = max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1)
        raise LoginThrottled(retry)


def authenticate(engine: Engine, email: str, password: str, ip: str, now: datetime | None = None) -> Account | None:
    """The account for these credentials, or None; raises LoginThrottled after too many recent failures."""
    email = normalise_email(email)
    now = now or utc_now()
    with read_session(engine) as session:
        _throttle(session, email, ip, now)
        account = session.scalar(select(Account).where(Account.email == email))
    try:
        ok = _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    with write_session(engine) as session:
        if not ok or account is None or not account.is_active:
            session.add(LoginFailure(email=email, ip=ip, at=now))
            return None
        # A success forgives this account's earlier misses (the per-IP count stays).
        session.execute(delete(LoginFailure).where(LoginFailure.email == email))
        if _hasher.check_needs_rehash(account.password_hash):
            stored = session.get(Account, account.id)
            stored.password_hash = _hasher.hash(password)
    return account


def set_password(engine: Engine, account_id: int, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StoreError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    with write_session(engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound("account")
        account.password_hash = _hasher.hash(password)


# --- API tokens ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def create_api_token(engine: Engine, account_id: int, name: str) -> NewToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_session(engine) as session:
        if session.get(Account, account_id) is None:
            raise NotFound("account")
        token = ApiToken(account_id=account_id, name=name.strip()[:100] or "token", token_hash=sha256_hex(secret),
                         prefix=secret[:10])
        session.add(token)
        session.flush()
        return NewToken(token, secret)


def list_api_tokens(engine: Engine, account_id: int) -> list[ApiToken]:
    with read_session(engine) as session:
        rows = session.scalars(select(ApiToken).where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
                               .order_by(ApiToken.id))
        return list(rows)


def revoke_api_token(engine: Engine, account_id: int, token_id: int) -> None:
    with write_session(engine) as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.account_id != account_id or token.revoked_at is not None:
            raise NotFound("token")
        token.revoked_at = utc_now()


def account_for_token(engine: Engine, secret: str) -> Account | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with write_session(engine) as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(secret),
                                                      ApiToken.revoked_at.is_(None)))
        if token is None:
            return None
        account = session.get(Account, token.account_id)
        if account is None or not account.is_active:
            return None
        token.last_used_at = utc_now()
        return account


# --- web sessions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    account: Account
    csrf_token: str


def start_web_session(engine: Engine, account_id: int, now: datetime | None = None) -> tuple[str, str]:
    """A new browser session: (cookie value, CSRF token)."""
    now = now or utc_now()
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with write_session(engine) as session:
        session.execute(delete(WebSession).where(WebSession.expires_at < now))
        session.add(WebSession(account_id=account_id, token_hash=sha256_hex(cookie), csrf_token=csrf,
                               created_at=now, expires_at=now + SESSION_LIFETIME))
    return cookie, csrf


def web_session_account(engine: Engine, cookie: str, now: datetime | None = None) -> SignedIn | None:
    now = now or utc_now()
    with read_session(engine) as session:
        row = session.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(cookie)))
        if row is None or row.expires_at < now:
            return None
        account = session.get(Account, row.account_id)
        if account is None or not account.is_active:
            return None
        return SignedIn(account, row.csrf_token)


def end_web_session(engine: Engine, cookie: str) -> None:
    with write_session(engine) as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(cookie)))
