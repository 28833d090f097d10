"""What each registry command does (``registry.list`` / ``get`` / ``save`` / ``retire`` /
``history`` / ``reveal``): one small function per command, named in the command table
(:mod:`backend.server.commands`), which has already checked the role's permission.

The registry service (:class:`backend.registry.items.RegistryService`) applies the scope
rule :attr:`~backend.authz.policy.Scope.REGISTRY` to every item it reads or changes; an
item outside the user's scope is refused exactly like a missing one. Contacts come back
masked, except from ``registry.reveal`` (audited, limited per hour).
"""

from __future__ import annotations

from backend.registry.items import RegistryService
from backend.server.handlers import ConsoleContext
from realtime.protocol import (
    GetRegistryHistory,
    GetRegistryItem,
    ListRegistry,
    RegistryContactResult,
    RegistryHistoryResult,
    RegistryItemResult,
    RegistryResult,
    RetireRegistryItem,
    RevealRegistryContact,
    SaveRegistryItem,
)


def _service(ctx: ConsoleContext) -> RegistryService:
    return ctx.server.registry_items


async def list_registry(ctx: ConsoleContext, command: ListRegistry) -> RegistryResult:
    """A page of the items the user may see."""
    items, cursor = await _service(ctx).list_items(
        ctx.principal,
        kind=command.kind,
        jurisdiction=command.jurisdiction,
        text=command.text,
        include_retired=command.include_retired,
        limit=command.limit,
        after_code=command.after_code,
    )
    return RegistryResult(items=items, next_after_code=cursor)


async def get_item(ctx: ConsoleContext, command: GetRegistryItem) -> RegistryItemResult:
    """One item."""
    item = await _service(ctx).get(ctx.principal, command.kind, command.code)
    return RegistryItemResult(item=item)


async def save_item(ctx: ConsoleContext, command: SaveRegistryItem) -> RegistryItemResult:
    """Create or change an item (one ``registry.changed`` event)."""
    item = await _service(ctx).save(
        ctx.principal, command.item, command.expected_version, command.note
    )
    return RegistryItemResult(item=item)


async def retire_item(ctx: ConsoleContext, command: RetireRegistryItem) -> RegistryItemResult:
    """Retire (注销) an item, or restore it."""
    item = await _service(ctx).retire(
        ctx.principal,
        command.kind,
        command.code,
        command.expected_version,
        retired=command.retired,
        note=command.note,
    )
    return RegistryItemResult(item=item)


async def item_history(ctx: ConsoleContext, command: GetRegistryHistory) -> RegistryHistoryResult:
    """Every change of an item, oldest first."""
    changes = await _service(ctx).history(ctx.principal, command.kind, command.code)
    return RegistryHistoryResult(kind=command.kind, code=command.code, changes=changes)


async def reveal_contacts(
    ctx: ConsoleContext, command: RevealRegistryContact
) -> RegistryContactResult:
    """An item's contacts in full (audited; limited per user and hour)."""
    contacts = await _service(ctx).reveal_contacts(
        ctx.principal, command.kind, command.code, command.note
    )
    return RegistryContactResult(kind=command.kind, code=command.code, contacts=contacts)
