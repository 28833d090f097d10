"""The wire, byte for byte: one instance of every message encodes exactly as recorded.

``protocol_golden.json`` beside this file was produced from these samples and is the
reference: a difference means the wire changed. Regenerate it only for a deliberate
protocol change (and say so in docs/protocol.md), with::

    python -c "import tests.realtime.test_protocol_golden as g; g.write_golden()"
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

import realtime.protocol
from realtime.incident_states import (
    AssigneeKind,
    Deadline,
    EscalationCause,
    EscalationLevel,
    HandlingLevel,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    TaskAction,
    TaskState,
)
from realtime.protocol import (
    AcceptHandover,
    Ack,
    ActOnTask,
    AgenciesResult,
    AgencyView,
    AlarmResult,
    AlarmView,
    AnswerSupervision,
    AssessmentBy,
    AssessmentFigures,
    AssessmentResult,
    AssessmentRow,
    AttachAlarm,
    AttachmentData,
    AttachmentView,
    Better,
    CamerasResult,
    CameraView,
    CatalogueAreaView,
    CatalogueCategoryView,
    CatalogueDeadlines,
    CatalogueItemView,
    CatalogueResult,
    ChangeIncident,
    CircleShape,
    ContactField,
    ContactResult,
    CreateAlarm,
    DeleteGeofence,
    DeviceAlarm,
    DeviceAlarmRaised,
    DevicePosition,
    DeviceReading,
    DevicesResult,
    DeviceStatus,
    DeviceView,
    DispatchAlarm,
    DispatchView,
    DraftHandover,
    Error,
    ErrorCode,
    EscalationView,
    Event,
    FormulaTerm,
    GeofenceResult,
    GeofencesResult,
    GeofenceView,
    GetAlarmHistory,
    GetAssessment,
    GetAttachment,
    GetCatalogue,
    GetHandover,
    GetIncident,
    GetIncidentTimeline,
    GetSeries,
    GetTrack,
    GrantResult,
    GrantsResult,
    GrantView,
    HandoverItem,
    HandoverReport,
    HandoverResult,
    HandoverSection,
    HandoversResult,
    HandoverState,
    HandoverView,
    Hello,
    HistoryResult,
    IncidentResult,
    IncidentsResult,
    IncidentView,
    Limits,
    ListAgencies,
    ListCameras,
    ListDevices,
    ListGeofences,
    ListGrants,
    ListHandovers,
    ListIncidents,
    ListMyReports,
    ListSensors,
    ListSessions,
    ListTasks,
    ListUnits,
    ListUnread,
    MarkRead,
    MessageResult,
    MessageView,
    OpenIncident,
    Ping,
    PolygonShape,
    PolylineShape,
    Pong,
    PositionView,
    PostMessage,
    Presence,
    ProtocolError,
    ReadingView,
    ReadResult,
    ReceiptView,
    RecentEvents,
    RecentEventsResult,
    RecentWindow,
    ReportIncident,
    ReportResult,
    ReportsResult,
    ReportView,
    Result,
    RevealContact,
    Role,
    RosterEntryView,
    RosterPosition,
    RosterResult,
    RosterToday,
    SaveGeofence,
    ScorePart,
    SendTask,
    SendText,
    SensorsResult,
    SensorView,
    SeriesPoint,
    SeriesResult,
    SessionsResult,
    SessionUnlocked,
    SessionView,
    SetTaskDeadlines,
    ShareAlarm,
    ShareCamera,
    SignHandover,
    Snapshot,
    Subscribe,
    Subscribed,
    SuperviseTask,
    SupervisionView,
    Synced,
    TaskList,
    TaskResult,
    TasksResult,
    TaskView,
    Telemetry,
    TextSent,
    ThresholdView,
    TimelineResult,
    TrackAlarms,
    TrackColumns,
    TrackForm,
    TrackResult,
    TransitionAlarm,
    TransitionIncident,
    UnitsResult,
    UnitView,
    UnlockSession,
    UnreadCount,
    UnreadResult,
    UnshareAlarm,
    UnshareCamera,
    UploadAttachment,
    UploadResult,
    UserInfo,
    Welcome,
    decode_console,
    decode_device,
    decode_server,
    encode,
)
from realtime.states import AlarmAction, AlarmLevel, AlarmState
from tests.realtime import (
    golden_dangers,
    golden_exercises,
    golden_publishing,
    golden_registry,
    golden_roads,
    golden_vehicle_commands,
    golden_warnings,
)

GOLDEN_PATH = pathlib.Path(__file__).with_name("protocol_golden.json")

UTC_TIME = dt.datetime(2026, 11, 29, 3, 0, 0, 123456, tzinfo=dt.UTC)
LOCAL_TIME = dt.datetime(2026, 11, 29, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))

_ALARM = AlarmView(
    id=7,
    version=3,
    state=AlarmState.DISPATCHED,
    level=AlarmLevel.RED,
    alarm_type="fire",
    title="仓库起火",
    description="二楼冒烟",
    lat=30.25,
    lon=120.125,
    place="西湖区文三路",
    jurisdiction="330106",
    source="manual",
    source_ref="call-1",
    caller_name="张*",
    caller_phone="138****0000",
    caller_address="杭州市西湖区文三路****",
    sensitive_note="〔敏感内容，需授权查看〕",
    reported_by="officer1",
    count=2,
    first_seen=UTC_TIME,
    last_seen=LOCAL_TIME,
    updated_at=UTC_TIME,
    updated_by="supervisor1",
    last_note="已派警",
    shared_with=["police"],
    merged_into=None,
    dispatches=[
        DispatchView(
            unit_id=3, unit_name="文三中队", agency="fire", note="速到", by="s1", at=UTC_TIME
        )
    ],
)
_DEVICE = DeviceView(
    id=4,
    kind="jt808",
    identity="13900000001",
    name="消防车1",
    plate="浙A12345",
    owner="文三中队",
    online=True,
    last_seen=UTC_TIME,
    presence=Presence.ONLINE,
    jurisdiction="330106",
)
_POSITION = PositionView(
    device="13900000001",
    at=UTC_TIME,
    lat=30.5,
    lon=120.25,
    speed_kmh=42.5,
    heading_deg=271.0,
    alarms=["overspeed"],
    jurisdiction="330106",
)
_READING = ReadingView(
    device="gas-1",
    sensor="gas-1/ch4",
    at=UTC_TIME,
    value=12.75,
    unit="%LEL",
    jurisdiction="330106",
)
_UNIT = UnitView(
    id=3, code="F01", name="文三中队", agency="fire", jurisdiction="330106", lat=30.0, lon=120.0
)
_ATTACHMENT = AttachmentView(
    id=3,
    incident_id=5,
    filename="现场.jpg",
    content_type="image/jpeg",
    size=48213,
    sha256="ab" * 32,
    uploaded_by="fire_desk",
    at=UTC_TIME,
)
_MESSAGE = MessageView(
    incident_id=5,
    author="fire_desk",
    author_name="消防席",
    agency="fire",
    text="已到场，正在堵漏",
    attachments=[_ATTACHMENT],
    jurisdiction="330106",
    agencies=["fire", "police"],
    grid_areas=["330106001"],
)
_RECEIPT = ReceiptView(
    incident_id=5,
    reader="officer1",
    agency="",
    up_to_seq=120,
    jurisdiction="330106",
    agencies=["fire"],
    grid_areas=[],
)
_CAMERA = CameraView(
    id=9,
    code="C9",
    name="罐区东",
    lat=30.1,
    lon=120.2,
    agency="safety",
    jurisdiction="330106",
    hazard_source="tank-1",
    enterprise="化工一厂",
    stream_url="rtsp://cam.example/9",
)
_GEOFENCE = GeofenceView(
    id=5,
    version=2,
    name="罐区禁行",
    kind="no_go_zone",
    shape=PolygonShape(outer=[[30.0, 120.0], [30.0, 120.1], [30.1, 120.1]]),
    limit_kmh=None,
    level=AlarmLevel.ORANGE,
    dwell_s=5.0,
    vehicles=["13900000001"],
    enabled=True,
    created_by="admin",
    created_at=UTC_TIME,
    updated_by="admin",
    updated_at=LOCAL_TIME,
)
_GRANT = GrantView(
    id=2,
    kind="camera",
    alarm_id=7,
    agency="fire",
    jurisdiction="330106",
    camera="C9",
    by="officer1",
    at=UTC_TIME,
    expires_at=LOCAL_TIME,
    revoked=False,
)
_EVENT = Event(
    seq=12,
    at=UTC_TIME,
    kind="alarm.transitioned",
    actor="officer1",
    action=AlarmAction.DISPATCH,
    note="派警",
    alarm=_ALARM,
    device=_DEVICE,
    geofence=_GEOFENCE,
    fields=["caller_phone"],
    grant=_GRANT,
)

_INCIDENT = IncidentView(
    id=5,
    version=4,
    state=IncidentState.RESPONDING,
    level=IncidentLevel.II,
    type_code="hazchem_leak",
    type_name="危险化学品泄漏",
    title="液氨槽车泄漏",
    description="高速出口匝道",
    place="绕城高速文三路出口",
    lat=30.25,
    lon=120.125,
    jurisdiction="330106",
    commander="supervisor1",
    reported_by="officer1",
    opened_at=UTC_TIME,
    opened_by="officer1",
    closed_at=None,
    feedback="",
    alarm_ids=[7],
    agencies=["fire", "medical"],
    grid_areas=["330106001"],
    updated_at=LOCAL_TIME,
    updated_by="supervisor1",
    last_note="升级为重大",
)
_TASK = TaskView(
    id=9,
    incident_id=5,
    version=3,
    state=TaskState.ACCEPTED,
    assignee_kind=AssigneeKind.AGENCY,
    assignee_ref="fire",
    assignee_name="消防救援",
    agency="fire",
    jurisdiction="330106",
    assignee_user="fire_desk",
    instructions="堵漏、稀释",
    last_action=TaskAction.ACCEPT,
    last_note="",
    accept_by=UTC_TIME,
    arrive_by=UTC_TIME,
    finish_by=None,
    escalation_level=EscalationLevel.AGENCY_SUPERVISOR,
    returned_from=None,
    created_at=UTC_TIME,
    created_by="officer1",
    updated_at=UTC_TIME,
    updated_by="fire_desk",
    escalations=[
        EscalationView(
            cause=EscalationCause.ACCEPT,
            from_level=EscalationLevel.AGENCY_DESK,
            to_level=EscalationLevel.AGENCY_SUPERVISOR,
            note="签收超时",
            by="system",
            at=UTC_TIME,
        )
    ],
    supervisions=[
        SupervisionView(
            id=1,
            by="supervisor1",
            note="请加快",
            due_at=LOCAL_TIME,
            created_at=UTC_TIME,
            answered_at=None,
        )
    ],
)

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "Hello": Hello(protocol=1, client="dutydesk-desktop/0.1", resume_from=1234),
    "CreateAlarm": CreateAlarm(
        req="r1",
        alarm_type="fire",
        level=AlarmLevel.RED,
        title="仓库起火",
        description="二楼冒烟",
        lat=30.25,
        lon=120.125,
        place="文三路",
        jurisdiction="330106",
        caller_name="张三",
        caller_phone="13800000000",
        caller_address="杭州市西湖区文三路90号",
        sensitive_note="独居老人，心脏病史",
        occurred_at=LOCAL_TIME,
    ),
    "TransitionAlarm": TransitionAlarm(
        req="r2",
        alarm_id=7,
        action=AlarmAction.MERGE,
        expected_version=3,
        note="重复",
        merge_into=6,
    ),
    "DispatchAlarm": DispatchAlarm(
        req="r3", alarm_id=7, expected_version=3, unit_ids=[3, 4], note="速到"
    ),
    "ListUnits": ListUnits(req="r4"),
    "ListCameras": ListCameras(req="r5"),
    "GetAlarmHistory": GetAlarmHistory(req="r6", alarm_id=7),
    "RevealContact": RevealContact(
        req="r7",
        alarm_id=7,
        reason="回拨",
        fields=[ContactField.CALLER_PHONE, ContactField.CALLER_ADDRESS],
    ),
    "Subscribe": Subscribe(req="r8", topics=["positions", "readings"]),
    "ListDevices": ListDevices(req="r9"),
    "SendText": SendText(
        req="r10", device="13900000001", text="返回", emergency=True, tts=False, display=True
    ),
    "GetTrack": GetTrack(
        req="r11",
        device="13900000001",
        start=UTC_TIME,
        end=LOCAL_TIME,
        max_points=500,
        form=TrackForm.COLUMNS,
    ),
    "GetSeries": GetSeries(
        req="r12", sensor="gas-1/ch4", start=UTC_TIME, end=LOCAL_TIME, max_points=300
    ),
    "ListSensors": ListSensors(req="r13"),
    "ListGeofences": ListGeofences(req="r14"),
    "SaveGeofence.circle": SaveGeofence(
        req="r15",
        id=None,
        expected_version=None,
        name="厂区",
        kind="geofence",
        shape=CircleShape(lat=30.0, lon=120.0, radius_m=250.0),
        level=AlarmLevel.YELLOW,
        dwell_s=2.5,
        vehicles=[],
        enabled=False,
    ),
    "SaveGeofence.polyline": SaveGeofence(
        req="r16",
        id=5,
        expected_version=2,
        name="危化品路线",
        kind="route_corridor",
        shape=PolylineShape(points=[[30.0, 120.0], [30.2, 120.3]], width_m=80.0),
        limit_kmh=60.0,
        vehicles=["13900000001"],
    ),
    "DeleteGeofence": DeleteGeofence(req="r17", id=5, expected_version=2),
    "Ping": Ping(req="r18"),
    "ListAgencies": ListAgencies(req="r19"),
    "ShareAlarm": ShareAlarm(req="r20", alarm_id=7, agency="police", note="协查"),
    "UnshareAlarm": UnshareAlarm(req="r21", alarm_id=7, agency="police", note="结束"),
    "ShareCamera": ShareCamera(
        req="r22", camera="C9", agency="fire", alarm_id=7, expires_at=LOCAL_TIME, note="火情"
    ),
    "UnshareCamera": UnshareCamera(req="r23", camera="C9", agency="fire", alarm_id=7),
    "ListGrants": ListGrants(req="r24"),
    "UnlockSession": UnlockSession(req="r19", password="secret-pw", totp="123456"),
    "ListSessions": ListSessions(req="r20"),
    "OpenIncident": OpenIncident(
        req="i1",
        type_code="hazchem_leak",
        title="液氨槽车泄漏",
        description="罐体阀门处泄漏",
        place="绕城高速文三路出口",
        lat=30.25,
        lon=120.125,
        jurisdiction="330106",
        level=IncidentLevel.II,
        commander="supervisor1",
        alarm_id=7,
    ),
    "AttachAlarm": AttachAlarm(req="i2", incident_id=5, alarm_id=8, expected_version=4),
    "TransitionIncident": TransitionIncident(
        req="i3",
        incident_id=5,
        action=IncidentAction.CLOSE,
        expected_version=6,
        note="泄漏已处置，道路恢复通行",
    ),
    "ChangeIncident": ChangeIncident(
        req="i4",
        incident_id=5,
        expected_version=4,
        level=IncidentLevel.I,
        commander="leader1",
        type_code="hazchem_fire",
        note="升级",
    ),
    "GetIncident": GetIncident(req="i5", incident_id=5),
    "GetIncidentTimeline": GetIncidentTimeline(req="i6", incident_id=5, after_seq=120),
    "ListIncidents": ListIncidents(req="i7"),
    "SendTask": SendTask(
        req="i8",
        incident_id=5,
        assignee_kind=AssigneeKind.AGENCY,
        assignee_ref="fire",
        instructions="堵漏、稀释",
        deadline_minutes={Deadline.ACCEPT: 5, Deadline.FINISH: None},
    ),
    "ActOnTask": ActOnTask(
        req="i9", task_id=9, action=TaskAction.RETURN, expected_version=3, note="超出能力"
    ),
    "SetTaskDeadlines": SetTaskDeadlines(
        req="i10",
        task_id=9,
        expected_version=3,
        deadlines={Deadline.FINISH: LOCAL_TIME, Deadline.ARRIVE: None},
        note="延期",
    ),
    "SuperviseTask": SuperviseTask(req="i11", task_id=9, note="请加快", due_at=LOCAL_TIME),
    "AnswerSupervision": AnswerSupervision(req="i12", supervision_id=1, answer="已到场"),
    "ListTasks": ListTasks(req="i13", which=TaskList.INCIDENT, incident_id=5),
    "PostMessage": PostMessage(
        req="r-post", incident_id=5, text="现场照片：罐体左侧", attachment_ids=[3, 4]
    ),
    "MarkRead": MarkRead(req="r-read", incident_id=5, up_to_seq=120),
    "ListUnread": ListUnread(req="r-unread"),
    "UploadAttachment": UploadAttachment(
        req="r-up",
        upload_id="u-1",
        incident_id=5,
        filename="现场.jpg",
        content_type="image/jpeg",
        offset=32768,
        data=b"\xff\xd8\xff\xe0binary",
        final=True,
    ),
    "GetAttachment": GetAttachment(req="r-get", attachment_id=3, offset=0, length=65536),
    "ReportIncident": ReportIncident(
        req="g1",
        type_code="septic_tank_work",
        place="幸福村3组",
        lat=30.25,
        lon=120.125,
        description="化粪池清掏无人监护",
        title="",
    ),
    "ListMyReports": ListMyReports(req="g2", limit=20, before_id=40),
    "DraftHandover": DraftHandover(req="g3", notes="夜班平稳", incoming="officer2"),
    "SignHandover": SignHandover(req="g4", handover_id=8, notes="夜班平稳", incoming=None),
    "AcceptHandover": AcceptHandover(req="g5", handover_id=8, remark="已知悉"),
    "ListHandovers": ListHandovers(
        req="g6", jurisdiction="330106001", agency="", limit=10, before_id=9
    ),
    "GetHandover": GetHandover(req="g7", handover_id=8),
    "RosterToday": RosterToday(req="g8"),
    "RecentEvents": RecentEvents(req="e1", since=UTC_TIME, limit=200),
    "GetAssessment": GetAssessment(
        req="a1", period="2026Q4", by=AssessmentBy.AGENCY, under="330106"
    ),
    "GetCatalogue": GetCatalogue(req="c1", known_digest="9f2c"),
    **golden_registry.CONSOLE_SAMPLES,
    **golden_roads.CONSOLE_SAMPLES,
    **golden_exercises.CONSOLE_SAMPLES,
    **golden_vehicle_commands.CONSOLE_SAMPLES,
    **golden_warnings.CONSOLE_SAMPLES,
    **golden_dangers.CONSOLE_SAMPLES,
    **golden_publishing.CONSOLE_SAMPLES,
}

DEVICE_SAMPLES: dict[str, msgspec.Struct] = {
    "DeviceAlarm": DeviceAlarm(
        ref="d1",
        key="gas_leak",
        alarm_type="gas",
        level=AlarmLevel.RED,
        title="可燃气体泄漏",
        description="浓度超限",
        lat=30.1,
        lon=120.2,
        place="罐区",
        jurisdiction="330106",
        at=LOCAL_TIME,
    ),
    "DeviceReading": DeviceReading(
        ref="d2",
        sensor="gas-1/ch4",
        value=12.75,
        unit="%LEL",
        at=UTC_TIME,
        device="gas-1",
        kind="modbus",
    ),
    "DevicePosition": DevicePosition(
        ref="d3",
        device="13900000001",
        kind="jt808",
        at=UTC_TIME,
        lat=30.5,
        lon=120.25,
        speed_kmh=42.5,
        heading_deg=271.0,
        altitude_m=12.0,
        alarms=["overspeed"],
        backfill=True,
    ),
    "DeviceAlarmRaised": DeviceAlarmRaised(
        ref="d4",
        device="13900000001",
        kind="jt808",
        key="sos",
        at=UTC_TIME,
        lat=30.5,
        lon=120.25,
        description="紧急报警",
    ),
    "DeviceStatus": DeviceStatus(
        ref="d5", device="13900000001", kind="nmea", online=False, at=UTC_TIME, reason="timeout"
    ),
}

_REPORT = ReportView(
    id=3,
    incident_id=5,
    reported_at=UTC_TIME,
    type_code="septic_tank_work",
    type_name="化粪池清掏作业",
    title="化粪池清掏作业 幸福村3组",
    place="幸福村3组",
    jurisdiction="330106001001",
    handling_level=HandlingLevel.TOWN,
    direct=True,
    incident_state=IncidentState.CLOSED,
    incident_level=IncidentLevel.IV,
    task_state=TaskState.SENT,
    task_level=EscalationLevel.DISTRICT,
    task_assignee="330106",
    feedback="已处置",
    closed_at=LOCAL_TIME,
)
_HANDOVER = HandoverView(
    id=8,
    jurisdiction="330106",
    agency="",
    shift_start=LOCAL_TIME,
    shift_end=UTC_TIME,
    author="officer1",
    incoming="officer2",
    state=HandoverState.ACCEPTED,
    notes="夜班平稳",
    created_at=UTC_TIME,
    signed_at=UTC_TIME,
    accepted_at=UTC_TIME,
    accepted_by="officer2",
    remark="已知悉",
    counts={"open_alarms": 1, "overdue_tasks": 0},
)
_HANDOVER_REPORT = HandoverReport(
    generated_at=UTC_TIME,
    overdue_tasks=HandoverSection(
        count=1,
        items=[
            HandoverItem(
                kind="task",
                id=9,
                title="fire",
                state="sent",
                level="agency_desk",
                jurisdiction="330106",
                detail="堵漏",
                due_at=UTC_TIME,
                incident_id=5,
            )
        ],
    ),
)

_RESULTS: dict[str, Any] = {
    "units": UnitsResult(units=[_UNIT]),
    "cameras": CamerasResult(cameras=[_CAMERA]),
    "alarm": AlarmResult(alarm=_ALARM),
    "history": HistoryResult(events=[_EVENT]),
    "contact": ContactResult(
        alarm_id=7,
        caller_name="",
        caller_phone="13800000000",
        caller_address="杭州市西湖区文三路90号",
        fields=[ContactField.CALLER_PHONE, ContactField.CALLER_ADDRESS],
    ),
    "devices": DevicesResult(devices=[_DEVICE]),
    "subscribed": Subscribed(topics=["positions"]),
    "text_sent": TextSent(device="13900000001", acknowledged=True),
    "track": TrackResult(device="13900000001", positions=[_POSITION], truncated=True),
    "track_columns": TrackColumns(
        device="13900000001",
        t0=UTC_TIME,
        t_ms=[0, 1000, 2000],
        lat_e7=[305000000, 305000100, 305000200],
        lon_e7=[1202500000, 1202500000, 1202500000],
        speed_kmh=[40.0, 41.5, 0.0],
        heading_deg=[90.0, 90.0, 0.0],
        alarms=[TrackAlarms(index=1, alarms=["overspeed"])],
        truncated=True,
        total=9,
    ),
    "series": SeriesResult(
        sensor="gas-1/ch4",
        unit="%LEL",
        source="rollup",
        downsampled=True,
        points=[SeriesPoint(at=UTC_TIME, value=1.5), SeriesPoint(at=LOCAL_TIME, value=2.25)],
    ),
    "sensors": SensorsResult(
        sensors=[
            SensorView(
                sensor_id="gas-1/ch4",
                kind="gas",
                unit="%LEL",
                name="甲烷",
                place="罐区",
                lat=30.1,
                lon=120.2,
                hazard_source="tank-1",
                enterprise="化工一厂",
                poll_cycle_seconds=10.0,
                thresholds=[
                    ThresholdView(
                        level=AlarmLevel.ORANGE,
                        direction="high",
                        value=20.0,
                        restore=18.0,
                        label="一级",
                    )
                ],
            )
        ]
    ),
    "geofences": GeofencesResult(geofences=[_GEOFENCE]),
    "geofence": GeofenceResult(geofence=_GEOFENCE, deleted=True),
    "pong": Pong(server_time=UTC_TIME),
    "agencies": AgenciesResult(
        agencies=[
            AgencyView(code="fire", name_zh="消防救援", name_en="Fire", kind="rescue", active=True)
        ]
    ),
    "grant": GrantResult(grant=_GRANT),
    "grants": GrantsResult(grants=[_GRANT]),
    "unlocked": SessionUnlocked(),
    "incident": IncidentResult(incident=_INCIDENT, tasks=[_TASK]),
    "incidents": IncidentsResult(incidents=[_INCIDENT]),
    "task": TaskResult(task=_TASK, sent_on=_TASK),
    "tasks": TasksResult(which=TaskList.ESCALATED, tasks=[_TASK]),
    "timeline": TimelineResult(
        incident_id=5,
        events=[Event(seq=14, at=UTC_TIME, kind="task.escalated", actor="system", task=_TASK)],
    ),
    "recent_events": RecentEventsResult(
        since=UTC_TIME,
        window=RecentWindow.SHIFT,
        events=[Event(seq=14, at=UTC_TIME, kind="task.escalated", actor="system", task=_TASK)],
        more=True,
    ),
    "message": MessageResult(seq=120, at=UTC_TIME, message=_MESSAGE),
    "read": ReadResult(incident_id=5, up_to_seq=120),
    "unread": UnreadResult(incidents=[UnreadCount(incident_id=5, unread=2, last_seq=121)]),
    "upload": UploadResult(upload_id="u-1", received=48213, attachment=_ATTACHMENT),
    "attachment_data": AttachmentData(attachment=_ATTACHMENT, offset=0, data=b"\xff\xd8\xff"),
    "report": ReportResult(report=_REPORT, incident=_INCIDENT, task=_TASK),
    "reports": ReportsResult(reports=[_REPORT], more=True),
    "catalogue": CatalogueResult(
        digest="9f2c",
        unchanged=False,
        areas=[
            CatalogueAreaView(
                code="grid_affairs",
                name_zh="网格事务",
                name_en="Grid affairs",
                categories=[
                    CatalogueCategoryView(
                        code="confined_space",
                        name_zh="有限空间",
                        name_en="Confined spaces",
                        items=[
                            CatalogueItemView(
                                code="septic_tank_work",
                                name_zh="化粪池作业",
                                name_en="Septic tank work",
                                handling_level=HandlingLevel.VILLAGE,
                                reports_straight_to_district=True,
                                default_level=IncidentLevel.III,
                                deadlines=CatalogueDeadlines(accept=10, arrive=None, finish=240),
                                agencies=["fire"],
                            )
                        ],
                    )
                ],
            )
        ],
    ),
    "handover": HandoverResult(handover=_HANDOVER, report=_HANDOVER_REPORT),
    "handovers": HandoversResult(handovers=[_HANDOVER], more=False),
    "roster": RosterResult(
        at=UTC_TIME,
        entries=[
            RosterEntryView(
                duty_date=dt.date(2026, 11, 29),
                jurisdiction="330106",
                agency="fire",
                position=RosterPosition.AGENCY_DESK,
                username="fire_desk",
                display_name="消防席",
                shift_start=LOCAL_TIME,
                shift_end=UTC_TIME,
                on_duty=True,
            )
        ],
    ),
    "assessment": AssessmentResult(
        period="2026-11",
        by=AssessmentBy.JURISDICTION,
        under="3301",
        under_name="杭州市",
        starts=UTC_TIME,
        ends=UTC_TIME,
        formula=[
            FormulaTerm(
                figure="accept_p50_min",
                weight=10.0,
                better=Better.LOWER,
                cap=30.0,
                missing=0.5,
                label="签收时长中位数(分)",
            )
        ],
        formula_name="默认考核公式",
        rows=[
            AssessmentRow(
                key="330106",
                name="西湖区",
                rank=1,
                score=9.0,
                parts=[ScorePart(figure="accept_p50_min", value=3.0, points=9.0, weight=10.0)],
                figures=AssessmentFigures(
                    tasks_received=6,
                    tasks_handled=3,
                    accept_p50_s=180.0,
                    accept_p90_s=600.0,
                    incidents_opened=2,
                    incidents_closed=3,
                    close_p50_s=1860.0,
                    close_p90_s=7200.0,
                    closed_with_feedback=2,
                    overdue=1,
                    escalations=2,
                    supervisions=2,
                    supervisions_answered=1,
                    feedback_rate=0.5,
                ),
            )
        ],
    ),
    "sessions": SessionsResult(
        sessions=[
            SessionView(
                id=4,
                username="officer1",
                kind="console",
                remote="10.0.0.7:50412",
                client="dutydesk-desktop",
                started_at=UTC_TIME,
                last_seen_at=UTC_TIME,
                expires_at=UTC_TIME,
                stale=False,
            )
        ]
    ),
    **golden_registry.RESULTS,
    **golden_roads.RESULTS,
    **golden_exercises.RESULTS,
    **golden_vehicle_commands.RESULTS,
    **golden_warnings.RESULTS,
    **golden_dangers.RESULTS,
    **golden_publishing.RESULTS,
}

SERVER_SAMPLES: dict[str, msgspec.Struct] = {
    "Welcome": Welcome(
        protocol=1,
        server_version="0.1.0",
        session_token="tok",
        user=UserInfo(
            username="officer1",
            display_name="值班员一",
            role=Role.AGENCY,
            agency="fire",
            jurisdiction="330106",
        ),
        head_seq=99,
        limits=Limits(max_message_bytes=65536, rate_per_second=20.0, rate_burst=60),
    ),
    "Event": _EVENT,
    "IncidentEvent": Event(
        seq=13, at=UTC_TIME, kind="incident.changed", actor="supervisor1", incident=_INCIDENT
    ),
    "TaskEvent": Event(seq=14, at=UTC_TIME, kind="task.escalated", actor="system", task=_TASK),
    "MessageEvent": Event(
        seq=120, at=UTC_TIME, kind="incident.message", actor="fire_desk", message=_MESSAGE
    ),
    "ReceiptEvent": Event(
        seq=122, at=UTC_TIME, kind="incident.message_read", actor="officer1", receipt=_RECEIPT
    ),
    "HandoverEvent": Event(
        seq=15, at=UTC_TIME, kind="handover.accepted", actor="officer2", handover=_HANDOVER
    ),
    "DirectReportEvent": Event(
        seq=16,
        at=UTC_TIME,
        kind="incident.opened",
        actor="village1",
        incident=msgspec.structs.replace(_INCIDENT, direct_report=True),
    ),
    **golden_registry.SERVER_SAMPLES,
    **golden_exercises.SERVER_SAMPLES,
    **golden_vehicle_commands.SERVER_SAMPLES,
    **golden_warnings.SERVER_SAMPLES,
    **golden_dangers.SERVER_SAMPLES,
    **golden_publishing.SERVER_SAMPLES,
    "Snapshot": Snapshot(head_seq=99, alarms=[_ALARM]),
    "Synced": Synced(head_seq=99),
    **{f"Result.{tag}": Result(req=f"r-{tag}", data=data) for tag, data in _RESULTS.items()},
    "Error": Error(code=ErrorCode.STALE_VERSION, message="reload", req="r2", ref=None),
    "Ack": Ack(ref="d1", alarm_id=7, repeated=True),
    "Telemetry": Telemetry(positions=[_POSITION], readings=[_READING]),
}

_DECODERS: dict[str, tuple[dict[str, msgspec.Struct], Callable[[bytes], Any]]] = {
    "console": (CONSOLE_SAMPLES, decode_console),
    "device": (DEVICE_SAMPLES, decode_device),
    "server": (SERVER_SAMPLES, decode_server),
}

BAD_MESSAGES: dict[str, tuple[Callable[[bytes], Any], bytes]] = {
    "console.not_json": (decode_console, b"{"),
    "console.unknown_type": (decode_console, b'{"type":"nope","req":"1"}'),
    "console.missing_field": (decode_console, b'{"type":"hello"}'),
    "console.unknown_field": (decode_console, b'{"type":"ping","req":"1","x":1}'),
    "console.latitude": (
        decode_console,
        b'{"type":"alarm.create","req":"1","alarm_type":"f","level":"red","title":"x","lat":91}',
    ),
    "console.shape": (
        decode_console,
        b'{"type":"geofence.save","req":"1","name":"n","kind":"geofence",'
        b'"shape":{"type":"square"}}',
    ),
    "device.naive_time": (
        decode_device,
        b'{"type":"device.reading","ref":"1","sensor":"s","value":1,"at":"2026-11-29T11:00:00"}',
    ),
    "device.kind": (
        decode_device,
        b'{"type":"device.status","ref":"1","device":"d","kind":"x","online":true,'
        b'"at":"2026-11-29T11:00:00Z"}',
    ),
    "server.track_columns": (
        decode_server,
        b'{"type":"result","req":"1","data":{"type":"track_columns","device":"d",'
        b'"t0":"2026-11-29T11:00:00Z","t_ms":[0],"lat_e7":[],"lon_e7":[0],'
        b'"speed_kmh":[0],"heading_deg":[0]}}',
    ),
    "server.result_tag": (decode_server, b'{"type":"result","req":"1","data":{"type":"x"}}'),
}


def _constants() -> dict[str, object]:
    """Every public constant of the schema (limits, paths, close codes, scales)."""
    return {
        name: value
        for name, value in sorted(vars(realtime.protocol).items())
        if name.isupper() and isinstance(value, int | float | str)
    }


def _enums() -> dict[str, dict[str, str]]:
    return {
        kind.__name__: {member.name: member.value for member in kind}
        for kind in (Role, ErrorCode, Presence, TrackForm)
    }


def _bad_message_reasons() -> dict[str, list[str]]:
    reasons: dict[str, list[str]] = {}
    for name, (decode, raw) in BAD_MESSAGES.items():
        with pytest.raises(ProtocolError) as refused:
            decode(raw)
        reasons[name] = [refused.value.code.value, refused.value.message]
    return reasons


def current_wire() -> dict[str, Any]:
    """What the schema produces now, in the golden file's layout."""
    return {
        "constants": _constants(),
        "enums": _enums(),
        **{
            group: {name: encode(sample).decode() for name, sample in samples.items()}
            for group, (samples, _) in _DECODERS.items()
        },
        "bad_messages": _bad_message_reasons(),
    }


