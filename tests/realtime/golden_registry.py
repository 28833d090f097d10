"""Golden samples of the registry, plans, recommendation and decision-support messages
(merged into :mod:`tests.realtime.test_protocol_golden`'s samples)."""

from __future__ import annotations

import datetime as dt

import msgspec

from realtime.protocol import (
    Availability,
    ChecklistResult,
    ChecklistStepView,
    ChecklistView,
    ChemicalAmount,
    ChemicalView,
    Contact,
    DecisionSupport,
    EnterpriseDetails,
    EquipmentDetails,
    Event,
    ExpertDetails,
    ExposedView,
    GetChecklist,
    GetRegistryHistory,
    GetRegistryItem,
    HazardSourceDetails,
    ItemKind,
    ListRegistry,
    PlanDetails,
    PlanStep,
    RankedResource,
    Recommend,
    Recommendation,
    RegistryChangeAction,
    RegistryChangeView,
    RegistryContactResult,
    RegistryHistoryResult,
    RegistryItemInput,
    RegistryItemResult,
    RegistryItemView,
    RegistryResult,
    ResourceNeed,
    RetireRegistryItem,
    RevealRegistryContact,
    RingKind,
    RingView,
    RiskGrade,
    SaveRegistryItem,
    ShelterDetails,
    SupportRequest,
    TargetCategory,
    TargetDetails,
    TeamDetails,
    TeamState,
    TickStep,
    TravelBasis,
)

UTC_TIME = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)

_TEAM = TeamDetails(
    team_type="危化品救援",
    members=24,
    capabilities=["hazmat", "decontamination"],
    state=TeamState.STANDBY,
    units=["F-01"],
    vehicles=["013800000001"],
    contacts=[Contact(name="王队长", role="队长", phone="138****5678")],
)
_TEAM_ITEM = RegistryItemView(
    kind=ItemKind.TEAM,
    code="T-HZ-01",
    name="滨江危化品救援队",
    version=3,
    jurisdiction="330108",
    agency="fire",
    address="江南大道88号",
    lat=30.2,
    lon=120.21,
    details=_TEAM,
    updated_at=UTC_TIME,
    updated_by="officer1",
)
_PLAN = PlanDetails(
    type_codes=["hazchem_leak"],
    levels=["I", "II"],
    response_level="II",
    roles=["总指挥", "现场指挥部"],
    steps=[PlanStep(id="s1", text="通知消防救援", role="值班员", within_min=5.0)],
    resources=[ResourceNeed(capability="hazmat", quantity=2.0)],
    specialties=["危险化学品"],
    documents=["12"],
)
_CHANGE = RegistryChangeView(
    seq=40,
    at=UTC_TIME,
    by="officer1",
    action=RegistryChangeAction.UPDATED,
    before={"details": {"members": 20}},
    after={"details": {"members": 24}},
    changed=["details.members"],
    note="人员调整",
)
_CHECKLIST = ChecklistView(
    plan_code="P-HZ-1",
    plan_name="危化品泄漏专项预案",
    response_level="II",
    roles=["总指挥"],
    documents=["12"],
    steps=[
        ChecklistStepView(
            id="s1",
            text="通知消防救援",
            role="值班员",
            within_min=5.0,
            due_at=UTC_TIME,
            done=True,
            done_by="officer1",
            done_at=UTC_TIME,
            note="已通知",
        )
    ],
)

