"""What each console command does: one small function per command, named in the command
table (:mod:`backend.server.commands`), which has already checked the role's permission.

Handlers call the domain services, which check scope (jurisdiction, agency) for every
object they read or change, and raise :class:`backend.errors.Error` to refuse.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.authz.principal import Principal
from backend.errors import Error, ValidationError
from backend.registry.users import AuthError, LoginBusyError
from backend.sensors import timeseries
from backend.server.hub import TELEMETRY_TOPICS, Subscriber
from backend.server.sessions import UNLOCK_TRIES, LiveSession
from backend.vehicles import track_query
from realtime.protocol import (
    MAX_TRACK_ROWS,
    AlarmResult,
    CamerasResult,
    ContactResult,
    CreateAlarm,
    DeleteGeofence,
    DevicesResult,
    DispatchAlarm,
    ErrorCode,
    GeofenceResult,
    GeofencesResult,
    GetAlarmHistory,
    GetSeries,
    GetTrack,
    HistoryResult,
    ListCameras,
    ListDevices,
    ListGeofences,
    ListSensors,
    ListSessions,
    ListUnits,
    Ping,
    Pong,
    RevealContact,
    SaveGeofence,
    SendText,
    SensorsResult,
    SensorView,
    SeriesPoint,
    SeriesResult,
    SessionEndReason,
    SessionsResult,
    SessionUnlocked,
    SessionView,
    Subscribe,
    Subscribed,
    Telemetry,
    TextSent,
    ThresholdView,
    TrackColumns,
    TrackForm,
    TrackResult,
    TransitionAlarm,
    UnitsResult,
    UnlockSession,
)

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)

SNAPSHOT_CHUNK = 2_000
"""Fixes (and readings) per telemetry message of the snapshot a subscription starts with
(≈ 300 KB): a fleet of any size stays far below the console's message limit."""


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    """What a console command runs against: the server's services and the asking console."""

    server: DutyDeskServer
    subscriber: Subscriber
    session: LiveSession | None = None
    """The console's session (lock screen, who is logged in where)."""

    @property
    def principal(self) -> Principal:
        """The user behind the console."""
        return self.subscriber.principal


# ---------------------------------------------------------------------------- alarms


async def create_alarm(ctx: ConsoleContext, command: CreateAlarm) -> AlarmResult:
    """Take an alarm entered by an officer (a re-send with the same ``req`` is one alarm)."""
    client_ref = f"{ctx.principal.username}:{command.req}"
    alarm = await ctx.server.alarms.create_manual(ctx.principal, command, client_ref=client_ref)
    return AlarmResult(alarm=alarm)


async def transition_alarm(ctx: ConsoleContext, command: TransitionAlarm) -> AlarmResult:
    """Move an alarm through its life cycle."""
    return AlarmResult(alarm=await ctx.server.alarms.transition(ctx.principal, command))


async def dispatch_alarm(ctx: ConsoleContext, command: DispatchAlarm) -> AlarmResult:
    """Send units to an alarm."""
    return AlarmResult(alarm=await ctx.server.alarms.dispatch(ctx.principal, command))


async def alarm_history(ctx: ConsoleContext, command: GetAlarmHistory) -> HistoryResult:
    """Every event of one alarm the user may see."""
    return HistoryResult(events=await ctx.server.alarms.history(ctx.principal, command.alarm_id))


async def reveal_contact(ctx: ConsoleContext, command: RevealContact) -> ContactResult:
    """A caller's full phone number, audited."""
    return await ctx.server.alarms.reveal_contact(ctx.principal, command.alarm_id, command.reason)


# ---------------------------------------------------------------------------- registry


async def list_units(ctx: ConsoleContext, command: ListUnits) -> UnitsResult:
    """The units in the user's area (and agency)."""
    return UnitsResult(units=await ctx.server.alarms.list_units(ctx.principal))


