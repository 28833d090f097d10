"""The event catalogue (事件分类) on the wire: ``catalogue.get``.

The server runs with one catalogue (areas → categories → items). A console asks for it to
offer a picker wherever an event type is chosen; the answer carries a ``digest`` of its
content, so a console that cached it sends the digest back (``known_digest``) and gets
``unchanged`` with no areas when the server's catalogue is the same.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from realtime.incident_states import HandlingLevel, IncidentLevel
from realtime.protocol.common import Tagged

Digest = Annotated[str, msgspec.Meta(max_length=128)]


class GetCatalogue(Tagged, tag="catalogue.get"):
    """Ask for the event catalogue; ``known_digest`` is the digest of a cached copy."""

    req: str
    known_digest: Digest = ""


class CatalogueDeadlines(msgspec.Struct, kw_only=True):
    """Minutes from sending a task by which it must be accepted, reached and finished;
    ``None``: that deadline does not apply."""

    accept: int | None = None
    arrive: int | None = None
    finish: int | None = None


class CatalogueItemView(msgspec.Struct, kw_only=True):
    """One type of incident (事项): its ``code`` is the ``type_code`` of commands."""

    code: str
    name_zh: str
    name_en: str = ""
    handling_level: HandlingLevel
    reports_straight_to_district: bool = False
    """Reported to the district at once (直报), whichever level handles it."""
    default_level: IncidentLevel = IncidentLevel.IV
    deadlines: CatalogueDeadlines = msgspec.field(default_factory=CatalogueDeadlines)
    agencies: list[str] = msgspec.field(default_factory=list)
    """Agency codes usually tasked, in the order a dispatcher would send them."""


class CatalogueCategoryView(msgspec.Struct, kw_only=True):
    """A category (类别) of items."""

    code: str
    name_zh: str
    name_en: str = ""
    items: list[CatalogueItemView]


class CatalogueAreaView(msgspec.Struct, kw_only=True):
    """An area (领域) of categories."""

    code: str
    name_zh: str
    name_en: str = ""
    categories: list[CatalogueCategoryView]


class CatalogueResult(msgspec.Struct, tag="catalogue", kw_only=True):
    """The server's catalogue, or ``unchanged`` (no areas) when ``known_digest`` matched."""

    digest: str
    """Identifies the content: equal digests, equal catalogues."""
    unchanged: bool = False
    areas: list[CatalogueAreaView] = msgspec.field(default_factory=list)
