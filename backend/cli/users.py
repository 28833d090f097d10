"""``dutydesk user``: add, list, change and disable users, change passwords, end and list
sessions, enrol second factors, issue API tokens.

Every change that alters what a user may do (password, role, agency, jurisdiction,
disablement, second factor) and ``logout`` end that user's open sessions: a running
server notices within its session check interval (2 s by default) and closes them."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from backend import security
from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Error,
    Subparsers,
    add_storage_options,
    database,
    err,
    out,
    storage,
)
from backend.registry import second_factor
from backend.registry.sessions import SessionInfo, SessionStore
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
    add.add_argument(
        "--enterprise",
        help="role enterprise only (and required for it): the registry code of the user's "
        "enterprise; the user sees that enterprise only, in its jurisdiction",
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
    _add_session_parsers(actions)


def _add_session_parsers(actions: Subparsers) -> None:
    change = actions.add_parser(
        "set",
        help="change a user's role, agency, jurisdiction or display name",
        description="Change a user. A new role, agency or jurisdiction ends their open "
        "sessions at once (what they may see changed).",
    )
    change.add_argument("username")
    change.add_argument("--role", choices=[r.value for r in Role], help="the new role")
    change.add_argument("--agency", help="the new agency ('' for none)")
    change.add_argument("--jurisdiction", help="the new jurisdiction code ('' for all)")
    change.add_argument("--display-name", help="the new display name")
    add_storage_options(change)
    change.set_defaults(func=_cmd_user_set)
    for name, help_text, func in (
        ("disable", "disable a user and end their sessions", _cmd_user_disable),
        ("enable", "enable a disabled user again", _cmd_user_enable),
        ("logout", "end a user's open sessions and revoke their session tokens", _cmd_user_logout),
    ):
        action = actions.add_parser(
            name, help=help_text, description=f"{help_text[0].upper()}{help_text[1:]}."
        )
        action.add_argument("username")
        add_storage_options(action)
        action.set_defaults(func=func)
    sessions = actions.add_parser(
        "sessions",
        help="list open sessions (who is logged in where)",
        description="List open console and device-feed sessions, of one user or all. "
        "A session not seen for 5 minutes is marked stale (its server stopped uncleanly).",
    )
    sessions.add_argument("username", nargs="?")
    add_storage_options(sessions)
    sessions.set_defaults(func=_cmd_user_sessions)
    totp = actions.add_parser(
        "totp",
        help="enrol (or remove) a user's second factor (TOTP)",
        description="Give a user a new TOTP secret for an authenticator app (printed once "
        "as an otpauth:// URI and as text; stored encrypted with the data key) or remove it "
        "with --disable. Either ends the user's open sessions.",
    )
    totp.add_argument("username")
    totp.add_argument("--disable", action="store_true", help="remove the second factor")
    add_storage_options(totp)
    totp.set_defaults(func=_cmd_user_totp)


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


async def _with_users(
    args: argparse.Namespace,
    work: Callable[[UserService], object],
    *,
    cipher: security.FieldCipher | None = None,
) -> int:
    try:
        async with database(args) as sessions:
            result = work(UserService(sessions, cipher=cipher))
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
            enterprise=args.enterprise,
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
        ended = await users.set_password(args.username, password)
        out(f"password of {args.username} changed; {_sessions_ended(ended)}")

    return asyncio.run(_with_users(args, work))


def _sessions_ended(count: int) -> str:
    return f"{count} open session{'s' if count != 1 else ''} ended"


def _cmd_user_set(args: argparse.Namespace) -> int:
    if all(
        value is None for value in (args.role, args.agency, args.jurisdiction, args.display_name)
    ):
        raise Error("nothing to change: give --role, --agency, --jurisdiction or --display-name")

    async def work(users: UserService) -> None:
        ended = await users.update_user(
            args.username,
            role=Role(args.role) if args.role else None,
            agency=args.agency,
            jurisdiction=args.jurisdiction,
            display_name=args.display_name,
        )
        out(f"{args.username} changed; {_sessions_ended(ended)}")

    return asyncio.run(_with_users(args, work))


def _cmd_user_disable(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        ended = await users.set_active(args.username, False)
        out(f"{args.username} disabled; {_sessions_ended(ended)}")

    return asyncio.run(_with_users(args, work))


def _cmd_user_enable(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        await users.set_active(args.username, True)
        out(f"{args.username} enabled")

    return asyncio.run(_with_users(args, work))


def _cmd_user_logout(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        ended = await users.logout(args.username)
        out(f"{args.username} logged out; {_sessions_ended(ended)}")

    return asyncio.run(_with_users(args, work))


def _cmd_user_sessions(args: argparse.Namespace) -> int:
    async def work() -> int:
        async with database(args) as sessions:
            found = await SessionStore(sessions).list_open(args.username)
        if not found:
            out("no open sessions")
        for info in found:
            out(_session_line(info))
        return EXIT_OK

    return asyncio.run(work())


def _session_line(info: SessionInfo) -> str:
    """One session in local time (the operator's zone)."""
    expires = info.expires_at.astimezone().strftime("%m-%d %H:%M") if info.expires_at else "-"
    return (
        f"{info.username:<16} {info.kind:<8} {info.remote:<22} {info.client or '-':<24} "
        f"since {info.started_at.astimezone():%Y-%m-%d %H:%M}  "
        f"seen {info.last_seen_at.astimezone():%H:%M:%S}  expires {expires}"
        + ("  (stale)" if info.stale else "")
    )


def _cmd_user_totp(args: argparse.Namespace) -> int:
    _, data_dir = storage(args)
    try:
        cipher = security.FieldCipher.from_data_dir(data_dir)
    except (security.Error, OSError) as exc:
        raise Error(f"cannot use the data key in {data_dir}: {exc}") from exc

    async def work(users: UserService) -> None:
        if args.disable:
            await users.remove_totp(args.username)
            out(f"second factor of {args.username} removed; their sessions were ended")
            return
        secret = await users.enrol_totp(args.username)
        out(second_factor.provisioning_uri(secret, args.username))
        out(f"secret: {secret}")
        out(
            f"add it to {args.username}'s authenticator app (scan the URI as a QR code or "
            "type the secret); their sessions were ended"
        )

    return asyncio.run(_with_users(args, work, cipher=cipher))


def _cmd_user_token(args: argparse.Namespace) -> int:
    async def work(users: UserService) -> None:
        out(await users.issue_api_token(args.username))

    return asyncio.run(_with_users(args, work))