async def list_cameras(ctx: ConsoleContext, command: ListCameras) -> CamerasResult:
    """The cameras the user may watch: filtered by area and agency, as the stream
    addresses carry credentials."""
    return CamerasResult(cameras=await ctx.server.cameras.visible_to(ctx.principal))


async def list_devices(ctx: ConsoleContext, command: ListDevices) -> DevicesResult:
    """The device registry."""
    return DevicesResult(devices=await ctx.server.registry.list())


async def list_sensors(ctx: ConsoleContext, command: ListSensors) -> SensorsResult:
    """The sensor registry with each sensor's thresholds."""
    views = [
        SensorView(
            sensor_id=config.sensor_id,
            kind=config.kind.value,
            unit=config.unit,
            name=config.name,
            place=config.place,
            lat=config.lat,
            lon=config.lon,
            hazard_source=config.hazard_source,
            enterprise=config.enterprise,
            poll_cycle_seconds=config.poll_cycle_seconds,
            thresholds=[
                ThresholdView(
                    level=t.level,
                    direction=t.direction.value,
                    value=t.value,
                    restore=t.restore,
                    label=t.label,
                )
                for t in config.rules.thresholds
            ],
        )
        for config in ctx.server.sensors.rules.configs()
    ]
    return SensorsResult(sensors=sorted(views, key=lambda view: view.sensor_id))


# ---------------------------------------------------------------------------- live stream


async def subscribe(ctx: ConsoleContext, command: Subscribe) -> Subscribed:
    """Choose the telemetry topics; the newest value of each newly chosen topic follows at
    once, in messages of a bounded size, and changes follow on the hub's tick."""
    unknown = set(command.topics) - TELEMETRY_TOPICS
    if unknown:
        raise ValidationError(
            f"unknown topic {', '.join(sorted(unknown))}; use {', '.join(sorted(TELEMETRY_TOPICS))}"
        )
    subscriber = ctx.subscriber
    newly = frozenset(command.topics) - subscriber.topics
    subscriber.topics = frozenset(command.topics)
    hub = ctx.server.hub
    positions = hub.latest_positions() if "positions" in newly else []
    readings = hub.latest_readings() if "readings" in newly else []
    for start in range(0, max(len(positions), len(readings)), SNAPSHOT_CHUNK):
        end = start + SNAPSHOT_CHUNK
        subscriber.offer_telemetry(
            Telemetry(positions=positions[start:end], readings=readings[start:end])
        )
    return Subscribed(topics=sorted(subscriber.topics))


async def unlock_session(ctx: ConsoleContext, command: UnlockSession) -> SessionUnlocked:
    """Check the password (and code) of a console locked after idle; the fifth wrong
    try in a row ends the session (and revokes its token)."""
    live = ctx.session
    if live is None:
        raise ValidationError("this connection has no session to unlock")
    if live.unlocking:
        # One check at a time: argon2 is slow on purpose, guessing in parallel is not.
        raise Error(ErrorCode.RATE_LIMITED, "an unlock is being checked; wait for its answer")
    live.unlocking = True
    try:
        await ctx.server.users.verify_unlock(ctx.principal.user_id, command.password, command.totp)
    except AuthError as exc:
        live.unlock_failures += 1
        left = UNLOCK_TRIES - live.unlock_failures
        logger.warning(
            "wrong unlock of the console of %s (%s of %s)",
            ctx.principal.username,
            live.unlock_failures,
            UNLOCK_TRIES,
        )
        if left <= 0:
            await ctx.server.session_tracker.end(
                live, SessionEndReason.UNLOCK_FAILED, revoke_token=True
            )
            raise Error(
                ErrorCode.UNAUTHORIZED, "too many wrong tries: the session is ended"
            ) from exc
        raise Error(ErrorCode.UNAUTHORIZED, f"{exc} ({left} tries left)") from exc
    except LoginBusyError as exc:
        raise Error(ErrorCode.RATE_LIMITED, str(exc)) from exc
    finally:
        live.unlocking = False
    live.unlock_failures = 0
    logger.info("console of %s unlocked", ctx.principal.username)
    return SessionUnlocked()


