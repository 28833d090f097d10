"""Modbus TCP / RTU sensors polled with pymodbus: register maps, config, and a poller.

A :class:`RegisterSpec` says where one value lives and how to turn its registers into a
number (``raw * scale + offset``, decoded by pymodbus's own converter); a
:class:`SensorSpec` groups the registers of one sensor (one Modbus unit id) with its poll
interval. :class:`ModbusPoller` owns one client (one TCP endpoint or one RS-485 line),
polls every sensor on it in turn, submits :class:`~devices.observations.Reading` records,
and reconnects with backoff. A device whose sensors all stop answering is reported offline
once (and logged once); when one answers again it is reported online once.

Config (JSON or TOML; ``load_config``)::

    [[bus]]
    name = "mine-3"
    transport = "tcp"          # or "rtu" with serial_port, baudrate, parity, stopbits
    host = "10.0.0.5"
    port = 502
    timeout = 1.0

    [[bus.sensor]]
    sensor_id = "ch4-face-2"
    device_id = "mine-3-monitor"
    unit_id = 1
    poll_interval = 5.0

    [[bus.sensor.register]]
    address = 0
    data_type = "float32"
    unit = "%"
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import json
import logging
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient, ModbusBaseClient
from pymodbus.client.mixin import ModbusClientMixin
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from devices.observations import (
    DeviceStatusChanged,
    Observation,
    ObservationSink,
    Reading,
    SinkGuard,
)
from realtime.aio import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_REGISTERS_PER_READ = 125
"""Modbus limit for one read of holding registers."""

WordOrder = Literal["big", "little"]
ClientFactory = Callable[[], ModbusBaseClient]


class _WrongAnswerError(Exception):
    """A slave answered something else than the registers asked for."""


READ_HOLDING_REGISTERS = 0x03


def _holding_registers(response: ModbusPDU, count: int) -> list[int]:
    """The ``count`` registers of an answer to Read Holding Registers; raise
    :class:`_WrongAnswerError` for any other answer (pymodbus matches answers to requests by
    transaction id only, so a slave's answer to another question would pass as values)."""
    registers = list(response.registers)
    if response.function_code != READ_HOLDING_REGISTERS or len(registers) != count:
        raise _WrongAnswerError(
            f"wrong answer: function {response.function_code} with {len(registers)} "
            f"registers to function {READ_HOLDING_REGISTERS} for {count}"
        )
    return registers


class ModbusConfigError(ValueError):
    """A register map or bus config is invalid; the message names the field."""


class NotAValueError(ValueError):
    """The registers hold no value (a float32 NaN or infinity: how many sensors report a
    fault); the poll counts as failed, nothing is sent on."""


class DataType(enum.StrEnum):
    """How a value is laid out in 16-bit registers."""

    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def registers(self) -> int:
        """How many registers one value takes."""
        return 1 if self in (DataType.INT16, DataType.UINT16) else 2

    @property
    def pymodbus(self) -> ModbusClientMixin.DATATYPE:
        """The matching pymodbus converter type."""
        return ModbusClientMixin.DATATYPE[self.name]


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """One value in holding registers: ``value = raw * scale + offset`` in ``unit``.

    ``count`` defaults to the data type's width and must match it when given.
    ``word_order`` is the order of the 16-bit words of 32-bit values. ``name`` tells
    channels of a multi-value sensor apart (the reading's sensor is ``"<sensor>.<name>"``).
    """

    address: int
    data_type: DataType = DataType.UINT16
    count: int = 0
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    word_order: WordOrder = "big"
    name: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.address <= 0xFFFF:
            raise ModbusConfigError(f"register address must be 0..65535, got {self.address}")
        width = self.data_type.registers
        if self.count == 0:
            object.__setattr__(self, "count", width)
        elif self.count != width:
            raise ModbusConfigError(
                f"register {self.address}: {self.data_type.value} takes {width} registers, "
                f"count says {self.count}"
            )
        if self.word_order not in ("big", "little"):
            raise ModbusConfigError(
                f"word_order must be 'big' or 'little', got {self.word_order!r}"
            )

    def decode(self, registers: Sequence[int]) -> float:
        """The scaled value of exactly ``count`` registers."""
        raw = ModbusClientMixin.convert_from_registers(
            list(registers), data_type=self.data_type.pymodbus, word_order=self.word_order
        )
        if not isinstance(raw, int | float):
            raise ModbusConfigError(f"register {self.address}: decoded {raw!r}, not a number")
        value = raw * self.scale + self.offset
        if not math.isfinite(value):
            raise NotAValueError(f"register {self.address} holds {raw} (a sensor fault?)")
        return value


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """A sensor at Modbus ``unit_id`` on a bus, reporting as ``device_id``."""

    sensor_id: str
    device_id: str
    registers: tuple[RegisterSpec, ...]
    unit_id: int = 1
    poll_interval: float = 5.0

    def __post_init__(self) -> None:
        if not self.registers:
            raise ModbusConfigError(f"sensor {self.sensor_id}: no registers")
        if not 0 <= self.unit_id <= 247:
            raise ModbusConfigError(f"sensor {self.sensor_id}: unit_id must be 0..247")
        if self.poll_interval <= 0:
            raise ModbusConfigError(f"sensor {self.sensor_id}: poll_interval must be > 0")

    @property
    def span(self) -> tuple[int, int]:
        """(first address, register count) covering every register of the sensor."""
        first = min(spec.address for spec in self.registers)
        end = max(spec.address + spec.count for spec in self.registers)
        return first, end - first

    def channel(self, spec: RegisterSpec) -> str:
        """The ``Reading.sensor`` for ``spec``."""
        return f"{self.sensor_id}.{spec.name}" if spec.name else self.sensor_id

    def readings(self, first: int, registers: Sequence[int], at: dt.datetime) -> list[Reading]:
        """Decode ``registers`` (read from address ``first``) into readings."""
        return [
            Reading(
                device=self.device_id,
                sensor=self.channel(spec),
                at=at,
                value=spec.decode(
                    registers[spec.address - first : spec.address - first + spec.count]
                ),
                unit=spec.unit,
            )
            for spec in self.registers
        ]


@dataclass(frozen=True, slots=True)
class BusConfig:
    """One Modbus endpoint (a TCP host or a serial RS-485 line) and its sensors."""

    name: str
    transport: Literal["tcp", "rtu"]
    sensors: tuple[SensorSpec, ...]
    host: str = "127.0.0.1"
    port: int = 502
    serial_port: str = ""
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8
    timeout: float = 1.0

    def client_factory(self) -> ClientFactory:
        """A factory of fresh clients for this bus (pymodbus auto-reconnect disabled:
        the poller owns reconnection and backoff)."""
        if self.transport == "tcp":
            return lambda: AsyncModbusTcpClient(
                self.host, port=self.port, timeout=self.timeout, retries=0, reconnect_delay=0
            )
        return lambda: AsyncModbusSerialClient(
            self.serial_port,
            framer=FramerType.RTU,
            baudrate=self.baudrate,
            parity=self.parity,
            stopbits=self.stopbits,
            bytesize=self.bytesize,
            timeout=self.timeout,
            retries=0,
            reconnect_delay=0,
        )


def _get(entry: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in entry:
        raise ModbusConfigError(f"{where}: {key} is required")
    value = entry[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ModbusConfigError(f"{where}: {key} has the wrong type ({value!r})")
    return value


def _register(entry: Mapping[str, Any], where: str) -> RegisterSpec:
    try:
        data_type = DataType(entry.get("data_type", "uint16"))
    except ValueError as exc:
        allowed = ", ".join(member.value for member in DataType)
        raise ModbusConfigError(f"{where}: data_type must be one of {allowed}") from exc
    try:
        return RegisterSpec(
            address=_get(entry, "address", int, where),
            data_type=data_type,
            count=int(entry.get("count", 0)),
            scale=float(entry.get("scale", 1.0)),
            offset=float(entry.get("offset", 0.0)),
            unit=str(entry.get("unit", "")),
            word_order=entry.get("word_order", "big"),
            name=str(entry.get("name", "")),
        )
    except ModbusConfigError as exc:
        raise ModbusConfigError(f"{where}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ModbusConfigError(f"{where}: {exc}") from exc


def _sensor(entry: Mapping[str, Any], where: str) -> SensorSpec:
    sensor_id = _get(entry, "sensor_id", str, where)
    where = f"{where} ({sensor_id})"
    registers = entry.get("register", entry.get("registers", []))
    if not isinstance(registers, list):
        raise ModbusConfigError(f"{where}: registers must be a list")
    return SensorSpec(
        sensor_id=sensor_id,
        device_id=str(entry.get("device_id", sensor_id)),
        unit_id=int(entry.get("unit_id", entry.get("device_address", 1))),
        poll_interval=float(entry.get("poll_interval", 5.0)),
        registers=tuple(
            _register(register, f"{where} register {number}")
            for number, register in enumerate(registers, 1)
        ),
    )


def parse_config(data: Mapping[str, Any]) -> list[BusConfig]:
    """Build bus configs from parsed JSON/TOML (``{"bus": [...]}``)."""
    buses = data.get("bus", data.get("buses"))
    if not isinstance(buses, list):
        raise ModbusConfigError("config: expected a list under 'bus'")
    out = []
    for number, bus in enumerate(buses, 1):
        where = f"bus {number}"
        transport = bus.get("transport", "tcp")
        if transport not in ("tcp", "rtu"):
            raise ModbusConfigError(f"{where}: transport must be 'tcp' or 'rtu', got {transport!r}")
        if transport == "rtu":
            _get(bus, "serial_port", str, where)
        sensors = bus.get("sensor", bus.get("sensors", []))
        if not isinstance(sensors, list) or not sensors:
            raise ModbusConfigError(f"{where}: at least one sensor is required")
        out.append(
            BusConfig(
                name=str(bus.get("name", where)),
                transport=transport,
                sensors=tuple(_sensor(s, f"{where} sensor {i}") for i, s in enumerate(sensors, 1)),
                host=str(bus.get("host", "127.0.0.1")),
                port=int(bus.get("port", 502)),
                serial_port=str(bus.get("serial_port", "")),
                baudrate=int(bus.get("baudrate", 9600)),
                parity=str(bus.get("parity", "N")),
                stopbits=int(bus.get("stopbits", 1)),
                bytesize=int(bus.get("bytesize", 8)),
                timeout=float(bus.get("timeout", 1.0)),
            )
        )
    return out


def load_config(path: str | Path) -> list[BusConfig]:
    """Load bus configs from a ``.json`` or ``.toml`` file."""
    path = Path(path)
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            raise ModbusConfigError(f"{path}: expected a .json or .toml file")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ModbusConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModbusConfigError(f"{path}: expected a table/object at the top")
    try:
        return parse_config(data)
    except ModbusConfigError as exc:
        raise ModbusConfigError(f"{path}: {exc}") from exc


@dataclass
class _DeviceState:
    sensors: set[str]
    failing: set[str] = field(default_factory=set)
    online: bool | None = None


class ModbusPoller:
    """Polls the sensors of one bus through clients made by ``client_factory``.

    ``failures_before_offline``: consecutive failed polls before a sensor counts as not
    answering. A device goes offline when all its sensors stop answering.
    """

    def __init__(
        self,
        client_factory: ClientFactory,
        sensors: Sequence[SensorSpec],
        sink: ObservationSink,
        *,
        name: str = "modbus",
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 60.0,
        failures_before_offline: int = 1,
    ) -> None:
        if not sensors:
            raise ModbusConfigError("a poller needs at least one sensor")
        ids = [sensor.sensor_id for sensor in sensors]
        if len(set(ids)) != len(ids):
            raise ModbusConfigError(f"duplicate sensor ids in {ids}")
        self.name = name
        self._factory = client_factory
        self._sensors = list(sensors)
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.failures_before_offline = failures_before_offline
        self._failures: dict[str, int] = dict.fromkeys(ids, 0)
        self._devices: dict[str, _DeviceState] = {}
        for sensor in sensors:
            self._devices.setdefault(sensor.device_id, _DeviceState(set())).sensors.add(
                sensor.sensor_id
            )
        self._client: ModbusBaseClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._guard = SinkGuard(sink, logger)
        self._disconnected = False
        self._stopping = False

    @classmethod
    def for_bus(cls, bus: BusConfig, sink: ObservationSink, **options: Any) -> ModbusPoller:
        """A poller for a configured bus."""
        return cls(bus.client_factory(), bus.sensors, sink, name=bus.name, **options)

    def device_online(self, device_id: str) -> bool | None:
        """Last reported status of ``device_id`` (``None`` before the first poll)."""
        return self._devices[device_id].online

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Run the poller in a task owned by this object."""
        if self._task is not None:
            raise RuntimeError("poller already started")
        self._task = asyncio.create_task(self.run(), name=f"modbus {self.name}")

    async def close(self) -> None:
        """Stop polling and close the client."""
        self._stopping = True
        task = self._task
        if task is None:
            return
        # pymodbus awaits replies with asyncio.wait_for, which on Python 3.11 can swallow a
        # cancellation that races a reply; the stop flag and re-cancelling handle that.
        await cancel_and_wait(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Modbus poller %s crashed", self.name, exc_info=task.exception())
        self._task = None

    async def run(self) -> None:
        """Poll until cancelled."""
        loop = asyncio.get_running_loop()
        due = {sensor.sensor_id: loop.time() for sensor in self._sensors}
        delay = self.reconnect_delay
        try:
            while not self._stopping:
                if self._client is None:
                    if not await self._connect():
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, self.max_reconnect_delay)
                        continue
                    delay = self.reconnect_delay
                sensor = min(self._sensors, key=lambda s: due[s.sensor_id])
                wait = due[sensor.sensor_id] - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._poll(sensor)
                due[sensor.sensor_id] = max(
                    due[sensor.sensor_id] + sensor.poll_interval, loop.time()
                )
        finally:
            self._drop_client()

    # ------------------------------------------------------------------ polling

    async def _connect(self) -> bool:
        client = self._factory()
        try:
            connected = await client.connect()
        except (ModbusException, OSError) as exc:
            connected = False
            reason = str(exc)
        else:
            reason = "connection refused or timed out"
        if not connected:
            client.close()
            if not self._disconnected:
                self._disconnected = True
                logger.warning("Modbus bus %s: cannot connect (%s); retrying", self.name, reason)
            for sensor in self._sensors:
                await self._failed(sensor, f"bus {self.name} unreachable")
            return False
        if self._disconnected:
            self._disconnected = False
            logger.info("Modbus bus %s: connected again", self.name)
        self._client = client
        return True

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _poll(self, sensor: SensorSpec) -> None:
        client = self._client
        if client is None:  # dropped since this round started: try again next round
            return
        first, count = sensor.span
        try:
            registers = await self._read(client, sensor, first, count)
        except (ModbusException, OSError, TimeoutError) as exc:
            self._drop_client()
            await self._failed(sensor, f"no answer: {exc}")
            return
        except _WrongAnswerError as exc:
            await self._failed(sensor, str(exc))
            return
        if registers is None:
            await self._failed(sensor, "exception response")
            return
        try:
            readings = sensor.readings(first, registers, dt.datetime.now(dt.UTC))
        except (ModbusException, ModbusConfigError, NotAValueError) as exc:
            await self._failed(sensor, f"cannot decode: {exc}")
            return
        await self._answered(sensor)
        for reading in readings:
            await self._submit(reading)

    async def _read(
        self, client: ModbusBaseClient, sensor: SensorSpec, first: int, count: int
    ) -> list[int] | None:
        if count <= MAX_REGISTERS_PER_READ:
            response = await client.read_holding_registers(
                first, count=count, device_id=sensor.unit_id
            )
            if response.isError():
                logger.debug("Modbus %s: %s answered %s", self.name, sensor.sensor_id, response)
                return None
            return _holding_registers(response, count)
        registers = [0] * count
        for spec in sensor.registers:
            response = await client.read_holding_registers(
                spec.address, count=spec.count, device_id=sensor.unit_id
            )
            if response.isError():
                return None
            at = spec.address - first
            registers[at : at + spec.count] = _holding_registers(response, spec.count)
        return registers

    # ------------------------------------------------------------------ status

    async def _failed(self, sensor: SensorSpec, reason: str) -> None:
        self._failures[sensor.sensor_id] += 1
        if self._failures[sensor.sensor_id] < self.failures_before_offline:
            return
        state = self._devices[sensor.device_id]
        if sensor.sensor_id not in state.failing:
            state.failing.add(sensor.sensor_id)
            logger.warning(
                "Modbus sensor %s (%s) not answering: %s", sensor.sensor_id, self.name, reason
            )
        if state.failing != state.sensors or state.online is False:
            return
        status = DeviceStatusChanged(
            device=sensor.device_id, online=False, at=dt.datetime.now(dt.UTC), reason=reason
        )
        if await self._submit(status):
            state.online = False

    async def _answered(self, sensor: SensorSpec) -> None:
        self._failures[sensor.sensor_id] = 0
        state = self._devices[sensor.device_id]
        if sensor.sensor_id in state.failing:
            state.failing.discard(sensor.sensor_id)
            logger.info("Modbus sensor %s (%s) answering again", sensor.sensor_id, self.name)
        if state.online is not True and await self._submit(
            DeviceStatusChanged(
                device=sensor.device_id,
                online=True,
                at=dt.datetime.now(dt.UTC),
                reason="answering",
            )
        ):
            state.online = True

    async def _submit(self, observation: Observation) -> bool:
        return await self._guard.submit(observation)
