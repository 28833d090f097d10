"""Reserved JT/T 808 alarm bits raise no alarm (logged once per terminal and bit, and
counted); every alarm bit the standard names has a label for the duty officer."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest

from devices.jt808 import GeneralResult, ProtocolVersion
from devices.jt808.bits import ALARM_LABELS, alarm_table, reserved_alarm_mask
from devices.jt808.gateway import Jt808Gateway, StaticTerminalRegistry
from devices.jt808.simulator import TerminalClient
from tests.devices.support import RecordingSink
from tests.devices.test_gateway import PHONE, location, register_msg

CJK = re.compile(r"[\u4e00-\u9fff]")
ALL_BITS = (1 << 32) - 1


@pytest.mark.parametrize("version", list(ProtocolVersion))
def test_every_named_alarm_bit_has_a_chinese_label(version: ProtocolVersion) -> None:
    table = alarm_table(version)
    for bit, name in table.items():
        assert CJK.search(ALARM_LABELS[name]), (bit, name)
    reserved = [bit for bit in range(32) if reserved_alarm_mask(version) >> bit & 1]
    assert reserved == sorted(set(range(32)) - set(table))


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[Jt808Gateway, RecordingSink]]:
    sink = RecordingSink()
    gateway = Jt808Gateway(sink, StaticTerminalRegistry({PHONE: ""}), host="127.0.0.1", port=0)
    await gateway.start()
    yield gateway, sink
    await gateway.close()


@pytest.mark.parametrize(
    ("version", "reserved_bit"), [(ProtocolVersion.V2013, 16), (ProtocolVersion.V2019, 30)]
)
async def test_a_reserved_bit_raises_no_alarm_is_counted_and_logged_once(
    gateway: tuple[Jt808Gateway, RecordingSink],
    version: ProtocolVersion,
    reserved_bit: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="devices.jt808.gateway")
    gw, sink = gateway
    async with TerminalClient(PHONE, version=version) as client:
        await client.connect("127.0.0.1", gw.port)
        await client.login(register_msg(""))
        for n in range(6):  # the bit rises three times
            flags = 1 << reserved_bit if n % 2 == 0 else 0
            assert await client.general(location(flags, seconds=n)) is GeneralResult.SUCCESS
    assert sink.alarms == []
    assert len(sink.positions) == 6, "the reports themselves are stored"
    assert gw.counters.reserved_alarm_bits == {reserved_bit: 3}
    assert gw.counters.as_dict()["reserved_alarm_bits"] == {str(reserved_bit): 3}
    logged = [r.getMessage() for r in caplog.records if "reserved" in r.getMessage()]
    assert len(logged) == 1, logged
    assert f"alarm bit {reserved_bit}" in logged[0]


@pytest.mark.parametrize("version", list(ProtocolVersion))
async def test_every_bit_set_at_once_raises_the_named_bits_only(
    gateway: tuple[Jt808Gateway, RecordingSink], version: ProtocolVersion
) -> None:
    gw, sink = gateway
    async with TerminalClient(PHONE, version=version) as client:
        await client.connect("127.0.0.1", gw.port)
        await client.login(register_msg(""))
        assert await client.general(location(ALL_BITS)) is GeneralResult.SUCCESS
    assert sorted(alarm.key for alarm in sink.alarms) == sorted(alarm_table(version).values())
    assert sum(gw.counters.reserved_alarm_bits.values()) == 32 - len(alarm_table(version))
