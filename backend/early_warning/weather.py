"""Weather warnings: an imported CAP 1.2 alert becomes a ``weather`` warning for every
hazard source of the registry its areas cover (inside the importer's area).

Coverage: the hazard source's point inside an area's polygon or circle, or its
jurisdiction inside an area's geocode (a region code, GB/T 2260). Level: a ``预警级别``
parameter when present (红色/橙色/黄色/蓝色, or red/orange/yellow/blue), else CAP
severity (Extreme→red, Severe→orange, Moderate→yellow, Minor and Unknown→blue). A
warning lasts until the info's ``expires`` (the housekeeping ends it then); an ``Update``
replaces the warnings of the alerts it references, a ``Cancel`` ends them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.scope import sees_jurisdiction
from backend.cap.codec import CapError, decode_alert
from backend.cap.model import CapAlert, CapArea, CapInfo, MsgType, Status
from backend.early_warning import store
from backend.early_warning.detector import LEVEL_NAMES
from backend.early_warning.service import EarlyWarningService, HazardSource
from backend.early_warning.trend import rank
from backend.errors import ValidationError
from backend.eventlog import log as eventlog
from backend.geo import Circle, Polygon
from backend.jurisdictions.codes import normalize
from backend.storage.models import EarlyWarningRow
from realtime.event_kinds import EventKind
from realtime.protocol.early_warning import (
    EarlyWarningView,
    WarningLevel,
    WarningSource,
    WarningState,
    WeatherAlert,
    WeatherImported,
)

logger = logging.getLogger(__name__)

LEVEL_PARAMETER: Final = "预警级别"
SEVERITY_LEVELS: Final = {
    "Extreme": WarningLevel.RED,
    "Severe": WarningLevel.ORANGE,
    "Moderate": WarningLevel.YELLOW,
    "Minor": WarningLevel.BLUE,
}
_WORDS: Final = (
    (("红", "red"), WarningLevel.RED),
    (("橙", "orange"), WarningLevel.ORANGE),
    (("黄", "yellow"), WarningLevel.YELLOW),
    (("蓝", "blue"), WarningLevel.BLUE),
)
ACCEPTED_STATUS: Final = (Status.ACTUAL, Status.EXERCISE)


# --------------------------------------------------------------------------- sans I/O


def alert_key(sender: str, identifier: str) -> str:
    """The key of an alert (CAP names an alert by sender and identifier)."""
    return hashlib.sha256(f"{sender} {identifier}".encode()).hexdigest()


def level_of(info: CapInfo) -> WarningLevel:
    """The warning level of a CAP info (see the module)."""
    for name, value in info.parameters:
        if name.strip() == LEVEL_PARAMETER:
            word = value.strip().lower()
            for spellings, level in _WORDS:
                if any(s in word for s in spellings):
                    return level
    return SEVERITY_LEVELS.get(str(info.severity), WarningLevel.BLUE)


def _region(code: str) -> str | None:
    try:
        return normalize(code)
    except ValidationError:
        return None


@functools.lru_cache(maxsize=256)
def _shapes(area: CapArea) -> tuple[Polygon | Circle, ...]:
    """An area's polygons and circles, built once per area (an alert is checked against
    every hazard source)."""
    shapes: list[Polygon | Circle] = []
    for ring in area.polygons:
        try:
            shapes.append(Polygon(ring))
        except ValueError:
            continue  # a degenerate ring covers nothing
    for clat, clon, radius_km in area.circles:
        try:
            shapes.append(Circle(clat, clon, radius_km * 1000))
        except ValueError:
            continue
    return tuple(shapes)


def _contains_point(area: CapArea, lat: float, lon: float) -> bool:
    return any(shape.contains(lat, lon) for shape in _shapes(area))


def covers(area: CapArea, hazard: HazardSource) -> bool:
    """Whether a CAP area covers a hazard source (point in polygon or circle, or its
    jurisdiction inside a geocode's region)."""
    if (
        hazard.lat is not None
        and hazard.lon is not None
        and _contains_point(area, hazard.lat, hazard.lon)
    ):
        return True
    regions = (_region(value) for _name, value in area.geocodes)
    return bool(hazard.jurisdiction) and any(
        region and hazard.jurisdiction.startswith(region) for region in regions
    )


def covered(
    infos: Sequence[CapInfo], hazards: Iterable[HazardSource]
) -> dict[str, tuple[HazardSource, CapInfo]]:
    """Hazard code → (hazard, the info covering it); a Chinese info first, then in order."""
    ordered = sorted(infos, key=lambda info: not info.language.lower().startswith("zh"))
    found: dict[str, tuple[HazardSource, CapInfo]] = {}
    for hazard in hazards:
        for info in ordered:
            if any(covers(area, hazard) for area in info.areas):
                found[hazard.code] = (hazard, info)
                break
    return found


def weather_view(alert: CapAlert, info: CapInfo | None) -> WeatherAlert:
    """The alert as a warning carries it."""
    return WeatherAlert(
        identifier=alert.identifier[:200],
        sender=alert.sender[:200],
        sent=alert.sent,
        event=info.event[:200] if info is not None else "",
        headline=info.headline[:200] if info is not None else "",
        severity=str(info.severity) if info is not None else "",
        onset=info.onset if info is not None else None,
        expires=info.expires if info is not None else None,
        area="；".join(a.description for a in info.areas)[:500] if info is not None else "",
    )


def decode(data: bytes) -> CapAlert:
    """The alert in ``data``; a clear :class:`ValidationError` when it is not one we take."""
    try:
        alert = decode_alert(data)
    except CapError as exc:
        raise ValidationError(f"not a CAP 1.2 alert: {exc}") from exc
    if alert.status not in ACCEPTED_STATUS:
        raise ValidationError(
            f"CAP status {alert.status} is not a warning to act on (Actual or Exercise only)"
        )
    if alert.msg_type in (MsgType.UPDATE, MsgType.CANCEL) and not alert.references:
        raise ValidationError(f"a CAP {alert.msg_type} must reference the alert it replaces")
    if alert.msg_type not in (MsgType.ALERT, MsgType.UPDATE, MsgType.CANCEL):
        raise ValidationError(f"CAP {alert.msg_type} messages are not imported")
    if alert.msg_type is not MsgType.CANCEL and not alert.infos:
        raise ValidationError("the alert has no info: nothing to warn of")
    return alert


# --------------------------------------------------------------------------- with the database


async def import_alert(
    service: EarlyWarningService, principal: Principal, data: bytes
) -> WeatherImported:
    """Import a CAP alert for the hazard sources of the principal's area; return the alert
    and the warnings raised, changed or ended."""
    alert = decode(data)
    now = service.clock()
    expiries = [i.expires for i in alert.infos if i.expires is not None]
    if alert.msg_type is not MsgType.CANCEL and expiries and max(expiries) <= now:
        raise ValidationError(f"the alert expired at {max(expiries).isoformat()}: nothing raised")
    hazards = [
        h for h in service.hazard_sources.values() if sees_jurisdiction(principal, h.jurisdiction)
    ]
    cover: dict[str, tuple[HazardSource, CapInfo]] = {}
    if alert.msg_type is not MsgType.CANCEL:
        # Off the event loop: many hazard sources against long polygons take a while.
        cover = await asyncio.to_thread(covered, alert.infos, hazards)
    replaced = [alert_key(r.sender, r.identifier) for r in alert.references]
    key = alert_key(alert.sender, alert.identifier)
    first = next(iter(alert.infos), None)

    async def work(session: AsyncSession, events: list[Any]) -> list[EarlyWarningView]:
        views: list[EarlyWarningView] = []
        old = {
            row.hazard_source: row
            for row in await _open_of_alerts(session, replaced)
            if sees_jurisdiction(principal, row.jurisdiction)
        }
        for code, (hazard, info) in sorted(cover.items()):
            row = old.pop(code, None) or await store.load_open(
                session, _open_key(code, key), lock=True
            )
            views.append(
                await _raise(
                    service,
                    session,
                    events,
                    row,
                    alert=alert,
                    hazard=hazard,
                    info=info,
                    key=key,
                    now=now,
                )
            )
        verb = "已解除" if alert.msg_type is MsgType.CANCEL else "已更新，不再覆盖"
        for row in old.values():
            views.append(
                await service.end(
                    session,
                    events,
                    row,
                    state=WarningState.CLEARED,
                    note=f"气象预警{verb}（{alert.identifier[:100]}）",
                    now=now,
                )
            )
        note = f"{alert.msg_type} {alert.identifier[:100]} {first.event if first else ''}"
        events.extend(
            await eventlog.append_many(
                session,
                (
                    eventlog.Draft(
                        EventKind.WEATHER_IMPORTED, principal.username, note=note.strip(), at=now
                    ),
                ),
            )
        )
        return views

    views = await service.writer.run(work)
    logger.info(
        "weather alert %s (%s) imported by %s: %s warnings",
        alert.identifier,
        alert.msg_type,
        principal.username,
        len(views),
    )
    return WeatherImported(alert=weather_view(alert, first), warnings=views)


def _open_key(hazard: str, key: str) -> str:
    return store.open_key(WarningSource.WEATHER, hazard, key[:32])


async def _open_of_alerts(session: AsyncSession, keys: Sequence[str]) -> Sequence[EarlyWarningRow]:
    if not keys:
        return []
    query = (
        select(EarlyWarningRow)
        .where(
            EarlyWarningRow.alert_key.in_(keys),
            EarlyWarningRow.state.in_(store.OPEN_STATES),
        )
        .with_for_update()
    )
    return (await session.scalars(query)).all()


async def _raise(
    service: EarlyWarningService,
    session: AsyncSession,
    events: list[Any],
    row: EarlyWarningRow | None,
    *,
    alert: CapAlert,
    hazard: HazardSource,
    info: CapInfo,
    key: str,
    now: dt.datetime,
) -> EarlyWarningView:
    level = level_of(info)
    weather = weather_view(alert, info)
    title = f"{info.event}{LEVEL_NAMES[level.value]}预警：{hazard.name}"[:200]
    detail = "；".join(p for p in (info.headline, weather.area) if p)[:2000]
    if row is None:
        row = EarlyWarningRow(
            version=1,
            open_key=_open_key(hazard.code, key),
            source=WarningSource.WEATHER.value,
            subject=hazard.code,
            level=level.value,
            state=WarningState.ACTIVE.value,
            title=title,
            detail=detail,
            jurisdiction=hazard.jurisdiction,
            hazard_source=hazard.code,
            sensors=[],
            raised_at=now,
            updated_at=now,
            count=1,
            weather=store.to_json(weather),
            alert_key=key,
            expires_at=info.expires,
            acknowledged_by="",
            closed_by="",
            note="",
        )
        session.add(row)
        await session.flush()
        return await service.emit(session, events, row, kind=EventKind.WARNING_RAISED, note="")
    notes = []
    if row.alert_key == key:
        row.count += 1
        notes.append(f"再次导入，已合并（第 {row.count} 次）")
    else:
        notes.append(f"气象预警已更新（{alert.identifier[:100]}）")
    if level != WarningLevel(row.level):
        word = "升为" if rank(level) > rank(WarningLevel(row.level)) else "调整为"
        notes.append(f"级别{word} {level.value}")
    row.level = level.value
    row.title = title
    row.detail = detail
    row.weather = store.to_json(weather)
    row.alert_key = key
    row.open_key = _open_key(hazard.code, key)
    row.expires_at = info.expires
    row.updated_at = now
    row.version += 1
    return await service.emit(
        session, events, row, kind=EventKind.WARNING_CHANGED, note="；".join(notes)
    )


async def expire(service: EarlyWarningService) -> None:
    """End the weather warnings whose alert expired."""
    now = service.clock()

    async def work(session: AsyncSession, events: list[Any]) -> int:
        rows = (
            await session.scalars(
                select(EarlyWarningRow)
                .where(
                    EarlyWarningRow.source == WarningSource.WEATHER.value,
                    EarlyWarningRow.state.in_(store.OPEN_STATES),
                    EarlyWarningRow.expires_at <= now,
                )
                .with_for_update()
            )
        ).all()
        for row in rows:
            await service.end(
                session, events, row, state=WarningState.CLEARED, note="气象预警已过期", now=now
            )
        return len(rows)

    ended = await service.writer.run(work)
    if ended:
        logger.info("%s weather warnings expired", ended)
