"""The database tables (SQLAlchemy 2 typed ORM). Alembic migrations create them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
    caller_name: Mapped[str] = mapped_column(String(64), default="")
    caller_phone_enc: Mapped[str] = mapped_column(Text, default="")
    caller_phone_masked: Mapped[str] = mapped_column(String(32), default="")
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
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    feedback: Mapped[str] = mapped_column(Text, default="")
    last_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64), default="")


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
    escalation_level: Mapped[str] = mapped_column(String(24))
    returned_from: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
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
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TaskSupervision(Base):
    """A supervision flag (督办) on a task, open until the task's desk answers it (r0013)."""

    __tablename__ = "task_supervisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_by: Mapped[str] = mapped_column(String(64), default="")
    answer: Mapped[str] = mapped_column(Text, default="")


keep_utc_on_assignment(Base)
