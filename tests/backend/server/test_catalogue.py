"""``catalogue.get`` over a real connection: the server's catalogue as the console shows
it, a cached copy confirmed by its digest, a broken request refused while the session
goes on."""

from __future__ import annotations

import pytest

from backend.incidents.catalogue import load_catalogue
from backend.server.app import DutyDeskServer
from realtime.client import CommandError
from realtime.protocol import CatalogueResult, ErrorCode, GetCatalogue, Ping, Pong
from tests.backend.conftest import open_console


async def _get(server: DutyDeskServer, known_digest: str = "") -> CatalogueResult:
    console = await open_console(server)
    try:
        result = await console.client.request(GetCatalogue(req="", known_digest=known_digest))
    finally:
        await console.close()
    assert isinstance(result, CatalogueResult)
    return result


async def test_the_console_gets_every_item_with_its_level_and_deadlines(
    server: DutyDeskServer,
) -> None:
    result = await _get(server)
    expected = load_catalogue()
    items = {
        item.code: item
        for area in result.areas
        for category in area.categories
        for item in category.items
    }
    assert list(items) == [item.code for item in expected.items()]
    assert not result.unchanged
    for code, view in items.items():
        item = expected.item(code)
        assert (view.name_zh, view.name_en) == (item.name.zh, item.name.en)
        assert view.handling_level == item.handling_level
        assert view.reports_straight_to_district == item.reports_straight_to_district
        assert view.default_level == item.default_level
        assert (view.deadlines.accept, view.deadlines.arrive, view.deadlines.finish) == (
            item.deadlines.accept,
            item.deadlines.arrive,
            item.deadlines.finish,
        )
        assert tuple(view.agencies) == item.agencies


async def test_a_cached_copy_is_confirmed_by_its_digest(server: DutyDeskServer) -> None:
    first = await _get(server)
    again = await _get(server, known_digest=first.digest)
    assert (again.unchanged, again.digest, again.areas) == (True, first.digest, [])
    # A stale or made-up digest gets the whole catalogue.
    stale = await _get(server, known_digest="0" * 64)
    assert (stale.unchanged, stale.digest, stale.areas) == (False, first.digest, first.areas)


async def test_an_oversized_digest_is_refused_and_the_session_goes_on(
    server: DutyDeskServer,
) -> None:
    console = await open_console(server)
    try:
        with pytest.raises(CommandError) as refused:
            await console.client.request(GetCatalogue(req="", known_digest="x" * 129))
        assert refused.value.code is ErrorCode.BAD_MESSAGE
        assert isinstance(await console.client.request(Ping(req="")), Pong)
    finally:
        await console.close()
