"""``dutydesk user``: add and list users, change passwords, issue API tokens."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Error,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
)
from backend.registry.users import Error as UserError
from backend.registry.users import UserService
from realtime.protocol import Role

NEW_PASSWORD_VARIABLE = "DUTYDESK_NEW_PASSWORD"  # noqa: S105 - the variable's name


def add_parser(commands: Subparsers) -> None:
    """Register ``user`` and its actions ``add``, ``list``, ``passwd`` and ``token``."""
    user = commands.add_parser(
        "user",
        help="manage users and API tokens",
        description="Manage users, passwords and API tokens.",
    )
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="add a user",
        description="Add a user. The password comes from --password-file, the environment "
        "variable DUTYDESK_NEW_PASSWORD, or a prompt. Passwords are stored as argon2 hashes.",
    )
    add.add_argument("username")
    add.add_argument(
        "--role", required=True, choices=[r.value for r in Role], help="what the user may do"
    )
    add.add_argument("--display-name", help="name shown in the console and the log")
    add.add_argument(
        "--agency",
        help="the user's agency (required for role agency): a code of 'dutydesk agency list'",
    )
    add.add_argument(
        "--jurisdiction", default="", help="region-code prefix the user may see (default: all)"
    )
    add.add_argument("--password-file", help="read the password from this file")
    add.add_argument(
        "--no-password",
        action="store_true",
        help="device accounts only: no password, use 'user token'",
    )
    add_storage_options(add)
    add.set_defaults(func=_cmd_user_add)
    lst = actions.add_parser("list", help="list users", description="List active users.")
    add_storage_options(lst)
    lst.set_defaults(func=_cmd_user_list)
    passwd = actions.add_parser(
        "passwd",
        help="change a password",
        description="Change a user's password and end their sessions.",
    )
    passwd.add_argument("username")
    passwd.add_argument("--password-file", help="read the password from this file")
    add_storage_options(passwd)
    passwd.set_defaults(func=_cmd_user_passwd)
    token = actions.add_parser(
        "token",
        help="create an API token",
        description="Create a long-lived API token for a user (device feeds use it as "
        "'Authorization: Bearer TOKEN'). The token is printed once and stored only as a hash.",
    )
    token.add_argument("username")
    add_storage_options(token)
    token.set_defaults(func=_cmd_user_token)


def _read_new_password(args: argparse.Namespace) -> str:
    """The new password from the file, the environment or the terminal; never empty."""
    if args.password_file:
        return _password_from_file(Path(args.password_file))
    if NEW_PASSWORD_VARIABLE in os.environ:
        if not os.environ[NEW_PASSWORD_VARIABLE]:
            raise Error(f"${NEW_PASSWORD_VARIABLE} is empty")
        return os.environ[NEW_PASSWORD_VARIABLE]
    if not sys.stdin.isatty():
        raise Error(
            f"no terminal to ask for the password: use --password-file or ${NEW_PASSWORD_VARIABLE}"
        )
    try:
        first = getpass.getpass("new password: ")
        again = getpass.getpass("again: ")
    except EOFError as exc:
        raise Error("no password given") from exc
    if again != first:
        raise Error("the two passwords differ; nothing was changed")
    if not first:
        raise Error("the password is empty")
    return first


def _password_from_file(path: Path) -> str:
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise Error(f"cannot read the password file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise Error(f"the password file {path} is not UTF-8 text") from exc
    if not password:
        raise Error(f"the password file {path} is empty")
    return password


async def _with_users(args: argparse.Namespace, work: Callable[[UserService], object]) -> int:
    try:
        async with database(args) as sessions:
            result = work(UserService(sessions))
            if asyncio.iscoroutine(result):
                await result
    except UserError as exc:
        err(f"dutydesk user: {exc}")
        return EXIT_FAILURE
    return EXIT_OK


def _cmd_user_add(args: argparse.Namespace) -> int:
    if args.no_password and args.role != Role.DEVICE:
        raise Error("--no-password is only for device accounts (--role device); people need one")
    # Device accounts may log in with API tokens only: their password is random.
    password = os.urandom(24).hex() if args.no_password else _read_new_password(args)

    async def work(users: UserService) -> None:
        principal = await users.add_user(
            args.username,
            password,
            Role(args.role),
            display_name=args.display_name or "",
            agency=args.agency,
            jurisdiction=args.jurisdiction,
        )
        out(f"added {principal.username} ({principal.role})")

    return asyncio.run(_with_users(args, work))


def _cmd_user_list(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        for p in await users.list_users():
            out(f"{p.username:<20} {p.role:<18} {p.agency or '-':<12} {p.jurisdiction or '*'}")

    return asyncio.run(_with_users(args, work))


def _cmd_user_passwd(args: argparse.Namespace) -> int:
    password = _read_new_password(args)

    async def work(users: UserService) -> None:
        await users.set_password(args.username, password)
        out(f"password of {args.username} changed; their sessions were ended")

    return asyncio.run(_with_users(args, work))


def _cmd_user_token(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        out(await users.issue_api_token(args.username))

    return asyncio.run(_with_users(args, work))
