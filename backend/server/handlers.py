"""What each console command does: one small function per command, named in the command
table (:mod:`backend.server.commands`), which has already checked the role's permission.

Every answer is scoped by the permission table's scope rule for the command
(:mod:`backend.authz.policy`): the handlers filter what they read by the user's
jurisdiction and agency, or call domain services that do, and an object outside the
scope is refused exactly like a missing one (``authz.hidden``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.errors import Error, ValidationError
from backend.registry.users import AuthError, LoginBusyError
from backend.sensors import timeseries
from backend.server.hub import TELEMETRY_TOPICS, Subscriber
from backend.server.sessions import UNLOCK_TRIES, LiveSession
from backend.vehicles import track_query
from realtime.protocol import (
    MAX_TRACK_ROWS,
    AgenciesResult,
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
    GrantResult,
    GrantsResult,
    HistoryResult,
    ListAgencies,
    ListCameras,
    ListDevices,
    ListGeofences,
    ListGrants,
    ListSensors,
    ListSessions,
    ListUnits,
    Ping,
    Pong,
    RevealContact,
    SaveGeofence,
    SensorsResult,
    SensorView,
    SeriesPoint,
    SeriesResult,
    SessionEndReason,
    SessionsResult,
    SessionUnlocked,
    SessionView,
    ShareAlarm,
    ShareCamera,
    Subscribe,
    Subscribed,
    ThresholdView,
    TrackColumns,
    TrackForm,
    TrackResult,
    TransitionAlarm,
    UnitsResult,
    UnlockSession,
    UnshareAlarm,
    UnshareCamera,
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
    """Protected personal fields of an alarm in full, audited and limited per user."""
    return await ctx.server.alarms.reveal_contact(
        ctx.principal, command.alarm_id, command.reason, command.fields
    )


# ---------------------------------------------------------------------------- registry


async def list_units(ctx: ConsoleContext, command: ListUnits) -> UnitsResult:
    """The units in the user's area (and agency)."""
    return UnitsResult(units=await ctx.server.alarms.list_units(ctx.principal))


async def list_cameras(ctx: ConsoleContext, command: ListCameras) -> CamerasResult:
    """The cameras the user may watch: filtered by area and agency, as the stream
    addresses carry credentials."""
    return CamerasResult(cameras=await ctx.server.cameras.visible_to(ctx.principal))


async def list_devices(ctx: ConsoleContext, command: ListDevices) -> DevicesResult:
    """The devices of the user's area: a vehicle by its latest fix's jurisdiction, a sensor
    device by its sensors' (unplaced devices: whole-area users only)."""
    places = device_jurisdictions(ctx.server)
    views = [
        msgspec.structs.replace(view, jurisdiction=places.get(view.identity, ""))
        for view in await ctx.server.registry.list()
    ]
    return DevicesResult(
        devices=[
            view for view in views if authz.sees_jurisdiction(ctx.principal, view.jurisdiction)
        ]
    )


def _common_code(codes: set[str]) -> str:
    """The longest code prefix shared by ``codes`` (a device reporting for sensors in two
    districts is placed where both lie: their city, say)."""
    first, *others = sorted(codes)
    length = len(first)
    for other in others:
        length = min(length, len(other))
        while other[:length] != first[:length]:
            length -= 1
    return first[:length]