def write_golden() -> None:
    """Record the current wire as the reference (only for a deliberate wire change)."""
    text = json.dumps(current_wire(), ensure_ascii=False, indent=1, sort_keys=True)
    GOLDEN_PATH.write_text(text + "\n", encoding="utf-8")


def _golden() -> dict[str, Any]:
    golden: dict[str, Any] = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))
    return golden


@pytest.mark.parametrize(
    ("group", "name"),
    [(group, name) for group, (samples, _) in _DECODERS.items() for name in samples],
)
def test_every_message_encodes_byte_for_byte_as_recorded(group: str, name: str) -> None:
    samples, decode = _DECODERS[group]
    wire = encode(samples[name])
    assert wire == _golden()[group][name].encode()
    assert decode(wire) == samples[name], "the recorded bytes decode back to the sample"


def test_no_recorded_message_is_missing_or_extra() -> None:
    golden = _golden()
    for group, (samples, _) in _DECODERS.items():
        assert sorted(samples) == sorted(golden[group])


def test_constants_enums_and_refusals_are_as_recorded() -> None:
    golden = _golden()
    assert _constants() == golden["constants"]
    assert _enums() == golden["enums"]
    assert _bad_message_reasons() == golden["bad_messages"]


def _struct_types(value: object) -> Iterator[type[msgspec.Struct]]:
    if isinstance(value, msgspec.Struct):
        yield type(value)
        for field in value.__struct_fields__:
            yield from _struct_types(getattr(value, field))
    elif isinstance(value, list):
        for item in value:
            yield from _struct_types(item)


def test_the_samples_cover_every_struct_of_the_schema() -> None:
    schema = {
        value
        for value in vars(realtime.protocol).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value is not realtime.protocol.Tagged
    }
    covered = {
        kind
        for _, (samples, _) in _DECODERS.items()
        for sample in samples.values()
        for kind in _struct_types(sample)
    }
    assert schema - covered == set(), "add a sample (and regenerate the golden file)"
