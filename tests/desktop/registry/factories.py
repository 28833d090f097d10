"""Registry items and events for the console tests."""

from __future__ import annotations

import datetime as dt

from realtime.event_kinds import EventKind
from realtime.protocol import (
    Contact,
    Event,
    ItemKind,
    RegistryChangeAction,
    RegistryChangeView,
    RegistryDetails,
    RegistryItemView,
    ShelterDetails,
    TeamDetails,
    TeamState,
)

AT = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)


def team(
    code: str = "T-01",
    *,
    name: str = "滨江危化品救援队",
    version: int = 1,
    jurisdiction: str = "330108",
    agency: str = "fire",
    members: int = 24,
    state: TeamState = TeamState.STANDBY,
    retired: bool = False,
    lat: float | None = 30.2,
    lon: float | None = 120.21,
) -> RegistryItemView:
    """A team as the server shows it (contacts masked)."""
    return item(
        ItemKind.TEAM,
        code,
        TeamDetails(
            team_type="危化品救援",
            members=members,
            capabilities=["hazmat", "decontamination"],
            state=state,
            contacts=[Contact(name="王队长", role="队长", phone="138****5678")],
        ),
        name=name,
        version=version,
        jurisdiction=jurisdiction,
        agency=agency,
        retired=retired,
        lat=lat,
        lon=lon,
    )


def shelter(code: str = "S-01", *, jurisdiction: str = "330106") -> RegistryItemView:
    """A shelter in another district."""
    return item(
        ItemKind.SHELTER,
        code,
        ShelterDetails(capacity=2000, occupancy=120, facilities=["供水", "医疗"]),
        name="西湖文化广场避难场所",
        jurisdiction=jurisdiction,
        lat=30.28,
        lon=120.16,
    )


def item(
    kind: ItemKind,
    code: str,
    details: RegistryDetails,
    *,
    name: str,
    version: int = 1,
    jurisdiction: str = "",
    agency: str = "",
    retired: bool = False,
    lat: float | None = None,
    lon: float | None = None,
) -> RegistryItemView:
    """Any item."""
    return RegistryItemView(
        kind=kind,
        code=code,
        name=name,
        version=version,
        jurisdiction=jurisdiction,
        agency=agency,
        address="江南大道88号",
        lat=lat,
        lon=lon,
        details=details,
        retired=retired,
        updated_at=AT,
        updated_by="officer1",
    )


def changed(
    after: RegistryItemView,
    seq: int,
    *,
    before: dict[str, object] | None = None,
    action: RegistryChangeAction = RegistryChangeAction.UPDATED,
    fields: list[str] | None = None,
) -> Event:
    """The ``registry.changed`` event that made ``after``."""
    return Event(
        seq=seq,
        at=AT,
        kind=EventKind.REGISTRY_CHANGED,
        actor="officer1",
        registry_item=after,
        registry_change=RegistryChangeView(
            seq=0,
            at=AT,
            by="officer1",
            action=action,
            before=before,
            after={"details": {"members": after.details.members}}
            if isinstance(after.details, TeamDetails)
            else {},
            changed=fields or ["details.members"],
        ),
    )
