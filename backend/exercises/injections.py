"""A trainer's injections into a running exercise, each through the instance's own paths
(never a shortcut into its tables), so it appears in the exercise's log as what it is:

- ``sensor_fails``: the sensor stops reporting (its recorded readings are held back) and
  its stale clock runs out at once: the sensor rules raise their offline alarm;
- ``truck_sos``: the terminal presses SOS: a JT/T 808 0x0200 with the SOS bit on its own
  connection, through the gateway;
- ``camera_drops``: the camera's video goes down: a ``camera_offline`` device alarm;
- ``task_declined``: the task's agency declines it (拒收) with the trainer's note.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from backend.authz.principal import Principal
from backend.errors import Error as Refusal
from backend.errors import ValidationError
from backend.exercises.replay import Replayer
from backend.runtime.clock import utc_now
from backend.sensors.rules.state import timestamp_of
from realtime.incident_states import TaskAction
from realtime.protocol import DeviceAlarm, InjectEvent, InjectKind, Role
from realtime.states import AlarmLevel

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

logger = logging.getLogger(__name__)

CAMERA_SOURCE_PREFIX = "camera:"
DECLINE_NOTE = "演练注入：任务被拒收"


async def inject(instance: DutyDeskServer, replayer: Replayer, request: InjectEvent) -> str:
    """Carry out the injection (on the exercise clock); return what happened, for the
    live log's ``exercise.injected`` event."""
    target = request.target.strip()
    match request.kind:
        case InjectKind.SENSOR_FAILS:
            await _sensor_fails(instance, replayer, target)
            return f"sensor_fails {target}"
        case InjectKind.TRUCK_SOS:
            await replayer.send_sos(target)
            return f"truck_sos {target}"
        case InjectKind.CAMERA_DROPS:
            await _camera_drops(instance, target)
            return f"camera_drops {target}"
        case InjectKind.TASK_DECLINED:
            await _task_declined(instance, target, request.note.strip() or DECLINE_NOTE)
            return f"task_declined {target}"


async def _sensor_fails(instance: DutyDeskServer, replayer: Replayer, sensor_id: str) -> None:
    rules = instance.sensors.rules
    config = rules.config(sensor_id)
    state = rules.state(sensor_id)
    if config is None or state is None:
        raise ValidationError(f"no sensor {sensor_id!r} in this exercise")
    replayer.failed_sensors.add(sensor_id)
    # Silent for longer than allowed as of now: the next tick of the rules decides offline.
    state.last_received = timestamp_of(utc_now()) - config.stale_after_seconds - 1.0
    state.offline_since = None
    decisions = [d for d in rules.tick(utc_now()) if d.sensor_id == sensor_id]
    await instance.sensors.apply(decisions)


async def _camera_drops(instance: DutyDeskServer, code: str) -> None:
    cameras = {camera.code: camera for camera in await instance.cameras.list_masked()}
    camera = cameras.get(code)
    if camera is None:
        raise ValidationError(f"no camera {code!r} in this exercise")
    await instance.alarms.raise_from_device(
        f"{CAMERA_SOURCE_PREFIX}{code}",
        DeviceAlarm(
            ref="",
            key="camera_offline",
            alarm_type="camera_offline",
            level=AlarmLevel.YELLOW,
            title=f"{camera.name} 视频中断"[:200],
            description=f"摄像头 {code} 离线",
            lat=camera.lat,
            lon=camera.lon,
            jurisdiction=camera.jurisdiction,
            at=utc_now(),
        ),
    )


async def _task_declined(instance: DutyDeskServer, target: str, note: str) -> None:
    try:
        task_id = int(target)
    except ValueError as exc:
        raise ValidationError(f"a task is named by its number, not {target!r}") from exc
    system = Principal(0, "exercise", "演练", Role.ADMIN, None, "")
    try:
        task = await instance.incidents.get_task(system, task_id)
    except Refusal as exc:
        raise ValidationError(f"no task {task_id} in this exercise") from exc
    if not task.agency:
        raise ValidationError(f"task {task_id} is not an agency's task")
    desk = Principal(0, f"desk-{task.agency}", task.agency, Role.AGENCY, task.agency, "")
    await instance.incidents.act_on_task(desk, task_id, TaskAction.DECLINE, task.version, note)
