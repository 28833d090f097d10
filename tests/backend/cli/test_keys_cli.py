"""``dutydesk keys``: status, rotation (resumable, old data readable until done) and
retirement of the data keys; the keys themselves are never printed."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from backend import keys
from backend.alarms.service import AlarmService
from backend.authz.principal import Principal
from backend.cli import keys as keys_cli
from backend.cli.app import main
from backend.config import sqlite_url
from backend.eventlog import log as eventlog
from backend.registry.cameras import CameraRegistry
from backend.security import FieldCipher, read_key_file
from backend.storage import db
from backend.storage.models import Alarm
from realtime.protocol import CameraView, CreateAlarm, Role
from realtime.states import AlarmLevel

OFFICER = Principal(
    user_id=1, username="officer1", display_name="", role=Role.OFFICER, agency=None, jurisdiction=""
)
PHONES = [f"1390000{n:04d}" for n in range(5)]
STREAM = "rtsp://viewer:cam-s3cret@10.0.0.7:554/ch1"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder whose key file holds one bare key, as written before keys had ids."""
    monkeypatch.delenv("DUTYDESK_SECRET_KEY", raising=False)
    monkeypatch.delenv("DUTYDESK_KEY_FILE", raising=False)
    monkeypatch.delenv("DUTYDESK_DB", raising=False)
    (tmp_path / "secret.key").write_bytes(Fernet.generate_key() + b"\n")
    return tmp_path


def _fill(data_dir: Path) -> None:
    """Alarms and a camera written with the folder's key, one value as an old server wrote
    it (no key id in the ciphertext)."""

    async def fill() -> None:
        engine = db.create_engine(sqlite_url(data_dir))
        await db.migrate(engine)
        sessions = db.session_factory(engine)
        cipher = FieldCipher.from_data_dir(data_dir, create=False)
        writer = eventlog.EventWriter(sessions, lambda _events: None)
        service = AlarmService(sessions, cipher, writer)
        try:
            for phone in PHONES:
                await service.create_manual(
                    OFFICER,
                    CreateAlarm(
                        req="",
                        alarm_type="medical",
                        level=AlarmLevel.RED,
                        title="t",
                        caller_name="王芳",
                        caller_phone=phone,
                        caller_address="杭州市西湖区文三路90号",
                        sensitive_note="心脏病",
                    ),
                )
            await CameraRegistry(sessions, cipher).add(
                CameraView(id=0, code="GATE", name="北门", lat=32.0, lon=118.0, stream_url=STREAM)
            )
            bare = cipher.encrypt(PHONES[0]).partition(":")[2]
            async with sessions.begin() as session:
                await session.execute(
                    text("UPDATE alarms SET caller_phone_enc = :v WHERE id = 1"), {"v": bare}
                )
        finally:
            await engine.dispose()

    asyncio.run(fill())


def _stored(data_dir: Path) -> tuple[list[str], list[tuple[str, str, str, str]], str]:
    """Every ``*_enc`` value, and the alarms and camera as a fresh key ring reads them."""

    async def read() -> tuple[list[str], list[tuple[str, str, str, str]], str]:
        engine = db.create_engine(sqlite_url(data_dir))
        cipher = FieldCipher.from_data_dir(data_dir, create=False)
        try:
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        text(
                            "SELECT caller_name_enc, caller_phone_enc, caller_address_enc,"
                            " sensitive_note_enc FROM alarms ORDER BY id"
                        )
                    )
                ).all()
                camera = await connection.scalar(text("SELECT stream_url_enc FROM cameras"))
            values = [value for row in rows for value in row] + [str(camera)]
            plain = [tuple(cipher.decrypt(value) for value in row) for row in rows]
            return values, plain, cipher.decrypt(str(camera))  # type: ignore[return-value]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _expected() -> list[tuple[str, str, str, str]]:
    return [("王芳", phone, "杭州市西湖区文三路90号", "心脏病") for phone in PHONES]


