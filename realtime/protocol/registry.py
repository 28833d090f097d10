"""The registry (台账) a command centre keeps for years, and what it decides from it.

- **Items**: one shape for every kind the registry keeps: enterprises, major hazard
  sources (重大危险源), emergency teams, equipment and supplies, shelters, experts,
  protection targets (schools, hospitals, residents' areas: 防护目标) and emergency plans
  (预案). Each has the common fields of :class:`RegistryItemView` and the details of its
  kind (a tagged :data:`RegistryDetails`). ``registry.list`` / ``registry.get`` /
  ``registry.save`` / ``registry.retire`` / ``registry.history`` / ``registry.reveal``.
  Every change is one event (``registry.changed``) with who, when, before and after, so
  the history is the event log's.
- **Plans in an incident**: ``incident.checklist`` shows the checklist of the plan that
  matches the incident's type and level (who ticked which step, when);
  ``incident.tick`` ticks or unticks one step.
- **Recommendation**: ``recommend`` ranks teams, units, equipment, experts and shelters
  for an incident (or a point and type) by estimated travel time and by how well each
  matches what the plan requires, and says why; it warns when sending a team would leave
  its area without cover.
- **Decision support**: ``decision.support`` for a hazardous-chemical leak or fire: the
  chemicals' hazard notes, the initial isolation and protective-action rings, and what
  lies inside them (enterprises, protection targets, shelters, cameras, sensors).

Personal data (enterprise contacts, experts' phone numbers) travels masked
(``138****5678``); ``registry.reveal`` returns it in full to a role that may see it, and is
audited like an alarm caller's number.

:mod:`realtime.protocol.console` and :mod:`realtime.protocol.server` add the commands and
results to their unions; who may send which is the server's permission table
(docs/protocol.md).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import msgspec

from realtime.protocol.common import Latitude, Longitude, LongText, ShortText, Tagged

MAX_REGISTRY_PAGE = 500
"""Items per ``registry.list`` page at most."""
MAX_LIST_ENTRIES = 200
"""Entries per list field of an item (chemicals, capabilities, contacts, steps…)."""

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
"""An item's code: unique within its kind, stable for years (files, links and plans name
items by it)."""
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Label = Annotated[str, msgspec.Meta(max_length=64)]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
Amount = Annotated[float, msgspec.Meta(ge=0.0, le=1e12)]
Labels = Annotated[list[Label], msgspec.Meta(max_length=MAX_LIST_ENTRIES)]
Codes = Annotated[list[Code], msgspec.Meta(max_length=MAX_LIST_ENTRIES)]
PageSize = Annotated[int, msgspec.Meta(ge=1, le=MAX_REGISTRY_PAGE)]
Minutes = Annotated[float, msgspec.Meta(ge=0.0, le=10_000.0)]
LevelName = Annotated[str, msgspec.Meta(pattern="^(I|II|III|IV)$")]
"""An incident or response level, I (the gravest) … IV."""
DocumentId = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Metres = Annotated[float, msgspec.Meta(ge=0.0, le=200_000.0)]


class ItemKind(enum.StrEnum):
    """What a registry item is."""

    ENTERPRISE = "enterprise"
    """企业: a company the bureau supervises."""
    HAZARD_SOURCE = "hazard_source"
    """重大危险源: a major hazard installation of an enterprise (GB 18218), graded 一–四级."""
    TEAM = "team"
    """应急队伍: an emergency team (fire brigade detachment, hazmat team, mine rescue…)."""
    EQUIPMENT = "equipment"
    """应急装备物资: equipment and supplies held somewhere by someone."""
    SHELTER = "shelter"
    """避难场所: an emergency shelter."""
    EXPERT = "expert"
    """专家: an expert the command centre may call."""
    TARGET = "target"
    """防护目标: a school, hospital, residents' area… that a leak or fire would endanger."""
    PLAN = "plan"
    """应急预案: an emergency plan for an incident type and level."""


