"""The database tables (SQLAlchemy 2 typed ORM). Alembic migrations create them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend.storage.types import UTCDateTime, keep_utc_on_assignment


class Base(DeclarativeBase):
    """Declarative base of every table."""


class User(Base):
    """A person (or a device account) that logs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped by every change that must end the user's open sessions (password, role,
    agency, jurisdiction, disablement, second factor, logout); a session started under an
    older epoch is over."""
    epoch_reason: Mapped[str] = mapped_column(String(32), default="")
    """Why :attr:`auth_epoch` last moved (a :class:`~realtime.protocol.SessionEndReason`)."""
    totp_secret_enc: Mapped[str] = mapped_column(Text, default="")
    """The TOTP secret (second factor), encrypted with the data key; "" when not enrolled."""
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The time step of the last TOTP code accepted: a code is good once."""
    enterprise: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Role ``enterprise``: the registry code of the user's enterprise (r0027)."""


class Token(Base):
    """A bearer token: a console session (expires) or a device's API token."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionRecord(Base):
    """One connection of a user (console or device feed): who is logged in where."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_open", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    """The session token the console holds (``None`` for device feeds)."""
    kind: Mapped[str] = mapped_column(String(16))
    """``console`` or ``device``."""
    remote: Mapped[str] = mapped_column(String(128), default="")
    client: Mapped[str] = mapped_column(String(128), default="")
    """The client's name and version from its hello (or its User-Agent)."""
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0)
    """The user's ``auth_epoch`` when the session was authenticated."""
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str] = mapped_column(String(32), default="")


class EventCounter(Base):
    """One row: the last ``seq`` handed out and the hash at the head of the chain."""

    __tablename__ = "event_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class EventRecord(Base):
    """The append-only event log. Database triggers refuse UPDATE and DELETE."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(64))
    alarm_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """The incident an event is about (its own or its task's): the incident's timeline (r0013)."""
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Alarm(Base):
    """Current state of an alarm; its history is in the event log."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_dedupe_open", "dedupe_key", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24), index=True)
    level: Mapped[str] = mapped_column(String(8))
    alarm_type: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(128), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    client_ref: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    # Personal data (r0012): every ``*_enc`` column holds ciphertext of the data key
    # (backend.security.FieldCipher, "k<id>:…"), never plain text; the masked copies are
    # what views carry. `dutydesk keys rotate` re-encrypts every ``*_enc`` column.
    caller_name_enc: Mapped[str] = mapped_column(Text, default="")
    caller_name_masked: Mapped[str] = mapped_column(String(64), default="")
    caller_phone_enc: Mapped[str] = mapped_column(Text, default="")
    caller_phone_masked: Mapped[str] = mapped_column(String(32), default="")
    caller_address_enc: Mapped[str] = mapped_column(Text, default="")
    caller_address_masked: Mapped[str] = mapped_column(String(200), default="")
    sensitive_note_enc: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(64), default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    last_note: Mapped[str] = mapped_column(Text, default="")
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Unit(Base):
    """A dispatchable unit in the registry (fire station, police team, ambulance…)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    agency: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Where the unit is based (WGS-84), for the map."""


class Dispatch(Base):
    """One unit sent to one alarm. The agency task workflow will hang off this row."""

    __tablename__ = "dispatches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReadingRecord(Base):
    """A sensor reading (time series, written by group commit)."""

    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_sensor_at", "sensor", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device: Mapped[str] = mapped_column(String(64))
    sensor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16), default="")


