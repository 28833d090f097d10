"""The Modbus poller against pymodbus's own TCP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from devices.modbus import (
    BusConfig,
    DataType,
    ModbusConfigError,
    ModbusPoller,
    RegisterSpec,
    SensorSpec,
    load_config,
    parse_config,
)
from tests.devices.support import RecordingSink


def words(fmt: str, value: float, *, little: bool = False) -> list[int]:
    """Registers of ``value`` packed big-endian (word order swapped when ``little``)."""
    data = struct.pack(">" + fmt, value)
    regs = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return regs[::-1] if little else regs


REGISTERS = [
    *words("h", -55),  # 0: int16, scale 0.1 -> -5.5
    *words("H", 1234),  # 1: uint16, scale 0.01 offset 1 -> 13.34
    *words("f", 21.5),  # 2-3: float32 big
    *words("i", -100_000, little=True),  # 4-5: int32 little word order
    *words("I", 3_000_000_000),  # 6-7: uint32
    *words("f", 0.75, little=True),  # 8-9: float32 little
]

GAS = SensorSpec(
    sensor_id="gas-1",
    device_id="hazard-7",
    unit_id=1,
    poll_interval=0.1,
    registers=(
        RegisterSpec(0, DataType.INT16, scale=0.1, unit="°C", name="temp"),
        RegisterSpec(1, DataType.UINT16, scale=0.01, offset=1.0, unit="kPa", name="pressure"),
        RegisterSpec(2, DataType.FLOAT32, count=2, unit="%LEL", name="ch4"),
        RegisterSpec(4, DataType.INT32, word_order="little", name="counter"),
        RegisterSpec(6, DataType.UINT32, name="total"),
        RegisterSpec(8, DataType.FLOAT32, word_order="little", name="level"),
    ),
)


class Server:
    """pymodbus's own TCP server, stoppable and restartable on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self._server: ModbusTcpServer | None = None

    async def start(self) -> None:
        device = SimDevice(id=1, simdata=[SimData(0, values=REGISTERS, datatype=SimType.REGISTERS)])
        self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
        await self._server.serve_forever(background=True)
        if self.port == 0:
            listener = cast(asyncio.Server, self._server.transport)
            self.port = listener.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    server = Server()
    await server.start()
    yield server
    await server.stop()


def tcp_factory(port: int) -> BusConfig:
    return BusConfig(name="test", transport="tcp", sensors=(GAS,), port=port, timeout=0.3)


@pytest.fixture
async def poller(server: Server) -> AsyncIterator[tuple[ModbusPoller, RecordingSink]]:
    sink = RecordingSink()
    poller = ModbusPoller.for_bus(
        tcp_factory(server.port), sink, reconnect_delay=0.05, max_reconnect_delay=0.2
    )
    poller.start()
    yield poller, sink
    await poller.close()


async def test_values_decode_with_scale_offset_and_word_order(
    poller: tuple[ModbusPoller, RecordingSink],
) -> None:
    _, sink = poller
    await sink.wait_for(lambda s: len(s.readings) >= 6)
    values = {r.sensor: r.value for r in sink.readings[:6]}
    units = {r.sensor: r.unit for r in sink.readings[:6]}
    assert values["gas-1.temp"] == pytest.approx(-5.5)
    assert values["gas-1.pressure"] == pytest.approx(13.34)
    assert values["gas-1.ch4"] == 21.5
    assert values["gas-1.counter"] == -100_000
    assert values["gas-1.total"] == 3_000_000_000
    assert values["gas-1.level"] == 0.75
    assert (units["gas-1.temp"], units["gas-1.pressure"], units["gas-1.ch4"]) == (
        "°C",
        "kPa",
        "%LEL",
    )
    assert {r.device for r in sink.readings} == {"hazard-7"}
    assert [(s.device, s.online) for s in sink.statuses] == [("hazard-7", True)]


