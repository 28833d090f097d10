"""The event catalogue as the console holds it (no Qt): the server's areas → categories →
items from ``catalogue.get``, the digest to ask again with, and the search of the picker.

A search matches an item by its Chinese or English name or its code (case-insensitive,
every word of the query must match somewhere); a query naming an area or a category
keeps all its items, so "危化" finds every item of the hazardous-chemicals category.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from realtime.protocol import (
    CatalogueAreaView,
    CatalogueCategoryView,
    CatalogueItemView,
    CatalogueResult,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Branch:
    """A category with the items that a search keeps, under its area."""

    area: CatalogueAreaView
    category: CatalogueCategoryView
    items: tuple[CatalogueItemView, ...]


def _words_of(code: str, zh: str, en: str) -> str:
    return f"{code} {zh} {en}".casefold()


class CatalogueState:
    """The catalogue held by the console, indexed by item code."""

    def __init__(self) -> None:
        self.digest = ""
        self.areas: tuple[CatalogueAreaView, ...] = ()
        self._index: dict[str, tuple[CatalogueAreaView, CatalogueCategoryView, CatalogueItemView]]
        self._index = {}

    @property
    def loaded(self) -> bool:
        """The catalogue has been received at least once."""
        return bool(self.areas)

    def apply(self, result: CatalogueResult) -> bool:
        """Take the server's answer; return whether what is held changed (``unchanged``
        confirms the copy held)."""
        if result.unchanged:
            return False
        self.digest = result.digest
        self.areas = tuple(result.areas)
        self._index = {
            item.code: (area, category, item)
            for area in self.areas
            for category in area.categories
            for item in category.items
        }
        return True

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def item(self, code: str) -> CatalogueItemView | None:
        """The item ``code``, if the catalogue has it."""
        found = self._index.get(code)
        return found[2] if found is not None else None

    def path_of(self, code: str) -> tuple[CatalogueAreaView, CatalogueCategoryView] | None:
        """The area and category of item ``code``."""
        found = self._index.get(code)
        return (found[0], found[1]) if found is not None else None

    def items(self) -> Iterator[CatalogueItemView]:
        """Every item, in catalogue order."""
        for _area, _category, item in self._index.values():
            yield item

    def search(self, query: str) -> list[Branch]:
        """The categories with the items matching ``query`` (all of them for an empty
        query), in catalogue order; categories left empty are dropped."""
        words = query.casefold().split()
        branches: list[Branch] = []
        for area in self.areas:
            area_text = _words_of(area.code, area.name_zh, area.name_en)
            for category in area.categories:
                above = (
                    area_text + " " + _words_of(category.code, category.name_zh, category.name_en)
                )
                kept = tuple(
                    item
                    for item in category.items
                    if all(
                        word in above or word in _words_of(item.code, item.name_zh, item.name_en)
                        for word in words
                    )
                )
                if kept:
                    branches.append(Branch(area, category, kept))
        return branches

    def matches(self, query: str) -> list[CatalogueItemView]:
        """The items matching ``query``, in catalogue order."""
        return [item for branch in self.search(query) for item in branch.items]
