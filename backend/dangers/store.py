"""Rows and views of hidden dangers and inspections: the wire views (the responsible
person's phone masked), the responsible person's encrypted record, the scope as a query,
and the lookup of an enterprise in the registry."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.scope import ENTERPRISE_USERS, outside_staff
from backend.security import FieldCipher, mask_name, mask_phone
from backend.storage.danger_models import DangerStepRecord, HiddenDangerRecord, InspectionRecord
from backend.storage.models import AttachmentRecord, RegistryItem
from realtime.protocol import (
    DangerCategory,
    DangerFilter,
    DangerGrade,
    DangerSource,
    DangerState,
    DangerStep,
    HiddenDangerView,
    InspectionView,
    ItemKind,
)

_Ts = TypeVarTuple("_Ts")


@dataclass(frozen=True, slots=True)
class Enterprise:
    """What a hidden danger copies from its enterprise's registry item."""

    code: str
    name: str
    industry: str
    jurisdiction: str


async def find_enterprise(session: AsyncSession, code: str) -> Enterprise | None:
    """The active registry enterprise ``code``, or None."""
    row = await session.scalar(
        select(RegistryItem).where(
            RegistryItem.kind == ItemKind.ENTERPRISE.value,
            RegistryItem.code == code,
            RegistryItem.retired.is_(False),
        )
    )
    if row is None:
        return None
    industry = row.details.get("industry", "") if isinstance(row.details, dict) else ""
    return Enterprise(row.code, row.name, str(industry or ""), row.jurisdiction)


def in_scope(principal: Principal) -> ColumnElement[bool]:
    """The rows of ``hidden_dangers`` the principal may see (Scope.DANGER), as a filter."""
    return _scope(principal, HiddenDangerRecord.enterprise, HiddenDangerRecord.jurisdiction)


def inspections_in_scope(principal: Principal) -> ColumnElement[bool]:
    """The rows of ``inspections`` the principal may see."""
    return _scope(principal, InspectionRecord.enterprise, InspectionRecord.jurisdiction)


def _scope(principal: Principal, enterprise: object, jurisdiction: object) -> ColumnElement[bool]:
    if principal.role in ENTERPRISE_USERS:
        return enterprise == (principal.enterprise or "\x00")  # type: ignore[return-value]
    if outside_staff(principal):
        return false()
    return jurisdiction.startswith(principal.jurisdiction, autoescape=True)  # type: ignore[attr-defined,no-any-return]


def filtered(query: Select[*_Ts], spec: DangerFilter) -> Select[*_Ts]:
    """``query`` narrowed by a list's or an export's filter."""
    row = HiddenDangerRecord
    if spec.enterprise:
        query = query.where(row.enterprise == spec.enterprise)
    if spec.states:
        query = query.where(row.state.in_([s.value for s in spec.states]))
    if spec.grade is not None:
        query = query.where(row.grade == spec.grade.value)
    if spec.overdue_only:
        query = query.where(row.overdue.is_(True))
    if spec.jurisdiction:
        query = query.where(row.jurisdiction.startswith(spec.jurisdiction, autoescape=True))
    if spec.reported_since is not None:
        query = query.where(row.reported_at >= spec.reported_since)
    if spec.reported_until is not None:
        query = query.where(row.reported_at < spec.reported_until)
    return query


def seal_responsible(cipher: FieldCipher, name: str, phone: str) -> tuple[str, str]:
    """The encrypted record of the responsible person and the masked phone to show."""
    if not name.strip() and not phone.strip():
        return "", ""
    sealed = cipher.encrypt(json.dumps({"name": name.strip(), "phone": phone.strip()}))
    return sealed, mask_phone(phone)


def open_responsible(cipher: FieldCipher, sealed: str) -> str:
    """The responsible person's name ("" when nobody is named)."""
    if not sealed:
        return ""
    return str(json.loads(cipher.decrypt(sealed)).get("name", ""))


async def views(
    session: AsyncSession,
    cipher: FieldCipher,
    rows: Sequence[HiddenDangerRecord],
    *,
    for_log: bool = False,
) -> list[HiddenDangerView]:
    """The wire views of ``rows`` with their history and photos (two queries in all).

    ``for_log``: the view written into the event log, which is kept in plain text for
    ever: the responsible person's name is masked there too.
    """
    ids = [row.id for row in rows]
    steps: dict[int, list[DangerStep]] = {i: [] for i in ids}
    photos: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for step in await session.scalars(
            select(DangerStepRecord)
            .where(DangerStepRecord.danger_id.in_(ids))
            .order_by(DangerStepRecord.id)
        ):
            steps[step.danger_id].append(
                DangerStep(
                    at=step.at,
                    actor=step.actor,
                    state=DangerState(step.state),
                    action=step.action,
                    note=step.note,
                )
            )
        for photo_id, danger_id in await session.execute(
            select(AttachmentRecord.id, AttachmentRecord.danger_id)
            .where(AttachmentRecord.danger_id.in_(ids))
            .order_by(AttachmentRecord.id)
        ):
            if danger_id is not None:
                photos[danger_id].append(photo_id)
    result = []
    for row in rows:
        name = open_responsible(cipher, row.responsible_enc)
        result.append(
            view(row, mask_name(name) if for_log else name, steps[row.id], photos[row.id])
        )
    return result


def view(
    row: HiddenDangerRecord, responsible_name: str, history: list[DangerStep], photos: list[int]
) -> HiddenDangerView:
    """One row's wire view."""
    return HiddenDangerView(
        id=row.id,
        version=row.version,
        enterprise=row.enterprise,
        enterprise_name=row.enterprise_name,
        industry=row.industry,
        jurisdiction=row.jurisdiction,
        source=DangerSource(row.source),
        category=DangerCategory(row.category),
        grade=DangerGrade(row.grade),
        state=DangerState(row.state),
        place=row.place,
        description=row.description,
        measures=row.measures,
        deadline=row.deadline,
        responsible_name=responsible_name,
        responsible_phone=row.responsible_phone_masked,
        found_at=row.found_at,
        reported_by=row.reported_by,
        reported_at=row.reported_at,
        rectified_at=row.rectified_at,
        verified_at=row.verified_at,
        overdue=row.overdue,
        escalated_to=row.escalated_to,
        inspection_id=row.inspection_id,
        photos=photos,
        history=history,
        lat=row.lat,
        lon=row.lon,
    )


async def inspection_views(
    session: AsyncSession, rows: Iterable[InspectionRecord]
) -> list[InspectionView]:
    """The wire views of inspections with the ids of the dangers each found."""
    rows = list(rows)
    found: dict[int, list[int]] = {row.id: [] for row in rows}
    if found:
        for danger_id, inspection_id in await session.execute(
            select(HiddenDangerRecord.id, HiddenDangerRecord.inspection_id)
            .where(HiddenDangerRecord.inspection_id.in_(list(found)))
            .order_by(HiddenDangerRecord.id)
        ):
            if inspection_id is not None:
                found[inspection_id].append(danger_id)
    return [
        InspectionView(
            id=row.id,
            enterprise=row.enterprise,
            enterprise_name=row.enterprise_name,
            jurisdiction=row.jurisdiction,
            inspected_at=row.inspected_at,
            inspectors=list(row.inspectors),
            summary=row.summary,
            dangers=found[row.id],
            recorded_by=row.recorded_by,
            recorded_at=row.recorded_at,
        )
        for row in rows
    ]