CONSOLE_SAMPLES: dict[str, msgspec.Struct] = {
    "ListRegistry": ListRegistry(
        req="rg1", kind=ItemKind.TEAM, jurisdiction="330108", text="危化", limit=50
    ),
    "GetRegistryItem": GetRegistryItem(req="rg2", kind=ItemKind.ENTERPRISE, code="E-001"),
    "SaveRegistryItem": SaveRegistryItem(
        req="rg3",
        item=RegistryItemInput(
            code="HS-001",
            name="3号储罐区",
            jurisdiction="330108",
            address="临江路1号",
            lat=30.21,
            lon=120.22,
            details=HazardSourceDetails(
                grade=2,
                enterprise="E-001",
                chemicals=[ChemicalAmount(name="液氯", un_number="1017", quantity_t=50.0)],
                sensors=["S-CL2-01"],
                cameras=["CAM-01"],
            ),
        ),
        expected_version=2,
        note="复核",
    ),
    "SaveEnterprise": SaveRegistryItem(
        req="rg3e",
        item=RegistryItemInput(
            code="E-001",
            name="某化工有限公司",
            details=EnterpriseDetails(
                credit_code="91330100MA27XXXX0X",
                industry="危险化学品生产",
                risk_grade=RiskGrade.RED,
                contacts=[Contact(name="张三", role="安全负责人", phone="13800001111")],
                employees=300,
            ),
        ),
    ),
    "SaveOthers": SaveRegistryItem(
        req="rg3o",
        item=RegistryItemInput(
            code="SH-1",
            name="体育中心避难场所",
            details=ShelterDetails(capacity=5000, occupancy=120, area_m2=20000.0),
        ),
    ),
    "SaveExpert": SaveRegistryItem(
        req="rg3x",
        item=RegistryItemInput(
            code="X-1",
            name="李工",
            details=ExpertDetails(
                specialties=["危险化学品"],
                organisation="某大学",
                title="教授",
                availability=Availability.BUSY,
            ),
        ),
    ),
    "SaveTarget": SaveRegistryItem(
        req="rg3t",
        item=RegistryItemInput(
            code="TG-1",
            name="实验小学",
            details=TargetDetails(category=TargetCategory.SCHOOL, population=1200),
        ),
    ),
    "SaveEquipment": SaveRegistryItem(
        req="rg3q",
        item=RegistryItemInput(
            code="EQ-1",
            name="重型防化服",
            details=EquipmentDetails(
                category="防化服",
                quantity=40.0,
                measure="套",
                owner="T-HZ-01",
                capabilities=["hazmat"],
            ),
        ),
    ),
    "SavePlan": SaveRegistryItem(
        req="rg3p",
        item=RegistryItemInput(code="P-HZ-1", name="危化品泄漏专项预案", details=_PLAN),
    ),
    "RetireRegistryItem": RetireRegistryItem(
        req="rg4", kind=ItemKind.SHELTER, code="SH-1", expected_version=4, note="拆除"
    ),
    "GetRegistryHistory": GetRegistryHistory(req="rg5", kind=ItemKind.TEAM, code="T-HZ-01"),
    "RevealRegistryContact": RevealRegistryContact(
        req="rg6", kind=ItemKind.EXPERT, code="X-1", note="请专家到场"
    ),
    "GetChecklist": GetChecklist(req="pl1", incident_id=5),
    "TickStep": TickStep(req="pl2", incident_id=5, plan_code="P-HZ-1", step_id="s1", note="已通知"),
    "Recommend": Recommend(
        req="rc1", incident_id=5, kinds=[ItemKind.TEAM, ItemKind.SHELTER], limit=10
    ),
    "SupportRequest": SupportRequest(
        req="ds1",
        lat=30.21,
        lon=120.22,
        chemicals=["1017", "液氨"],
        large_spill=True,
        night=None,
        fire=False,
    ),
}

RESULTS: dict[str, msgspec.Struct] = {
    "registry": RegistryResult(items=[_TEAM_ITEM], next_after_code="T-HZ-01"),
    "registry_item": RegistryItemResult(
        item=msgspec.structs.replace(_TEAM_ITEM, kind=ItemKind.PLAN, code="P-HZ-1", details=_PLAN)
    ),
    "registry_history": RegistryHistoryResult(
        kind=ItemKind.TEAM, code="T-HZ-01", changes=[_CHANGE]
    ),
    "registry_contact": RegistryContactResult(
        kind=ItemKind.TEAM,
        code="T-HZ-01",
        contacts=[Contact(name="王队长", role="队长", phone="13812345678")],
    ),
    "checklist": ChecklistResult(incident_id=5, checklists=[_CHECKLIST]),
    "recommendation": Recommendation(
        incident_id=5,
        lat=30.21,
        lon=120.22,
        type_code="hazchem_leak",
        plan_code="P-HZ-1",
        needs=["hazmat"],
        cover_minutes=15.0,
        items=[
            RankedResource(
                rank=1,
                kind="team",
                code="T-HZ-01",
                name="滨江危化品救援队",
                agency="fire",
                jurisdiction="330108",
                lat=30.2,
                lon=120.21,
                distance_km=1.4,
                eta_min=3.2,
                travel=TravelBasis.STRAIGHT_LINE,
                from_vehicle="013800000001",
                matched=["hazmat"],
                missing=[],
                match=1.0,
                available=True,
                spare=None,
                score=3.2,
                warnings=["no_cover:330108"],
            )
        ],
        ranked_at=UTC_TIME,
    ),
    "decision": DecisionSupport(
        incident_id=5,
        lat=30.21,
        lon=120.22,
        hazard_source="HS-001",
        chemicals=[
            ChemicalView(
                un_number="1017",
                name="氯",
                name_en="Chlorine",
                cas="7782-50-5",
                hazard_class="2.3",
                hazards="剧毒，强氧化性",
                first_aid="迅速脱离现场至空气新鲜处",
                firefighting="切断气源，喷雾状水稀释",
                spill="隔离泄漏区，严格限制出入",
                isolation_m=60.0,
                protect_day_m=400.0,
                protect_night_m=1600.0,
                source="ERG 2024 Table 1",
            )
        ],
        unknown_chemicals=["某溶剂"],
        rings=[RingView(kind=RingKind.ISOLATION, radius_m=60.0, chemical="1017")],
        exposed=[
            ExposedView(
                kind="target",
                code="TG-1",
                name="实验小学",
                category="school",
                distance_m=350.0,
                ring=RingKind.PROTECTIVE,
                population=1200,
                lat=30.212,
                lon=120.223,
            )
        ],
        population=1200,
        night=False,
    ),
}

SERVER_SAMPLES: dict[str, msgspec.Struct] = {
    "RegistryEvent": Event(
        seq=40,
        at=UTC_TIME,
        kind="registry.changed",
        actor="officer1",
        registry_item=_TEAM_ITEM,
        registry_change=_CHANGE,
    ),
    "ChecklistEvent": Event(
        seq=41,
        at=UTC_TIME,
        kind="incident.checklist_ticked",
        actor="officer1",
        checklist=_CHECKLIST,
    ),
}