class Device(Base):
    """A field device in the registry."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("kind", "identity", name="uq_devices_kind_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    identity: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    plate: Mapped[str] = mapped_column(String(32), default="")
    owner: Mapped[str] = mapped_column(String(128), default="")
    auth_code: Mapped[str] = mapped_column(String(64), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    heard_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When a server last heard anything from it (heartbeats too; its receive time,
    written coalesced; r0028): the offline sweep of a dead instance's terminals."""
    held_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The server instance holding its connection, or, once offline, judging its vehicle
    rules (None: none known; r0028; ``backend.server.presence``)."""


class PositionRecord(Base):
    """One fix of one device (time series, written by group commit)."""

    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_device_at", "device", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float] = mapped_column(Float)
    alarms: Mapped[str] = mapped_column(String(400), default="")
    backfill: Mapped[bool] = mapped_column(Boolean, default=False)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """The jurisdiction the fix lies in ("" if unplaced; r0008)."""


class SensorRecord(Base):
    """A gas / temperature / pressure / level sensor at a hazard source or a coal mine.

    ``rules`` holds the sensor's :class:`backend.sensors.rules.RuleSet` as JSON, so limits
    are data that can follow a new edition of the regulations without a code change.
    """

    __tablename__ = "sensors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sensor_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    unit: Mapped[str] = mapped_column(String(16))
    placement: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(128), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    poll_cycle_seconds: Mapped[float] = mapped_column(Float)
    site_kind: Mapped[str] = mapped_column(String(16), default="hazard_source")
    hazard_source: Mapped[str] = mapped_column(String(128), default="")
    enterprise: Mapped[str] = mapped_column(String(128), default="")
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    device: Mapped[str] = mapped_column(String(64), default="")
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReadingRollup(Base):
    """Five-minute statistics of one sensor (kept a year; raw readings a week)."""

    __tablename__ = "reading_rollups"

    sensor: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    mean: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)


class TimeSeriesProgress(Base):
    """One row: how far readings are rolled up, and from when raw readings are kept."""

    __tablename__ = "timeseries_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolled_up_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    raw_kept_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# Rollups and retention select readings by time across sensors (added by r0003).
Index("ix_readings_at", ReadingRecord.at)
Index("ix_reading_rollups_bucket_start", ReadingRollup.bucket_start)


class GeofenceRecord(Base):
    """A geofence, no-go zone, speed zone or route corridor drawn on a console (r0004).

    ``shape`` holds the wire shape (``realtime.protocol.GeofenceShape``) as JSON; enabled
    rows become vehicle rules next to the file's rules (see :mod:`backend.vehicles.geofences`).
    """

    __tablename__ = "geofences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    shape: Mapped[dict[str, Any]] = mapped_column(JSON)
    limit_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    level: Mapped[str] = mapped_column(String(16))
    dwell_s: Mapped[float] = mapped_column(Float, default=0.0)
    vehicles: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CameraRecord(Base):
    """A video camera in the registry (r0006).

    The stream address may carry credentials, so it is stored encrypted
    (``stream_url_enc``, the data key of :class:`backend.security.FieldCipher`) beside a
    masked copy for listings that must not reveal it (``stream_url_masked``).
    """

    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    agency: Mapped[str] = mapped_column(String(64), default="")
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    hazard_source: Mapped[str] = mapped_column(String(128), default="")
    enterprise: Mapped[str] = mapped_column(String(128), default="")
    stream_url_enc: Mapped[str] = mapped_column(Text)
    stream_url_masked: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Agency(Base):
    """A linked agency (消防救援, 公安, …): the codes users, units and cameras name (r0010)."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Grant(Base):
    """An explicit share across scopes (r0010): an alarm shared with an agency (``kind``
    ``alarm``), or a camera shared with an agency for an alarm (``camera``).

    In force while not revoked, not expired, and (camera grants) while the alarm is open.
    Granting and revoking are event-log events; this row is the state they leave.
    """

    __tablename__ = "grants"
    __table_args__ = (
        Index("ix_grants_alarm", "alarm_id"),
        Index("ix_grants_agency", "agency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"))
    agency: Mapped[str] = mapped_column(String(32))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id"), nullable=True)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str] = mapped_column(String(64), default="")


class JurisdictionRecord(Base):
    """An imported town/street or village/community (r0009); the upper levels come from
    the shipped basemap (see :mod:`backend.jurisdictions`).

    ``boundary`` is a GeoJSON MultiPolygon in WGS-84 (``[lon, lat]``); the box columns let
    a reader pick the rows of an area without parsing every outline.
    """

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    parent: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    boundary: Mapped[str] = mapped_column(Text)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str] = mapped_column(String(64), default="")


class IncidentRecord(Base):
    """An incident (事件): alarms and reports grouped under one catalogue type (r0013).

    Its history is in the event log (``events.incident_id``); this row is its current state.
    """

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    type_code: Mapped[str] = mapped_column(String(48))
    type_name: Mapped[str] = mapped_column(String(128), default="")
    level: Mapped[str] = mapped_column(String(4))
    state: Mapped[str] = mapped_column(String(24), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="", index=True)
    commander: Mapped[str] = mapped_column(String(64), default="")
    reported_by: Mapped[str] = mapped_column(String(64), default="")
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    feedback: Mapped[str] = mapped_column(Text, default="")
    last_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    direct_report: Mapped[bool] = mapped_column(Boolean, default=False)
    """Reported from the grid with an item that reports straight to the district (r0015)."""


