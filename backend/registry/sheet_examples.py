"""The example row of each kind in a registry template (fictional: names, codes and
numbers are made up; the places are in Hangzhou's 西湖区)."""

from __future__ import annotations

import datetime as dt

from realtime.protocol import (
    Availability,
    ChemicalAmount,
    Contact,
    EnterpriseDetails,
    EquipmentDetails,
    ExpertDetails,
    HazardSourceDetails,
    ItemKind,
    PlanDetails,
    PlanStep,
    RegistryDetails,
    RegistryItemView,
    ResourceNeed,
    RiskGrade,
    ShelterDetails,
    TargetCategory,
    TargetDetails,
    TeamDetails,
    TeamState,
)

_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_CONTACT = [Contact(name="张三", role="值班电话", phone="13800000000")]


def _item(kind: ItemKind, code: str, name: str, details: RegistryDetails) -> RegistryItemView:
    return RegistryItemView(
        kind=kind,
        code=code,
        name=name,
        version=1,
        jurisdiction="330106",
        agency="",
        address="杭州市西湖区示例路 1 号",
        lat=30.2741,
        lon=120.1551,
        details=details,
        updated_at=_AT,
    )


EXAMPLES: dict[ItemKind, RegistryItemView] = {
    ItemKind.ENTERPRISE: _item(
        ItemKind.ENTERPRISE,
        "ENT-0001",
        "示例化工有限公司",
        EnterpriseDetails(
            credit_code="91330106MA2XXXXXXQ",
            industry="危险化学品生产",
            risk_grade=RiskGrade.ORANGE,
            contacts=_CONTACT,
            employees=120,
        ),
    ),
    ItemKind.HAZARD_SOURCE: _item(
        ItemKind.HAZARD_SOURCE,
        "HS-0001",
        "示例化工液氯储罐区",
        HazardSourceDetails(
            grade=2,
            enterprise="ENT-0001",
            chemicals=[ChemicalAmount(name="液氯", un_number="1017", quantity_t=50.0)],
            sensors=["cl2-0001"],
            cameras=["CAM-0001"],
        ),
    ),
    ItemKind.TEAM: _item(
        ItemKind.TEAM,
        "TEAM-0001",
        "西湖区危化品救援队",
        TeamDetails(
            team_type="危化品救援",
            members=30,
            capabilities=["hazmat", "decontamination"],
            state=TeamState.STANDBY,
            units=["fire-01"],
            vehicles=["013800000001"],
            contacts=_CONTACT,
        ),
    ),
    ItemKind.EQUIPMENT: _item(
        ItemKind.EQUIPMENT,
        "EQ-0001",
        "重型防化服",
        EquipmentDetails(
            category="防化服",
            quantity=20.0,
            measure="套",
            owner="TEAM-0001",
            capabilities=["hazmat"],
        ),
    ),
    ItemKind.SHELTER: _item(
        ItemKind.SHELTER,
        "SH-0001",
        "示例公园应急避难场所",
        ShelterDetails(
            capacity=5000,
            occupancy=0,
            area_m2=20000.0,
            facilities=["供水", "供电"],
            contacts=_CONTACT,
        ),
    ),
    ItemKind.EXPERT: _item(
        ItemKind.EXPERT,
        "EXP-0001",
        "李四",
        ExpertDetails(
            specialties=["危险化学品"],
            organisation="示例大学",
            title="教授",
            availability=Availability.AVAILABLE,
            contacts=_CONTACT,
        ),
    ),
    ItemKind.TARGET: _item(
        ItemKind.TARGET,
        "TGT-0001",
        "示例小学",
        TargetDetails(category=TargetCategory.SCHOOL, population=800, contacts=_CONTACT),
    ),
    ItemKind.PLAN: _item(
        ItemKind.PLAN,
        "PLAN-0001",
        "危险化学品泄漏事故应急预案",
        PlanDetails(
            type_codes=["hazchem_leak"],
            levels=["I", "II"],
            response_level="II",
            roles=["总指挥", "现场指挥部"],
            steps=[
                PlanStep(id="1", text="核实泄漏物质、数量和位置", role="值班员", within_min=5.0),
                PlanStep(id="2", text="划定警戒区，疏散下风向人员", role="现场指挥部"),
            ],
            resources=[ResourceNeed(capability="hazmat", quantity=2.0)],
            specialties=["危险化学品"],
        ),
    ),
}
"""One example item per kind."""
