"""Golden samples of the hidden dangers' wire (``danger.*`` and ``inspection.*`` commands,
their answers, the events, the enterprise user's welcome and a danger's photo), merged
into :mod:`tests.realtime.test_protocol_golden`."""

from __future__ import annotations

import datetime as dt

import msgspec

from realtime.protocol import (
    ActOnDanger,
    AttachmentView,
    DangerAction,
    DangerCategory,
    DangerExport,
    DangerFilter,
    DangerGrade,
    DangerGroup,
    DangerResult,
    DangerSource,
    DangersResult,
    DangerState,
    DangerStatsResult,
    DangerStatsRow,
    DangerStep,
    Event,
    ExportDangers,
    GetDanger,
    GetDangerStats,
    HiddenDangerInput,
    HiddenDangerView,
    InspectionInput,
    InspectionResult,
    InspectionsResult,
    InspectionView,
    Limits,
    ListDangers,
    ListInspections,
    RecordInspection,
    ReportDanger,
    Role,
    UploadAttachment,
    UploadResult,
    UserInfo,
    Welcome,
)

_AT = dt.datetime(2026, 12, 5, 2, 0, 0, tzinfo=dt.UTC)
_DEADLINE = dt.datetime(2026, 12, 12, 10, 0, 0, tzinfo=dt.UTC)

_INPUT = HiddenDangerInput(
    enterprise="ENT-0001",
    category=DangerCategory.ELECTRICAL,
    grade=DangerGrade.MAJOR,
    place="二号储罐区",
    description="储罐静电接地线断开",
    measures="更换接地线并检测接地电阻",
    deadline=_DEADLINE,
    responsible_name="张建国",
    responsible_phone="13812345678",
    found_at=_AT,
    lat=30.27,
    lon=120.12,
)

_DANGER = HiddenDangerView(
    id=41,
    version=3,
    enterprise="ENT-0001",
    enterprise_name="西湖化工有限公司",
    industry="危险化学品生产",
    jurisdiction="330106",
    source=DangerSource.SELF_INSPECTION,
    category=DangerCategory.ELECTRICAL,
    grade=DangerGrade.MAJOR,
    state=DangerState.OVERDUE,
    place="二号储罐区",
    description="储罐静电接地线断开",
    measures="更换接地线并检测接地电阻",
    deadline=_DEADLINE,
    responsible_name="张建国",
    responsible_phone="138****5678",
    found_at=_AT,
    reported_by="ent-0001",
    reported_at=_AT,
    overdue=True,
    escalated_to="area",
    photos=[77],
    history=[
        DangerStep(at=_AT, actor="ent-0001", state=DangerState.ASSIGNED, action="report"),
        DangerStep(at=_DEADLINE, actor="system", state=DangerState.OVERDUE, action="overdue"),
    ],
    lat=30.27,
    lon=120.12,
)

_INSPECTION = InspectionView(
    id=5,
    enterprise="ENT-0001",
    enterprise_name="西湖化工有限公司",
    jurisdiction="330106",
    inspected_at=_AT,
    inspectors=["执法一", "执法二"],
    summary="年度执法检查",
    dangers=[41],
    recorded_by="officer1",
    recorded_at=_AT,
)

_ROW = DangerStatsRow(
    key="ENT-0001",
    name="西湖化工有限公司",
    total=4,
    major=1,
    open=3,
    overdue=2,
    rectified=3,
    rectification_rate=0.75,
    on_time_rate=0.6667,
    rank=2,
)

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "ReportDanger": ReportDanger(req="h1", danger=_INPUT),
    "ActOnDanger": ActOnDanger(
        req="h2",
        danger_id=41,
        version=3,
        action=DangerAction.SUPERVISE,
        note="挂牌督办",
        deadline=_DEADLINE,
    ),
    "ListDangers": ListDangers(
        req="h3",
        filter=DangerFilter(
            enterprise="ENT-0001",
            states=[DangerState.OVERDUE, DangerState.SUPERVISED],
            grade=DangerGrade.MAJOR,
            overdue_only=True,
            jurisdiction="330106",
            reported_since=_AT,
        ),
        limit=50,
    ),
    "GetDanger": GetDanger(req="h4", danger_id=41),
    "RecordInspection": RecordInspection(
        req="h5",
        inspection=InspectionInput(
            enterprise="ENT-0001",
            inspected_at=_AT,
            inspectors=["执法一", "执法二"],
            summary="年度执法检查",
            findings=[_INPUT],
        ),
    ),
    "ListInspections": ListInspections(req="h6", enterprise="ENT-0001", since=_AT),
    "GetDangerStats": GetDangerStats(req="h7", group=DangerGroup.ENTERPRISE, since=_AT),
    "ExportDangers": ExportDangers(req="h8", filter=DangerFilter(overdue_only=True)),
    "UploadDangerPhoto": UploadAttachment(
        req="h9",
        upload_id="p1",
        danger_id=41,
        filename="现场.jpg",
        content_type="image/jpeg",
        offset=0,
        data=b"\xff\xd8\xff",
        final=True,
    ),
}

RESULTS: dict[str, msgspec.Struct] = {
    "danger": DangerResult(danger=_DANGER),
    "dangers": DangersResult(dangers=[_DANGER], total=1),
    "inspection": InspectionResult(inspection=_INSPECTION, dangers=[_DANGER]),
    "inspections": InspectionsResult(inspections=[_INSPECTION]),
    "danger_stats": DangerStatsResult(group=DangerGroup.ENTERPRISE, rows=[_ROW], since=_AT),
    "danger_export": DangerExport(filename="隐患统计.xlsx", content=b"PK\x03\x04"),
    "danger_photo_upload": UploadResult(
        upload_id="p1",
        received=3,
        attachment=AttachmentView(
            id=77,
            incident_id=None,
            filename="现场.jpg",
            content_type="image/jpeg",
            size=3,
            sha256="0" * 64,
            uploaded_by="ent-0001",
            at=_AT,
            danger_id=41,
        ),
    ),
}

SERVER_SAMPLES: dict[str, msgspec.Struct] = {
    "EnterpriseWelcome": Welcome(
        protocol=1,
        server_version="0.1.0",
        session_token="tok",
        user=UserInfo(
            username="ent-0001",
            display_name="西湖化工安全员",
            role=Role.ENTERPRISE,
            agency=None,
            jurisdiction="330106",
            enterprise="ENT-0001",
        ),
        head_seq=9,
        limits=Limits(max_message_bytes=65536, rate_per_second=20.0, rate_burst=60),
    ),
    "DangerEvent": Event(
        seq=601, at=_DEADLINE, kind="danger.escalated", actor="system", note="area", danger=_DANGER
    ),
    "InspectionEvent": Event(
        seq=602, at=_AT, kind="inspection.recorded", actor="officer1", inspection=_INSPECTION
    ),
}
