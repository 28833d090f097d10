"""The demo's early warnings (预警): one methane sensor of 东山煤矿 drifting slowly upward
(its fitted trend meets the alarm level within the horizon, so a ``trend`` warning is
raised and grows more urgent while the demo runs), and the shipped sample weather alert
over the chemical park, imported with its times moved to the present."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import math
from typing import Final

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from backend.authz.principal import Principal
from backend.cap.codec import decode_alert, encode_alert
from backend.early_warning import weather
from backend.errors import Error as Refusal
from backend.registry.files import RESOURCES_DIR, load_sensors_csv
from backend.server.app import DutyDeskServer
from realtime.protocol import Ack, DeviceReading, Role, decode_server, encode

logger = logging.getLogger(__name__)

DRIFT_SENSOR: Final = "ch4-0025"
SAMPLE_ALERT: Final = RESOURCES_DIR / "cap" / "samples" / "rainstorm_orange.xml"
HISTORY_S: Final = 240.0
"""Readings sent at once for the minutes before the demo started (the fit needs them)."""
START_VALUE, RISE_PER_S, CEILING = 0.45, 0.0008, 0.95
"""%CH4: from 0.45 % upward by 0.048 %/min, levelling off just below the 1.0 % alarm."""


def drift_value(seconds: float) -> float:
    """The drifting sensor's value ``seconds`` after its history began (a slow rise with
    a little sensor wobble)."""
    wobble = 0.012 * math.sin(seconds / 17.0) + 0.006 * math.sin(seconds / 5.3)
    return round(min(START_VALUE + RISE_PER_S * seconds, CEILING) + wobble, 3)


async def register_drift_sensor(server: DutyDeskServer) -> None:
    """Register the drifting methane sensor (a copy of ch4-0001's rules)."""
    model = next(s for s in load_sensors_csv() if s.sensor_id == "ch4-0001")
    sensor = dataclasses.replace(
        model,
        sensor_id=DRIFT_SENSOR,
        name="东山煤矿 1203 回风巷 甲烷 #5",
        place="东山煤矿 1203 回风巷",
    )
    await server.sensors.add_sensors([sensor], only_new=True)


async def run_drift(url: str, authorization: str, *, interval_s: float = 2.0) -> None:
    """Feed the drifting sensor: its recent history at once, then live readings."""
    await asyncio.sleep(1.0)  # after the registry and sensors are seeded
    began = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=HISTORY_S)
    sent = 0
    while True:
        try:
            async with connect(url, additional_headers={"Authorization": authorization}) as ws:
                while True:
                    now = dt.datetime.now(dt.UTC)
                    while (at := began + dt.timedelta(seconds=sent * interval_s)) <= now:
                        seconds = (at - began).total_seconds()
                        reading = DeviceReading(
                            ref=f"{DRIFT_SENSOR}@{sent}",
                            sensor=DRIFT_SENSOR,
                            value=drift_value(seconds),
                            unit="%",
                            at=at,
                        )
                        await ws.send(encode(reading).decode("utf-8"))
                        answer = decode_server(await ws.recv())
                        if not isinstance(answer, Ack):
                            logger.warning("demo drift reading refused: %s", answer)
                        sent += 1
                    await asyncio.sleep(interval_s)
        except (OSError, ConnectionClosed, InvalidHandshake) as exc:
            logger.warning("demo drift feed: %s; reconnecting", exc)
            await asyncio.sleep(2.0)


async def import_sample_weather(server: DutyDeskServer) -> int:
    """Import the sample weather alert with its times moved to now; return the number of
    warnings raised."""
    alert = decode_alert(SAMPLE_ALERT.read_bytes())
    shift = dt.datetime.now(dt.UTC) - alert.sent
    infos = tuple(
        dataclasses.replace(
            info,
            onset=info.onset + shift if info.onset else None,
            expires=info.expires + shift if info.expires else None,
        )
        for info in alert.infos
    )
    fresh = dataclasses.replace(alert, sent=alert.sent + shift, infos=infos)
    principal = Principal(0, "demo-weather", "气象台（演示）", Role.ADMIN, None, "")
    try:
        result = await weather.import_alert(server.early_warnings, principal, encode_alert(fresh))
    except Refusal as exc:
        logger.warning("demo weather alert not imported: %s", exc.message)
        return 0
    return len(result.warnings)


async def run_demo_warnings(server: DutyDeskServer, url: str, authorization: str) -> None:
    """Register the drifting sensor, import the sample weather alert, feed the drift."""
    await register_drift_sensor(server)
    await server.early_warnings.housekeeping()  # the seeded registry's hazard sources
    raised = await import_sample_weather(server)
    logger.info("demo weather alert: %s warnings", raised)
    await run_drift(url, authorization)
