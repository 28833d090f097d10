"""The registry as the console holds it (no Qt): items by kind and code, the changes of
the items whose history was read, and the filters of the panel.

Loads replace a kind's items; ``registry.changed`` events from the live stream update one
item (the version decides, so a late answer never undoes a newer event) and extend the
history held for it. Listeners hear which kind changed and, for one item, which code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

import msgspec

from realtime.event_kinds import EventKind
from realtime.protocol import (
    Event,
    ItemKind,
    RegistryChangeView,
    RegistryItemView,
    Role,
    UserInfo,
)

EDITING_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.AGENCY})
"""Roles offered the editing controls (a courtesy: the server's permission table decides)."""

ItemKey = tuple[ItemKind, str]


@dataclasses.dataclass(frozen=True, slots=True)
class RegistryUpdate:
    """What changed: one item of ``kind`` (``code``), or the whole kind (``code`` None)."""

    kind: ItemKind
    code: str | None = None


RegistryListener = Callable[[RegistryUpdate], None]


def may_edit(user: UserInfo | None) -> bool:
    """Whether this user's console offers new, edit, retire and reveal at all."""
    return user is not None and user.role in EDITING_ROLES


def may_edit_item(user: UserInfo | None, item: RegistryItemView) -> bool:
    """Whether this user's console offers editing ``item``: inside the user's
    jurisdiction, and for an agency's desk only its agency's items (as the server checks)."""
    if user is None or not may_edit(user):
        return False
    if not item.jurisdiction.startswith(user.jurisdiction):
        return False
    if user.role is Role.AGENCY and user.agency is None:
        return False  # an agency's desk without an agency changes nothing
    return user.agency is None or item.agency == user.agency


@dataclasses.dataclass(frozen=True, slots=True)
class RegistryFilter:
    """What the panel shows of one kind: inside a jurisdiction, matching a text."""

    kind: ItemKind
    jurisdiction: str = ""
    """A jurisdiction code prefix ("": every one)."""
    text: str = ""
    """Every word must appear in the code, name, address or agency (case-insensitive)."""
    include_retired: bool = False

    def matches(self, item: RegistryItemView) -> bool:
        """Whether ``item`` passes the filter."""
        if item.kind is not self.kind:
            return False
        if item.retired and not self.include_retired:
            return False
        if self.jurisdiction and not item.jurisdiction.startswith(self.jurisdiction):
            return False
        haystack = f"{item.code} {item.name} {item.address} {item.agency}".casefold()
        return all(word in haystack for word in self.text.casefold().split())


def value_at(fields: Mapping[str, object] | None, path: str) -> object:
    """The value at a dotted ``path`` (``details.members``) of a change's before/after
    (None when absent)."""
    current: object = fields
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


class RegistryState:
    """The registry items the console holds, and the histories it read."""

    def __init__(self) -> None:
        self.user: UserInfo | None = None
        self._items: dict[ItemKey, RegistryItemView] = {}
        self._histories: dict[ItemKey, list[RegistryChangeView]] = {}
        self._awaited: dict[ItemKey, list[RegistryChangeView]] = {}
        """Changes that arrived live while an item's history was being read."""
        self.loaded_kinds: set[ItemKind] = set()
        """Kinds whose list has been read at least once."""
        self._listeners: list[RegistryListener] = []

    # ------------------------------------------------------------------ listeners

    def add_listener(self, listener: RegistryListener) -> Callable[[], None]:
        """Call ``listener`` on every change; return what removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _tell(self, update: RegistryUpdate) -> None:
        for listener in list(self._listeners):
            listener(update)

    # ------------------------------------------------------------------ reading

    def item(self, kind: ItemKind, code: str) -> RegistryItemView | None:
        """The item ``code`` of ``kind``, if held."""
        return self._items.get((kind, code))

    def items(self, kind: ItemKind) -> list[RegistryItemView]:
        """Every item of ``kind`` held (retired ones too), ordered by code."""
        return sorted(
            (item for (held, _), item in self._items.items() if held is kind),
            key=lambda item: item.code,
        )

    def count(self, kind: ItemKind) -> int:
        """How many items of ``kind`` are held (retired ones too)."""
        return sum(1 for held, _ in self._items if held is kind)

    def awaiting_history(self, kind: ItemKind, code: str) -> bool:
        """Whether an item's history is being read."""
        return (kind, code) in self._awaited

    def forget_histories(self) -> None:
        """Drop the histories held (after a reconnect they are read again when shown)."""
        self._histories.clear()
        self._awaited.clear()

    def history_failed(self, kind: ItemKind, code: str) -> None:
        """Reading an item's history failed: it may be asked again."""
        self._awaited.pop((kind, code), None)

    def matching(self, chosen: RegistryFilter) -> list[RegistryItemView]:
        """The items passing ``chosen``, ordered by code."""
        return [item for item in self.items(chosen.kind) if chosen.matches(item)]

    def jurisdictions(self, kind: ItemKind) -> list[str]:
        """The jurisdictions the items of ``kind`` lie in (for the filter), sorted."""
        return sorted({item.jurisdiction for item in self.items(kind) if item.jurisdiction})

    def history(self, kind: ItemKind, code: str) -> list[RegistryChangeView] | None:
        """The changes of an item, oldest first (None: not read yet)."""
        return self._histories.get((kind, code))

    def placed(self, kinds: Iterable[ItemKind] | None = None) -> list[RegistryItemView]:
        """The items (not retired) that have a place, for the map."""
        wanted = set(kinds) if kinds is not None else set(ItemKind)
        return [
            item
            for (kind, _), item in sorted(self._items.items())
            if kind in wanted and not item.retired and item.lat is not None and item.lon is not None
        ]

    # ------------------------------------------------------------------ changing

    def set_user(self, user: UserInfo) -> None:
        """Remember who is logged in (another user's items are forgotten first)."""
        if self.user is not None and self.user.username != user.username:
            self.clear()
        self.user = user

    def clear(self) -> None:
        """Forget everything (another login)."""
        kinds = {kind for kind, _ in self._items} | self.loaded_kinds
        self._items.clear()
        self._histories.clear()
        self._awaited.clear()
        self.loaded_kinds.clear()
        for kind in sorted(kinds):
            self._tell(RegistryUpdate(kind))

    def replace_kind(self, kind: ItemKind, items: Iterable[RegistryItemView]) -> None:
        """Hold exactly ``items`` for ``kind`` (a complete list read from the server)."""
        for key in [key for key in self._items if key[0] is kind]:
            del self._items[key]
        for item in items:
            if item.kind is kind:
                self._items[(kind, item.code)] = item
        self.loaded_kinds.add(kind)
        self._tell(RegistryUpdate(kind))

    def add_items(self, kind: ItemKind, items: Iterable[RegistryItemView]) -> None:
        """Add a further page of ``kind``'s list."""
        for item in items:
            if item.kind is kind:
                self._keep(item)
        self._tell(RegistryUpdate(kind))

    def upsert(self, item: RegistryItemView) -> bool:
        """Take one item as the server has it now; return whether it was newer."""
        if not self._keep(item):
            return False
        self._tell(RegistryUpdate(item.kind, item.code))
        return True

    def _keep(self, item: RegistryItemView) -> bool:
        held = self._items.get((item.kind, item.code))
        if held is not None and held.version > item.version:
            return False
        self._items[(item.kind, item.code)] = item
        return True

    def expect_history(self, kind: ItemKind, code: str) -> None:
        """An item's history is being read: changes arriving meanwhile are kept for it
        (the answer may have been written before them)."""
        self._awaited.setdefault((kind, code), [])

    def set_history(self, kind: ItemKind, code: str, changes: Iterable[RegistryChangeView]) -> None:
        """Hold the history read for an item (with the changes that arrived meanwhile)."""
        merged = {change.seq: change for change in self._awaited.pop((kind, code), [])}
        merged.update((change.seq, change) for change in changes)
        self._histories[(kind, code)] = sorted(merged.values(), key=lambda change: change.seq)
        self._tell(RegistryUpdate(kind, code))

    def apply_event(self, event: Event) -> bool:
        """Apply a ``registry.changed`` event; return whether it was one that applied."""
        if event.kind != EventKind.REGISTRY_CHANGED or isinstance(
            event.registry_item, msgspec.UnsetType
        ):
            return False
        item = event.registry_item
        key = (item.kind, item.code)
        held = self._histories.get(key, self._awaited.get(key))
        change = event.registry_change
        if held is not None and not isinstance(change, msgspec.UnsetType):
            # The payload has no seq of its own: the event's is the change's.
            change = msgspec.structs.replace(change, seq=event.seq)
            if all(known.seq != change.seq for known in held):
                held.append(change)
                held.sort(key=lambda known: known.seq)
        if not self._keep(item) and held is None:
            return False
        self._tell(RegistryUpdate(item.kind, item.code))
        return True
