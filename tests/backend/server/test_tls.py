"""TLS on the one port: ``wss://`` for consoles and device feeds, ``https://`` for
``/health``, with certificates made in the test (trustme). A client that trusts the CA
connects; one that trusts another CA is refused with a clear reason and stops; plain
``ws://`` to the TLS port fails cleanly and the server carries on; a missing or bad
certificate stops the server at start with one line."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from backend.cli.app import main
from backend.server.app import DutyDeskServer, TlsError, tls_context
from backend.server.config import ServerConfig
from realtime.client import CERTIFICATE_NOT_TRUSTED, ConnectionState, DutyDeskClient
from tests.backend.conftest import Recorder
from tests.backend.server.test_sessions import _serve


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def pki(ca: trustme.CA, tmp_path: Path) -> dict[str, Path]:
    """The server's certificate and key (separate files) and the CA that signed them."""
    issued = ca.issue_cert("127.0.0.1", "localhost")
    paths = {"cert": tmp_path / "server.pem", "key": tmp_path / "server.key"}
    paths["ca"] = tmp_path / "ca.pem"
    for blob in issued.cert_chain_pems:
        with paths["cert"].open("ab") as handle:
            handle.write(blob.bytes())
    issued.private_key_pem.write_to_path(str(paths["key"]))
    ca.cert_pem.write_to_path(str(paths["ca"]))
    return paths


@pytest.fixture
async def server(
    db_url: str, tmp_path: Path, pki: dict[str, Path]
) -> AsyncIterator[DutyDeskServer]:
    srv = await _serve(db_url, tmp_path / "data", tls_cert=pki["cert"], tls_key=pki["key"])
    yield srv
    await srv.close()


async def _run_client(url: str, ca_file: str | None) -> tuple[DutyDeskClient, Recorder]:
    recorder = Recorder()
    client = DutyDeskClient(
        url,
        recorder,
        username="officer1",
        password="pw-officer1",
        ca_file=ca_file,
        backoff_initial=0.05,
        backoff_max=0.1,
    )
    return client, recorder


async def test_a_client_that_trusts_the_ca_connects_over_wss(
    server: DutyDeskServer, pki: dict[str, Path]
) -> None:
    client, recorder = await _run_client(f"wss://127.0.0.1:{server.port}/console", str(pki["ca"]))
    task = asyncio.create_task(client.run())
    await client.wait_live(10)
    assert recorder.welcome is not None
    assert recorder.welcome.user.username == "officer1"
    await client.close()
    await task


async def test_health_answers_over_https(server: DutyDeskServer, pki: dict[str, Path]) -> None:
    context = ssl.create_default_context(cafile=str(pki["ca"]))

    def fetch() -> dict[str, object]:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{server.port}/health", context=context, timeout=10
        ) as answer:
            report: dict[str, object] = json.loads(answer.read())
            return report

    report = await asyncio.to_thread(fetch)
    assert report["status"] == "ok"


async def test_a_client_that_trusts_another_ca_is_refused_and_stops(
    server: DutyDeskServer, tmp_path: Path
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    client, recorder = await _run_client(f"wss://127.0.0.1:{server.port}/console", str(other))
    await asyncio.wait_for(client.run(), 10)
    assert client.state is ConnectionState.AUTH_FAILED
    detail = recorder.states[-1][1]
    assert detail.startswith(CERTIFICATE_NOT_TRUSTED)
    assert "certificate" in detail
    # Without a CA file the system's CAs do not know the test CA either.
    client, recorder = await _run_client(f"wss://127.0.0.1:{server.port}/console", None)
    await asyncio.wait_for(client.run(), 10)
    assert recorder.states[-1][1].startswith(CERTIFICATE_NOT_TRUSTED)


async def test_a_ca_file_that_cannot_be_read_is_said_at_once(
    server: DutyDeskServer, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.pem"
    client, recorder = await _run_client(f"wss://127.0.0.1:{server.port}/console", str(missing))
    await asyncio.wait_for(client.run(), 10)
    assert client.state is ConnectionState.AUTH_FAILED
    assert f"cannot use the CA file {missing}" in recorder.states[-1][1]


async def test_plain_ws_to_the_tls_port_fails_cleanly(
    server: DutyDeskServer, pki: dict[str, Path]
) -> None:
    client, recorder = await _run_client(f"ws://127.0.0.1:{server.port}/console", None)
    task = asyncio.create_task(client.run())
    await recorder.wait_for(
        lambda: any(state is ConnectionState.DISCONNECTED for state, _ in recorder.states)
    )
    await client.close()
    await task
    assert client.state is ConnectionState.CLOSED
    # The server carries on: a proper client still gets in.
    good, _ = await _run_client(f"wss://127.0.0.1:{server.port}/console", str(pki["ca"]))
    good_task = asyncio.create_task(good.run())
    await good.wait_live(10)
    await good.close()
    await good_task


def test_a_missing_or_bad_certificate_is_one_clear_line(
    tmp_path: Path, pki: dict[str, Path]
) -> None:
    with pytest.raises(TlsError, match="does not exist"):
        tls_context(tmp_path / "none.pem", None)
    with pytest.raises(TlsError, match=r"key file .* does not exist"):
        tls_context(pki["cert"], tmp_path / "none.key")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n", encoding="utf-8")
    with pytest.raises(TlsError, match="cannot use the TLS certificate"):
        tls_context(garbage, pki["key"])
    other_key = tmp_path / "other.key"
    trustme.CA().issue_cert("127.0.0.1").private_key_pem.write_to_path(str(other_key))
    with pytest.raises(TlsError, match="must match"):
        tls_context(pki["cert"], other_key)
    # The key may sit in the certificate file.
    both = tmp_path / "both.pem"
    both.write_bytes(pki["key"].read_bytes() + pki["cert"].read_bytes())
    assert tls_context(both, None) is not None


def test_the_server_refuses_to_start_with_a_bad_certificate(tmp_path: Path) -> None:
    config = ServerConfig(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        data_dir=tmp_path,
        tls_cert=tmp_path / "none.pem",
    )
    with pytest.raises(TlsError):
        DutyDeskServer(config)


def test_serve_says_what_is_wrong_with_the_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.pem"
    code = main(["serve", "--port", "0", "--data-dir", str(tmp_path), "--tls-cert", str(missing)])
    assert code != 0
    assert f"TLS certificate file {missing} does not exist" in capsys.readouterr().err
    code = main(["serve", "--port", "0", "--data-dir", str(tmp_path), "--tls-key", str(missing)])
    assert code != 0
    assert "--tls-key needs --tls-cert" in capsys.readouterr().err


async def test_a_gateway_forwards_over_wss_when_it_trusts_the_ca(
    server: DutyDeskServer, pki: dict[str, Path]
) -> None:
    import datetime as dt

    from devices.forward import RemoteSink
    from devices.observations import Position
    from realtime.client import basic_auth_header

    sink = RemoteSink(
        f"wss://127.0.0.1:{server.port}/device",
        basic_auth_header("device1", "pw-device1"),
        kind="jt808",
        reconnect_delay=0.05,
        ca_file=str(pki["ca"]),
    )
    sink.start()
    try:
        at = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)
        await asyncio.wait_for(
            sink.submit(Position(device="13912345678", at=at, lat=32.0, lon=118.8)), 10
        )
    finally:
        await sink.close()
