"""Human words for the registry: kinds, fields, choices, change actions and what is wrong
with a field, through Qt's translator (English source, Chinese in
``resources/translations``). Codes never reach the officer raw."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from desktop import texts
from desktop.map.basemap import region_for_jurisdiction
from desktop.registry.forms import GRADES, FieldError, Problem, spec_of
from desktop.registry.state import value_at
from realtime.protocol import (
    Availability,
    ErrorCode,
    ItemKind,
    RegistryChangeAction,
    RegistryItemView,
    RiskGrade,
    TargetCategory,
    TeamState,
)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Registry", text)


def kind_label(kind: ItemKind) -> str:
    """Return the name of a kind (企业, 重大危险源…)."""
    labels = {
        ItemKind.ENTERPRISE: _tr("Enterprises"),
        ItemKind.HAZARD_SOURCE: _tr("Major hazard sources"),
        ItemKind.TEAM: _tr("Emergency teams"),
        ItemKind.EQUIPMENT: _tr("Equipment and supplies"),
        ItemKind.SHELTER: _tr("Shelters"),
        ItemKind.EXPERT: _tr("Experts"),
        ItemKind.TARGET: _tr("Protection targets"),
        ItemKind.PLAN: _tr("Emergency plans"),
    }
    return labels[kind]


def field_label(name: str) -> str:
    """Return the label of a field (common or of a kind) or of a records column."""
    labels = {
        "code": _tr("Code"),
        "name": _tr("Name"),
        "jurisdiction": _tr("Jurisdiction"),
        "agency": _tr("Agency"),
        "address": _tr("Address"),
        "lat": _tr("Latitude"),
        "lon": _tr("Longitude"),
        "retired": _tr("Retired"),
        "version": _tr("Version"),
        "credit_code": _tr("Unified social credit code"),
        "industry": _tr("Industry"),
        "risk_grade": _tr("Risk grade"),
        "employees": _tr("Employees"),
        "contacts": _tr("Contacts"),
        "phone": _tr("Phone"),
        "role": _tr("Role"),
        "grade": _tr("Grade"),
        "enterprise": _tr("Enterprise (code)"),
        "chemicals": _tr("Chemicals"),
        "un_number": _tr("UN number"),
        "cas": _tr("CAS number"),
        "quantity_t": _tr("Quantity (t)"),
        "sensors": _tr("Sensors"),
        "cameras": _tr("Cameras"),
        "team_type": _tr("Team type"),
        "members": _tr("Members"),
        "capabilities": _tr("Capabilities"),
        "state": _tr("State"),
        "units": _tr("Units (codes)"),
        "vehicles": _tr("Vehicles (terminal numbers)"),
        "category": _tr("Category"),
        "quantity": _tr("Quantity"),
        "measure": _tr("Measure"),
        "owner": _tr("Held by"),
        "capacity": _tr("Capacity (people)"),
        "occupancy": _tr("Occupancy (people)"),
        "area_m2": _tr("Area (m²)"),
        "facilities": _tr("Facilities"),
        "specialties": _tr("Specialties"),
        "organisation": _tr("Organisation"),
        "title": _tr("Professional title"),
        "availability": _tr("Availability"),
        "population": _tr("Population"),
        "type_codes": _tr("Incident types (codes)"),
        "levels": _tr("Incident levels"),
        "response_level": _tr("Response level"),
        "roles": _tr("Roles"),
        "steps": _tr("Checklist steps"),
        "id": _tr("Step no."),
        "text": _tr("Step"),
        "within_min": _tr("Within (min)"),
        "resources": _tr("Resources required"),
        "capability": _tr("Capability"),
        "documents": _tr("Documents (attachment ids)"),
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
            RiskGrade.RED: _tr("Major risk (red)"),
            RiskGrade.ORANGE: _tr("Higher risk (orange)"),
            RiskGrade.YELLOW: _tr("General risk (yellow)"),
            RiskGrade.BLUE: _tr("Low risk (blue)"),
        }
    elif field == "state":
        labels = {
            TeamState.STANDBY: _tr("Standing by"),
            TeamState.DEPLOYED: _tr("Deployed"),
            TeamState.OFF_DUTY: _tr("Resting / unavailable"),
        }
    elif field == "availability":
        labels = {
            Availability.AVAILABLE: _tr("Available"),
            Availability.BUSY: _tr("Busy"),
            Availability.UNAVAILABLE: _tr("Unavailable"),
        }
    elif field == "category" and value in set(TargetCategory):
        labels = {
            TargetCategory.SCHOOL: _tr("School"),
            TargetCategory.KINDERGARTEN: _tr("Kindergarten"),
            TargetCategory.HOSPITAL: _tr("Hospital"),
            TargetCategory.NURSING_HOME: _tr("Nursing home"),
            TargetCategory.RESIDENTIAL: _tr("Residents' area"),
            TargetCategory.MARKET: _tr("Market / crowded place"),
            TargetCategory.GOVERNMENT: _tr("Government office"),
            TargetCategory.WATER_SOURCE: _tr("Drinking-water source"),
            TargetCategory.OTHER: _tr("Other"),
        }
    elif field == "grade":
        labels = dict(
            zip(
                GRADES,
                (_tr("Grade 1 (most dangerous)"), _tr("Grade 2"), _tr("Grade 3"), _tr("Grade 4")),
                strict=True,
            )
        )
    elif field in ("response_level", "levels"):
        labels = {
            "I": _tr("Level I"),
            "II": _tr("Level II"),
            "III": _tr("Level III"),
            "IV": _tr("Level IV"),
        }
    return labels.get(value, value)


def value_text(field: str, value: object) -> str:
    """A stored value (from an item or a change) as the officer reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _tr("Yes") if value else _tr("No")
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
    return choice_label(field, text)


