"""The channel adapters from ``serve``'s options to the running server: secrets from
files, usage errors for incomplete options, nothing sent out of an exercise, adapters
closed with the server; and ``dutydesk smsc-sim`` serving a real client."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from backend.cli import channels
from backend.cli.app import build_parser
from backend.cli.common import Error
from backend.publishing.adapters import build_adapters
from backend.publishing.channels import DeliveryError, Outgoing
from backend.publishing.settings import SmppSettings, SmtpSettings
from backend.publishing.smpp.client import SmppAdapter
from backend.publishing.smpp.simulator import SmscSimulator
from backend.publishing.smtp_adapter import SmtpAdapter
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.server.embedded import ServerThread
from realtime.protocol import Channel, ExerciseLabel, ExerciseState


def serve_args(*options: str) -> argparse.Namespace:
    return build_parser(external_commands=[]).parse_args(["serve", *options])


def test_serve_options_give_the_settings_with_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "smpp.pw").write_text("s3cret\n", encoding="utf-8")
    (tmp_path / "smtp.pw").write_text("mail-pw\nignored second line\n", encoding="utf-8")
    fields = channels.serve_config(
        serve_args(
            "--smpp",
            "10.0.0.5:2775",
            "--smpp-system-id",
            "dutydesk",
            "--smpp-password-file",
            str(tmp_path / "smpp.pw"),
            "--smpp-source",
            "10655",
            "--smtp",
            "mail.example.org:587",
            "--smtp-from",
            "值班台 <dd@example.org>",
            "--smtp-user",
            "dd",
            "--smtp-password-file",
            str(tmp_path / "smtp.pw"),
            "--smtp-starttls",
            "--cap-sender",
            "dd@yjj.example.gov.cn",
        )
    )
    assert fields["smpp"] == SmppSettings(
        "10.0.0.5", 2775, "dutydesk", password="s3cret", source_addr="10655"
    )
    assert fields["smtp"] == SmtpSettings(
        "mail.example.org",
        587,
        "值班台 <dd@example.org>",
        user="dd",
        password="mail-pw",
        starttls=True,
    )
    assert fields["cap_sender"] == "dd@yjj.example.gov.cn"
    adapters = build_adapters(ServerConfig(db_url="", data_dir=tmp_path, **fields))
    assert isinstance(adapters[Channel.SMS], SmppAdapter)
    assert isinstance(adapters[Channel.EMAIL], SmtpAdapter)


def test_without_options_there_are_no_adapters(tmp_path: Path) -> None:
    fields = channels.serve_config(serve_args())
    assert fields == {"smpp": None, "smtp": None, "cap_sender": "dutydesk@localhost"}
    assert build_adapters(ServerConfig(db_url="", data_dir=tmp_path, **fields)) == {}


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--smpp", "h:1"], "--smpp needs --smpp-system-id"),
        (["--smpp-system-id", "x"], "need --smpp"),
        (["--smpp", "h:1", "--smpp-system-id", "x", "--smpp-window", "0"], "at least 1"),
        (["--smtp", "h:25"], "--smtp needs --smtp-from"),
        (["--smtp", "h:25", "--smtp-from", "a@b", "--smtp-user", "u"], "needs --smtp-pass"),
        (["--smtp-starttls"], "need --smtp"),
        (["--cap-sender", "a b"], "no spaces"),
        (
            ["--smpp", "h:1", "--smpp-system-id", "x", "--smpp-password-file", "/nonexistent"],
            "cannot read the SMPP password file",
        ),
    ],
)
def test_incomplete_options_are_usage_errors(options: list[str], problem: str) -> None:
    with pytest.raises(Error, match=re.escape(problem)):
        channels.serve_config(serve_args(*options))


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n", encoding="utf-8")
    with pytest.raises(Error, match="is empty"):
        channels.read_secret(tmp_path / "pw", "SMPP password")


def test_passwords_are_never_options() -> None:
    text = build_parser(external_commands=[]).parse_args(["serve"])
    assert not any(name in {"smpp_password", "smtp_password"} for name in vars(text))


async def test_the_server_sends_through_its_adapters_and_closes_them(
    db_url: str, tmp_path: Path
) -> None:
    async with SmscSimulator(password="pw", receipt_delay=0.01) as smsc:
        server = DutyDeskServer(
            ServerConfig(
                db_url=db_url,
                data_dir=tmp_path,
                port=0,
                cipher=FieldCipher.generate(),
                smpp=SmppSettings("127.0.0.1", smsc.port, "dutydesk", password="pw"),
            )
        )
        await server.start()
        try:
            sms = server.channel_adapters[Channel.SMS]
            await sms.send(Outgoing(1, "13800138000", "", "测试短信"))
            assert [t.text for t in await smsc.wait_for(1)] == ["测试短信"]
        finally:
            await server.close()
        with pytest.raises(DeliveryError, match="closed"):
            await sms.send(Outgoing(2, "13800138000", "", "after close"))


async def test_an_exercise_instance_sends_nothing_out(tmp_path: Path) -> None:
    label = ExerciseLabel(run_id="r1", title="演练", speed=1.0, state=ExerciseState.RUNNING)
    server = DutyDeskServer(
        ServerConfig(
            db_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
            data_dir=tmp_path,
            cipher=FieldCipher.generate(),
            exercise=label,
            smpp=SmppSettings("127.0.0.1", 9, "dutydesk"),
            smtp=SmtpSettings("127.0.0.1", 9, "dd@example.org"),
        )
    )
    try:
        assert server.channel_adapters == {}
    finally:
        await server.engine.dispose()
        server.users.close()


async def test_smsc_sim_command_serves_a_client(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend",
        "smsc-sim",
        "--port",
        "0",
        "--receipt-delay",
        "0",
        "--log-level",
        "INFO",
        stderr=subprocess.PIPE,
        env=environment,
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(30):
            while not (
                found := re.search(
                    rb"listening on 127.0.0.1:(\d+)", await process.stderr.readline()
                )
            ):
                pass
        client = SmppAdapter(SmppSettings("127.0.0.1", int(found[1]), "dutydesk", password="x"))
        try:
            assert await client.send(Outgoing(1, "13800138000", "", "hello from the test"))
        finally:
            await client.close()
        async with asyncio.timeout(10):
            while b"hello from the test" not in await process.stderr.readline():
                pass
    finally:
        process.send_signal(signal.SIGINT)
        await process.wait()


def test_the_embedded_server_of_the_demo_sends_sms_to_its_own_simulator() -> None:
    with ServerThread(seed_units=False, sms_simulator=True) as thread:
        sms = thread.server.channel_adapters[Channel.SMS]
        reference = thread.call(sms.send(Outgoing(1, "13800138000", "", "演示短信")))
        smsc = thread.smsc
        assert smsc is not None
        assert thread.call(smsc.wait_for(1))[0].message_ids == [reference]
    assert thread.smsc is None