class IncidentAlarm(Base):
    """An alarm grouped under an incident; an alarm belongs to one incident at most (r0013)."""

    __tablename__ = "incident_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), unique=True)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TaskRecord(Base):
    """A task an incident sent to an agency, a unit or a grid level (r0013)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24), index=True)
    assignee_kind: Mapped[str] = mapped_column(String(16))
    assignee_ref: Mapped[str] = mapped_column(String(64))
    assignee_name: Mapped[str] = mapped_column(String(128), default="")
    agency: Mapped[str] = mapped_column(String(64), default="", index=True)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    assignee_user: Mapped[str] = mapped_column(String(64), default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    last_action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_note: Mapped[str] = mapped_column(Text, default="")
    accept_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    arrive_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finish_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )
    """When the task was accepted, reached the scene, was finished (r0016; the assessment)."""
    escalation_level: Mapped[str] = mapped_column(String(24))
    returned_from: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class TaskEscalation(Base):
    """One step of a task up its ladder (r0013).

    At most one row per task and cause: the database itself keeps a deadline from
    escalating twice, even with several servers on one database.
    """

    __tablename__ = "task_escalations"
    __table_args__ = (UniqueConstraint("task_id", "cause", name="uq_task_escalations_cause"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    cause: Mapped[str] = mapped_column(String(16))
    from_level: Mapped[str] = mapped_column(String(24))
    to_level: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class TaskSupervision(Base):
    """A supervision flag (督办) on a task, open until the task's desk answers it (r0013)."""

    __tablename__ = "task_supervisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_by: Mapped[str] = mapped_column(String(64), default="")
    answer: Mapped[str] = mapped_column(Text, default="")


class AttachmentRecord(Base):
    """An attachment of an incident's chat (r0014) or a plan's document (r0018); its bytes
    are the file ``attachments/<sha256>`` under the data folder (shared by identical
    uploads)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id"), index=True, nullable=True
    )
    """The incident whose chat it belongs to; None for a plan's document (r0018)."""
    plan_code: Mapped[str] = mapped_column(String(64), default="", index=True)
    """The plan (registry item of kind ``plan``) whose document it is (r0018), else ""."""
    danger_id: Mapped[int | None] = mapped_column(
        ForeignKey("hidden_dangers.id"), index=True, nullable=True
    )
    """The hidden danger whose photo it is (r0027), else None."""
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MessageRead(Base):
    """How far a user has read an incident's messages (r0014): only ever moves forward."""

    __tablename__ = "message_reads"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    up_to_seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class GridReport(Base):
    """An event reported from the grid (r0015): the incident it opened, who reported it,
    where it landed. Counted per reporter for the hourly limit."""

    __tablename__ = "grid_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    reporter: Mapped[str] = mapped_column(String(64))
    reporter_jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    handling_level: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), nullable=True)
    direct: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_grid_reports_reporter_at", "reporter", "reported_at"),)


class Handover(Base):
    """A shift handover (交接班) of one desk (r0015): the report as generated (a JSON
    snapshot that later changes never rewrite), the outgoing officer's signature and the
    incoming officer's acceptance."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    agency: Mapped[str] = mapped_column(String(64), default="")
    shift_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    shift_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(64))
    incoming: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[str] = mapped_column(Text)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    accepted_by: Mapped[str] = mapped_column(String(64), default="")
    remark: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_handovers_desk", "jurisdiction", "agency", "id"),)


class RosterEntry(Base):
    """One person's shift at one desk on one duty date (值班表, r0015)."""

    __tablename__ = "duty_roster"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    duty_date: Mapped[dt.date] = mapped_column(Date, index=True)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    agency: Mapped[str] = mapped_column(String(64), default="")
    position: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(64))
    shift_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    shift_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "duty_date",
            "jurisdiction",
            "agency",
            "position",
            "username",
            "shift_start",
            name="uq_duty_roster_shift",
        ),
    )


