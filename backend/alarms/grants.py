"""Grants: the only way data crosses a scope. An alarm shared with an agency (besides the
agencies of the units dispatched to it), or a camera shared with an agency for an alarm.

Granting and revoking are commands of the command centre; each is an event-log event
(``grant.*``, hash-chained like every other) written in the same transaction as the
``grants`` row it changes, so the audit trail shows every exception to scope: who, when,
to whom, for which alarm. A camera share ends when it is revoked, when it expires, or when
its alarm reaches a final state (closed, false alarm, merged); nothing has to run for it
to end: :func:`in_force` says so at every read.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.errors import ValidationError
from backend.eventlog import log as eventlog
from backend.registry.agencies import active_agency
from backend.runtime.clock import utc_now
from backend.storage.models import Alarm, CameraRecord, Grant
from realtime.protocol import (
    AlarmView,
    Event,
    GrantView,
    ShareAlarm,
    ShareCamera,
    UnshareAlarm,
    UnshareCamera,
)
from realtime.states import FINAL_STATES, AlarmState

logger = logging.getLogger(__name__)

ALARM = "alarm"
CAMERA = "camera"
_FINAL = [state.value for state in FINAL_STATES]

AlarmLoader = Callable[[AsyncSession, int], Coroutine[Any, Any, tuple[Alarm, AlarmView]]]
"""Loads an alarm and its view in the caller's transaction (the alarm service's)."""


def in_force(now: dt.datetime) -> ColumnElement[bool]:
    """The condition on a ``grants`` row (joined with its alarm) for being in force now."""
    return and_(
        Grant.revoked_at.is_(None),
        or_(Grant.expires_at.is_(None), Grant.expires_at > now),
        or_(Grant.kind == ALARM, Alarm.state.not_in(_FINAL)),
    )


async def shared_agencies(session: AsyncSession, alarm_id: int) -> list[str]:
    """The agencies an alarm is explicitly shared with now, sorted."""
    now = utc_now()
    rows = await session.scalars(
        select(Grant.agency)
        .join(Alarm, Alarm.id == Grant.alarm_id)
        .where(Grant.alarm_id == alarm_id, Grant.kind == ALARM, in_force(now))
    )
    return sorted(set(rows))


async def cameras_shared(session: AsyncSession, principal: Principal) -> set[int]:
    """The ids of the cameras shared now with the principal's agency, for alarms inside
    the principal's area (the shares :func:`authz.can_see_grant` lets them see)."""
    if principal.agency is None:
        return set()
    now = utc_now()
    rows = await session.execute(
        select(Grant.camera_id, Alarm.jurisdiction)
        .join(Alarm, Alarm.id == Grant.alarm_id)
        .where(Grant.kind == CAMERA, Grant.agency == principal.agency, in_force(now))
    )
    return {
        camera_id
        for camera_id, jurisdiction in rows
        if camera_id is not None and authz.in_jurisdiction(principal, jurisdiction)
    }


def _view(grant: Grant, jurisdiction: str, camera: str = "", *, revoked: bool = False) -> GrantView:
    return GrantView(
        id=grant.id,
        kind="camera" if grant.kind == CAMERA else "alarm",
        alarm_id=grant.alarm_id,
        agency=grant.agency,
        jurisdiction=jurisdiction,
        camera=camera,
        by=grant.by,
        at=grant.at,
        expires_at=grant.expires_at,
        revoked=revoked,
    )


def _touch(alarm: Alarm, principal: Principal, now: dt.datetime) -> None:
    """An alarm's shares are part of what consoles show of it (``shared_with``): a new
    version, so every console replaces its copy (and a decision taken on the old one is
    refused as stale)."""
    alarm.version += 1
    alarm.updated_at = now
    alarm.updated_by = principal.username


