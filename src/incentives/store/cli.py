"""`incentives users …`: create the first account (and later ones), reset a password, issue an API token."""

from __future__ import annotations

import argparse
import getpass
import sys

# Only the standard library at import time: `incentives --help` and `evaluate` build this parser too.


def add_users_parser(sub) -> argparse.ArgumentParser:
    users = sub.add_parser("users", help="consultant accounts / 顾问账户")
    users_sub = users.add_subparsers(dest="users_command", required=True, parser_class=type(users))
    create = users_sub.add_parser("create", help="create an account / 创建账户")
    create.add_argument("email")
    create.add_argument("--name", default=None, help="display name / 显示名称")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password = users_sub.add_parser("set-password", help="set a new password / 重设密码")
    password.add_argument("email")
    password.add_argument("--password-stdin", action="store_true")
    token = users_sub.add_parser("token", help="issue an API token (shown once) / 生成 API 令牌（仅显示一次）")
    token.add_argument("email")
    token.add_argument("--name", default="cli")
    return users


def _read_password(from_stdin: bool) -> str:
    from .errors import StoreError

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码 / password: ")
    if first != getpass.getpass("再输一次 / again: "):
        raise StoreError("两次输入的密码不一致", "the two passwords differ")
    return first


def _account_id(engine, email: str) -> int:
    from sqlalchemy import select

    from .accounts import normalise_email
    from .db import read_session
    from .errors import StoreError
    from .models import Account

    with read_session(engine) as session:
        account_id = session.scalar(select(Account.id).where(Account.email == normalise_email(email)))
    if account_id is None:
        raise StoreError(f"没有账户 {email}", f"no account {email}")
    return account_id


def run_users_command(args: argparse.Namespace) -> int:
    from .accounts import create_account, create_api_token, set_password
    from .db import make_engine, migrate
    from .errors import StoreError

    engine = make_engine()
    try:
        migrate(engine)
        if args.users_command == "create":
            account = create_account(engine, args.email, _read_password(args.password_stdin), args.name)
            print(f"已创建账户 / account created: {account.email} (id {account.id})")
        elif args.users_command == "set-password":
            set_password(engine, _account_id(engine, args.email), _read_password(args.password_stdin))
            print("密码已更新 / password updated")
        else:
            new = create_api_token(engine, _account_id(engine, args.email), args.name)
            print(new.secret)
            print("令牌只显示这一次，请妥善保存 / the token is shown only once: keep it safe", file=sys.stderr)
    except StoreError as error:
        print(error.line(), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