class RegistryItem(Base):
    """One item of the registry (台账, r0017): an enterprise, hazard source, team,
    equipment, shelter, expert, protection target or plan.

    The common fields are columns (scope, search and the map read them); what belongs to
    the kind is ``details``, the JSON of its :data:`realtime.protocol.RegistryDetails`
    with every contact's phone number **masked**; the numbers in full are
    ``contacts_enc`` (the JSON list of the item's contacts, encrypted with the data key).
    Items are retired, never deleted: their history is the event log's
    ``registry.changed`` events.
    """

    __tablename__ = "registry_items"
    __table_args__ = (
        UniqueConstraint("kind", "code", name="uq_registry_items_kind_code"),
        Index("ix_registry_items_kind_jurisdiction", "kind", "jurisdiction"),
        Index("ix_registry_items_lat_lon", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    agency: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    contacts_enc: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class ChecklistTick(Base):
    """The latest tick of one plan step in one incident (r0018): done or undone, by whom,
    when. Every tick is also an ``incident.checklist_ticked`` event (the history)."""

    __tablename__ = "checklist_ticks"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    plan_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")


keep_utc_on_assignment(Base)


class RoadSegmentRow(Base):
    """One road of the imported road layer (r0019; ``dutydesk basemap import``): its class
    (``rank`` 0 motorway … 6 service), names, direction, limit, and its polyline as JSON
    ``[lat, lon, lat, lon, …]`` (WGS-84, 6 decimals) with its bounding box for the
    box queries of ``roads.get``. An import replaces the whole layer."""

    __tablename__ = "road_segments"
    __table_args__ = (
        Index("ix_road_segments_box", "min_lat", "max_lat", "min_lon", "max_lon"),
        Index("ix_road_segments_rank", "rank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    road_class: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    highway: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    ref: Mapped[str] = mapped_column(String(64), default="")
    oneway: Mapped[int] = mapped_column(Integer, default=0)
    maxspeed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    points: Mapped[str] = mapped_column(Text)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200), default="")


class ExerciseRunRow(Base):
    """One exercise run (r0020; :mod:`backend.exercises.manager`): kept after it ended, so
    ended runs stay listed and scored after a restart. ``database`` is the path of the
    run's own SQLite file (its log, alarms, incidents, tasks)."""

    __tablename__ = "exercise_runs"
    __table_args__ = (Index("ix_exercise_runs_recording", "recording", "started_at"),)

    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recording: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    trainer: Mapped[str] = mapped_column(String(64))
    participants: Mapped[list[str]] = mapped_column(JSON)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    speed: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    position_s: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    alarms: Mapped[int] = mapped_column(Integer, default=0)
    injected: Mapped[int] = mapped_column(Integer, default=0)
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    database: Mapped[str] = mapped_column(String(1000))


class CommandAnswer(Base):
    """A state-changing console command that ran, and its answer (r0022): a re-send with
    the same request id after a reconnect — to this instance or to another on the same
    database — gets this answer instead of acting twice. Written in the command's own
    transaction (``answer`` still empty), completed once the answer is known, pruned after
    a while (:mod:`backend.storage.answers`)."""

    __tablename__ = "command_answers"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    req: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)


class TerminalStateRow(Base):
    """What must follow a vehicle terminal from one gateway worker to another (r0024):
    the alarm bit names of its last acknowledged live report and its vehicle rules'
    state (JSON), written only when either changes (``backend.ingest.terminal_state``)."""

    __tablename__ = "terminal_states"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    device: Mapped[str] = mapped_column(String(128), primary_key=True)
    alarms: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class EarlyWarningRow(Base):
    """An early warning (预警, r0025): raised by a sensor's trend, by several sensors of a
    hazard source rising together, or by an imported weather alert.

    ``open_key`` names the condition (source and subject) while the warning is open and
    is NULL once it ended: the unique constraint keeps one open warning per condition
    across every instance on the database (NULLs never collide).
    """

    __tablename__ = "early_warnings"
    __table_args__ = (
        UniqueConstraint("open_key", name="uq_early_warnings_open_key"),
        Index("ix_early_warnings_state_jurisdiction", "state", "jurisdiction"),
        Index("ix_early_warnings_alert_key", "alert_key"),
        Index("ix_early_warnings_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    open_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    hazard_source: Mapped[str] = mapped_column(String(64), default="")
    sensors: Mapped[list[str]] = mapped_column(JSON)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    predicted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    projection: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    weather: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    alert_key: Mapped[str] = mapped_column(String(200), default="")
    """``sender identifier`` of the CAP alert behind a weather warning ("" otherwise)."""
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str] = mapped_column(String(64), default="")
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(500), default="")


class NoticeRow(Base):
    """A notice or warning for publishing (信息发布, r0026): its content is the JSON of
    its :class:`realtime.protocol.NoticeInput`; the columns are what queries and scope
    read. Every step is also a ``notice.*`` event (the history, with who)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_state_jurisdiction", "state", "jurisdiction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16))
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    content: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    """The audience includes the public (the CAP feed lists it once published)."""
    drafted_by: Mapped[str] = mapped_column(String(64))
    drafted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str] = mapped_column(String(64), default="")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cap_identifier: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NoticeDelivery(Base):
    """One recipient's delivery of a published notice on one channel (r0026), written in
    the publishing transaction; the outbox sends the queued ones. ``address_enc`` is the
    phone or e-mail address encrypted with the data key ("" for a console)."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        Index("ix_notice_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_notice_deliveries_recipient", "recipient_kind", "recipient_code", "channel"),
        Index("ix_notice_deliveries_reference", "channel", "reference"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_code: Mapped[str] = mapped_column(String(64), default="")
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(16))
    address_enc: Mapped[str] = mapped_column(Text, default="")
    address_masked: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reference: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NoticeSubscriber(Base):
    """A member of the public who asked for notices of an area by SMS or e-mail (r0026;
    ``dutydesk subscribers``): phone and e-mail encrypted, kept masked for lists."""

    __tablename__ = "notice_subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32), default="", index=True)
    phone_enc: Mapped[str] = mapped_column(Text, default="")
    phone_masked: Mapped[str] = mapped_column(String(32), default="")
    email_enc: Mapped[str] = mapped_column(Text, default="")
    email_masked: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# The hidden-danger tables live in their own module, registered on the same Base.
import backend.storage.danger_models  # noqa: E402, F401
