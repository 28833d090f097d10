"""The demo's server starts with the demo city's sample registry loaded (and only the
demo's: an ordinary server starts with an empty one), an officer's console lists it with
the contacts masked, and a restart does not import it again over what was changed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.cli.demo import demo_server
from backend.registry.files import load_registry_json
from backend.registry.items import ImportConflictError
from backend.server.app import DutyDeskServer
from backend.server.embedded import ServerThread
from backend.storage.models import EventRecord
from realtime.event_kinds import EventKind
from realtime.protocol import (
    EnterpriseDetails,
    HazardSourceDetails,
    ItemKind,
    ListRegistry,
    RegistryItemView,
    RegistryResult,
    Role,
)
from tests.backend.conftest import open_console

OFFICER = ("demo", "pw-demo-officer", Role.OFFICER)


async def list_over_the_wire(server: DutyDeskServer, kind: ItemKind) -> list[RegistryItemView]:
    console = await open_console(server, OFFICER[0], OFFICER[1])
    try:
        result = await console.client.request(ListRegistry(req="", kind=kind, limit=500))
    finally:
        await console.close()
    assert isinstance(result, RegistryResult)
    return result.items


async def stored_counts(server: DutyDeskServer) -> Counter[ItemKind]:
    counts: Counter[ItemKind] = Counter()
    for kind in ItemKind:
        counts[kind] = len(await server.registry_items.export_items(kind, with_contacts=False))
    return counts


async def imports_logged(server: DutyDeskServer) -> int:
    async with server.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(EventRecord)
            .where(EventRecord.kind == EventKind.REGISTRY_IMPORTED.value)
        )
    return int(found or 0)


def test_the_demo_server_starts_with_the_sample_registry() -> None:
    shipped = load_registry_json()
    expected = Counter(ItemKind(str(type(item.details).__struct_config__.tag)) for item in shipped)

    with demo_server([OFFICER]) as server:
        assert server.call(stored_counts(server.server)) == expected
        assert server.call(imports_logged(server.server)) == 1
        enterprises = server.call(list_over_the_wire(server.server, ItemKind.ENTERPRISE))
        hazard_sources = server.call(list_over_the_wire(server.server, ItemKind.HAZARD_SOURCE))
        plans = server.call(list_over_the_wire(server.server, ItemKind.PLAN))

        server.stop()
        server.start()
        assert server.call(imports_logged(server.server)) == 1, "imported once, not per start"
        assert server.call(stored_counts(server.server)) == expected

    assert len(enterprises) == expected[ItemKind.ENTERPRISE]
    park = next(item for item in enterprises if item.code == "E-JBHG")
    assert park.name == "江北化工有限公司"
    assert park.jurisdiction == "320116"
    assert isinstance(park.details, EnterpriseDetails)
    phones = [contact.phone for contact in park.details.contacts]
    assert phones
    assert all(re.fullmatch(r"138\*{4}\d{4}", phone) for phone in phones), phones
    tanks = next(item for item in hazard_sources if item.code == "HS-JBHG-A")
    assert isinstance(tanks.details, HazardSourceDetails)
    assert "h2s-0003" in tanks.details.sensors
    assert "CAM-A3" in tanks.details.cameras
    assert {plan.code for plan in plans} >= {"P-HCL-01", "P-HCT-01", "P-CGO-01"}


def test_an_ordinary_server_starts_with_an_empty_registry() -> None:
    with ServerThread(seed_sensors=True, seed_cameras=True) as server:
        assert sum(server.call(stored_counts(server.server)).values()) == 0
        assert server.call(imports_logged(server.server)) == 0


def test_a_registry_naming_unregistered_sensors_stops_the_start_naming_the_item(
    tmp_path: Path,
) -> None:
    # Without the sample sensors and cameras the hazard sources point at nothing: the
    # import refuses the whole file, naming the item, and the server does not start.
    server = ServerThread(
        data_dir=tmp_path,
        users=[OFFICER],
        seed_registry=load_registry_json(),
        registry_source="demo_registry.json",
    )
    with pytest.raises(ImportConflictError, match=r"hazard_source 'HS-[A-Z0-9-]+'.*sensor"):
        server.start()