def action_label(action: RegistryChangeAction) -> str:
    """Return what a change did (新建, 修改…)."""
    labels = {
        RegistryChangeAction.CREATED: _tr("Created"),
        RegistryChangeAction.UPDATED: _tr("Changed"),
        RegistryChangeAction.RETIRED: _tr("Retired"),
        RegistryChangeAction.RESTORED: _tr("Restored"),
        RegistryChangeAction.IMPORTED: _tr("Imported"),
    }
    return labels[action]


def change_lines(
    before: dict[str, object] | None, after: dict[str, object], changed: list[str]
) -> list[str]:
    """Each changed field as "label: before → after"."""
    return [
        _tr("{field}: {before} → {after}").format(
            field=change_field_label(path),
            before=value_text(path.rsplit(".", 1)[-1], value_at(before, path)),
            after=value_text(path.rsplit(".", 1)[-1], value_at(after, path)),
        )
        for path in changed
    ]


def problem_text(kind: ItemKind, error: FieldError) -> str:
    """What is wrong with a field, in words naming it (and its row)."""
    problems = {
        Problem.REQUIRED: _tr("required"),
        Problem.NOT_A_NUMBER: _tr("not a number"),
        Problem.NOT_WHOLE: _tr("must be a whole number"),
        Problem.OUT_OF_RANGE: _tr("out of range"),
        Problem.BAD_CODE: _tr("only letters, digits and _ . : - (no spaces)"),
        Problem.BAD_PHONE: _tr("not a phone number"),
        Problem.BAD_CREDIT_CODE: _tr("not a valid unified social credit code (18 characters)"),
        Problem.BAD_CHOICE: _tr("not one of the choices"),
        Problem.TOO_LONG: _tr("too long"),
        Problem.TOO_MANY: _tr("too many entries"),
        Problem.BOTH_OR_NEITHER: _tr("give both latitude and longitude, or neither"),
        Problem.OVER_CAPACITY: _tr("more than the capacity"),
        Problem.INVALID: _tr("not accepted"),
    }
    where = field_label(error.field) if error.field else _tr("Form")
    if spec_of(kind, error.field) is not None and error.row is not None:
        where = _tr("{field}, row {row}").format(field=where, row=error.row + 1)
    if error.column:
        where = f"{where} · {field_label(error.column)}"
    text = f"{where}: {problems[error.problem]}"
    if error.problem is Problem.INVALID and error.detail:
        text += f" ({error.detail})"
    return text


def refusal_text(code: str, message: str) -> str:
    """A refused registry command in the officer's words (with the server's)."""
    summaries: dict[str, str] = {
        ErrorCode.STALE_VERSION: _tr(
            "Someone else changed this item meanwhile; it was reloaded. Check and save again."
        ),
        ErrorCode.NOT_FOUND: _tr("Not found, or not in your area."),
        ErrorCode.FORBIDDEN: _tr("You may not change this item."),
        ErrorCode.VALIDATION: _tr("The server did not accept the item."),
    }
    summary = summaries.get(code) or texts.error_summary(code)
    return f"{summary} ({message})" if message else summary


def jurisdiction_label(code: str) -> str:
    """A jurisdiction code with its area's name when the basemap knows it."""
    if not code:
        return _tr("Whole area")
    region = region_for_jurisdiction(code)
    return f"{region.name}（{code}）" if region is not None and region.name else code


def item_title(item: RegistryItemView) -> str:
    """An item's name and code, marked when retired."""
    title = f"{item.name}（{item.code}）"
    return title + _tr(" [retired]") if item.retired else title
