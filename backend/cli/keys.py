"""``dutydesk keys``: the data keys that encrypt personal data and camera credentials.

``status`` shows where the keys are, their ids and how many stored values each one
encrypts; ``rotate`` adds a new key and re-encrypts everything with it (or finishes a
rotation that was interrupted); ``retire`` drops an old key no value uses any more.
The keys never go into the database, and these commands never print a key.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from backend import keys
from backend.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Error,
    Subparsers,
    add_action,
    database,
    out,
    storage,
)
from backend.security import (
    SECRET_KEY_ENVIRONMENT_VARIABLE,
    FieldCipher,
    next_key_id,
    read_key_file,
    write_key_file,
)
from backend.security import Error as SecurityError


def add_parser(commands: Subparsers) -> None:
    """Register ``keys`` and its actions ``status``, ``rotate`` and ``retire``."""
    group = commands.add_parser(
        "keys",
        help="the data keys (encryption of personal data)",
        description="The data keys encrypt callers' names, numbers and addresses, "
        "sensitive notes and camera credentials in the database. They live outside it: "
        "in the key file ($DUTYDESK_KEY_FILE, else secret.key in the data folder) or in "
        f"${SECRET_KEY_ENVIRONMENT_VARIABLE}. Back the key file up apart from the database.",
    )
    actions = group.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    add_action(
        actions,
        "status",
        summary="show the key ids and how many stored values each encrypts",
        description="Show where the keys are, their ids (the primary encrypts new data) "
        "and how many stored values each encrypts, per column. Keys are never printed.",
        func=_cmd_status,
    )
    add_action(
        actions,
        "rotate",
        summary="add a new key and re-encrypt every protected value with it",
        description="Add a new key to the key file (the old ones stay, so everything "
        "stays readable), make it the primary, and re-encrypt every protected value with "
        "it, in batches. Safe to interrupt: run it again and it finishes the rotation "
        "(without adding another key) while values remain on older keys.",
        func=_cmd_rotate,
    )
    retire = add_action(
        actions,
        "retire",
        summary="remove an old key that no stored value uses",
        description="Remove a key from the key file once no stored value uses it (see "
        "'dutydesk keys status'). Keep a backup of the old key file for the backups of "
        "the database made while it was in use.",
        func=_cmd_retire,
    )
    retire.add_argument("key_id", help="the key id (k1, k2, …)")


def _key_file_ring(args: argparse.Namespace) -> tuple[FieldCipher, Path]:
    """The ring of the key file and its path (rotation and retirement rewrite the file)."""
    _, data_dir = storage(args)
    try:
        cipher = FieldCipher.from_data_dir(data_dir, create=False)
    except (SecurityError, OSError) as exc:
        raise Error(f"cannot read the data keys: {exc}") from exc
    if cipher.path is None:
        raise Error(
            f"the data keys come from ${SECRET_KEY_ENVIRONMENT_VARIABLE}, which this command "
            "cannot change: put them in a key file ($DUTYDESK_KEY_FILE) to rotate"
        )
    return cipher, cipher.path


def _cmd_status(args: argparse.Namespace) -> int:
    _, data_dir = storage(args)
    try:
        cipher = FieldCipher.from_data_dir(data_dir, create=False)
    except (SecurityError, OSError) as exc:
        raise Error(f"cannot read the data keys: {exc}") from exc

    async def run() -> int:
        async with database(args) as sessions:
            used = await keys.usage(sessions)
        where = str(cipher.path) if cipher.path else f"${SECRET_KEY_ENVIRONMENT_VARIABLE}"
        out(f"keys: {where} (primary {cipher.primary_id})")
        for key_id in sorted({*cipher.key_ids, *used.by_key}, key=_order):
            remark = "primary" if key_id == cipher.primary_id else ""
            if key_id not in cipher.key_ids:
                remark = "MISSING from the keys: these values cannot be read"
            out(f"  {key_id:<6} {used.by_key[key_id]:>8} values  {remark}".rstrip())
        for column, counts in used.by_column.items():
            spread = ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "empty"
            out(f"  {column}: {spread}")
        missing = set(used.by_key) - set(cipher.key_ids)
        return EXIT_FAILURE if missing else EXIT_OK

    return asyncio.run(run())


def _cmd_rotate(args: argparse.Namespace) -> int:
    cipher, path = _key_file_ring(args)

    async def run() -> int:
        async with database(args) as sessions:
            left = (await keys.usage(sessions)).not_on(cipher.primary_id)
            if left:
                out(
                    f"finishing the rotation to key {cipher.primary_id}: "
                    f"{left} values are on older keys"
                )
                ring = cipher
            else:
                new_id = next_key_id(cipher.key_ids)
                # The file first: should the run stop after it, the next one resumes.
                write_key_file(path, [*read_key_file(path), (new_id, FieldCipher.new_key())])
                ring = FieldCipher(keys=read_key_file(path), path=path)
                out(f"added key {new_id} to {path}; it encrypts new data from now on")

            def progress(table: str, values: int) -> None:
                if values:
                    out(f"  {table}: {values} values re-encrypted")

            try:
                report = await keys.reencrypt(sessions, ring, on_batch=progress)
            except keys.Error as exc:
                raise Error(str(exc)) from exc
            left = (await keys.usage(sessions)).not_on(ring.primary_id)
        out(f"re-encrypted {report.values} values with key {ring.primary_id}")
        if left:
            out(f"{left} values are still on older keys (written meanwhile): run it again")
            return EXIT_FAILURE
        out(
            "done; restart the servers so they encrypt with the new key, copy the key file "
            "to every server, and back it up"
        )
        return EXIT_OK

    return asyncio.run(run())


def _cmd_retire(args: argparse.Namespace) -> int:
    cipher, path = _key_file_ring(args)
    if args.key_id not in cipher.key_ids:
        raise Error(f"there is no key {args.key_id} in {path}")
    if args.key_id == cipher.primary_id:
        raise Error(f"{args.key_id} is the primary key: rotate to a new one first")

    async def run() -> int:
        async with database(args) as sessions:
            used = (await keys.usage(sessions)).by_key[args.key_id]
        if used:
            raise Error(f"{used} stored values still use {args.key_id}: run 'dutydesk keys rotate'")
        write_key_file(path, [entry for entry in read_key_file(path) if entry[0] != args.key_id])
        out(f"removed key {args.key_id} from {path}")
        return EXIT_OK

    return asyncio.run(run())


def _order(key_id: str) -> int:
    return int(key_id[1:]) if key_id[1:].isdigit() else -1
