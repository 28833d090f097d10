"""The shipped nginx configuration (resources/deploy/nginx/dutydesk.conf), for real: nginx
ends TLS (a test certificate) in front of two DutyDesk instances on one database; a console
connects through it over wss://, the instance it landed on stops, and the console comes
back through the same address on the other instance. Only the listen address, the
certificate paths and the upstream lines are changed for the test."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from backend.server.handshake import LoginLimits
from realtime.client import ConnectionState, DutyDeskClient, basic_auth_header
from tests.backend.conftest import Recorder
from tests.backend.server.test_sessions import _serve

SHIPPED = Path(__file__).parents[3] / "resources" / "deploy" / "nginx" / "dutydesk.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (.ci/bootstrap.sh installs it for the tests)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def render(shipped: str, *, port: int, cert: Path, key: Path, upstreams: list[int]) -> str:
    """The shipped configuration with the test's address, certificate and instances."""
    text = shipped.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    text = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", text)
    text = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", text)
    servers = "".join(
        f"    server 127.0.0.1:{upstream} max_fails=1 fail_timeout=10s;\n" for upstream in upstreams
    )
    text, count = re.subn(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, text)
    assert count == 1, "the upstream block of the shipped file changed shape"
    return text


def _main_config(folder: Path, site: Path) -> str:
    # What /etc/nginx/nginx.conf gives the site in a real install, in a folder of our own.
    temp = "\n".join(
        f"    {name}_temp_path {folder / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {site};\n}}\n"
    )


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    paths = {
        "cert": tmp_path / "proxy.pem",
        "key": tmp_path / "proxy.key",
        "ca": tmp_path / "ca.pem",
    }
    for blob in issued.cert_chain_pems:
        with paths["cert"].open("ab") as handle:
            handle.write(blob.bytes())
    issued.private_key_pem.write_to_path(str(paths["key"]))
    ca.cert_pem.write_to_path(str(paths["ca"]))
    return paths


NGINX_HOST = ("127.0.0.1",)
LIMITS = LoginLimits(failures_per_address=3)


@pytest.fixture
async def instances(db_url: str, tmp_path: Path) -> AsyncIterator[list[DutyDeskServer]]:
    data = tmp_path / "data"
    # As the shipped systemd unit runs them: nginx on this host is a trusted proxy.
    first = await _serve(db_url, data, trusted_proxies=NGINX_HOST, login_limits=LIMITS)
    second = DutyDeskServer(
        ServerConfig(
            db_url=db_url,
            data_dir=data,
            port=0,
            cipher=FieldCipher.from_data_dir(data),
            trusted_proxies=NGINX_HOST,
            login_limits=LIMITS,
        )
    )
    await second.start()
    servers = [first, second]
    yield servers
    for server in servers:
        await server.close()


@pytest.fixture
async def proxy(
    instances: list[DutyDeskServer], pki: dict[str, Path], tmp_path: Path
) -> AsyncIterator[int]:
    assert NGINX is not None
    folder = tmp_path / "nginx"
    folder.mkdir()
    port = _free_port()
    site = folder / "dutydesk.conf"
    site.write_text(
        render(
            SHIPPED.read_text(encoding="utf-8"),
            port=port,
            cert=pki["cert"],
            key=pki["key"],
            upstreams=[server.port for server in instances],
        )
    )
    main = folder / "nginx.conf"
    main.write_text(_main_config(folder, site))
    checking = await asyncio.create_subprocess_exec(
        NGINX, "-t", "-p", str(folder), "-c", str(main), stderr=asyncio.subprocess.PIPE
    )
    _, complaints = await checking.communicate()
    assert checking.returncode == 0, complaints.decode()
    process = await asyncio.create_subprocess_exec(NGINX, "-p", str(folder), "-c", str(main))
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        yield port
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_console_reconnects_through_the_proxy_when_its_instance_stops(
    instances: list[DutyDeskServer], proxy: int, pki: dict[str, Path]
) -> None:
    recorder = Recorder()
    client = DutyDeskClient(
        f"wss://127.0.0.1:{proxy}/console",
        recorder,
        username="officer1",
        password="pw-officer1",
        ca_file=str(pki["ca"]),
        backoff_initial=0.05,
        backoff_max=0.2,
    )
    task = asyncio.create_task(client.run())
    try:
        await client.wait_live(10)
        (serving,) = [server for server in instances if len(server.hub) == 1]
        (other,) = [server for server in instances if server is not serving]
        await serving.close()
        instances.remove(serving)

        def lives() -> int:
            return sum(1 for state, _ in recorder.states if state is ConnectionState.LIVE)

        await recorder.wait_for(lambda: lives() >= 2, timeout=20)
        assert len(other.hub) == 1
    finally:
        await client.close()
        await task


async def _status_through(
    proxy: int, pki: dict[str, Path], source: str, username: str, password: str
) -> int:
    """A console login through nginx from ``source``: the HTTP status (101 admitted)."""
    tls = ssl.create_default_context(cafile=str(pki["ca"]))
    try:
        async with connect(
            f"wss://127.0.0.1:{proxy}/console",
            ssl=tls,
            additional_headers={"Authorization": basic_auth_header(username, password)},
            local_addr=(source, 0),
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_through_the_proxy_one_machines_failed_logins_do_not_lock_out_the_others(
    instances: list[DutyDeskServer], proxy: int, pki: dict[str, Path]
) -> None:
    """Every login reaches the instances from nginx's address: the instances count the
    failures of the machine nginx names (X-Forwarded-For), so one officer's mistyped
    passwords (or a guesser on one machine) do not refuse every other machine."""
    guesser, colleague = "127.0.0.7", "127.0.0.8"
    statuses: list[int] = []
    # nginx spreads the attempts over both instances; each counts its own failures.
    while statuses[-2:] != [429, 429]:
        assert len(statuses) < 20, statuses
        statuses.append(await _status_through(proxy, pki, guesser, "x-guess", "guess"))
    assert set(statuses) == {401, 429}
    for _ in range(2):  # one login on each instance
        assert await _status_through(proxy, pki, colleague, "officer1", "pw-officer1") == 101