def test_rotate_re_encrypts_every_protected_value_and_keeps_old_keys_readable(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(data_dir)
    args = ["--data-dir", str(data_dir)]
    old_key = read_key_file(data_dir / "secret.key")[0][1].decode()
    # A server started before the rotation, holding only the old key.
    running_server = FieldCipher.from_data_dir(data_dir, create=False)

    assert main(["keys", "status", *args]) == 0
    status = capsys.readouterr().out
    assert "primary k0" in status
    assert "k0           21 values" in status
    assert "alarms.caller_phone_enc: k0 5" in status

    assert main(["keys", "rotate", *args]) == 0
    rotated = capsys.readouterr().out
    assert "added key k1" in rotated
    assert "re-encrypted 21 values with key k1" in rotated
    assert old_key not in rotated

    values, plain, stream = _stored(data_dir)
    assert all(value.startswith("k1:") for value in values if value)
    assert plain == _expected()
    assert stream == STREAM
    ring = read_key_file(data_dir / "secret.key")
    assert [key_id for key_id, _ in ring] == ["k0", "k1"], "the old key stays until retired"
    assert stat.S_IMODE(os.stat(data_dir / "secret.key").st_mode) == 0o600
    # The running server meets k1 and re-reads the key file.
    assert running_server.decrypt(values[1]) == PHONES[0]
    assert running_server.primary_id == "k1"

    assert main(["keys", "status", *args]) == 0
    assert "k1           21 values  primary" in capsys.readouterr().out
    assert main(["keys", "retire", "k1", *args]) == 1
    assert "primary" in capsys.readouterr().err
    assert main(["keys", "retire", "k0", *args]) == 0
    assert [key_id for key_id, _ in read_key_file(data_dir / "secret.key")] == ["k1"]
    assert main(["keys", "retire", "k0", *args]) == 1
    assert _stored(data_dir)[1] == _expected()


def test_an_interrupted_rotation_leaves_everything_readable_and_a_re_run_finishes_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(data_dir)
    args = ["--data-dir", str(data_dir)]
    monkeypatch.setattr(keys, "BATCH", 2)
    printed = 0

    def out_then_stop(line: str) -> None:
        nonlocal printed
        printed += 1
        if "values re-encrypted" in line:
            raise KeyboardInterrupt  # Ctrl-C after the first batch was committed

    monkeypatch.setattr(keys_cli, "out", out_then_stop)
    assert main(["keys", "rotate", *args]) == 130
    monkeypatch.undo()

    values, plain, stream = _stored(data_dir)
    on_new = sum(value.startswith("k1:") for value in values)
    assert 0 < on_new < len(values), "stopped half-way"
    assert plain == _expected(), "every value is still readable"
    assert stream == STREAM

    assert main(["keys", "status", *args]) == 0
    assert "k0" in capsys.readouterr().out
    assert main(["keys", "rotate", *args]) == 0
    resumed = capsys.readouterr().out
    assert "finishing the rotation to key k1" in resumed
    assert "added key" not in resumed
    assert [key_id for key_id, _ in read_key_file(data_dir / "secret.key")] == ["k0", "k1"]
    values, plain, _ = _stored(data_dir)
    assert all(value.startswith("k1:") for value in values if value)
    assert plain == _expected()


def test_rotation_refuses_keys_from_the_environment_and_status_flags_a_missing_key(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(data_dir)
    args = ["--data-dir", str(data_dir)]
    monkeypatch.setenv("DUTYDESK_SECRET_KEY", f"k5 {Fernet.generate_key().decode()}")
    assert main(["keys", "rotate", *args]) == 1
    assert "DUTYDESK_SECRET_KEY" in capsys.readouterr().err
    assert main(["keys", "status", *args]) == 1
    status = capsys.readouterr().out
    assert "k0" in status
    assert "MISSING" in status
    monkeypatch.delenv("DUTYDESK_SECRET_KEY")
    (data_dir / "secret.key").unlink()
    assert main(["keys", "status", *args]) == 1
    assert "cannot read the data keys" in capsys.readouterr().err
    assert main(["keys", "rotate", *args]) == 1


def test_a_value_no_key_can_read_stops_the_rotation_with_its_row_named(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(data_dir)

    async def spoil() -> None:
        engine = db.create_engine(sqlite_url(data_dir))
        try:
            async with db.session_factory(engine).begin() as session:
                await session.execute(
                    text("UPDATE alarms SET caller_name_enc = 'k0:garbage' WHERE id = 3")
                )
        finally:
            await engine.dispose()

    asyncio.run(spoil())
    assert main(["keys", "rotate", "--data-dir", str(data_dir)]) == 1
    assert "alarms 3, caller_name_enc" in capsys.readouterr().err


def test_a_tool_without_the_key_refuses_to_migrate_plain_names(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def old_database() -> None:
        engine = db.create_engine(sqlite_url(data_dir))
        try:
            await db.migrate(engine, "r0008")
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO alarms (version, state, level, alarm_type, title,"
                        " description, place, jurisdiction, source, source_ref, caller_name,"
                        " caller_phone_enc, caller_phone_masked, reported_by, count,"
                        " first_seen, last_seen, created_at, updated_at, updated_by,"
                        " last_note) VALUES (1, 'new', 'red', 'fire', 't', '', '', '',"
                        " 'manual', '', '张三', '', '', 'o', 1, '2026-11-29T03:00:00Z',"
                        " '2026-11-29T03:00:00Z', '2026-11-29T03:00:00Z',"
                        " '2026-11-29T03:00:00Z', 'o', '')"
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(old_database())
    (data_dir / "secret.key").rename(data_dir / "elsewhere.key")
    assert main(["keys", "status", "--data-dir", str(data_dir)]) == 1
    assert main(["user", "list", "--data-dir", str(data_dir)]) == 1
    assert "the data key is needed" in capsys.readouterr().err
    assert not (data_dir / "secret.key").exists(), "no new key was made up"
    (data_dir / "elsewhere.key").rename(data_dir / "secret.key")
    assert main(["user", "list", "--data-dir", str(data_dir)]) == 0

    async def names() -> list[str]:
        engine = db.create_engine(sqlite_url(data_dir))
        try:
            async with db.session_factory(engine)() as session:
                alarms = (await session.scalars(text("SELECT caller_name_enc FROM alarms"))).all()
        finally:
            await engine.dispose()
        cipher = FieldCipher.from_data_dir(data_dir, create=False)
        return [cipher.decrypt(value) for value in alarms]

    assert asyncio.run(names()) == ["张三"]
    assert Alarm.__table__.c.get("caller_name") is None
