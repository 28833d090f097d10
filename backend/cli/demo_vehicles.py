"""The demo's orders to a vehicle: the night shift's supervisor queries the position of
the truck that pressed SOS, then locks its doors after confirming (two steps).

Runs beside the night shift (:mod:`backend.cli.night_shift`) over a console of its own,
against the demo's trucks (real JT/T 808 through the server's gateway). Every order is a
``vehicle.command`` event: the watching officer's console shows them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from realtime.client import ClientError, CommandError, ConnectionState, DutyDeskClient
from realtime.protocol import (
    ConfirmVehicleCommand,
    ErrorCode,
    Event,
    SendVehicleCommand,
    Snapshot,
    VehicleCommandResult,
    VehicleCommandView,
    Welcome,
)
from realtime.protocol.vehicle_commands import (
    DoorControl,
    QueryPosition,
    VehicleControl,
    VehicleOrder,
)

logger = logging.getLogger(__name__)

SOS_TRUCK = "13900000000"
"""The demo fleet's first truck, the one that presses SOS (``run_fleet``'s phone base)."""


class _Quiet:
    """The listener of the orders' console: it only needs to be live."""

    def on_state(self, state: ConnectionState, detail: str) -> None:
        """Nothing to show."""

    def on_welcome(self, welcome: Welcome) -> None:
        """Nothing to show."""

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Nothing to show."""

    def on_event(self, event: Event) -> None:
        """Nothing to show."""


@dataclass
class VehicleOrders:
    """The scripted orders against the console endpoint at ``url``."""

    url: str
    username: str
    password: str
    device: str = SOS_TRUCK
    pace: float = 3.0
    """Seconds between the steps (the supervisor reads the answer, then decides)."""
    start_after: float = 20.0
    """Seconds before the first order (the SOS comes first)."""
    attempts: int = 20
    """Tries of the first order while the truck is not connected yet."""

    async def run(self) -> tuple[VehicleCommandView, VehicleCommandView]:
        """Query the position, then lock the doors (asked, confirmed); return both answers."""
        client = DutyDeskClient(
            self.url,
            _Quiet(),
            username=self.username,
            password=self.password,
            client_name="dutydesk-demo-orders",
        )
        runner = asyncio.create_task(client.run(), name="demo-vehicle-orders")
        try:
            await client.wait_live(30)
            await asyncio.sleep(self.start_after)
            position = await self._first(client, QueryPosition())
            if position.position is not None:
                logger.info(
                    "demo orders: truck %s is at %.5f, %.5f",
                    self.device,
                    position.position.lat,
                    position.position.lon,
                )
            await asyncio.sleep(self.pace)
            asked = await self._order(client, VehicleControl(door=DoorControl.LOCK))
            logger.info(
                "demo orders: door lock asked, confirming (token until %s)", asked.confirm_by
            )
            await asyncio.sleep(self.pace)
            locked = _view(await client.request(ConfirmVehicleCommand(req="", token=asked.token)))
            logger.info(
                "demo orders: doors of %s: %s %s", self.device, locked.outcome, locked.result
            )
            return position, locked
        finally:
            await client.close()
            await asyncio.gather(runner, return_exceptions=True)

    async def _order(self, client: DutyDeskClient, order: VehicleOrder) -> VehicleCommandView:
        return _view(
            await client.request(SendVehicleCommand(req="", device=self.device, order=order))
        )

    async def _first(self, client: DutyDeskClient, order: VehicleOrder) -> VehicleCommandView:
        for _ in range(self.attempts - 1):
            try:
                return await self._order(client, order)
            except CommandError as exc:
                if exc.code is not ErrorCode.DEVICE_OFFLINE:
                    raise
            await asyncio.sleep(self.pace)
        return await self._order(client, order)


def _view(result: object) -> VehicleCommandView:
    if not isinstance(result, VehicleCommandResult):
        raise ClientError(f"a vehicle order answered {type(result).__name__}")
    return result.command


async def play_vehicle_orders(url: str, passwords: Mapping[str, str], username: str) -> None:
    """Play the demo's orders once as ``username``; a refusal ends them (logged), not the demo."""
    try:
        await VehicleOrders(url, username, passwords[username]).run()
    except (ClientError, TimeoutError) as exc:
        logger.warning("the demo's vehicle orders stopped: %s", exc)
