"""The checks of a registry item that read the database: its jurisdiction is known,
its agency registered, a hazard source's enterprise, sensors and cameras exist."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import ValidationError
from backend.jurisdictions.tree import JurisdictionTree
from backend.storage.models import Agency, CameraRecord, RegistryItem, SensorRecord
from realtime.protocol import HazardSourceDetails, ItemKind, RegistryItemInput


async def check_references(
    session: AsyncSession, item: RegistryItemInput, tree: JurisdictionTree | None
) -> None:
    """Refuse (:class:`ValidationError`, naming the field) an item that names what does
    not exist. ``tree`` None: any jurisdiction code is taken (tools without a tree)."""
    if item.jurisdiction and tree is not None and tree.get(item.jurisdiction) is None:
        raise ValidationError(
            f"jurisdiction: no jurisdiction {item.jurisdiction!r} "
            "(a region code of the jurisdiction tree, or empty)"
        )
    if item.agency and await session.get(Agency, item.agency) is None:
        raise ValidationError(f"agency: no agency {item.agency!r} is registered")
    if isinstance(item.details, HazardSourceDetails):
        await _check_hazard_source(session, item.details)


async def _check_hazard_source(session: AsyncSession, details: HazardSourceDetails) -> None:
    if details.enterprise is not None:
        enterprise = await session.scalar(
            select(RegistryItem).where(
                RegistryItem.kind == ItemKind.ENTERPRISE.value,
                RegistryItem.code == details.enterprise,
            )
        )
        if enterprise is None or enterprise.retired:
            raise ValidationError(
                f"details.enterprise: no enterprise {details.enterprise!r} in the registry"
                + (" (it is retired)" if enterprise is not None else "")
            )
    _no_repeats("details.sensors", details.sensors)
    _no_repeats("details.cameras", details.cameras)
    if details.sensors:
        known = set(
            await session.scalars(
                select(SensorRecord.sensor_id).where(SensorRecord.sensor_id.in_(details.sensors))
            )
        )
        missing = [code for code in details.sensors if code not in known]
        if missing:
            raise ValidationError(f"details.sensors: no sensor {', '.join(missing)} is registered")
    if details.cameras:
        known = set(
            await session.scalars(
                select(CameraRecord.code).where(CameraRecord.code.in_(details.cameras))
            )
        )
        missing = [code for code in details.cameras if code not in known]
        if missing:
            raise ValidationError(f"details.cameras: no camera {', '.join(missing)} is registered")


def _no_repeats(field: str, codes: Sequence[str]) -> None:
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValidationError(f"{field}: {', '.join(repeated)} listed twice")