async def test_stopped_server_goes_offline_once_and_back_online_once(
    server: Server,
    poller: tuple[ModbusPoller, RecordingSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator, sink = poller
    caplog.set_level(logging.INFO, logger="devices.modbus")
    await sink.wait_for(lambda s: len(s.readings) >= 6)
    await server.stop()
    await sink.wait_for(lambda s: len(s.statuses) == 2)
    await asyncio.sleep(0.8)  # several failed reconnects
    assert [s.online for s in sink.statuses] == [True, False]
    assert coordinator.device_online("hazard-7") is False
    count = len(sink.readings)

    await server.start()
    await sink.wait_for(lambda s: len(s.statuses) == 3, timeout=10)
    await sink.wait_for(lambda s: len(s.readings) > count)
    assert [s.online for s in sink.statuses] == [True, False, True]
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "cannot connect" in m]) == 1
    assert len([m for m in messages if "connected again" in m]) == 1
    assert len([m for m in messages if "not answering" in m]) == 1


async def test_unknown_unit_id_is_an_exception_response_and_offline(server: Server) -> None:
    sink = RecordingSink()
    ghost = SensorSpec("ghost", "ghost-dev", (RegisterSpec(0),), unit_id=9, poll_interval=0.05)
    bus = BusConfig(name="t", transport="tcp", sensors=(ghost,), port=server.port, timeout=0.3)
    poller = ModbusPoller.for_bus(bus, sink, failures_before_offline=2)
    poller.start()
    try:
        await sink.wait_for(lambda s: len(s.statuses) == 1)
        await asyncio.sleep(0.2)
    finally:
        await poller.close()
    assert [(s.device, s.online) for s in sink.statuses] == [("ghost-dev", False)]
    assert sink.readings == []


def test_register_spec_validation() -> None:
    assert RegisterSpec(0, DataType.FLOAT32).count == 2
    with pytest.raises(ModbusConfigError, match="takes 2 registers, count says 1"):
        RegisterSpec(0, DataType.INT32, count=1)
    with pytest.raises(ModbusConfigError, match="address"):
        RegisterSpec(70_000)
    assert RegisterSpec(0, DataType.INT16, scale=0.5, offset=-1).decode([0xFFFE]) == -2.0


CONFIG = {
    "bus": [
        {
            "name": "plant",
            "transport": "tcp",
            "host": "10.0.0.5",
            "port": 1502,
            "sensor": [
                {
                    "sensor_id": "ch4",
                    "device_id": "mine-3",
                    "unit_id": 2,
                    "poll_interval": 2.0,
                    "register": [{"address": 10, "data_type": "float32", "unit": "%"}],
                }
            ],
        },
        {
            "name": "line",
            "transport": "rtu",
            "serial_port": "/dev/ttyUSB0",
            "baudrate": 19200,
            "sensor": [{"sensor_id": "co", "register": [{"address": 0, "scale": 0.1}]}],
        },
    ]
}

TOML = """
[[bus]]
name = "plant"
transport = "tcp"
host = "10.0.0.5"
port = 1502

[[bus.sensor]]
sensor_id = "ch4"
device_id = "mine-3"
unit_id = 2
poll_interval = 2.0

[[bus.sensor.register]]
address = 10
data_type = "float32"
unit = "%"

[[bus]]
name = "line"
transport = "rtu"
serial_port = "/dev/ttyUSB0"
baudrate = 19200

[[bus.sensor]]
sensor_id = "co"

[[bus.sensor.register]]
address = 0
scale = 0.1
"""


