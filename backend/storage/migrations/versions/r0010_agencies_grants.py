"""Agencies and grants (issue 14: one authorization model).

``agencies`` lists the linked agencies (codes users, units and cameras name), seeded with
the usual ones and those the sample registry uses; ``grants`` holds the explicit shares
across scopes (an alarm, or a camera for an alarm, shared with an agency). The role
``agency_dispatcher`` becomes ``agency``.

Revision ID: r0010
Revises: r0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.storage.types import UTCDateTime

revision = "r0010"
down_revision = "r0009"

DEFAULT_AGENCIES = (
    ("emergency", "应急管理", "Emergency management", "government"),
    ("fire", "消防救援", "Fire and rescue", "rescue"),
    ("police", "公安", "Police", "police"),
    ("health", "卫健/120", "Health / 120", "medical"),
    ("medical", "医疗急救", "Medical emergency", "medical"),
    ("environment", "生态环境", "Ecology and environment", "government"),
    ("transport", "交通运输", "Transport", "government"),
    ("housing", "住建", "Housing and construction", "government"),
    ("weather", "气象", "Meteorology", "government"),
    ("safety", "安全生产监管", "Work safety supervision", "government"),
    ("grid", "网格", "Grid management", "grid"),
)
"""(code, Chinese name, English name, kind): the usual agencies, and every agency code the
sample registry (resources/registry: units, cameras) names."""


def upgrade() -> None:
    """Create and seed ``agencies``, create ``grants``, rename the agency role."""
    agencies = op.create_table(
        "agencies",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False, server_default=""),
        sa.Column("kind", sa.String(32), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.bulk_insert(
        agencies,
        [
            {"code": code, "name_zh": zh, "name_en": en, "kind": kind, "active": True}
            for code, zh, en, kind in DEFAULT_AGENCIES
        ],
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("alarm_id", sa.Integer, sa.ForeignKey("alarms.id"), nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("camera_id", sa.Integer, sa.ForeignKey("cameras.id"), nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_grants_alarm", "grants", ["alarm_id"])
    op.create_index("ix_grants_agency", "grants", ["agency"])
    op.execute("UPDATE users SET role = 'agency' WHERE role = 'agency_dispatcher'")
