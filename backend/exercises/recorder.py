"""Make a recording of a window of the live server: the journal's input and the log's
events inside one area, and the registry the replay starts from.

What goes in (docs/exercises.md, "Recordings"): the JT/T 808 frames and device-feed
messages of the devices placed inside ``area`` (a device's place is where its latest fix
lies, else where its sensors stand; an unplaced device only in a whole-area recording),
the commands of the users whose area lies inside ``area``, the events a supervisor of
``area`` may see (:func:`backend.authz.policy.can_see_event`), and the devices, sensors
(with their rules), cameras, units, registry items and geofences inside ``area``.
Personal data is masked unless ``masked=False``: callers' names, phones and addresses and
sensitive notes in commands and events, registry contacts, and camera stream credentials.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.eventlog import log as eventlog
from backend.exercises import journal
from backend.exercises.recording import (
    CommandInput,
    DeviceEntry,
    Entry,
    FeedInput,
    Header,
    Jt808Input,
    LoggedEvent,
    Recording,
    RegistrySnapshot,
    SensorEntry,
)
from backend.registry.item_fields import contacts_of, masked_contacts, with_contacts
from backend.security import Error as SecurityError
from backend.security import FieldCipher, mask_address, mask_name, mask_phone
from backend.storage.models import (
    CameraRecord,
    Device,
    EventRecord,
    GeofenceRecord,
    RegistryItem,
    SensorRecord,
    Unit,
    User,
)
from backend.vehicles import track_query
from backend.vehicles.geofences import view_of as geofence_view
from devices.jt808.codec import salvage_header
from devices.jt808.framing import FrameSplitter
from realtime.protocol import (
    CameraView,
    Contact,
    RecordingSource,
    RegistryDetails,
    RegistryItemInput,
    Role,
    UnitView,
)
from realtime.streams import mask_stream_url

logger = logging.getLogger(__name__)

SENSITIVE_MASK: Final = "（已隐藏）"
"""What stands for a sensitive note in a masked recording."""
_MASKERS: Final[dict[str, Callable[[str], str]]] = {
    "caller_name": mask_name,
    "caller_phone": mask_phone,
    "caller_address": mask_address,
    "phone": mask_phone,
    "sensitive_note": lambda text: SENSITIVE_MASK if text else "",
}
"""Personal fields of commands and events, by key, and how each is masked."""

Progress = Callable[[str], None]


class Error(Exception):
    """Base of this module's errors."""


def area_principal(area: str) -> Principal:
    """Whom the events of a recording of ``area`` are filtered for: a supervisor there."""
    return Principal(
        user_id=0,
        username="recorder",
        display_name="",
        role=Role.SUPERVISOR,
        agency=None,
        jurisdiction=area,
    )


