"""Offline timers that outlive the instance holding a terminal's connection.

A terminal's silence clock lives in the gateway holding its connection
(:mod:`devices.jt808.gateway`): after ``offline_after`` seconds without a frame that
gateway reports it offline. If that instance dies and the terminal never comes back,
nobody would. So every instance writes, coalesced, when it last heard each terminal it
holds (any frame, heartbeats too, on the server's clock) and that it holds it
(``devices.heard_at`` and ``held_by``, r0028): at most once per :attr:`write_every`
seconds per terminal, in one batch per :attr:`flush_every` seconds, never on the path of
a frame. Each instance holds a lease named after itself while it lives
(:mod:`backend.runtime.leases`: the database frees it when the process dies).

The sweep runs on exactly one instance (the lease ``terminal offline sweep``): a
terminal still recorded online whose last hearing is older than the offline limit plus
the write delay (:attr:`grace`) is reported offline — the same ``device.offline`` event
a live gateway writes — when the instance holding it is gone, or when it has stayed
silent for twice that long whatever holds it (a holder that lost track of it). The
decision is taken again inside the writing transaction (instances write one at a time):
a terminal its live instance reported already, or that was heard again meanwhile (it
reconnected somewhere), is not reported; a reconnect marks it online as always.

A vehicle's rules (the offline rule of ``vehicle_rules``: "offline for more than N
minutes" raises an alarm) are judged by the rules engine of the instance that
``held_by`` names. That is the instance holding the connection while the terminal is
online, and stays so when it goes offline: the live instance that reported it offline
judges its offline rule on, and the sweep, reporting a dead instance's terminal offline,
hands it over to itself in the same transaction. Each sweep also adopts **orphans**:
terminals recorded offline whose ``held_by`` names an instance that is gone (a terminal
that went offline normally before its instance died, or one a sweeper had taken over
before it died in turn). The hand-over is recorded first
(:meth:`backend.registry.devices.DeviceRegistry.take_over`), only where ``held_by``
still names the dead instance and the terminal is still offline, decided inside the
writing transaction, so a terminal that reconnected meanwhile is not taken; at most
:data:`ORPHANS_PER_SWEEP` per sweep. An adopted vehicle's rules restart from their stored
state (``terminal_states``, saved after every rule decision) with the silence counted
from its last hearing: an offline alarm the dead instance raised already is recorded
there and not raised again, one it had not raised is raised here once; and should this
instance die too, ``held_by`` names it and the next sweeper adopts them in turn. Any
vehicle judged here — adopted, or left offline here after a normal disconnect — is
given back (forgotten here) when a ``device.online`` event of the log shows it online on
another instance (:meth:`TerminalPresence.online_elsewhere`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select

from backend.ingest.terminal_state import Error as TerminalStateError
from backend.ingest.terminal_state import decode_rules
from backend.runtime import leases as lease_lib
from backend.runtime.clock import utc_now
from backend.runtime.periodic import Periodic
from backend.storage.models import Device
from backend.vehicles.rules.state import VehicleState

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)

KIND = "jt808"
"""The device kind whose silence clocks this covers (terminals holding a connection)."""
INSTANCE_LEASE_PREFIX = "instance "
"""Each instance holds the lease ``instance <its name>`` while it lives."""
SWEEP_LEASE = "terminal offline sweep"
WRITE_EVERY = 30.0
"""Longest seconds between two writes of one terminal's last hearing (at most a quarter
of the offline limit)."""
FLUSH_EVERY = 5.0
"""Seconds between two batches of last hearings (at most a quarter of the limit)."""
ORPHANS_PER_SWEEP = 500
"""Offline vehicles taken over from dead instances per sweep at most (the rest in the
next sweeps): the only instance of a large fleet, restarted, finds thousands."""
IN_CHUNK = 500
"""Instance names per IN (...) query."""
SWEEP_EVERY = 10.0
"""Seconds between two sweeps (at most a quarter of the offline limit)."""


def instance_name() -> str:
    """A name for this server process, unique across restarts and hosts (≤ 64 chars)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class TerminalPresence:
    """This instance's last hearings of its terminals, and the leased offline sweep."""

    def __init__(self, server: DutyDeskServer, *, name: str | None = None) -> None:
        self._server = server
        self.name = name or instance_name()
        """This instance's name (``devices.held_by``)."""
        offline_after = server.config.jt808_offline_after
        self.offline_after = offline_after
        self.write_every = min(WRITE_EVERY, offline_after / 4)
        self.flush_every = min(FLUSH_EVERY, offline_after / 4)
        self.grace = self.write_every + self.flush_every
        """How much older than the truth a stored last hearing may be."""
        self._alive = server.leases.lease(INSTANCE_LEASE_PREFIX + self.name)
        self._written: dict[str, float] = {}
        """Per terminal held here: the wall-clock time of hearing last written."""
        self._adopted: set[str] = set()
        """Vehicles whose rules this instance took over from a swept terminal."""
        self._started = time.monotonic()
        self._running = False
        self.swept = 0
        """Terminals this instance reported offline for a dead instance."""
        self.orphans_adopted = 0
        """Offline vehicles whose rules this instance took over from a dead instance."""
        self._loops = [
            Periodic("terminal last hearings", self._flush, interval=self.flush_every, log=logger),
            Periodic(
                "terminal offline sweep",
                self._sweep,
                interval=min(SWEEP_EVERY, offline_after / 4),
                log=logger,
                lease=server.leases.lease(SWEEP_LEASE),
            ),
        ]

    async def start(self) -> None:
        """Say this instance lives (its lease) and start writing and sweeping."""
        self._server.registry.instance = self.name
        self._running = True
        await self._alive.hold()
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        """Stop; the last hearings are written once more (a failure is only logged)."""
        if not self._running:
            return  # never started (the database could not be opened)
        self._running = False
        for loop in self._loops:
            await loop.stop()
        await self._loops[0].run_once()
        await self._alive.release()

    # ------------------------------------------------------------------ last hearings

    def _heard_here(self) -> dict[str, float]:
        """Wall-clock time each terminal held here was last heard of."""
        gateway = self._server.jt808_gateway
        if gateway is None:
            return {}
        wall, heard_now = time.time(), gateway.silence_clock()
        return {
            device: wall - (heard_now - state.last_seen)
            for device, state in gateway.terminals.states.items()
            if state.online
        }

    async def _flush(self) -> None:
        await self._alive.hold()  # taken again if the lease connection was lost
        heard = self._heard_here()
        due = {
            device: at
            for device, at in heard.items()
            if at - self._written.get(device, 0.0) >= self.write_every
        }
        if due:
            await self._server.registry.note_heard(
                KIND, {d: dt.datetime.fromtimestamp(at, dt.UTC) for d, at in due.items()}, self.name
            )
        self._written = {d: due.get(d, self._written.get(d, 0.0)) for d in heard}

    # ------------------------------------------------------------------ sweep

    async def _sweep(self) -> None:
        # After a start, every terminal gets one offline limit to come back first.
        if time.monotonic() - self._started < self.offline_after:
            return
        now = utc_now()
        cutoff = now - dt.timedelta(seconds=self.offline_after + self.grace)
        long_silent = now - dt.timedelta(seconds=2 * (self.offline_after + self.grace))
        candidates, online_again = await self._candidates(cutoff)
        self._give_back(online_again)
        if candidates:
            await self._report_silent(candidates, now, cutoff, long_silent)
        await self._adopt_orphans()

    async def _report_silent(
        self,
        candidates: list[tuple[str, str | None, dt.datetime]],
        now: dt.datetime,
        cutoff: dt.datetime,
        long_silent: dt.datetime,
    ) -> None:
        """Report offline the ``candidates`` whose instance is gone or lost track of them,
        and take over their rules (the report hands them to this instance)."""
        alive = await self._alive_instances({holder for _, holder, _ in candidates})
        silent = f"silent for more than {self.offline_after:g} s"
        for device, holder, heard in candidates:
            if holder in alive:
                if heard >= long_silent:
                    continue  # its live instance reports it
                reason = f"{silent}; its server instance lost track of it"
            else:
                reason = f"{silent}; its server instance is gone"
            recorded = await self._server.registry.report_silent(KIND, device, now, reason, cutoff)
            if recorded:
                self.swept += 1
                logger.info(
                    "terminal %s offline: silent since %s, held by %s", device, heard, holder
                )
                await self._adopt({device: heard})

    async def _adopt_orphans(self) -> None:
        """Take over the rules of offline terminals whose holder is gone (at most
        :data:`ORPHANS_PER_SWEEP`), recording the hand-over first: only those still
        offline and still held by the dead instance are adopted."""
        orphans = await self._orphans()
        if not orphans:
            return
        taken = await self._server.registry.take_over(
            KIND, {device: holder for device, (holder, _) in orphans.items()}, self.name
        )
        if not taken:
            return
        self.orphans_adopted += len(taken)
        logger.info(
            "took over the rules of %s offline vehicles whose server instance is gone",
            len(taken),
        )
        await self._adopt({device: orphans[device][1] for device in taken})

    async def _orphans(self) -> dict[str, tuple[str, dt.datetime | None]]:
        """Offline terminals held by an instance that is gone (each with that instance
        and its last hearing), at most :data:`ORPHANS_PER_SWEEP`."""
        offline = (Device.kind == KIND, Device.online.is_(False))
        async with self._server.sessions() as session:
            holders = set(
                await session.scalars(
                    select(Device.held_by)
                    .distinct()
                    .where(*offline, Device.held_by.is_not(None), Device.held_by != self.name)
                )
            )
        if not holders:
            return {}
        dead = sorted(str(h) for h in holders - await self._alive_instances(holders))
        orphans: dict[str, tuple[str, dt.datetime | None]] = {}
        async with self._server.sessions() as session:
            for start in range(0, len(dead), IN_CHUNK):
                room = ORPHANS_PER_SWEEP - len(orphans)
                if room <= 0:
                    break
                rows = await session.execute(
                    select(Device.identity, Device.held_by, Device.heard_at, Device.last_seen)
                    .where(*offline, Device.held_by.in_(dead[start : start + IN_CHUNK]))
                    .order_by(Device.identity)
                    .limit(room)
                )
                for identity, holder, heard_at, last_seen in rows:
                    if holder is not None:  # always (IN): for the type checker
                        orphans[identity] = (holder, heard_at or last_seen)
        return orphans

    async def _candidates(
        self, cutoff: dt.datetime
    ) -> tuple[list[tuple[str, str | None, dt.datetime]], set[str]]:
        """Terminals recorded online but silent since before ``cutoff`` (with their
        holder and last hearing); and which adopted vehicles are online again."""
        async with self._server.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        Device.identity, Device.held_by, Device.heard_at, Device.last_seen
                    ).where(Device.kind == KIND, Device.online.is_(True))
                )
            ).all()
        candidates: list[tuple[str, str | None, dt.datetime]] = []
        online: set[str] = set()
        for identity, holder, heard_at, last_seen in rows:
            online.add(identity)
            heard = heard_at or last_seen
            if heard is not None and heard < cutoff:
                candidates.append((identity, holder, heard))
        recent = {identity for identity, *_ in candidates}
        return candidates, (self._adopted & online) - recent

    async def _alive_instances(self, holders: set[str | None]) -> set[str | None]:
        """Which of ``holders`` still live (this one does)."""
        named = {h for h in holders if h is not None and h != self.name}
        alive: set[str | None] = {self.name}
        if not named or not self._server.leases.exclusive:
            return alive
        async with self._server.engine.connect() as connection:
            held = await lease_lib.held_anywhere(
                connection, {INSTANCE_LEASE_PREFIX + h for h in named}
            )
        return alive | {name.removeprefix(INSTANCE_LEASE_PREFIX) for name in held}

    async def _adopt(self, heard: Mapping[str, dt.datetime | None]) -> None:
        """Judge these vehicles' rules here from their stored state (the offline rule
        counts the silence from the last hearing in ``heard``). A vehicle this engine
        has a state for already (e.g. its terminal is connected here) keeps it."""
        ingest = self._server.jt808_ingest
        rules = self._server.vehicle_engines.get(KIND)
        states = ingest.terminal_states
        if rules is None or states is None:
            return
        wanted = [device for device in heard if rules.state_of(device) is None]
        if not wanted:
            return
        remembered = await states.restore_many(wanted)
        adopted: dict[str, VehicleState | None] = {}
        for device in wanted:
            if rules.state_of(device) is not None:
                continue  # it connected here meanwhile: restored at its authentication
            try:
                state = decode_rules(device, remembered[device].rules)
            except TerminalStateError as exc:
                logger.warning("%s; its rules start afresh", exc)
                state = VehicleState(device)
            state.last_contact_at = heard[device]
            adopted[device] = state
        rules.rollback(adopted)
        self._adopted.update(adopted)

    async def online_elsewhere(self, devices: set[str]) -> None:
        """Terminals that came online (``device.online`` events of any instance): those
        judged here but now held by another instance are forgotten here — else this
        instance's offline rule would raise an alarm for a vehicle talking to another."""
        rules = self._server.vehicle_engines.get(KIND)
        gateway = self._server.jt808_gateway
        here = gateway.online_terminals if gateway is not None else set()
        judged = sorted(
            device
            for device in devices
            if device not in here and rules is not None and rules.state_of(device) is not None
        )
        if not judged:
            return
        elsewhere: set[str] = set()
        async with self._server.sessions() as session:
            for start in range(0, len(judged), IN_CHUNK):
                elsewhere.update(
                    await session.scalars(
                        select(Device.identity).where(
                            Device.kind == KIND,
                            Device.identity.in_(judged[start : start + IN_CHUNK]),
                            Device.online.is_(True),
                            Device.held_by != self.name,
                        )
                    )
                )
        if elsewhere:
            logger.info("%s vehicles online on another instance: judged there", len(elsewhere))
            self._give_back(elsewhere)

    def _give_back(self, devices: set[str]) -> None:
        """Adopted vehicles online again (elsewhere): their rules are judged there."""
        gateway = self._server.jt808_gateway
        rules = self._server.vehicle_engines.get(KIND)
        ingest = self._server.jt808_ingest
        for device in devices:
            self._adopted.discard(device)
            if gateway is not None and device in gateway.online_terminals:
                continue  # it came back here: its rules are this instance's own again
            if rules is not None:
                rules.forget(device)
            if ingest.terminal_states is not None:
                ingest.terminal_states.forget((device,))
