"""The pure part of the registry items: what a kind is, which details carry contacts,
the checks that need no database (credit code, phones, coordinates, plan steps), masking
contacts, and the before/after of a change.

Sans-I/O, so the rules are tested on their own; :mod:`backend.registry.items` runs them
against the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from backend.errors import ValidationError
from backend.security import mask_phone
from realtime.protocol import (
    Contact,
    EnterpriseDetails,
    ItemKind,
    PlanDetails,
    RegistryDetails,
    RegistryItemInput,
    RegistryItemView,
)

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of a unified social credit code (GB 32100-2015: no I, O, S, V, Z)."""
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PHONE_RE = re.compile(r"^[0-9+\-() ]{3,24}$")
MASK = "*"

HISTORY_FIELDS = (
    "kind",
    "code",
    "name",
    "jurisdiction",
    "agency",
    "address",
    "lat",
    "lon",
    "details",
    "retired",
)
"""The fields of an item its history compares (bookkeeping such as ``version`` aside)."""


class ImportConflictError(ValidationError):
    """An item of an import cannot be written (a code twice in the file, a broken
    reference, an invalid field): nothing of the file is written; the message names the
    code."""


KIND_ORDER = {kind: index for index, kind in enumerate(ItemKind)}
"""The order items of a file are written in (enterprises before hazard sources)."""


def kind_of(details: RegistryDetails) -> ItemKind:
    """The kind a details struct is (its tag)."""
    return ItemKind(str(type(details).__struct_config__.tag))


def credit_code_check_char(first17: str) -> str:
    """The check character (the 18th) of a unified social credit code's first 17."""
    total = sum(
        CREDIT_CODE_CHARS.index(char) * weight
        for char, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def check_credit_code(code: str) -> str:
    """``code`` in upper case if it is a valid unified social credit code (or empty);
    else :class:`ValidationError` saying what is wrong."""
    code = code.strip().upper()
    if not code:
        return ""
    field = "details.credit_code"
    if len(code) != 18:
        raise ValidationError(f"{field}: a credit code has 18 characters, not {len(code)}")
    wrong = sorted({char for char in code if char not in CREDIT_CODE_CHARS})
    if wrong:
        raise ValidationError(
            f"{field}: {''.join(wrong)!r} cannot appear in a credit code (GB 32100-2015)"
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            f"{field}: {code} fails its check character (GB 32100-2015): a typo? "
            f"(the 18th should be {expected})"
        )
    return code


def contacts_of(details: RegistryDetails) -> list[Contact] | None:
    """The details' contacts; None for a kind that has none."""
    contacts = getattr(details, "contacts", None)
    return contacts if isinstance(contacts, list) else None


def with_contacts(details: RegistryDetails, contacts: list[Contact]) -> RegistryDetails:
    """``details`` with its contacts replaced (the same details for a kind without)."""
    if contacts_of(details) is None:
        return details
    return msgspec.structs.replace(details, contacts=contacts)


def masked_contacts(contacts: Sequence[Contact]) -> list[Contact]:
    """The contacts with their phone numbers masked."""
    return [msgspec.structs.replace(c, phone=mask_phone(c.phone)) for c in contacts]


def resolve_phones(incoming: Sequence[Contact], stored: Sequence[Contact]) -> list[Contact]:
    """The contacts to store: a masked number sent back unchanged (as a view showed it)
    keeps the stored number it stands for; a new number is checked.

    Raises :class:`ValidationError` for a number that is not one, and for a masked number
    that stands for none of the stored ones (never store the mask itself).
    """
    full: list[Contact] = []
    for index, contact in enumerate(incoming):
        phone = contact.phone.strip()
        field = f"details.contacts[{index}].phone"
        if MASK in phone:
            # The same place first (two numbers can mask alike), then any stored number.
            candidates = [*stored[index : index + 1], *stored]
            match = next((c.phone for c in candidates if mask_phone(c.phone) == phone), None)
            if match is None:
                raise ValidationError(
                    f"{field}: {phone!r} is masked and stands for no stored number; "
                    "type the full number"
                )
            phone = match
        elif phone and not _PHONE_RE.match(phone):
            # Personal data never goes into a message in full, not even a refusal's.
            raise ValidationError(f"{field}: {mask_phone(phone)!r} is not a phone number")
        full.append(msgspec.structs.replace(contact, phone=phone))
    return full


def check_common(item: RegistryItemInput) -> None:
    """The checks of the common fields and of the details that need no database."""
    if not item.name.strip():
        raise ValidationError("name: an item needs a name")
    if (item.lat is None) != (item.lon is None):
        raise ValidationError("lat/lon: give both latitude and longitude, or neither")
    details = item.details
    if isinstance(details, PlanDetails):
        seen: set[str] = set()
        for index, step in enumerate(details.steps):
            if step.id in seen:
                raise ValidationError(
                    f"details.steps[{index}].id: step {step.id!r} appears twice "
                    "(ticks name steps by id)"
                )
            seen.add(step.id)


def normalized(item: RegistryItemInput) -> RegistryItemInput:
    """``item`` with its texts trimmed and its credit code upper-cased (checked)."""
    details = item.details
    if isinstance(details, EnterpriseDetails):
        details = msgspec.structs.replace(
            details, credit_code=check_credit_code(details.credit_code)
        )
    return msgspec.structs.replace(
        item,
        name=item.name.strip(),
        jurisdiction=item.jurisdiction.strip(),
        agency=item.agency.strip(),
        address=item.address.strip(),
        details=details,
    )


def fields_of(view: RegistryItemView) -> dict[str, Any]:
    """The item's fields as its history shows them (contacts as the view has them)."""
    everything = msgspec.to_builtins(view)
    return {name: everything.get(name) for name in HISTORY_FIELDS}


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """The dotted names of the fields that differ (``details.capabilities``…)."""
    if before is None:
        return []
    changed: list[str] = []
    for name in HISTORY_FIELDS:
        old, new = before.get(name), after.get(name)
        if name == "details" and isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    changed.append(f"details.{key}")
        elif old != new:
            changed.append(name)
    return changed


def prepare_import(items: Sequence[RegistryItemInput], source: str) -> list[RegistryItemInput]:
    """The items of a file checked alone and in the order they can be written
    (enterprises before the hazard sources that name them)."""
    order = sorted(
        range(len(items)),
        key=lambda index: KIND_ORDER[kind_of(items[index].details)],
    )
    seen: set[tuple[ItemKind, str]] = set()
    prepared: list[RegistryItemInput] = []
    for index in order:
        item = items[index]
        key = (kind_of(item.details), item.code)
        if key in seen:
            raise ImportConflictError(f"{key[0]} {item.code!r} appears twice in {source}")
        seen.add(key)
        try:
            prepared.append(normalized(item))
        except ValidationError as exc:
            raise ImportConflictError(f"{key[0]} {item.code!r}: {exc.message}") from exc
    return prepared
