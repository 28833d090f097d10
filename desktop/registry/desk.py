"""The bridge between the registry state and the server: loads and commands.

:class:`RegistryDesk` reads a kind's items (every page, retired ones too: the panel
filters) when the panel first shows it and again each time the link becomes live (a
reconnect may have missed changes), applies every ``registry.changed`` event to the
:class:`~desktop.registry.state.RegistryState`, and sends save, retire, history and reveal
through the :class:`~desktop.service.ConsoleService`. A save refused for a stale version
reloads the item so the officer sees what is there now.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QCoreApplication, QObject, Signal

from desktop.registry.labels import refusal_text
from desktop.registry.state import RegistryState
from desktop.service import ConsoleService
from realtime.client import ConnectionState
from realtime.protocol import (
    MAX_REGISTRY_PAGE,
    Contact,
    ErrorCode,
    Event,
    GetRegistryHistory,
    GetRegistryItem,
    ItemKind,
    ListRegistry,
    RegistryContactResult,
    RegistryHistoryResult,
    RegistryItemInput,
    RegistryItemResult,
    RegistryItemView,
    RegistryResult,
    ResultData,
    RetireRegistryItem,
    RevealRegistryContact,
    SaveRegistryItem,
    Welcome,
)

logger = logging.getLogger(__name__)

MAX_PAGES = 400
"""Pages read for one kind at most (200,000 items): a server that never ends a list
cannot keep the console reading."""


class RegistryDesk(QObject):
    """Keeps the registry state current and carries out the officer's registry commands."""

    message = Signal(str, bool)
    """(text, is_error) of an outcome, for the notification bar."""
    saved = Signal(object)
    """The item as stored after a save (a :class:`~realtime.protocol.RegistryItemView`)."""
    save_refused = Signal(str, str, str)
    """(error code, the officer's words, the server's message) of a refused save (a stale
    version reloads the item)."""
    contacts_revealed = Signal(object, object, list)
    """(kind, code, contacts in full) of a reveal."""
    load_failed = Signal(object, str)
    """(kind, the officer's words) when a kind could not be read."""

    def __init__(
        self,
        service: ConsoleService,
        state: RegistryState | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self.state = state if state is not None else RegistryState()
        self._live = service.state is ConnectionState.LIVE
        self._wanted: set[ItemKind] = set()
        self._loading: dict[ItemKind, int] = {}
        """The generation of each kind's list being read (a newer load drops older pages)."""
        self._generation = 0
        if service.user is not None:
            # The login was announced before this desk existed.
            self.state.set_user(service.user)
        service.welcomed.connect(self.on_welcome)
        service.connection_changed.connect(self._on_connection_changed)
        service.event_received.connect(self._on_event)

    @property
    def service(self) -> ConsoleService:
        """The console's link to the server (the plan documents box talks through it)."""
        return self._service

    def on_welcome(self, welcome: Welcome) -> None:
        """Remember who logged in (another user's items are forgotten)."""
        self.state.set_user(welcome.user)

    def _on_connection_changed(self, state: ConnectionState, _detail: str) -> None:
        live = state is ConnectionState.LIVE
        became_live = live and not self._live
        self._live = live
        if not became_live:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            logger.debug("no running loop: the registry is not read")
            return
        # What changed while the link was down: the lists are read again, and the
        # histories when next shown.
        self.state.forget_histories()
        for kind in sorted(self._wanted):
            self.load(kind)

    def _on_event(self, event: Event) -> None:
        self.state.apply_event(event)

    # ------------------------------------------------------------------ reading

    def want(self, kind: ItemKind) -> None:
        """The panel shows ``kind``: read it now unless held (and after every reconnect)."""
        self._wanted.add(kind)
        if kind not in self.state.loaded_kinds and kind not in self._loading:
            self.load(kind)

    def load(self, kind: ItemKind) -> None:
        """Read every item of ``kind`` (page by page), then hold exactly those."""
        self._wanted.add(kind)
        self._generation += 1
        self._loading[kind] = self._generation
        self._load_page(kind, None, [], 0)

    @property
    def loading(self) -> frozenset[ItemKind]:
        """The kinds being read now."""
        return frozenset(self._loading)

    def _load_page(
        self, kind: ItemKind, after: str | None, held: list[RegistryItemView], pages: int
    ) -> None:
        generation = self._loading[kind]

        def answered(result: ResultData) -> None:
            if not isinstance(result, RegistryResult) or self._loading.get(kind) != generation:
                return
            items = held + list(result.items)
            cursor = result.next_after_code
            # A cursor that does not move on would page forever: what came is kept.
            moved = cursor is not None and (after is None or cursor > after)
            if cursor is not None and not moved:
                logger.warning("registry %s: the server's page cursor did not move", kind)
            if moved and cursor is not None and pages + 1 < MAX_PAGES:
                self._load_page(kind, cursor, items, pages + 1)
            else:
                del self._loading[kind]
                self.state.replace_kind(kind, items)

        def failed(code: str, message: str) -> None:
            if self._loading.get(kind) != generation:
                return
            del self._loading[kind]
            logger.info("registry %s not loaded: %s %s", kind, code, message)
            self.load_failed.emit(kind, refusal_text(code, message))

        command = ListRegistry(
            req="", kind=kind, include_retired=True, limit=MAX_REGISTRY_PAGE, after_code=after
        )
        self._service.query(command, answered, failed)

    def load_item(self, kind: ItemKind, code: str) -> None:
        """Read one item again (after a refused save)."""
        self._service.query(
            GetRegistryItem(req="", kind=kind, code=code), self._on_result, self._on_read_error
        )

    def load_history(self, kind: ItemKind, code: str) -> None:
        """Read an item's changes."""
        self.state.expect_history(kind, code)

        def failed(code_: str, message: str) -> None:
            self.state.history_failed(kind, code)
            self._on_read_error(code_, message)

        self._service.query(
            GetRegistryHistory(req="", kind=kind, code=code), self._on_result, failed
        )

    def _on_result(self, result: ResultData) -> None:
        if isinstance(result, RegistryItemResult):
            self.state.upsert(result.item)
        elif isinstance(result, RegistryHistoryResult):
            self.state.set_history(result.kind, result.code, result.changes)

    def _on_read_error(self, code: str, message: str) -> None:
        logger.info("registry read refused: %s %s", code, message)
        self.message.emit(refusal_text(code, message), True)

    # ------------------------------------------------------------------ commands

    def save(self, item: RegistryItemInput, expected_version: int | None, note: str = "") -> None:
        """Create (``expected_version`` None) or change an item."""
        kind = ItemKind(str(item.details.__struct_config__.tag))

        def succeeded(result: ResultData) -> None:
            if not isinstance(result, RegistryItemResult):
                return
            self.state.upsert(result.item)
            self.saved.emit(result.item)
            self.message.emit(
                QCoreApplication.translate("Registry", "Saved: {name}").format(
                    name=result.item.name
                ),
                False,
            )

        def failed(code: str, message: str) -> None:
            logger.info("registry.save refused: %s %s", code, message)
            self.save_refused.emit(code, refusal_text(code, message), message)
            if code == ErrorCode.STALE_VERSION:
                self.load_item(kind, item.code)

        command = SaveRegistryItem(req="", item=item, expected_version=expected_version, note=note)
        self._service.query(command, succeeded, failed)

    def retire(self, item: RegistryItemView, *, retired: bool, note: str = "") -> None:
        """Retire (注销) an item, or restore it."""

        def succeeded(result: ResultData) -> None:
            self._on_result(result)
            done = (
                QCoreApplication.translate("Registry", "Retired: {name}")
                if retired
                else QCoreApplication.translate("Registry", "Restored: {name}")
            )
            self.message.emit(done.format(name=item.name), False)

        def failed(code: str, message: str) -> None:
            logger.info("registry.retire refused: %s %s", code, message)
            self.message.emit(refusal_text(code, message), True)
            if code == ErrorCode.STALE_VERSION:
                self.load_item(item.kind, item.code)

        command = RetireRegistryItem(
            req="",
            kind=item.kind,
            code=item.code,
            expected_version=item.version,
            retired=retired,
            note=note,
        )
        self._service.query(command, succeeded, failed)

    def reveal(self, kind: ItemKind, code: str, note: str) -> None:
        """Ask for an item's contacts in full (audited, with the reason)."""

        def succeeded(result: ResultData) -> None:
            if isinstance(result, RegistryContactResult):
                contacts: list[Contact] = list(result.contacts)
                self.contacts_revealed.emit(result.kind, result.code, contacts)

        self._service.query(
            RevealRegistryContact(req="", kind=kind, code=code, note=note),
            succeeded,
            self._on_read_error,
        )