def device_jurisdictions(server: DutyDeskServer) -> dict[str, str]:
    """Where each device heard from lies, by its identity: a vehicle where its latest fix
    is; a sensor device where all its sensors stand (their common code prefix)."""
    places: dict[str, str] = {}
    sensors: dict[str, set[str]] = {}
    configs = {config.sensor_id: config for config in server.sensors.rules.configs()}
    for reading in server.hub.latest_readings():
        config = configs.get(reading.sensor)
        sensors.setdefault(reading.device, set()).add(
            reading.jurisdiction or (config.jurisdiction if config is not None else "")
        )
    for device, codes in sensors.items():
        places[device] = _common_code(codes)
    for position in server.hub.latest_positions():
        places[position.device] = position.jurisdiction
    return places


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
        if authz.sees_jurisdiction(ctx.principal, config.jurisdiction)
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
    principal = ctx.principal
    # Only what the receiver's scope allows (the live batches are filtered by the hub).
    positions = (
        [p for p in hub.latest_positions() if authz.sees_jurisdiction(principal, p.jurisdiction)]
        if "positions" in newly and authz.receives(principal, authz.Topic.POSITIONS)
        else []
    )
    readings = (
        [r for r in hub.latest_readings() if authz.sees_jurisdiction(principal, r.jurisdiction)]
        if "readings" in newly and authz.receives(principal, authz.Topic.READINGS)
        else []
    )
    for start in range(0, max(len(positions), len(readings)), SNAPSHOT_CHUNK):
        end = start + SNAPSHOT_CHUNK
        subscriber.offer_telemetry(
            hub.telemetry(positions=positions[start:end], readings=readings[start:end])
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
    """Who is logged in where: the open sessions of users of the administrator's area."""
    found = [
        info
        for info in await ctx.server.session_tracker.store.list_open()
        if authz.sees_jurisdiction(ctx.principal, info.jurisdiction)
    ]
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
    # An unregistered sensor counts as unplaced: only whole-area users read it.
    if not authz.sees_jurisdiction(ctx.principal, config.jurisdiction if config else ""):
        raise authz.hidden("sensor")
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
    """A vehicle's stored fixes in a range that lie inside the user's area, thinned in the
    database to ``max_points`` (a vehicle with none there gets an empty track, as an
    unknown one does)."""
    columns = command.form is TrackForm.COLUMNS
    max_points = command.max_points if columns else min(command.max_points, MAX_TRACK_ROWS)
    async with ctx.server.sessions() as session:
        stored = await track_query.load_track(
            session,
            command.device,
            command.start,
            command.end,
            max_points,
            within=ctx.principal.jurisdiction,
        )
    return stored.columns() if columns else stored.rows()


async def list_geofences(ctx: ConsoleContext, command: ListGeofences) -> GeofencesResult:
    """Every geofence (whole-area users only: geofences carry no jurisdiction, they are
    rules over every vehicle)."""
    authz.check_whole_area(ctx.principal, "geofences")
    return GeofencesResult(geofences=await ctx.server.geofences.list())


async def save_geofence(ctx: ConsoleContext, command: SaveGeofence) -> GeofenceResult:
    """Create or update a geofence (against its version) and put the rules in force."""
    authz.check_whole_area(ctx.principal, "geofences")
    saved = await ctx.server.geofences.save(ctx.principal.username, command)
    await ctx.server.apply_geofences()
    return GeofenceResult(geofence=saved)


async def delete_geofence(ctx: ConsoleContext, command: DeleteGeofence) -> GeofenceResult:
    """Delete a geofence (against its version) and take its rules out of force."""
    authz.check_whole_area(ctx.principal, "geofences")
    deleted = await ctx.server.geofences.delete(ctx.principal.username, command)
    await ctx.server.apply_geofences()
    return GeofenceResult(geofence=deleted, deleted=True)


# ---------------------------------------------------------------------------- agencies and grants


async def list_agencies(ctx: ConsoleContext, command: ListAgencies) -> AgenciesResult:
    """The active agencies' codes and names (reference data, the same for everyone)."""
    return AgenciesResult(agencies=await ctx.server.agencies.list())


async def share_alarm(ctx: ConsoleContext, command: ShareAlarm) -> AlarmResult:
    """Share an alarm with an agency; audited."""
    return AlarmResult(alarm=await ctx.server.grants.share_alarm(ctx.principal, command))


async def unshare_alarm(ctx: ConsoleContext, command: UnshareAlarm) -> AlarmResult:
    """Revoke an alarm's share with an agency; audited."""
    return AlarmResult(alarm=await ctx.server.grants.unshare_alarm(ctx.principal, command))


async def share_camera(ctx: ConsoleContext, command: ShareCamera) -> GrantResult:
    """Share a camera with an agency for an alarm; audited."""
    return GrantResult(grant=await ctx.server.grants.share_camera(ctx.principal, command))


async def unshare_camera(ctx: ConsoleContext, command: UnshareCamera) -> GrantResult:
    """Revoke a camera's share; audited."""
    return GrantResult(grant=await ctx.server.grants.unshare_camera(ctx.principal, command))


async def list_grants(ctx: ConsoleContext, command: ListGrants) -> GrantsResult:
    """The shares in force the user may see."""
    return GrantsResult(grants=await ctx.server.grants.visible_to(ctx.principal))
