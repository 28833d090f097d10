"""Random bytes thrown at a live gateway connection never take the gateway down."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.jt808 import GeneralResult, Heartbeat, Location, Register
from devices.jt808.gateway import Jt808Gateway, StaticTerminalRegistry
from devices.jt808.simulator import TerminalClient
from tests.devices.support import RecordingSink

VICTIM = "13912345678"
WITNESS = "13800000001"
WHEN = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def _register(plate: str) -> Register:
    return Register(
        province=44, city=768, maker="M", model="X", terminal_id="T1", plate_color=1, plate=plate
    )


_valid = TerminalClient(VICTIM)
VALID_FRAMES = [
    _valid.encode(Heartbeat(), serial=1)[1],
    _valid.encode(Location.from_degrees(lat=31.2, lon=121.4, time=WHEN, alarm_flags=1))[1],
    _valid.encode(_register("粤B12345"))[1],
]
FRAGMENTS = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"\x7e", b"\x7d", b"\x7d\x02", b"\x7e\x7e", *VALID_FRAMES]),
    st.sampled_from(VALID_FRAMES).map(lambda frame: frame[: len(frame) // 2]),
    st.sampled_from(VALID_FRAMES).map(lambda frame: frame[len(frame) // 2 :]),
)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _scenario(chunks: list[bytes], login_first: bool, abort: bool) -> None:
    sink = RecordingSink()
    registry = StaticTerminalRegistry({VICTIM: "粤B12345", WITNESS: ""})
    errors = _Errors()
    logging.getLogger("devices.jt808").addHandler(errors)
    try:
        async with Jt808Gateway(sink, registry, port=0, max_frames_per_second=1000) as gateway:
            victim = TerminalClient(VICTIM)
            await victim.connect("127.0.0.1", gateway.port)
            try:
                if login_first:
                    await victim.login(_register("粤B12345"))
                for chunk in chunks:
                    try:
                        await victim.send_raw(chunk)
                    except ConnectionError:
                        break
                    await asyncio.sleep(0)
                if not abort:
                    await asyncio.sleep(0.01)
            finally:
                await victim.close()

            witness = TerminalClient(WITNESS)
            await witness.connect("127.0.0.1", gateway.port)
            try:
                await witness.login(_register("沪A00001"))
                location = Location.from_degrees(lat=30.0, lon=120.0, time=WHEN)
                assert await witness.general(location) == GeneralResult.SUCCESS
            finally:
                await witness.close()
            assert any(p.device == WITNESS for p in sink.positions)
    finally:
        logging.getLogger("devices.jt808").removeHandler(errors)
    assert [r.getMessage() for r in errors.records] == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chunks=st.lists(FRAGMENTS, max_size=12),
    login_first=st.booleans(),
    abort=st.booleans(),
)
def test_random_bytes_never_kill_the_gateway(
    chunks: list[bytes], login_first: bool, abort: bool
) -> None:
    asyncio.run(_scenario(chunks, login_first, abort))
