"""The checks of a registry item that read the database: its jurisdiction is known,
its agency registered, a hazard source's enterprise, sensors and cameras exist.

One :class:`References` serves one transaction: what it looked up once it remembers, and
the enterprises written earlier in the same transaction (a file's) count as there, so a
file of 50,000 rows asks the database once per distinct agency, not once per row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import ValidationError
from backend.jurisdictions.tree import JurisdictionTree
from backend.registry.item_fields import kind_of
from backend.storage.models import Agency, CameraRecord, RegistryItem, SensorRecord
from realtime.protocol import HazardSourceDetails, ItemKind, RegistryItemInput

CODES_PER_QUERY = 500


async def stored_rows(
    session: AsyncSession, items: Sequence[RegistryItemInput]
) -> dict[tuple[ItemKind, str], RegistryItem]:
    """The stored rows of the items' codes (locked), a few hundred codes per query."""
    codes: dict[ItemKind, list[str]] = {}
    for item in items:
        codes.setdefault(kind_of(item.details), []).append(item.code)
    rows: dict[tuple[ItemKind, str], RegistryItem] = {}
    for kind, wanted in codes.items():
        for start in range(0, len(wanted), CODES_PER_QUERY):
            chunk = wanted[start : start + CODES_PER_QUERY]
            found = await session.scalars(
                select(RegistryItem)
                .where(RegistryItem.kind == kind.value, RegistryItem.code.in_(chunk))
                .with_for_update()
            )
            rows.update({(kind, row.code): row for row in found})
    return rows


class References:
    """Checks items' references inside one transaction, remembering what it found."""

    def __init__(self, session: AsyncSession, tree: JurisdictionTree | None) -> None:
        self._session = session
        self._tree = tree
        """Known jurisdictions (None: any code is taken, for tools without a tree)."""
        self._agencies: dict[str, bool] = {}
        self._enterprises: dict[str, bool | None] = {}
        """Enterprise code → not retired (None: no such enterprise)."""

    def written(self, kind: ItemKind, code: str, *, retired: bool) -> None:
        """Note an item written in this transaction (it may be named by the next ones)."""
        if kind is ItemKind.ENTERPRISE:
            self._enterprises[code] = not retired

    async def check(self, item: RegistryItemInput, stored: RegistryItem | None = None) -> None:
        """Refuse (:class:`ValidationError`, naming the field) an item that names what
        does not exist. A hazard source may keep the enterprise it named when that was
        retired since (``stored``: the row before the change); it may not name one anew."""
        tree = self._tree
        if item.jurisdiction and tree is not None and tree.get(item.jurisdiction) is None:
            raise ValidationError(
                f"jurisdiction: no jurisdiction {item.jurisdiction!r} "
                "(a region code of the jurisdiction tree, or empty)"
            )
        if item.agency and not await self._agency(item.agency):
            raise ValidationError(f"agency: no agency {item.agency!r} is registered")
        if isinstance(item.details, HazardSourceDetails):
            kept = stored.details.get("enterprise") if stored is not None else None
            await self._check_hazard_source(item.details, kept_enterprise=kept)

    async def _agency(self, code: str) -> bool:
        known = self._agencies.get(code)
        if known is None:
            known = self._agencies[code] = await self._session.get(Agency, code) is not None
        return known

    async def _enterprise(self, code: str) -> bool | None:
        if code not in self._enterprises:
            row = await self._session.scalar(
                select(RegistryItem).where(
                    RegistryItem.kind == ItemKind.ENTERPRISE.value, RegistryItem.code == code
                )
            )
            self._enterprises[code] = None if row is None else not row.retired
        return self._enterprises[code]

    async def _check_hazard_source(
        self, details: HazardSourceDetails, *, kept_enterprise: object
    ) -> None:
        if details.enterprise is not None:
            usable = await self._enterprise(details.enterprise)
            if usable is False and details.enterprise == kept_enterprise:
                usable = True
            if not usable:
                raise ValidationError(
                    f"details.enterprise: no enterprise {details.enterprise!r} in the registry"
                    + (" (it is retired)" if usable is False else "")
                )
        _no_repeats("details.sensors", details.sensors)
        _no_repeats("details.cameras", details.cameras)
        session = self._session
        if details.sensors:
            known = set(
                await session.scalars(
                    select(SensorRecord.sensor_id).where(
                        SensorRecord.sensor_id.in_(details.sensors)
                    )
                )
            )
            missing = [code for code in details.sensors if code not in known]
            if missing:
                raise ValidationError(
                    f"details.sensors: no sensor {', '.join(missing)} is registered"
                )
        if details.cameras:
            known = set(
                await session.scalars(
                    select(CameraRecord.code).where(CameraRecord.code.in_(details.cameras))
                )
            )
            missing = [code for code in details.cameras if code not in known]
            if missing:
                raise ValidationError(
                    f"details.cameras: no camera {', '.join(missing)} is registered"
                )


def _no_repeats(field: str, codes: Sequence[str]) -> None:
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValidationError(f"{field}: {', '.join(repeated)} listed twice")