def mask_personal(value: Any) -> Any:
    """``value`` (JSON-like) with every personal field masked, at any depth."""
    if isinstance(value, dict):
        return {
            key: (
                _MASKERS[key](item)
                if key in _MASKERS and isinstance(item, str)
                else mask_personal(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_personal(item) for item in value]
    return value


def _inside(code: str, area: str) -> bool:
    # An unplaced object ("") lies only inside the whole area ("").
    return code.startswith(area)


async def make_recording(
    sessions: async_sessionmaker[AsyncSession],
    journal_dir: Path,
    *,
    window_from: dt.datetime,
    window_to: dt.datetime,
    area: str,
    masked: bool,
    title: str,
    source: RecordingSource,
    recorded_by: str,
    incidents: Iterable[int] = (),
    cipher: FieldCipher | None = None,
    progress: Progress | None = None,
) -> Recording:
    """The recording of [window_from, window_to] inside ``area`` (see the module).

    ``cipher`` reads registry contacts and camera addresses in full for an unmasked
    recording (without it they stay masked). ``progress`` hears a line per step.
    """
    say = progress or (lambda _line: None)
    async with sessions() as session:
        say("reading the registry")
        registry, places, sensor_places = await _registry(session, area, masked, cipher)
        say("reading the event log")
        events = await _events(session, window_from, window_to, area, masked)
        users = {
            row.username: row.jurisdiction
            for row in await session.execute(select(User.username, User.jurisdiction))
        }
    say("reading the input journal")
    records = await asyncio.to_thread(journal.read_window, journal_dir, window_from, window_to)
    say(f"{len(records)} journal inputs in the window; keeping those of the area")
    entries: list[Entry] = [
        *_device_inputs(records, area, places, sensor_places),
        *_commands(records, area, users, masked),
        *events,
    ]
    entries.sort(key=lambda entry: entry.at)  # stable: ties keep their order
    header = Header(
        title=title,
        source=source,
        window_from=window_from,
        window_to=window_to,
        recorded_at=dt.datetime.now(dt.UTC),
        recorded_by=recorded_by,
        area=area,
        masked=masked,
        incidents=sorted(incidents),
    )
    return Recording(header=header, registry=registry, entries=entries)


# ---------------------------------------------------------------------- input


def _device_inputs(
    records: Sequence[journal.JournalRecord],
    area: str,
    places: dict[str, str],
    sensor_places: dict[str, str],
) -> list[Entry]:
    """Frames and feed messages of the devices inside ``area``, connections renumbered."""
    numbers: dict[str, int] = {}
    splitters: dict[str, FrameSplitter] = {}
    frames: dict[str, list[Jt808Input]] = {}
    terminal_of: dict[str, str] = {}
    feeds: list[tuple[FeedInput, str]] = []
    for record in records:
        if record.kind == journal.JT808:
            number = numbers.setdefault(record.key, len(numbers) + 1)
            splitter = splitters.setdefault(record.key, FrameSplitter())
            found = _frames(splitter, record, number)
            if found and record.key not in terminal_of:
                header = salvage_header(found[0].data[1:-1])
                if header is not None:
                    terminal_of[record.key] = header.device_id
            frames.setdefault(record.key, []).extend(found)
        elif record.kind == journal.FEED:
            number = numbers.setdefault(record.key, len(numbers) + 1)
            text = record.data.decode("utf-8", errors="replace")
            feed = FeedInput(at=record.at, connection=number, account=record.who, text=text)
            feeds.append((feed, _feed_place(text, record.who, places, sensor_places)))
    kept: list[Entry] = []
    for key, connection_frames in frames.items():
        if _inside(places.get(terminal_of.get(key, ""), ""), area):
            kept.extend(connection_frames)
    kept.extend(feed for feed, place in feeds if _inside(place, area))
    # Connections numbered 1, 2, … in the order they appear in what is kept.
    renumber: dict[int, int] = {}
    kept.sort(key=lambda entry: entry.at)
    for entry in kept:
        if isinstance(entry, Jt808Input | FeedInput):
            entry.connection = renumber.setdefault(entry.connection, len(renumber) + 1)
    return kept


def _frames(
    splitter: FrameSplitter, record: journal.JournalRecord, number: int
) -> list[Jt808Input]:
    """The whole frames ``record`` completes on its connection (with their flags); garbage
    between frames is left out, as the gateway dropped it too."""
    return [
        Jt808Input(at=record.at, connection=number, data=b"\x7e" + content + b"\x7e")
        for content in splitter.feed(record.data)
        if isinstance(content, bytes)
    ]


def _feed_place(text: str, account: str, places: dict[str, str], sensors: dict[str, str]) -> str:
    try:
        message = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return places.get(account, "")
    if not isinstance(message, dict):
        return places.get(account, "")
    sensor = message.get("sensor")
    if isinstance(sensor, str) and sensor in sensors:
        return sensors[sensor]
    device = message.get("device")
    return places.get(device if isinstance(device, str) and device else account, "")


def _commands(
    records: Sequence[journal.JournalRecord], area: str, users: dict[str, str], masked: bool
) -> list[Entry]:
    kept: list[Entry] = []
    for record in records:
        if record.kind != journal.COMMAND or record.who not in users:
            continue
        if not _inside(users[record.who], area):
            continue
        try:
            command = msgspec.json.decode(record.data)
        except msgspec.DecodeError:
            continue  # refused by the server as it came: nothing an officer did
        if not isinstance(command, dict):
            continue
        kept.append(
            CommandInput(
                at=record.at,
                user=record.who,
                role=record.role,
                command=mask_personal(command) if masked else command,
            )
        )
    return kept


async def _events(
    session: AsyncSession,
    window_from: dt.datetime,
    window_to: dt.datetime,
    area: str,
    masked: bool,
) -> list[Entry]:
    principal = area_principal(area)
    rows = await session.scalars(
        select(EventRecord)
        .where(EventRecord.at >= window_from, EventRecord.at <= window_to)
        .order_by(EventRecord.seq)
    )
    kept: list[Entry] = []
    for row in rows:
        event = eventlog.event_of_record(row)
        if not authz.can_see_event(principal, event):
            continue
        body = msgspec.to_builtins(event)
        kept.append(LoggedEvent(at=event.at, event=mask_personal(body) if masked else body))
    return kept


# ---------------------------------------------------------------------- the registry


async def _registry(
    session: AsyncSession, area: str, masked: bool, cipher: FieldCipher | None
) -> tuple[RegistrySnapshot, dict[str, str], dict[str, str]]:
    """The snapshot, where each device lies, and where each sensor stands."""
    sensors = list(await session.scalars(select(SensorRecord).order_by(SensorRecord.sensor_id)))
    sensor_places = {row.sensor_id: row.jurisdiction for row in sensors}
    places: dict[str, str] = {}
    by_device: dict[str, set[str]] = {}
    for row in sensors:
        if row.device:
            by_device.setdefault(row.device, set()).add(row.jurisdiction)
    for device, codes in by_device.items():
        places[device] = _common_prefix(codes)
    for fix in await track_query.latest_fixes(session, ("jt808", "nmea")):
        places[fix.device] = fix.jurisdiction
    devices = [
        DeviceEntry(
            kind=row.kind,
            identity=row.identity,
            name=row.name,
            plate=row.plate,
            owner=mask_name(row.owner) if masked and row.kind == "json" else row.owner,
            jurisdiction=places.get(row.identity, ""),
        )
        for row in await session.scalars(select(Device).order_by(Device.kind, Device.identity))
        if _inside(places.get(row.identity, ""), area)
    ]
    snapshot = RegistrySnapshot(
        devices=devices,
        sensors=[_sensor_entry(row) for row in sensors if _inside(row.jurisdiction, area)],
        cameras=[
            _camera(row, masked, cipher)
            for row in await session.scalars(select(CameraRecord).order_by(CameraRecord.code))
            if _inside(row.jurisdiction, area)
        ],
        units=[
            UnitView(
                id=row.id,
                code=row.code,
                name=row.name,
                agency=row.agency,
                jurisdiction=row.jurisdiction,
                lat=row.lat,
                lon=row.lon,
            )
            for row in await session.scalars(select(Unit).order_by(Unit.code))
            if _inside(row.jurisdiction, area)
        ],
        items=[
            _item(row, masked, cipher)
            for row in await session.scalars(
                select(RegistryItem)
                .where(RegistryItem.retired.is_(False))
                .order_by(RegistryItem.kind, RegistryItem.code)
            )
            if _inside(row.jurisdiction, area)
        ],
        # Geofences belong to no jurisdiction: a whole-area recording only.
        geofences=[
            geofence_view(row)
            for row in await session.scalars(select(GeofenceRecord).order_by(GeofenceRecord.id))
        ]
        if not area
        else [],
    )
    return snapshot, places, sensor_places


def _common_prefix(codes: set[str]) -> str:
    if not codes or "" in codes:
        return ""
    first, last = min(codes), max(codes)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _sensor_entry(row: SensorRecord) -> SensorEntry:
    return SensorEntry(
        sensor_id=row.sensor_id,
        kind=row.kind,
        unit=row.unit,
        placement=row.placement,
        name=row.name,
        place=row.place,
        lat=row.lat,
        lon=row.lon,
        hazard_source=row.hazard_source,
        enterprise=row.enterprise,
        jurisdiction=row.jurisdiction,
        poll_cycle_seconds=row.poll_cycle_seconds,
        rules=dict(row.rules) if row.rules else None,
    )


def _camera(row: CameraRecord, masked: bool, cipher: FieldCipher | None) -> CameraView:
    url = row.stream_url_masked
    if not masked and cipher is not None:
        try:
            url = cipher.decrypt(row.stream_url_enc)
        except SecurityError:
            logger.warning("camera %s: its stream address cannot be read; kept masked", row.code)
    return CameraView(
        id=row.id,
        code=row.code,
        name=row.name,
        lat=row.lat,
        lon=row.lon,
        agency=row.agency,
        jurisdiction=row.jurisdiction,
        hazard_source=row.hazard_source,
        enterprise=row.enterprise,
        stream_url=mask_stream_url(url) if masked else url,
    )


def _item(row: RegistryItem, masked: bool, cipher: FieldCipher | None) -> RegistryItemInput:
    details: RegistryDetails = msgspec.convert(row.details, RegistryDetails)
    contacts = contacts_of(details)
    if contacts is not None:
        if masked:
            details = with_contacts(details, masked_contacts(contacts))
        elif cipher is not None and row.contacts_enc:
            try:
                full = msgspec.json.decode(
                    cipher.decrypt(row.contacts_enc).encode(), type=list[Contact]
                )
                details = with_contacts(details, full)
            except (SecurityError, msgspec.DecodeError):
                logger.warning("registry item %s: its contacts cannot be read", row.code)
    return RegistryItemInput(
        code=row.code,
        name=row.name,
        jurisdiction=row.jurisdiction,
        agency=row.agency,
        address=row.address,
        lat=row.lat,
        lon=row.lon,
        details=details,
    )


__all__ = ["Progress", "area_principal", "make_recording", "mask_personal"]