class GrantService:
    """Shares alarms and cameras with agencies, and lists the shares in force."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: eventlog.EventWriter,
        load_alarm: AlarmLoader,
    ) -> None:
        self._sessions = sessions
        self._write = writer.run
        self._load_alarm = load_alarm

    async def _visible_alarm(
        self, session: AsyncSession, principal: Principal, alarm_id: int
    ) -> tuple[Alarm, AlarmView]:
        alarm, view = await self._load_alarm(session, alarm_id)
        if not authz.can_see(principal, view):
            raise authz.hidden("alarm")
        return alarm, view

    @staticmethod
    async def _check_agency(session: AsyncSession, agency: str) -> None:
        if await active_agency(session, agency) is None:
            raise ValidationError(f"no active agency {agency!r}")

    @staticmethod
    async def _open_grant(
        session: AsyncSession, kind: str, alarm_id: int, agency: str, camera_id: int | None
    ) -> Grant | None:
        now = utc_now()
        return await session.scalar(
            select(Grant)
            .join(Alarm, Alarm.id == Grant.alarm_id)
            .where(
                Grant.kind == kind,
                Grant.alarm_id == alarm_id,
                Grant.agency == agency,
                Grant.camera_id.is_(None) if camera_id is None else Grant.camera_id == camera_id,
                in_force(now),
            )
            .with_for_update()
        )

    async def share_alarm(self, principal: Principal, command: ShareAlarm) -> AlarmView:
        """Share an alarm with an agency (its desks see it from now on); audited."""

        async def work(session: AsyncSession, events: list[Event]) -> AlarmView:
            alarm, view = await self._visible_alarm(session, principal, command.alarm_id)
            await self._check_agency(session, command.agency)
            if await self._open_grant(session, ALARM, alarm.id, command.agency, None):
                raise ValidationError(f"the alarm is already shared with {command.agency}")
            now = utc_now()
            grant = Grant(
                kind=ALARM, alarm_id=alarm.id, agency=command.agency, by=principal.username, at=now
            )
            session.add(grant)
            _touch(alarm, principal, now)
            await session.flush()
            _, view = await self._load_alarm(session, alarm.id)
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.ALARM_SHARED,
                    actor=principal.username,
                    alarm=view,
                    grant=_view(grant, view.jurisdiction),
                    note=command.note.strip(),
                    at=now,
                )
            )
            return view

        view = await self._write(work)
        logger.info("alarm %s shared with %s by %s", view.id, command.agency, principal.username)
        return view

    async def unshare_alarm(self, principal: Principal, command: UnshareAlarm) -> AlarmView:
        """Revoke an alarm's share with an agency; audited (the agency's desks are told)."""

        async def work(session: AsyncSession, events: list[Event]) -> AlarmView:
            alarm, _ = await self._visible_alarm(session, principal, command.alarm_id)
            grant = await self._open_grant(session, ALARM, alarm.id, command.agency, None)
            if grant is None:
                raise ValidationError(f"the alarm is not shared with {command.agency}")
            now = utc_now()
            grant.revoked_at = now
            grant.revoked_by = principal.username
            _touch(alarm, principal, now)
            await session.flush()
            _, view = await self._load_alarm(session, alarm.id)
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.ALARM_UNSHARED,
                    actor=principal.username,
                    alarm=view,
                    grant=_view(grant, view.jurisdiction, revoked=True),
                    note=command.note.strip(),
                    at=now,
                )
            )
            return view

        view = await self._write(work)
        logger.info("alarm %s unshared from %s by %s", view.id, command.agency, principal.username)
        return view

    async def _visible_camera(
        self, session: AsyncSession, principal: Principal, code: str
    ) -> CameraRecord:
        camera = await session.scalar(select(CameraRecord).where(CameraRecord.code == code))
        if camera is None or not authz.can_see_camera(
            principal, camera.jurisdiction, camera.agency
        ):
            raise authz.hidden("camera")
        return camera

    async def share_camera(self, principal: Principal, command: ShareCamera) -> GrantView:
        """Let an agency watch a camera for an alarm it works on; audited."""
        now = utc_now()
        if command.expires_at is not None and command.expires_at <= now:
            raise ValidationError("the share's expiry must lie in the future")

        async def work(session: AsyncSession, events: list[Event]) -> GrantView:
            alarm, view = await self._visible_alarm(session, principal, command.alarm_id)
            camera = await self._visible_camera(session, principal, command.camera)
            await self._check_agency(session, command.agency)
            if AlarmState(alarm.state) in FINAL_STATES:
                raise ValidationError("the alarm is over: share cameras only for open alarms")
            if command.agency not in authz.agencies_of(view):
                raise ValidationError(
                    f"share the alarm with {command.agency} (or dispatch one of its units) first"
                )
            if await self._open_grant(session, CAMERA, alarm.id, command.agency, camera.id):
                raise ValidationError(f"the camera is already shared with {command.agency}")
            grant = Grant(
                kind=CAMERA,
                alarm_id=alarm.id,
                agency=command.agency,
                camera_id=camera.id,
                by=principal.username,
                at=now,
                expires_at=command.expires_at,
            )
            session.add(grant)
            await session.flush()
            granted = _view(grant, view.jurisdiction, camera.code)
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.CAMERA_SHARED,
                    actor=principal.username,
                    grant=granted,
                    note=command.note.strip(),
                    at=now,
                )
            )
            return granted

        granted = await self._write(work)
        logger.info(
            "camera %s shared with %s for alarm %s by %s",
            command.camera,
            command.agency,
            command.alarm_id,
            principal.username,
        )
        return granted

    async def unshare_camera(self, principal: Principal, command: UnshareCamera) -> GrantView:
        """Revoke a camera's share with an agency for an alarm; audited."""

        async def work(session: AsyncSession, events: list[Event]) -> GrantView:
            alarm, view = await self._visible_alarm(session, principal, command.alarm_id)
            camera = await self._visible_camera(session, principal, command.camera)
            grant = await self._open_grant(session, CAMERA, alarm.id, command.agency, camera.id)
            if grant is None:
                raise ValidationError(f"the camera is not shared with {command.agency}")
            now = utc_now()
            grant.revoked_at = now
            grant.revoked_by = principal.username
            revoked = _view(grant, view.jurisdiction, camera.code, revoked=True)
            events.append(
                await eventlog.append(
                    session,
                    kind=eventlog.EventKind.CAMERA_UNSHARED,
                    actor=principal.username,
                    grant=revoked,
                    note=command.note.strip(),
                    at=now,
                )
            )
            return revoked

        revoked = await self._write(work)
        logger.info(
            "camera %s unshared from %s by %s", command.camera, command.agency, principal.username
        )
        return revoked

    async def visible_to(self, principal: Principal) -> list[GrantView]:
        """The shares in force that ``principal`` may see, oldest first."""
        now = utc_now()
        async with self._sessions() as session:
            rows = await session.execute(
                select(Grant, Alarm.jurisdiction, CameraRecord.code)
                .join(Alarm, Alarm.id == Grant.alarm_id)
                .outerjoin(CameraRecord, CameraRecord.id == Grant.camera_id)
                .where(in_force(now))
                .order_by(Grant.id)
            )
            views = [_view(grant, jurisdiction, code or "") for grant, jurisdiction, code in rows]
        return [view for view in views if authz.can_see_grant(principal, view)]