async def list_sessions(ctx: ConsoleContext, command: ListSessions) -> SessionsResult:
    """Who is logged in where (every open session; administrators only)."""
    found = await ctx.server.session_tracker.store.list_open()
    return SessionsResult(
        sessions=[
            SessionView(
                id=info.id,
                username=info.username,
                kind=info.kind,
                remote=info.remote,
                client=info.client,
                started_at=info.started_at,
                last_seen_at=info.last_seen_at,
                expires_at=info.expires_at,
                stale=info.stale,
            )
            for info in found
        ]
    )


async def ping(ctx: ConsoleContext, command: Ping) -> Pong:
    """The server's clock, for the console's connection check."""
    return Pong(server_time=dt.datetime.now(dt.UTC))


# ---------------------------------------------------------------------------- sensors


async def sensor_series(ctx: ConsoleContext, command: GetSeries) -> SeriesResult:
    """A sensor's history, downsampled with its peaks kept."""
    if command.end <= command.start:
        raise ValidationError("the series' end must be after its start")
    config = ctx.server.sensors.rules.config(command.sensor)
    async with ctx.server.sessions() as session:
        found = await timeseries.history(
            session, command.sensor, command.start, command.end, command.max_points
        )
    return SeriesResult(
        sensor=command.sensor,
        unit=config.unit if config is not None else "",
        source=found.source,
        downsampled=found.downsampled,
        points=[SeriesPoint(at=point.at, value=point.value) for point in found.points],
    )


# ---------------------------------------------------------------------------- vehicles


async def vehicle_track(ctx: ConsoleContext, command: GetTrack) -> TrackResult | TrackColumns:
    """A vehicle's stored fixes in a range, thinned in the database to ``max_points``."""
    columns = command.form is TrackForm.COLUMNS
    max_points = command.max_points if columns else min(command.max_points, MAX_TRACK_ROWS)
    async with ctx.server.sessions() as session:
        stored = await track_query.load_track(
            session, command.device, command.start, command.end, max_points
        )
    return stored.columns() if columns else stored.rows()


async def send_text(ctx: ConsoleContext, command: SendText) -> TextSent:
    """A text (0x8300) to a vehicle terminal connected to this server's gateway."""
    sender = ctx.server.text_sender
    if sender is None:
        raise Error(ErrorCode.DEVICE_OFFLINE, "no JT/T 808 gateway runs in this server")
    try:
        confirmed = await sender(
            command.device,
            command.text,
            emergency=command.emergency,
            tts=command.tts,
            display=command.display,
        )
    except LookupError as exc:
        raise Error(
            ErrorCode.DEVICE_OFFLINE, f"terminal {command.device} is not connected"
        ) from exc
    logger.info(
        "text to %s sent by %s (confirmed: %s)", command.device, ctx.principal.username, confirmed
    )
    return TextSent(device=command.device, acknowledged=confirmed)


async def list_geofences(ctx: ConsoleContext, command: ListGeofences) -> GeofencesResult:
    """Every geofence."""
    return GeofencesResult(geofences=await ctx.server.geofences.list())


async def save_geofence(ctx: ConsoleContext, command: SaveGeofence) -> GeofenceResult:
    """Create or update a geofence (against its version) and put the rules in force."""
    saved = await ctx.server.geofences.save(ctx.principal.username, command)
    await ctx.server.apply_geofences()
    return GeofenceResult(geofence=saved)


async def delete_geofence(ctx: ConsoleContext, command: DeleteGeofence) -> GeofenceResult:
    """Delete a geofence (against its version) and take its rules out of force."""
    deleted = await ctx.server.geofences.delete(ctx.principal.username, command)
    await ctx.server.apply_geofences()
    return GeofenceResult(geofence=deleted, deleted=True)
