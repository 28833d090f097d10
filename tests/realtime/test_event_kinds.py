"""Event kinds: members encode as their plain codes, and an unknown kind still decodes."""

from __future__ import annotations

import datetime as dt

from realtime.event_kinds import EventKind
from realtime.protocol import Event, decode_server, encode

NOW = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)


def test_a_member_is_encoded_exactly_as_its_code() -> None:
    with_member = Event(seq=3, at=NOW, kind=EventKind.GEOFENCE_SAVED, actor="officer1")
    with_code = Event(seq=3, at=NOW, kind="geofence.saved", actor="officer1")
    assert encode(with_member) == encode(with_code)
    assert b'"kind":"geofence.saved"' in encode(with_member)


def test_a_kind_newer_than_the_client_still_decodes() -> None:
    newer = Event(seq=4, at=NOW, kind="alarm.invented_later", actor="server")
    decoded = decode_server(encode(newer))
    assert isinstance(decoded, Event)
    assert decoded.kind == "alarm.invented_later"
    assert decoded.kind not in set(EventKind)


def test_a_known_kind_decodes_equal_to_its_member() -> None:
    decoded = decode_server(encode(Event(seq=5, at=NOW, kind="device.online", actor="x")))
    assert isinstance(decoded, Event)
    assert decoded.kind == EventKind.DEVICE_ONLINE
    assert EventKind(decoded.kind) is EventKind.DEVICE_ONLINE


def test_codes_are_unique_and_dotted() -> None:
    codes = [kind.value for kind in EventKind]
    assert len(codes) == len(set(codes))
    assert all(code.count(".") == 1 and code == code.lower() for code in codes)
