"""Hidden-danger investigation and rectification (隐患排查治理) on the wire.

Enterprises (users of the ``enterprise`` role, bound to one enterprise of the registry and
seeing nothing else) report the hidden dangers their self-inspections find; the bureau's
officers record their inspections (执法检查) and the dangers found. Each hidden danger runs

    reported → assigned → rectifying → rectified → verified
                 (deadline passed before rectified) → overdue → supervised (挂牌督办)

``assign`` names the person responsible and the deadline; ``complete`` says it is
rectified (with photos); an officer ``verify``-s it (or ``reject``-s it back to
rectifying). A deadline passing raises ``danger.overdue`` and escalates to the area's
supervisors as an incident task's deadline does; a supervisor puts an overdue danger under
supervision with a new deadline. Photos are attachments (``attachment.upload`` with
``danger_id``). ``danger.stats`` sums it per enterprise, industry or jurisdiction with a
rank; ``danger.export`` gives the same as an Excel workbook.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final

import msgspec

from realtime.protocol.common import AwareDateTime, Latitude, Longitude, ShortText, Tagged

MAX_DANGER_TEXT: Final = 2000
MAX_FINDINGS: Final = 50
"""The most hidden dangers one inspection records."""
MAX_DANGER_PAGE: Final = 500

DangerText = Annotated[str, msgspec.Meta(max_length=MAX_DANGER_TEXT)]
EnterpriseCode = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
]


class DangerGrade(enum.StrEnum):
    """隐患等级."""

    GENERAL = "general"
    """一般隐患: the enterprise can remove it itself, soon."""
    MAJOR = "major"
    """重大隐患: hard to remove, or needs production stopped; reported to the bureau and
    supervised (挂牌督办) when overdue."""


class DangerCategory(enum.StrEnum):
    """What kind of hidden danger (the categories of the bureau's forms)."""

    SITE = "site"
    """现场管理 (housekeeping, passages, signs)"""
    EQUIPMENT = "equipment"
    """设备设施"""
    OPERATION = "operation"
    """作业行为 (violations, permits to work)"""
    MANAGEMENT = "management"
    """安全管理 (rules, training, records)"""
    FIRE = "fire"
    """消防"""
    ELECTRICAL = "electrical"
    """电气"""
    HAZARDOUS_CHEMICALS = "hazardous_chemicals"
    """危险化学品储存使用"""
    OTHER = "other"


class DangerSource(enum.StrEnum):
    SELF_INSPECTION = "self_inspection"
    """企业自查"""
    INSPECTION = "inspection"
    """执法检查: found by the bureau's inspectors."""


class DangerState(enum.StrEnum):
    REPORTED = "reported"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"
    """The enterprise says it is removed; waiting for verification."""
    VERIFIED = "verified"
    """An officer verified the rectification: closed."""
    OVERDUE = "overdue"
    """The deadline passed before it was rectified."""
    SUPERVISED = "supervised"
    """挂牌督办: overdue and under the bureau's supervision, with a new deadline."""


class DangerAction(enum.StrEnum):
    """What a user does to a hidden danger with ``danger.act`` (who may: docs/protocol.md)."""

    ASSIGN = "assign"
    """reported → assigned: names the person responsible and the deadline."""
    START = "start"
    """assigned → rectifying."""
    COMPLETE = "complete"
    """rectifying | overdue | supervised → rectified."""
    VERIFY = "verify"
    """rectified → verified (bureau)."""
    REJECT = "reject"
    """rectified → rectifying (bureau): not good enough, with the reason."""
    SUPERVISE = "supervise"
    """overdue → supervised (a supervisor), with a new deadline."""


class DangerGroup(enum.StrEnum):
    """How ``danger.stats`` groups."""

    ENTERPRISE = "enterprise"
    INDUSTRY = "industry"
    JURISDICTION = "jurisdiction"


class HiddenDangerInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What ``danger.report`` (and an inspection's findings) write."""

    enterprise: EnterpriseCode
    """The enterprise's registry code (an enterprise user: its own, always)."""
    category: DangerCategory
    grade: DangerGrade
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    """Where in the plant (装置/部位)."""
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_DANGER_TEXT)]
    measures: DangerText = ""
    """Rectification measures (整改措施)."""
    deadline: AwareDateTime | None = None
    responsible_name: Annotated[str, msgspec.Meta(max_length=60)] = ""
    responsible_phone: Annotated[str, msgspec.Meta(max_length=20, pattern=r"^[0-9+\- ]*$")] = ""
    """Personal data: stored encrypted, shown masked."""
    found_at: AwareDateTime | None = None
    """Default: when reported."""
    lat: Latitude | None = None
    lon: Longitude | None = None


class DangerStep(msgspec.Struct, kw_only=True):
    """One step of a hidden danger's history."""

    at: AwareDateTime
    actor: str
    state: DangerState
    """The state after the step."""
    action: str
    """A :class:`DangerAction` value, or ``report``, ``overdue``, ``escalate``."""
    note: str = ""


