"""Human words for the registry: kinds, fields, choices, change actions and what is wrong
with a field, through Qt's translator (English source, Chinese in
``resources/translations``). Codes never reach the officer raw."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from PySide6.QtCore import QCoreApplication

from desktop import texts
from desktop.map.basemap import region_for_jurisdiction
from desktop.registry.forms import GRADES, FieldError, Problem, spec_of
from desktop.registry.state import value_at
from realtime.protocol import (
    Availability,
    ErrorCode,
    Event,
    ItemKind,
    RegistryChangeAction,
    RegistryItemView,
    RiskGrade,
    TargetCategory,
    TeamState,
)


def kind_label(kind: ItemKind) -> str:
    """Return the name of a kind (企业, 重大危险源…)."""
    labels = {
        ItemKind.ENTERPRISE: QCoreApplication.translate("Registry", "Enterprises"),
        ItemKind.HAZARD_SOURCE: QCoreApplication.translate("Registry", "Major hazard sources"),
        ItemKind.TEAM: QCoreApplication.translate("Registry", "Emergency teams"),
        ItemKind.EQUIPMENT: QCoreApplication.translate("Registry", "Equipment and supplies"),
        ItemKind.SHELTER: QCoreApplication.translate("Registry", "Shelters"),
        ItemKind.EXPERT: QCoreApplication.translate("Registry", "Experts"),
        ItemKind.TARGET: QCoreApplication.translate("Registry", "Protection targets"),
        ItemKind.PLAN: QCoreApplication.translate("Registry", "Emergency plans"),
    }
    return labels[kind]


def field_label(name: str) -> str:
    """Return the label of a field (common or of a kind) or of a records column."""
    labels = {
        "code": QCoreApplication.translate("Registry", "Code"),
        "name": QCoreApplication.translate("Registry", "Name"),
        "jurisdiction": QCoreApplication.translate("Registry", "Jurisdiction"),
        "agency": QCoreApplication.translate("Registry", "Agency"),
        "address": QCoreApplication.translate("Registry", "Address"),
        "lat": QCoreApplication.translate("Registry", "Latitude"),
        "lon": QCoreApplication.translate("Registry", "Longitude"),
        "retired": QCoreApplication.translate("Registry", "Retired"),
        "version": QCoreApplication.translate("Registry", "Version"),
        "credit_code": QCoreApplication.translate("Registry", "Unified social credit code"),
        "industry": QCoreApplication.translate("Registry", "Industry"),
        "risk_grade": QCoreApplication.translate("Registry", "Risk grade"),
        "employees": QCoreApplication.translate("Registry", "Employees"),
        "contacts": QCoreApplication.translate("Registry", "Contacts"),
        "phone": QCoreApplication.translate("Registry", "Phone"),
        "role": QCoreApplication.translate("Registry", "Role"),
        "grade": QCoreApplication.translate("Registry", "Grade"),
        "enterprise": QCoreApplication.translate("Registry", "Enterprise (code)"),
        "chemicals": QCoreApplication.translate("Registry", "Chemicals"),
        "un_number": QCoreApplication.translate("Registry", "UN number"),
        "cas": QCoreApplication.translate("Registry", "CAS number"),
        "quantity_t": QCoreApplication.translate("Registry", "Quantity (t)"),
        "sensors": QCoreApplication.translate("Registry", "Sensors"),
        "cameras": QCoreApplication.translate("Registry", "Cameras"),
        "team_type": QCoreApplication.translate("Registry", "Team type"),
        "members": QCoreApplication.translate("Registry", "Members"),
        "capabilities": QCoreApplication.translate("Registry", "Capabilities"),
        "state": QCoreApplication.translate("Registry", "State"),
        "units": QCoreApplication.translate("Registry", "Units (codes)"),
        "vehicles": QCoreApplication.translate("Registry", "Vehicles (terminal numbers)"),
        "category": QCoreApplication.translate("Registry", "Category"),
        "quantity": QCoreApplication.translate("Registry", "Quantity"),
        "measure": QCoreApplication.translate("Registry", "Measure"),
        "owner": QCoreApplication.translate("Registry", "Held by"),
        "capacity": QCoreApplication.translate("Registry", "Capacity (people)"),
        "occupancy": QCoreApplication.translate("Registry", "Occupancy (people)"),
        "area_m2": QCoreApplication.translate("Registry", "Area (m²)"),
        "facilities": QCoreApplication.translate("Registry", "Facilities"),
        "specialties": QCoreApplication.translate("Registry", "Specialties"),
        "organisation": QCoreApplication.translate("Registry", "Organisation"),
        "title": QCoreApplication.translate("Registry", "Professional title"),
        "availability": QCoreApplication.translate("Registry", "Availability"),
        "population": QCoreApplication.translate("Registry", "Population"),
        "type_codes": QCoreApplication.translate("Registry", "Incident types (codes)"),
        "levels": QCoreApplication.translate("Registry", "Incident levels"),
        "response_level": QCoreApplication.translate("Registry", "Response level"),
        "roles": QCoreApplication.translate("Registry", "Roles"),
        "steps": QCoreApplication.translate("Registry", "Checklist steps"),
        "id": QCoreApplication.translate("Registry", "Step no."),
        "text": QCoreApplication.translate("Registry", "Step"),
        "within_min": QCoreApplication.translate("Registry", "Within (min)"),
        "resources": QCoreApplication.translate("Registry", "Resources required"),
        "capability": QCoreApplication.translate("Registry", "Capability"),
        "documents": QCoreApplication.translate("Registry", "Documents (attachment ids)"),
    }
    return labels.get(name, name)


def change_field_label(path: str) -> str:
    """Return the label of a changed field named by its path (``details.members``)."""
    return field_label(path.rsplit(".", 1)[-1])


def choice_label(field: str, value: str) -> str:
    """Return the label of a choice value (a risk grade, a team state, 一级…)."""
    labels: dict[str, str] = {}
    if field == "risk_grade":
        labels = {
            RiskGrade.RED: QCoreApplication.translate("Registry", "Major risk (red)"),
            RiskGrade.ORANGE: QCoreApplication.translate("Registry", "Higher risk (orange)"),
            RiskGrade.YELLOW: QCoreApplication.translate("Registry", "General risk (yellow)"),
            RiskGrade.BLUE: QCoreApplication.translate("Registry", "Low risk (blue)"),
        }
    elif field == "state":
        labels = {
            TeamState.STANDBY: QCoreApplication.translate("Registry", "Standing by"),
            TeamState.DEPLOYED: QCoreApplication.translate("Registry", "Deployed"),
            TeamState.OFF_DUTY: QCoreApplication.translate("Registry", "Resting / unavailable"),
        }
    elif field == "availability":
        labels = {
            Availability.AVAILABLE: QCoreApplication.translate("Registry", "Available"),
            Availability.BUSY: QCoreApplication.translate("Registry", "Busy"),
            Availability.UNAVAILABLE: QCoreApplication.translate("Registry", "Unavailable"),
        }
    elif field == "category" and value in set(TargetCategory):
        labels = {
            TargetCategory.SCHOOL: QCoreApplication.translate("Registry", "School"),
            TargetCategory.KINDERGARTEN: QCoreApplication.translate("Registry", "Kindergarten"),
            TargetCategory.HOSPITAL: QCoreApplication.translate("Registry", "Hospital"),
            TargetCategory.NURSING_HOME: QCoreApplication.translate("Registry", "Nursing home"),
            TargetCategory.RESIDENTIAL: QCoreApplication.translate("Registry", "Residents' area"),
            TargetCategory.MARKET: QCoreApplication.translate("Registry", "Market / crowded place"),
            TargetCategory.GOVERNMENT: QCoreApplication.translate("Registry", "Government office"),
            TargetCategory.WATER_SOURCE: QCoreApplication.translate(
                "Registry", "Drinking-water source"
            ),
            TargetCategory.OTHER: QCoreApplication.translate("Registry", "Other"),
        }
    elif field == "grade":
        labels = dict(
            zip(
                GRADES,
                (
                    QCoreApplication.translate("Registry", "Grade 1 (most dangerous)"),
                    QCoreApplication.translate("Registry", "Grade 2"),
                    QCoreApplication.translate("Registry", "Grade 3"),
                    QCoreApplication.translate("Registry", "Grade 4"),
                ),
                strict=True,
            )
        )
    elif field in ("capabilities", "capability"):
        labels = capability_labels()
    elif field in ("response_level", "levels"):
        labels = {
            "I": QCoreApplication.translate("Registry", "Level I"),
            "II": QCoreApplication.translate("Registry", "Level II"),
            "III": QCoreApplication.translate("Registry", "Level III"),
            "IV": QCoreApplication.translate("Registry", "Level IV"),
        }
    return labels.get(value, value)


def capability_labels() -> dict[str, str]:
    """The capabilities plans and teams share, by their code (others are shown as typed)."""
    return {
        "hazmat": QCoreApplication.translate("Registry", "Hazmat response"),
        "rescue": QCoreApplication.translate("Registry", "Rescue"),
        "medical": QCoreApplication.translate("Registry", "Medical"),
        "firefighting": QCoreApplication.translate("Registry", "Firefighting"),
        "mine_rescue": QCoreApplication.translate("Registry", "Mine rescue"),
        "water_rescue": QCoreApplication.translate("Registry", "Water rescue"),
        "decontamination": QCoreApplication.translate("Registry", "Decontamination"),
    }


_TYPE_NAMES: dict[str, str] = {}
"""The event catalogue's names of incident types (code → Chinese name)."""


