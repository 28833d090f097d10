"""What the console knows for one logged-in officer, in plain Python (no Qt).

:class:`ConsoleModel` owns the console's plain stores: the alarms (an
:class:`~desktop.state.AlarmStore`), the newest vehicle positions and the vehicle roster,
the newest sensor readings, and the registries read after login (units, sensors and
their hazard sources, cameras, devices). It runs those post-login loads through a
:class:`ConsoleGateway` (the Qt service is the real one) and tells its listeners about
every change through plain :class:`Emitter` events, so widgets only adapt it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

from desktop.map.vehicles import VehicleStore, utc_now
from desktop.sites import HazardSource, LatestReadings, hazard_sources
from desktop.state import AlarmStore
from desktop.vehicles.roster import VehicleRoster
from realtime.event_kinds import EventKind
from realtime.protocol import (
    AgenciesResult,
    AgencyView,
    AlarmView,
    CamerasResult,
    CameraView,
    Command,
    DevicesResult,
    Event,
    ListAgencies,
    ListCameras,
    ListDevices,
    ListSensors,
    ResultData,
    Role,
    SensorsResult,
    SensorView,
    Telemetry,
    UnitView,
    UserInfo,
    Welcome,
)

logger = logging.getLogger(__name__)

FRAME_MARGIN_DEG = 0.02
"""Room (degrees) left around the alarms and vehicles when the map is first framed."""

T = TypeVar("T")

READ_ONLY_ROLES = frozenset({Role.VIEWER, Role.TRAINER})
"""Roles whose console shows but does not act (a wall display; a trainer on live data).
Their acting controls are greyed out as a courtesy: the server refuses them anyway."""
ENTERING_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
"""Roles that take alarms in (the others' "new alarm" is greyed out)."""


def may_act(user: UserInfo | None) -> bool:
    """Whether this user's console offers acting controls (alarm actions, geofences)."""
    return user is not None and user.role not in READ_ONLY_ROLES


def may_enter_alarms(user: UserInfo | None) -> bool:
    """Whether this user's console offers "new alarm"."""
    return user is not None and user.role in ENTERING_ROLES


def agencies_of(alarm: AlarmView) -> set[str]:
    """The agencies an alarm is shared with: its dispatched units' and its explicit shares."""
    return {dispatch.agency for dispatch in alarm.dispatches} | set(alarm.shared_with)


Extent = tuple[float, float, float, float]
"""(west, south, east, north) in WGS-84 degrees."""


class Emitter(Generic[T]):
    """A plain event: callbacks connected to it are called with each emitted value."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], None]] = []

    def connect(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Call ``callback`` with every value; return a function that disconnects it."""
        self._callbacks.append(callback)

        def disconnect() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return disconnect

    def disconnect_all(self) -> None:
        """Forget every callback."""
        self._callbacks.clear()

    def emit(self, value: T) -> None:
        """Call every connected callback with ``value``, in connection order."""
        for callback in list(self._callbacks):
            callback(value)


class ConsoleGateway(Protocol):
    """How the model reaches the server; :class:`~desktop.service.ConsoleService` is one."""

    def query(
        self,
        command: Command,
        on_result: Callable[[ResultData], None],
        on_error: Callable[[str, str], None],
    ) -> object:
        """Send a read-only ``command``; its result or (code, message) comes back later."""

    def list_units(self) -> object:
        """Ask for the dispatchable units (they come back through :meth:`set_units`)."""


class Registry(enum.StrEnum):
    """A registry the console reads after login."""

    SENSORS = "sensors"
    CAMERAS = "cameras"
    DEVICES = "devices"
    AGENCIES = "agencies"


@dataclasses.dataclass(frozen=True, slots=True)
class LoadFailure:
    """A registry that could not be read: which one, the error code and the server's words."""

    registry: Registry
    code: str
    message: str


class ConsoleModel:
    """The plain stores of one console session and the loads that fill them after login."""

    def __init__(
        self,
        gateway: ConsoleGateway,
        alarms: AlarmStore | None = None,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._gateway = gateway
        self._closed = False
        self.alarms = alarms if alarms is not None else AlarmStore(clock)
        self.vehicles = VehicleStore(clock)
        """The newest position per vehicle (the map draws it)."""
        self.roster = VehicleRoster(self.vehicles, clock=clock)
        """The registered vehicles joined with their positions (the vehicle list)."""
        self.latest_readings = LatestReadings()
        """The newest value of every sensor (a hazard source's detail)."""
        self.user: UserInfo | None = None
        self.units: list[UnitView] = []
        self.sensors: dict[str, SensorView] = {}
        self.hazard_sources: dict[str, HazardSource] = {}
        self.cameras: dict[str, CameraView] = {}
        self.agencies: dict[str, AgencyView] = {}
        """The agencies by code (their names, for labels)."""
        self._vehicle_labels: dict[str, str] = {}

        self.welcomed = Emitter[UserInfo]()
        """The server accepted the login (the post-login loads are on their way)."""
        self.units_changed = Emitter[list[UnitView]]()
        self.sensors_changed = Emitter[list[SensorView]]()
        """The sensor registry changed (:attr:`hazard_sources` with it)."""
        self.cameras_changed = Emitter[list[CameraView]]()
        self.agencies_changed = Emitter[list[AgencyView]]()
        self.load_failed = Emitter[LoadFailure]()
        self.roster.add_listener(self._label_vehicles)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (late answers are then dropped)."""
        return self._closed

    def close(self) -> None:
        """Stop telling anyone anything: the window that showed this model is gone."""
        self._closed = True
        for emitter in (
            self.welcomed,
            self.units_changed,
            self.sensors_changed,
            self.cameras_changed,
            self.agencies_changed,
            self.load_failed,
        ):
            emitter.disconnect_all()

    # ------------------------------------------------------------------ session

    def on_welcome(self, welcome: Welcome) -> None:
        """Remember who logged in and read the registries the console shows."""
        if self._closed:
            return
        self.user = welcome.user
        self.load_after_login()
        self.welcomed.emit(welcome.user)

    def load_after_login(self) -> None:
        """Read the sensors, units, cameras and devices (each answer fills its store)."""
        if self.user is not None and self.user.role is Role.ENTERPRISE:
            return  # an enterprise user's console holds its workplace only
        self.load_agencies()
        self.load_sensors()
        self._gateway.list_units()
        self.load_cameras()
        self.load_devices()

    def load_agencies(self) -> None:
        """Read the agencies' names into :attr:`agencies`."""
        self._query(ListAgencies(req=""), Registry.AGENCIES, self._on_agencies)

    def load_sensors(self) -> None:
        """Read the sensor registry into :attr:`sensors`."""
        self._query(ListSensors(req=""), Registry.SENSORS, self._on_sensors)

    def load_cameras(self) -> None:
        """Read the cameras this user may watch into :attr:`cameras`."""
        self._query(ListCameras(req=""), Registry.CAMERAS, self._on_cameras)

    def load_devices(self) -> None:
        """Read the device registry into the :attr:`roster`."""
        self._query(ListDevices(req=""), Registry.DEVICES, self._on_devices)

    def _query(
        self, command: Command, registry: Registry, on_result: Callable[[ResultData], None]
    ) -> None:
        def failed(code: str, message: str) -> None:
            if not self._closed:
                logger.debug("%s not loaded: %s %s", registry, code, message)
                self.load_failed.emit(LoadFailure(registry, code, message))

        def answered(result: ResultData) -> None:
            if not self._closed:
                on_result(result)

        self._gateway.query(command, answered, failed)

    def _on_sensors(self, result: ResultData) -> None:
        if isinstance(result, SensorsResult):
            self.set_sensors(result.sensors)

    def _on_agencies(self, result: ResultData) -> None:
        if isinstance(result, AgenciesResult):
            self.agencies = {agency.code: agency for agency in result.agencies}
            self.agencies_changed.emit(list(result.agencies))

    def _on_cameras(self, result: ResultData) -> None:
        if isinstance(result, CamerasResult):
            self.set_cameras(result.cameras)

    def _on_devices(self, result: ResultData) -> None:
        if isinstance(result, DevicesResult):
            self.roster.set_devices(result.devices)

    # ------------------------------------------------------------------ registries

    def set_sensors(self, sensors: Iterable[SensorView]) -> bool:
        """Hold ``sensors`` and their hazard sources; return whether anything changed.

        A reload that brings the same registry tells nobody (the trends panel, which
        also reloads on the officer's request, hands its answers here too).
        """
        by_id = {sensor.sensor_id: sensor for sensor in sensors}
        if by_id == self.sensors:
            return False
        self.sensors = by_id
        self.hazard_sources = hazard_sources(by_id.values())
        self.sensors_changed.emit(list(by_id.values()))
        return True

    def set_units(self, units: Iterable[UnitView]) -> None:
        """Hold the dispatchable units (the answer to the gateway's ``list_units``)."""
        self.units = list(units)
        self.units_changed.emit(list(self.units))

    def set_cameras(self, cameras: Iterable[CameraView]) -> None:
        """Hold the cameras this user may watch."""
        held = list(cameras)
        self.cameras = {camera.code: camera for camera in held}
        self.cameras_changed.emit(held)

    # ------------------------------------------------------------------ live data

    def apply_telemetry(self, telemetry: Telemetry) -> None:
        """Keep the newest positions and readings of one telemetry message."""
        self.vehicles.apply_telemetry(telemetry)
        self.latest_readings.apply_telemetry(telemetry)

    def apply_event(self, event: Event) -> None:
        """Follow the device registry's events (the alarm store gets events from the
        service, which applies them before anyone is told) and the shares: a camera
        shared or unshared changes the cameras this user may watch; an alarm unshared
        from this desk's agency leaves its queue."""
        self.roster.apply_event(event)
        if event.kind in (EventKind.CAMERA_SHARED, EventKind.CAMERA_UNSHARED):
            self.load_cameras()
        elif (
            event.kind == EventKind.ALARM_UNSHARED
            and event.alarm is not None
            and self.user is not None
            and self.user.role == Role.AGENCY
            and self.user.agency not in agencies_of(event.alarm)
        ):
            self.alarms.remove(event.alarm.id)

    def _label_vehicles(self) -> None:
        # The registry names the vehicles; the map labels them with their plates.
        labels = {
            identity: view.plate or view.name
            for identity, view in self.roster.devices.items()
            if view.plate or view.name
        }
        if labels != self._vehicle_labels:
            self._vehicle_labels = labels
            self.vehicles.set_labels(labels)
