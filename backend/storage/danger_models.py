"""The tables of hidden-danger investigation and rectification (隐患排查治理, r0027):
``hidden_dangers`` (each danger's current state), ``danger_steps`` (its history) and
``inspections`` (the bureau's inspections of enterprises). Registered on
:class:`backend.storage.models.Base` (``models`` imports this module at its end).

The responsible person's name and phone are personal data: ``responsible_enc`` holds them
(JSON, encrypted with the data key); ``responsible_phone_masked`` is what views show.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.storage.models import Base
from backend.storage.types import UTCDateTime


class HiddenDangerRecord(Base):
    """One hidden danger of one enterprise, as it is now (r0027)."""

    __tablename__ = "hidden_dangers"
    __table_args__ = (
        Index("ix_hidden_dangers_enterprise", "enterprise", "id"),
        Index("ix_hidden_dangers_jurisdiction", "jurisdiction", "id"),
        Index("ix_hidden_dangers_open_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    enterprise: Mapped[str] = mapped_column(String(64))
    enterprise_name: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(64), default="")
    jurisdiction: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    responsible_enc: Mapped[str] = mapped_column(Text, default="")
    """``{"name": …, "phone": …}`` encrypted with the data key ("" when nobody named)."""
    responsible_phone_masked: Mapped[str] = mapped_column(String(32), default="")
    found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    rectified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    """The deadline passed while it was open (stays true: the statistics count it)."""
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_to: Mapped[str] = mapped_column(String(16), default="")
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspections.id"), nullable=True, index=True
    )
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DangerStepRecord(Base):
    """One step of a hidden danger's history (r0027)."""

    __tablename__ = "danger_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    danger_id: Mapped[int] = mapped_column(ForeignKey("hidden_dangers.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class InspectionRecord(Base):
    """One inspection (执法检查) of an enterprise by the bureau (r0027)."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_enterprise", "enterprise", "inspected_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise: Mapped[str] = mapped_column(String(64))
    enterprise_name: Mapped[str] = mapped_column(String(200), default="")
    jurisdiction: Mapped[str] = mapped_column(String(32), default="", index=True)
    inspected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    inspectors: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