def set_type_names(names: Mapping[str, str]) -> None:
    """Take the catalogue's incident-type names, for plans' ``type_codes``."""
    _TYPE_NAMES.clear()
    _TYPE_NAMES.update(names)


def type_label(code: str) -> str:
    """An incident type by its catalogue name and code (the code alone when unknown)."""
    name = _TYPE_NAMES.get(code)
    return f"{name}（{code}）" if name else code


def value_text(field: str, value: object) -> str:
    """A stored value (from an item or a change) as the officer reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return (
            QCoreApplication.translate("Registry", "Yes")
            if value
            else QCoreApplication.translate("Registry", "No")
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list):
        return "；".join(value_text(field, entry) for entry in value) or "—"
    if isinstance(value, dict):
        parts = [str(part) for part in value.values() if part not in (None, "", [])]
        return " ".join(parts) or "—"
    text = str(value)
    if field == "agency":
        return texts.agency_label(text)
    if field == "type_codes":
        return type_label(text)
    return choice_label(field, text)


def action_label(action: RegistryChangeAction) -> str:
    """Return what a change did (新建, 修改…)."""
    labels = {
        RegistryChangeAction.CREATED: QCoreApplication.translate("Registry", "Created"),
        RegistryChangeAction.UPDATED: QCoreApplication.translate("Registry", "Changed"),
        RegistryChangeAction.RETIRED: QCoreApplication.translate("Registry", "Retired"),
        RegistryChangeAction.RESTORED: QCoreApplication.translate("Registry", "Restored"),
        RegistryChangeAction.IMPORTED: QCoreApplication.translate("Registry", "Imported"),
    }
    return labels[action]


def change_lines(
    before: dict[str, object] | None, after: dict[str, object], changed: list[str]
) -> list[str]:
    """Each changed field as "label: before → after"."""
    return [
        QCoreApplication.translate("Registry", "{field}: {before} → {after}").format(
            field=change_field_label(path),
            before=value_text(path.rsplit(".", 1)[-1], value_at(before, path)),
            after=value_text(path.rsplit(".", 1)[-1], value_at(after, path)),
        )
        for path in changed
    ]


def problem_text(kind: ItemKind, error: FieldError) -> str:
    """What is wrong with a field, in words naming it (and its row)."""
    problems = {
        Problem.REQUIRED: QCoreApplication.translate("Registry", "required"),
        Problem.NOT_A_NUMBER: QCoreApplication.translate("Registry", "not a number"),
        Problem.NOT_WHOLE: QCoreApplication.translate("Registry", "must be a whole number"),
        Problem.OUT_OF_RANGE: QCoreApplication.translate("Registry", "out of range"),
        Problem.BAD_CODE: QCoreApplication.translate(
            "Registry", "only letters, digits and _ . : - (no spaces)"
        ),
        Problem.BAD_PHONE: QCoreApplication.translate("Registry", "not a phone number"),
        Problem.BAD_CREDIT_CODE: QCoreApplication.translate(
            "Registry", "not a valid unified social credit code (18 characters)"
        ),
        Problem.BAD_CHOICE: QCoreApplication.translate("Registry", "not one of the choices"),
        Problem.TOO_LONG: QCoreApplication.translate("Registry", "too long"),
        Problem.TOO_MANY: QCoreApplication.translate("Registry", "too many entries"),
        Problem.BOTH_OR_NEITHER: QCoreApplication.translate(
            "Registry", "give both latitude and longitude, or neither"
        ),
        Problem.OVER_CAPACITY: QCoreApplication.translate("Registry", "more than the capacity"),
        Problem.INVALID: QCoreApplication.translate("Registry", "not accepted"),
    }
    where = (
        field_label(error.field) if error.field else QCoreApplication.translate("Registry", "Form")
    )
    if spec_of(kind, error.field) is not None and error.row is not None:
        where = QCoreApplication.translate("Registry", "{field}, row {row}").format(
            field=where, row=error.row + 1
        )
    if error.column:
        where = f"{where} · {field_label(error.column)}"
    text = f"{where}: {problems[error.problem]}"
    if error.problem is Problem.INVALID and error.detail:
        text += f" ({error.detail})"
    return text


def refusal_text(code: str, message: str) -> str:
    """A refused registry command in the officer's words (with the server's)."""
    summaries: dict[str, str] = {
        ErrorCode.STALE_VERSION: QCoreApplication.translate(
            "Registry",
            "Someone else changed this item meanwhile; it was reloaded. Check and save again.",
        ),
        ErrorCode.NOT_FOUND: QCoreApplication.translate(
            "Registry", "Not found, or not in your area."
        ),
        ErrorCode.FORBIDDEN: QCoreApplication.translate(
            "Registry", "You may not change this item."
        ),
        ErrorCode.VALIDATION: QCoreApplication.translate(
            "Registry", "The server did not accept the item."
        ),
    }
    summary = summaries.get(code) or texts.error_summary(code)
    return f"{summary} ({message})" if message else summary


def jurisdiction_label(code: str) -> str:
    """A jurisdiction code with its area's name when the basemap knows it."""
    if not code:
        return QCoreApplication.translate("Registry", "Whole area")
    region = region_for_jurisdiction(code)
    return f"{region.name}（{code}）" if region is not None and region.name else code


def item_title(item: RegistryItemView) -> str:
    """An item's name and code, marked when retired."""
    title = f"{item.name}（{item.code}）"
    return title + QCoreApplication.translate("Registry", " [retired]") if item.retired else title


def registry_event_text(event: Event) -> str | None:
    """What a registry event is about, for the event log: the kind, the item, what was
    done and which fields changed (None for other events)."""
    item = event.registry_item
    if isinstance(item, msgspec.UnsetType):
        return None
    parts = [kind_label(item.kind), item_title(item)]
    change = event.registry_change
    if not isinstance(change, msgspec.UnsetType):
        parts.append(action_label(change.action))
        names = "、".join(change_field_label(path) for path in change.changed)
        if names:
            parts.append(names)
    return " · ".join(parts)