class HiddenDangerView(msgspec.Struct, kw_only=True):
    """A hidden danger as a console sees it (the responsible person's phone masked)."""

    id: int
    version: int
    enterprise: str
    enterprise_name: str
    industry: str = ""
    jurisdiction: str
    source: DangerSource
    category: DangerCategory
    grade: DangerGrade
    state: DangerState
    place: str
    description: str
    measures: str = ""
    deadline: AwareDateTime | None = None
    responsible_name: str = ""
    responsible_phone: str = ""
    """Masked (138****0000)."""
    found_at: AwareDateTime
    reported_by: str
    reported_at: AwareDateTime
    rectified_at: AwareDateTime | None = None
    verified_at: AwareDateTime | None = None
    overdue: bool = False
    """The deadline passed while it was not rectified (stays true once late)."""
    escalated_to: str = ""
    """The rung an overdue danger has escalated to ("" none yet)."""
    inspection_id: int | None = None
    photos: list[int] = msgspec.field(default_factory=list)
    """Attachment ids (``attachment.get``)."""
    history: list[DangerStep] = msgspec.field(default_factory=list)
    lat: float | None = None
    lon: float | None = None


class InspectionInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What ``inspection.record`` writes: an inspection of one enterprise and its findings."""

    enterprise: EnterpriseCode
    inspected_at: AwareDateTime
    inspectors: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=60)]], msgspec.Meta(min_length=1, max_length=10)
    ]
    summary: DangerText = ""
    findings: Annotated[list[HiddenDangerInput], msgspec.Meta(max_length=MAX_FINDINGS)] = (
        msgspec.field(default_factory=list)
    )
    """Each becomes a hidden danger (source ``inspection``) of the same enterprise."""


class InspectionView(msgspec.Struct, kw_only=True):
    id: int
    enterprise: str
    enterprise_name: str
    jurisdiction: str
    inspected_at: AwareDateTime
    inspectors: list[str]
    summary: str = ""
    dangers: list[int] = msgspec.field(default_factory=list)
    recorded_by: str
    recorded_at: AwareDateTime


class DangerStatsRow(msgspec.Struct, kw_only=True):
    """One group's figures."""

    key: str
    """The enterprise's code, the industry, or the jurisdiction's code."""
    name: str
    total: int
    major: int
    open: int
    """Not yet verified."""
    overdue: int
    """Open and past their deadline now, or verified after it."""
    rectified: int
    """Rectified or verified."""
    rectification_rate: float
    """rectified / total (0–1; 1 when total is 0)."""
    on_time_rate: float
    """Rectified by the deadline / rectified (0–1)."""
    rank: int
    """1 the best (highest rectification rate, then fewest overdue)."""


class ReportDanger(Tagged, tag="danger.report"):
    """Report a hidden danger (an enterprise: of itself; an officer: of an enterprise of
    their area)."""

    req: str
    danger: HiddenDangerInput


class ActOnDanger(Tagged, tag="danger.act"):
    """Move a hidden danger along its life cycle (against the version read)."""

    req: str
    danger_id: int
    version: int
    action: DangerAction
    note: ShortText = ""
    """Required for ``reject`` and ``supervise``."""
    deadline: AwareDateTime | None = None
    """Required for ``assign`` and ``supervise``."""
    responsible_name: Annotated[str, msgspec.Meta(max_length=60)] = ""
    responsible_phone: Annotated[str, msgspec.Meta(max_length=20, pattern=r"^[0-9+\- ]*$")] = ""
    measures: DangerText = ""


class DangerFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which hidden dangers a list or an export holds (inside the user's scope)."""

    enterprise: str = ""
    states: list[DangerState] = msgspec.field(default_factory=list)
    """Empty: every state."""
    grade: DangerGrade | None = None
    overdue_only: bool = False
    jurisdiction: Annotated[str, msgspec.Meta(max_length=32)] = ""
    """Inside the user's area (default: all of it)."""
    reported_since: AwareDateTime | None = None
    reported_until: AwareDateTime | None = None


class ListDangers(Tagged, tag="danger.list"):
    """Hidden dangers in the user's scope, newest first, filtered."""

    req: str
    filter: DangerFilter = msgspec.field(default_factory=DangerFilter)
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_DANGER_PAGE)] = 100


class GetDanger(Tagged, tag="danger.get"):
    req: str
    danger_id: int


class RecordInspection(Tagged, tag="inspection.record"):
    req: str
    inspection: InspectionInput


class ListInspections(Tagged, tag="inspection.list"):
    req: str
    enterprise: str = ""
    since: AwareDateTime | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_DANGER_PAGE)] = 100


class GetDangerStats(Tagged, tag="danger.stats"):
    """Counts, overdue, rectification rate and rank per group, for dangers reported in
    [``since``, ``until``) inside the user's scope."""

    req: str
    group: DangerGroup
    since: AwareDateTime | None = None
    until: AwareDateTime | None = None


class ExportDangers(Tagged, tag="danger.export"):
    """The statistics (every grouping) and the dangers the filter selects, as .xlsx."""

    req: str
    filter: DangerFilter = msgspec.field(default_factory=DangerFilter)


class DangerResult(msgspec.Struct, tag="danger", kw_only=True):
    danger: HiddenDangerView


class DangersResult(msgspec.Struct, tag="dangers", kw_only=True):
    dangers: list[HiddenDangerView]
    total: int
    """Matching the filter (the page is ``offset``…)."""


class InspectionResult(msgspec.Struct, tag="inspection", kw_only=True):
    inspection: InspectionView
    dangers: list[HiddenDangerView]


class InspectionsResult(msgspec.Struct, tag="inspections", kw_only=True):
    inspections: list[InspectionView]


class DangerStatsResult(msgspec.Struct, tag="danger_stats", kw_only=True):
    group: DangerGroup
    rows: list[DangerStatsRow]
    since: AwareDateTime | None = None
    until: AwareDateTime | None = None


class DangerExport(msgspec.Struct, tag="danger_export", kw_only=True):
    filename: str
    content: bytes
    """The .xlsx workbook (base64 in the JSON)."""
