"""A complete DutyDesk server running in a background thread.

The demo runs the server beside the console in one process this way, and tests use it to
put a real server (real database, real sockets on 127.0.0.1, port 0) behind real clients.
Stopping and starting it again keeps its database and its port, which is how tests
simulate an outage.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import tempfile
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from backend.authz.principal import Principal
from backend.config import sqlite_url
from backend.publishing.settings import SmppSettings
from backend.publishing.smpp.simulator import SmscSimulator
from backend.registry.files import load_cameras_csv, load_sensors_csv, load_units_csv
from backend.roads.reader import Tally, read_roads
from backend.roads.service import replace_layer
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from realtime.protocol import CONSOLE_PATH, DEVICE_PATH, RegistryItemInput, Role

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_USERS: tuple[tuple[str, str, Role], ...] = (
    ("officer1", "pw-officer1", Role.OFFICER),
    ("supervisor1", "pw-supervisor1", Role.SUPERVISOR),
    ("device1", "pw-device1", Role.DEVICE),
)
"""Accounts a fresh embedded server gets unless told otherwise (tests and demos only)."""


class Error(Exception):
    """The embedded server failed to start or stop."""


class ServerThread:
    """Runs :class:`DutyDeskServer` on its own event loop in a daemon thread."""

    def __init__(
        self,
        db_url: str | None = None,
        *,
        data_dir: Path | None = None,
        users: Sequence[tuple[str, str, Role]] = DEFAULT_USERS,
        seed_units: bool = True,
        port: int = 0,
        jt808: bool = False,
        seed_sensors: bool = False,
        seed_cameras: bool = False,
        seed_registry: Sequence[RegistryItemInput] = (),
        registry_source: str = "",
        seed_roads: Path | None = None,
        sms_simulator: bool = False,
    ) -> None:
        """``seed_registry``: registry items imported (as user ``demo``, from
        ``registry_source``) at the first start, before it accepts connections; the
        sensors and cameras they name must be seeded too. ``seed_roads``: a road layer
        (OSM extract or GeoPackage) imported at the first start, as
        ``dutydesk basemap import`` does. ``sms_simulator``: SMS go to an in-process SMSC
        simulator (:attr:`smsc`), never to a carrier."""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dutydesk-")
            data_dir = Path(self._tmp.name)
        self.data_dir = data_dir
        self.db_url = db_url or sqlite_url(data_dir)
        self._users = list(users)
        self._seed_units = seed_units
        self._cipher = FieldCipher.generate()
        self._port = port
        self._jt808 = jt808
        self._seed_sensors = seed_sensors
        self._seed_cameras = seed_cameras
        self._seed_registry = list(seed_registry)
        self._registry_source = registry_source
        self._seed_roads = seed_roads
        self._sms_simulator = sms_simulator
        self.smsc: SmscSimulator | None = None
        """The SMSC simulator the server's SMS go to (``sms_simulator``; while running)."""
        self._jt808_port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: DutyDeskServer | None = None
        self._stopped: asyncio.Event | None = None
        self._created_users = False
        self._seeded_registry = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def start(self, timeout: float = 30.0) -> None:
        """Start (or restart) the server; return once it accepts connections."""
        if self._thread is not None:
            raise Error("already running")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="dutydesk-server", daemon=True
        )
        self._thread.start()
        ready.result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server, keeping its database and port for a later :meth:`start`."""
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise Error("server thread did not stop")
        self._thread = None
        self._loop = None

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self, ready: concurrent.futures.Future[None]) -> None:
        if not self._sms_simulator:
            await self._serve(ready, None)
            return
        async with SmscSimulator(receipt_delay=2.0) as smsc:
            self.smsc = smsc
            try:
                await self._serve(ready, SmppSettings("127.0.0.1", smsc.port, "dutydesk"))
            finally:
                self.smsc = None

    async def _serve(
        self, ready: concurrent.futures.Future[None], smpp: SmppSettings | None
    ) -> None:
        self._stopped = asyncio.Event()
        config = ServerConfig(
            db_url=self.db_url,
            data_dir=self.data_dir,
            port=self._port,
            cipher=self._cipher,
            seed_units=load_units_csv() if self._seed_units else (),
            # The demo's trucks register themselves; the port stays the same on restart.
            jt808_listen=("127.0.0.1", self._jt808_port) if self._jt808 else None,
            jt808_auto_register=True,
            seed_sensors=load_sensors_csv() if self._seed_sensors else (),
            seed_cameras=load_cameras_csv() if self._seed_cameras else (),
            smpp=smpp,
        )
        server = DutyDeskServer(config)
        try:
            await server.start()
            if not self._created_users:
                for username, password, role in self._users:
                    await server.users.add_user(username, password, role)
                self._created_users = True
            if self._seed_registry and not self._seeded_registry:
                # Only once: a restart keeps what the console changed meanwhile.
                await server.registry_items.import_items(
                    self._seed_registry, by="demo", source=self._registry_source
                )
                self._seeded_registry = True
            if self._seed_roads is not None:
                # Only once, as above.
                roads, self._seed_roads = self._seed_roads, None
                await replace_layer(server.sessions, read_roads(roads, Tally()), source=roads.name)
        except Exception as exc:  # noqa: BLE001 - handed to start(), which re-raises it
            await server.close()
            ready.set_exception(exc)
            return
        self._server = server
        self._port = server.port
        if self._jt808:
            self._jt808_port = server.jt808_port
        ready.set_result(None)
        try:
            await self._stopped.wait()
        finally:
            await server.close()
            self._server = None

    # ------------------------------------------------------------------ access

    @property
    def port(self) -> int:
        """The listening port (stable across restarts)."""
        return self._port

    @property
    def jt808_port(self) -> int:
        """The built-in JT/T 808 gateway's port (0 when it was not asked for)."""
        return self._jt808_port

    @property
    def console_url(self) -> str:
        """WebSocket URL for consoles."""
        return f"ws://127.0.0.1:{self._port}{CONSOLE_PATH}"

    @property
    def device_url(self) -> str:
        """WebSocket URL for device feeds."""
        return f"ws://127.0.0.1:{self._port}{DEVICE_PATH}"

    @property
    def server(self) -> DutyDeskServer:
        """The running server (only touch it through :meth:`call`)."""
        if self._server is None:
            raise Error("server is not running")
        return self._server

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop and return its result."""
        if self._loop is None:
            coroutine.close()
            raise Error("server is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start a long-running coroutine on the server's loop; cancel the future to stop it."""
        if self._loop is None:
            coroutine.close()
            raise Error("server is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def add_user(
        self,
        username: str,
        password: str,
        role: Role | str,
        *,
        agency: str | None = None,
        jurisdiction: str = "",
        enterprise: str | None = None,
    ) -> Principal:
        """Create a user on the running server."""
        return self.call(
            self.server.users.add_user(
                username,
                password,
                Role(role),
                agency=agency,
                jurisdiction=jurisdiction,
                enterprise=enterprise,
            )
        )
