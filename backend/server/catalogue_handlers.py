"""What ``catalogue.get`` does: the event catalogue the server runs with, as the wire
shows it, with a digest of its content so a console can keep a cached copy.
"""

from __future__ import annotations

import functools
import hashlib

import msgspec

from backend.incidents.catalogue import Catalogue, Name
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    CatalogueAreaView,
    CatalogueCategoryView,
    CatalogueDeadlines,
    CatalogueItemView,
    CatalogueResult,
    GetCatalogue,
)


def _names(name: Name) -> dict[str, str]:
    return {"name_zh": name.zh, "name_en": name.en}


@functools.lru_cache(maxsize=4)
def catalogue_views(catalogue: Catalogue) -> tuple[str, list[CatalogueAreaView]]:
    """The catalogue's digest and its areas as views (built once per catalogue)."""
    areas = [
        CatalogueAreaView(
            code=area.code,
            **_names(area.name),
            categories=[
                CatalogueCategoryView(
                    code=category.code,
                    **_names(category.name),
                    items=[
                        CatalogueItemView(
                            code=item.code,
                            **_names(item.name),
                            handling_level=item.handling_level,
                            reports_straight_to_district=item.reports_straight_to_district,
                            default_level=item.default_level,
                            deadlines=CatalogueDeadlines(
                                accept=item.deadlines.accept,
                                arrive=item.deadlines.arrive,
                                finish=item.deadlines.finish,
                            ),
                            agencies=list(item.agencies),
                        )
                        for item in category.items
                    ],
                )
                for category in area.categories
            ],
        )
        for area in catalogue.areas
    ]
    digest = hashlib.sha256(msgspec.json.encode(areas)).hexdigest()
    return digest, areas


async def get_catalogue(ctx: ConsoleContext, command: GetCatalogue) -> CatalogueResult:
    """The event catalogue, or ``unchanged`` when the console's copy is current."""
    digest, areas = catalogue_views(ctx.server.incidents.catalogue)
    if command.known_digest == digest:
        return CatalogueResult(digest=digest, unchanged=True)
    return CatalogueResult(digest=digest, areas=areas)