async def test_config_loads_from_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    (tmp_path / "m.toml").write_text(TOML, encoding="utf-8")
    from_json = load_config(tmp_path / "m.json")
    assert load_config(tmp_path / "m.toml") == from_json
    plant, line = from_json
    assert plant.sensors[0].unit_id == 2
    assert plant.sensors[0].registers[0] == RegisterSpec(10, DataType.FLOAT32, unit="%")
    assert line.sensors[0].device_id == "co"
    tcp = plant.client_factory()()
    rtu = line.client_factory()()
    try:
        assert isinstance(tcp, AsyncModbusTcpClient)
        assert isinstance(rtu, AsyncModbusSerialClient)
    finally:
        tcp.close()
        rtu.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["bus"][0].update(transport="udp"), "transport must be"),
        (lambda c: c["bus"][1].pop("serial_port"), "serial_port is required"),
        (
            lambda c: c["bus"][0]["sensor"][0]["register"][0].update(data_type="float64"),
            "data_type must be one of",
        ),
        (lambda c: c["bus"][0]["sensor"][0]["register"][0].pop("address"), "address is required"),
        (lambda c: c["bus"][0].update(sensor=[]), "at least one sensor"),
    ],
)
def test_config_errors_name_the_field(change: object, message: str) -> None:
    config = json.loads(json.dumps(CONFIG))
    change(config)  # type: ignore[operator]
    with pytest.raises(ModbusConfigError, match=message):
        parse_config(config)


class WrongSlave:
    """A Modbus TCP slave that answers every request with ``pdu`` (a broken device)."""

    def __init__(self, pdu: bytes) -> None:
        self.pdu = pdu
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                transaction, _, length, unit = struct.unpack(">HHHB", await reader.readexactly(7))
                await reader.readexactly(length - 1)
                header = struct.pack(">HHHB", transaction, 0, len(self.pdu) + 1, unit)
                writer.write(header + self.pdu)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.parametrize(
    ("pdu", "why"),
    [
        (bytes([0x04, 2, 0, 42]), "function 4"),  # input registers, not holding registers
        (bytes([0x03, 4, 0, 42, 0, 43]), "2 registers"),  # more than asked for
    ],
    ids=["wrong-function", "wrong-count"],
)
async def test_an_answer_to_another_question_is_not_a_reading(
    pdu: bytes, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    slave = WrongSlave(pdu)
    await slave.start()
    sink = RecordingSink()
    sensor = SensorSpec("odd", "odd-dev", (RegisterSpec(0),), poll_interval=0.05)
    bus = BusConfig(name="t", transport="tcp", sensors=(sensor,), port=slave.port, timeout=0.3)
    poller = ModbusPoller.for_bus(bus, sink, failures_before_offline=2)
    caplog.set_level(logging.INFO, logger="devices.modbus")
    poller.start()
    try:
        await sink.wait_for(lambda s: len(s.statuses) == 1)
        await asyncio.sleep(0.3)  # several more polls
    finally:
        await poller.close()
        await slave.stop()
    assert sink.readings == [], "a value the slave was not asked for is never reported"
    assert [(s.device, s.online) for s in sink.statuses] == [("odd-dev", False)]
    warnings = [r.getMessage() for r in caplog.records if "not answering" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert why in warnings[0]


async def test_a_sensor_reporting_nan_is_a_failed_poll_not_a_reading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Many gas heads signal a fault with a float32 NaN: it must not be forwarded as a
    value (the backend refuses it unclearly); the sensor counts as not answering."""
    faulty = [*REGISTERS[:2], *words("f", math.nan), *REGISTERS[4:]]
    device = SimDevice(id=1, simdata=[SimData(0, values=faulty, datatype=SimType.REGISTERS)])
    server = ModbusTcpServer(device, address=("127.0.0.1", 0))
    await server.serve_forever(background=True)
    port = cast(asyncio.Server, server.transport).sockets[0].getsockname()[1]
    sink = RecordingSink()
    poller = ModbusPoller.for_bus(tcp_factory(port), sink, reconnect_delay=0.05)
    poller.start()
    try:
        await sink.wait_for(lambda s: any(not status.online for status in s.statuses))
        assert sink.readings == []
        assert "(a sensor fault?)" in caplog.text
    finally:
        await poller.close()
        await server.shutdown()  # type: ignore[no-untyped-call]