class RiskGrade(enum.StrEnum):
    """An enterprise's safety risk grade (安全风险等级), red the highest."""

    RED = "red"
    """重大风险"""
    ORANGE = "orange"
    """较大风险"""
    YELLOW = "yellow"
    """一般风险"""
    BLUE = "blue"
    """低风险"""


class TeamState(enum.StrEnum):
    """Whether a team can be sent now."""

    STANDBY = "standby"
    """待命: available."""
    DEPLOYED = "deployed"
    """出动中: out on an incident."""
    OFF_DUTY = "off_duty"
    """休整/不可用."""


class Availability(enum.StrEnum):
    """Whether an expert can be called now."""

    AVAILABLE = "available"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"


class TargetCategory(enum.StrEnum):
    """What a protection target (防护目标) is."""

    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    HOSPITAL = "hospital"
    NURSING_HOME = "nursing_home"
    RESIDENTIAL = "residential"
    """居民区: a residents' area."""
    MARKET = "market"
    """商场/集贸市场: a crowded place."""
    GOVERNMENT = "government"
    WATER_SOURCE = "water_source"
    """饮用水源地."""
    OTHER = "other"


class Contact(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A person to call. ``phone`` is personal data: masked in views unless revealed."""

    name: Annotated[str, msgspec.Meta(max_length=64)] = ""
    role: Label = ""
    """e.g. 主要负责人, 安全负责人, 值班电话."""
    phone: Annotated[str, msgspec.Meta(max_length=32)] = ""
    # Left out of the JSON unless set, so contacts without one encode as before.
    email: Annotated[str, msgspec.Meta(max_length=128)] | msgspec.UnsetType = msgspec.UNSET
    """Personal data like ``phone`` (masked in views): where published notices are mailed."""


Contacts = Annotated[list[Contact], msgspec.Meta(max_length=20)]


class ChemicalAmount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A chemical held at a hazard source (or carried by a tanker)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """Chinese name as in the Catalogue of Hazardous Chemicals (e.g. 液氯)."""
    un_number: Annotated[str, msgspec.Meta(max_length=8)] = ""
    """e.g. ``1017`` (chlorine): the key into the chemicals table."""
    cas: Annotated[str, msgspec.Meta(max_length=16)] = ""
    quantity_t: Amount = 0.0
    """Tonnes held (design maximum)."""


class EnterpriseDetails(msgspec.Struct, tag="enterprise", kw_only=True, forbid_unknown_fields=True):
    """An enterprise (企业)."""

    credit_code: Annotated[str, msgspec.Meta(max_length=18)] = ""
    """统一社会信用代码 (GB 32100-2015, 18 characters with its check character; checked)."""
    industry: Label = ""
    """e.g. 危险化学品生产, 煤矿, 烟花爆竹, 冶金."""
    risk_grade: RiskGrade = RiskGrade.BLUE
    contacts: Contacts = msgspec.field(default_factory=list)
    employees: Count = 0


class HazardSourceDetails(
    msgspec.Struct, tag="hazard_source", kw_only=True, forbid_unknown_fields=True
):
    """A major hazard source (重大危险源)."""

    grade: Annotated[int, msgspec.Meta(ge=1, le=4)]
    """一级 (1, the most dangerous) … 四级 (4)."""
    enterprise: Code | None = None
    """The enterprise's code."""
    chemicals: Annotated[list[ChemicalAmount], msgspec.Meta(max_length=MAX_LIST_ENTRIES)] = (
        msgspec.field(default_factory=list)
    )
    sensors: Codes = msgspec.field(default_factory=list)
    """Sensor ids (the sensor registry's ``sensor_id``) attached to it."""
    cameras: Codes = msgspec.field(default_factory=list)
    """Camera codes attached to it."""


class TeamDetails(msgspec.Struct, tag="team", kw_only=True, forbid_unknown_fields=True):
    """An emergency team (应急队伍)."""

    team_type: Label
    """e.g. 综合性消防救援, 危化品救援, 矿山救护, 医疗救护, 森林消防."""
    members: Count = 0
    capabilities: Labels = msgspec.field(default_factory=list)
    """What it can do, in the plan's words (e.g. ``hazmat``, ``rescue``, ``medical``,
    ``firefighting``, ``mine_rescue``, ``water_rescue``, ``decontamination``)."""
    state: TeamState = TeamState.STANDBY
    units: Codes = msgspec.field(default_factory=list)
    """Codes of the dispatchable units (the ``units`` registry) that belong to it."""
    vehicles: Codes = msgspec.field(default_factory=list)
    """Device identities (JT/T 808 phone numbers) of its vehicles: where they are now is
    where the team is, when they report."""
    contacts: Contacts = msgspec.field(default_factory=list)


class EquipmentDetails(msgspec.Struct, tag="equipment", kw_only=True, forbid_unknown_fields=True):
    """Equipment or supplies (应急装备物资)."""

    category: Label
    """e.g. 防化服, 堵漏器材, 泡沫灭火剂, 帐篷, 发电机."""
    quantity: Amount = 0.0
    measure: Label = ""
    """The unit it is counted in (套, 台, 吨, 顶…)."""
    owner: ShortText = ""
    """Who holds it (a team's or an enterprise's code, or a depot's name)."""
    capabilities: Labels = msgspec.field(default_factory=list)
    """What it serves, in the plan's words (as a team's capabilities)."""


class ShelterDetails(msgspec.Struct, tag="shelter", kw_only=True, forbid_unknown_fields=True):
    """An emergency shelter (应急避难场所)."""

    capacity: Count
    """People it takes."""
    occupancy: Count = 0
    """People in it now."""
    area_m2: Amount = 0.0
    facilities: Labels = msgspec.field(default_factory=list)
    """e.g. 供水, 供电, 医疗, 厕所, 物资储备."""
    contacts: Contacts = msgspec.field(default_factory=list)


class ExpertDetails(msgspec.Struct, tag="expert", kw_only=True, forbid_unknown_fields=True):
    """An expert (专家)."""

    specialties: Labels = msgspec.field(default_factory=list)
    """e.g. 危险化学品, 矿山安全, 消防, 医疗救治, 地质灾害."""
    organisation: ShortText = ""
    title: Label = ""
    """Professional title (教授级高工…)."""
    availability: Availability = Availability.AVAILABLE
    contacts: Contacts = msgspec.field(default_factory=list)


class TargetDetails(msgspec.Struct, tag="target", kw_only=True, forbid_unknown_fields=True):
    """A protection target (防护目标)."""

    category: TargetCategory
    population: Count = 0
    """People usually there (pupils, beds, residents)."""
    contacts: Contacts = msgspec.field(default_factory=list)


class PlanStep(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One step of a plan's checklist."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    """Stable within the plan (ticks name it)."""
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    role: Label = ""
    """Who does it (a role of the plan: 总指挥, 现场指挥, 值班员, an agency code…)."""
    within_min: Minutes | None = None
    """Due this many minutes after the incident opens (shown; not escalated)."""


class ResourceNeed(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A resource a plan requires: a capability and how many teams or how much of it."""

    capability: Label
    """Matched against teams' and equipment's capabilities."""
    quantity: Amount = 1.0


class PlanDetails(msgspec.Struct, tag="plan", kw_only=True, forbid_unknown_fields=True):
    """An emergency plan (应急预案)."""

    type_codes: Annotated[list[Label], msgspec.Meta(min_length=1, max_length=MAX_LIST_ENTRIES)]
    """The event catalogue items it covers (``hazchem_leak``…)."""
    levels: Annotated[
        list[Annotated[str, msgspec.Meta(pattern="^(I|II|III|IV)$")]], msgspec.Meta(max_length=4)
    ] = msgspec.field(default_factory=list)
    """Incident levels it covers (I–IV); empty: every level."""
    response_level: LevelName = "IV"
    """The response level (响应级别) it starts."""
    roles: Labels = msgspec.field(default_factory=list)
    """The roles it names (总指挥, 现场指挥部, 专家组, …)."""
    steps: Annotated[list[PlanStep], msgspec.Meta(max_length=MAX_LIST_ENTRIES)] = msgspec.field(
        default_factory=list
    )
    resources: Annotated[list[ResourceNeed], msgspec.Meta(max_length=MAX_LIST_ENTRIES)] = (
        msgspec.field(default_factory=list)
    )
    specialties: Labels = msgspec.field(default_factory=list)
    """Expert specialties it asks for."""
    documents: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=80)]], msgspec.Meta(max_length=20)
    ] = msgspec.field(default_factory=list)
    """Attachment ids of its documents (PDF), fetched with ``attachment.get``."""


RegistryDetails = (
    EnterpriseDetails
    | HazardSourceDetails
    | TeamDetails
    | EquipmentDetails
    | ShelterDetails
    | ExpertDetails
    | TargetDetails
    | PlanDetails
)
"""The details of an item, tagged by its kind (``{"type": "team", …}``)."""


class RegistryItemView(msgspec.Struct, kw_only=True):
    """A registry item as a console sees it (personal data masked)."""

    kind: ItemKind
    code: str
    name: str
    version: int
    """Bumped by every change; ``registry.save`` names the version it read."""
    jurisdiction: str = ""
    agency: str = ""
    """The owning agency's code (a team's, an agency's equipment): its desks edit it."""
    address: str = ""
    """As written (addresses are kept as text, never geocoded silently)."""
    lat: float | None = None
    lon: float | None = None
    """WGS-84 (imported GCJ-02 coordinates are converted on the way in)."""
    details: RegistryDetails
    retired: bool = False
    """Retired (注销) items stay for their history; lists leave them out unless asked."""
    updated_at: dt.datetime
    updated_by: str = ""


class RegistryItemInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What ``registry.save`` writes (the kind is the details' tag)."""

    code: Code
    name: Name
    jurisdiction: Annotated[str, msgspec.Meta(max_length=32)] = ""
    agency: Annotated[str, msgspec.Meta(max_length=64)] = ""
    address: ShortText = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    details: RegistryDetails


class ListRegistry(Tagged, tag="registry.list"):
    """Ask for registry items the user may see, ordered by kind then code; ``after_code``
    pages on (within one kind)."""

    req: str
    kind: ItemKind | None = None
    jurisdiction: Annotated[str, msgspec.Meta(max_length=32)] = ""
    """Only items inside this jurisdiction (a prefix of the user's own or below)."""
    text: ShortText = ""
    """Matches code, name or address (substring, case-insensitive)."""
    include_retired: bool = False
    limit: PageSize = 200
    after_code: str | None = None


class GetRegistryItem(Tagged, tag="registry.get"):
    """Ask for one item."""

    req: str
    kind: ItemKind
    code: Code


class SaveRegistryItem(Tagged, tag="registry.save"):
    """Create an item (``expected_version`` None: the code must be new) or change one
    (the version read; a newer one is ``stale_version``). Masked contact numbers sent back
    unchanged keep the stored numbers."""

    req: str
    item: RegistryItemInput
    expected_version: int | None = None
    note: LongText = ""


class RetireRegistryItem(Tagged, tag="registry.retire"):
    """Retire (注销) an item, or bring it back (``retired=False``)."""

    req: str
    kind: ItemKind
    code: Code
    expected_version: int
    retired: bool = True
    note: LongText = ""


class GetRegistryHistory(Tagged, tag="registry.history"):
    """Ask for every change of one item, oldest first (the events that wrote it)."""

    req: str
    kind: ItemKind
    code: Code


class RevealRegistryContact(Tagged, tag="registry.reveal"):
    """Ask for an item's contacts in full (audited; the note says why)."""

    req: str
    kind: ItemKind
    code: Code
    note: ShortText = ""


class RegistryChangeAction(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RETIRED = "retired"
    RESTORED = "restored"
    IMPORTED = "imported"
    """Written by a file import (created or changed)."""


class RegistryChangeView(msgspec.Struct, kw_only=True):
    """One change of an item: the payload of its ``registry.changed`` event."""

    seq: int
    at: dt.datetime
    by: str
    action: RegistryChangeAction
    before: dict[str, object] | None = None
    """The item's fields before (None when created); personal data masked."""
    after: dict[str, object]
    changed: list[str] = msgspec.field(default_factory=list)
    """The names of the fields that changed (``details.capabilities``…)."""
    note: str = ""


class RegistryResult(msgspec.Struct, tag="registry", kw_only=True):
    """A page of registry items; ``next_after_code`` None: no more."""

    items: list[RegistryItemView]
    next_after_code: str | None = None


class RegistryItemResult(msgspec.Struct, tag="registry_item", kw_only=True):
    """One item (after a save or retire: as stored)."""

    item: RegistryItemView


class RegistryHistoryResult(msgspec.Struct, tag="registry_history", kw_only=True):
    kind: ItemKind
    code: str
    changes: list[RegistryChangeView]


class RegistryContactResult(msgspec.Struct, tag="registry_contact", kw_only=True):
    kind: ItemKind
    code: str
    contacts: list[Contact]


# ---------------------------------------------------------------------- plans in incidents


class GetChecklist(Tagged, tag="incident.checklist"):
    """Ask for the plan checklist(s) of an incident."""

    req: str
    incident_id: int


class TickStep(Tagged, tag="incident.tick"):
    """Tick (or untick) one step of a plan's checklist in an incident."""

    req: str
    incident_id: int
    plan_code: Code
    step_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    done: bool = True
    note: ShortText = ""


class ChecklistStepView(msgspec.Struct, kw_only=True):
    id: str
    text: str
    role: str = ""
    within_min: float | None = None
    due_at: dt.datetime | None = None
    done: bool = False
    done_by: str = ""
    done_at: dt.datetime | None = None
    note: str = ""


class ChecklistView(msgspec.Struct, kw_only=True):
    """A plan as it stands in one incident."""

    plan_code: str
    plan_name: str
    response_level: str
    roles: list[str] = msgspec.field(default_factory=list)
    documents: list[str] = msgspec.field(default_factory=list)
    steps: list[ChecklistStepView]


class ChecklistResult(msgspec.Struct, tag="checklist", kw_only=True):
    """The incident's checklists (empty when no plan matches its type and level)."""

    incident_id: int
    checklists: list[ChecklistView]


# -------------------------------------------------------------------------- recommendation


class TravelBasis(enum.StrEnum):
    """How an ETA was estimated."""

    ROAD = "road"
    """Shortest path over the loaded road network."""
    STRAIGHT_LINE = "straight_line"
    """Straight-line distance × the detour factor, at the kind's speed (docs)."""
    NONE = "none"
    """No position known: ranked after every resource with one."""


class Recommend(Tagged, tag="recommend"):
    """Rank the resources for an incident (its place, type, level and plan), or for a
    point and a catalogue type when there is no incident yet."""

    req: str
    incident_id: int | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    type_code: Annotated[str, msgspec.Meta(max_length=48)] = ""
    level: Annotated[str, msgspec.Meta(pattern="^(I|II|III|IV|)$")] = ""
    kinds: list[ItemKind] = msgspec.field(default_factory=list)
    """Which kinds to rank (empty: teams, equipment, experts, shelters; units always)."""
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20
    """Per kind."""


class RankedResource(msgspec.Struct, kw_only=True):
    """One resource in a ranking, with why it is there."""

    rank: int
    """1 = best, within its kind."""
    kind: str
    """An :class:`ItemKind` value, or ``unit``."""
    code: str
    name: str
    agency: str = ""
    jurisdiction: str = ""
    lat: float | None = None
    lon: float | None = None
    distance_km: float | None = None
    eta_min: float | None = None
    travel: TravelBasis = TravelBasis.NONE
    from_vehicle: str = ""
    """The vehicle whose latest fix gave the position (else: the base)."""
    matched: list[str] = msgspec.field(default_factory=list)
    """Capabilities / specialties the plan asks for that it has."""
    missing: list[str] = msgspec.field(default_factory=list)
    """Those it lacks."""
    match: float = 0.0
    """Share of the plan's needs it meets, 0–1."""
    available: bool = True
    """False: deployed, off duty, busy, or a shelter that is full (ranked last)."""
    spare: float | None = None
    """Shelters: places left; equipment: quantity."""
    score: float
    """What the order is by (lower first): ETA in minutes with the penalties (docs)."""
    warnings: list[str] = msgspec.field(default_factory=list)
    """e.g. ``no_cover:310101001`` when sending it leaves that area without cover within
    the cover time."""


class Recommendation(msgspec.Struct, tag="recommendation", kw_only=True):
    """The ranking, per kind, for one place and plan."""

    incident_id: int | None = None
    lat: float
    lon: float
    type_code: str = ""
    plan_code: str = ""
    """The plan whose needs were matched ("" when none matches)."""
    needs: list[str] = msgspec.field(default_factory=list)
    cover_minutes: float
    """Within how many minutes an area must keep a team (the server's setting)."""
    items: list[RankedResource]
    ranked_at: dt.datetime


# ------------------------------------------------------------------------ decision support


class ChemicalView(msgspec.Struct, kw_only=True):
    """A hazardous chemical's notes from the shipped table (resources/chemicals)."""

    un_number: str
    name: str
    """Chinese name."""
    name_en: str = ""
    cas: str = ""
    hazard_class: str = ""
    """UN class (2.3, 3, 8…)."""
    hazards: str = ""
    first_aid: str = ""
    firefighting: str = ""
    spill: str = ""
    isolation_m: float
    """Initial isolation distance, all directions (small spill / fire: see ``large``)."""
    protect_day_m: float
    """Protective-action distance downwind, by day."""
    protect_night_m: float
    source: str
    """Where these figures come from."""


class SupportRequest(Tagged, tag="decision.support"):
    """Decision support for a hazardous-chemical leak or fire: at an incident's place (or a
    point), for the chemicals named (UN numbers or Chinese names), or those of the hazard
    source / tanker the incident is at when none is named."""

    req: str
    incident_id: int | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    chemicals: Annotated[list[Label], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )
    hazard_source: Code | None = None
    large_spill: bool = False
    night: bool | None = None
    """None: from the server's clock at the place (UTC+8 18:00–06:00 is night)."""
    fire: bool = False
    """A fire: the isolation ring is at least the fire distance (800 m for tankers)."""
    radius_m: Metres | None = None
    """Override the outer ring (metres); else the largest protective-action distance."""


class RingKind(enum.StrEnum):
    ISOLATION = "isolation"
    """初始隔离区."""
    PROTECTIVE = "protective"
    """防护行动区 (downwind, drawn as a circle when the wind is unknown)."""
    CUSTOM = "custom"


class RingView(msgspec.Struct, kw_only=True):
    kind: RingKind
    radius_m: float
    chemical: str = ""
    """The UN number whose distance set it."""


class ExposedView(msgspec.Struct, kw_only=True):
    """Something inside a ring."""

    kind: str
    """An :class:`ItemKind` value, ``camera`` or ``sensor``."""
    code: str
    name: str
    category: str = ""
    """A target's category, an enterprise's industry, a sensor's kind."""
    distance_m: float
    ring: RingKind
    population: int | None = None
    lat: float | None = None
    lon: float | None = None


class DecisionSupport(msgspec.Struct, tag="decision", kw_only=True):
    """What a commander needs at a glance for a hazardous-chemical incident."""

    incident_id: int | None = None
    lat: float
    lon: float
    hazard_source: str = ""
    chemicals: list[ChemicalView]
    unknown_chemicals: list[str] = msgspec.field(default_factory=list)
    """Names asked for that the table does not hold (shown, never silently dropped)."""
    rings: list[RingView]
    exposed: list[ExposedView]
    """Nearest first."""
    population: int = 0
    """People in the protection targets inside the outer ring."""
    night: bool
