"""The CAP 1.2 alert as plain frozen values (OASIS cap-v1.2-os, section 3.2).

Only what DutyDesk writes and reads is modelled: ``source``, ``code``, ``incidents``,
``responseType``, ``audience``, ``eventCode``, ``effective``, ``resource``, ``altitude``
and ``ceiling`` are not (the decoder skips them). Times are aware datetimes; points are
WGS-84 ``(lat, lon)`` as CAP writes them.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    """``alert/status``: how the alert is to be handled."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(enum.StrEnum):
    """``alert/msgType``."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class Scope(enum.StrEnum):
    """``alert/scope``: who may see it."""

    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    """Only users with a known operational need (``restriction`` says who)."""
    PRIVATE = "Private"
    """Only the ``addresses`` listed."""


class Category(enum.StrEnum):
    """``info/category``."""

    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class Urgency(enum.StrEnum):
    """``info/urgency``."""

    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(enum.StrEnum):
    """``info/severity``."""

    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(enum.StrEnum):
    """``info/certainty``."""

    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


Point = tuple[float, float]
"""``(lat, lon)`` in WGS-84 degrees."""
Polygon = tuple[Point, ...]
"""A closed ring: at least four points, the first equal to the last."""
Circle = tuple[float, float, float]
"""``(lat, lon, radius_km)``."""


@dataclass(frozen=True, slots=True)
class CapReference:
    """One earlier alert this one refers to (``references``: ``sender,identifier,sent``)."""

    sender: str
    identifier: str
    sent: dt.datetime


@dataclass(frozen=True, slots=True)
class CapArea:
    """``info/area``: where the info applies."""

    description: str
    """``areaDesc``."""
    polygons: tuple[Polygon, ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()
    """``(valueName, value)`` pairs (e.g. ``("GB/T 2260", "110105")``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CapInfo:
    """``alert/info``: one language's account of the event (keyword arguments only)."""

    language: str = "zh-CN"
    """RFC 3066 language tag."""
    categories: tuple[Category, ...]
    event: str
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    web: str = ""
    contact: str = ""
    parameters: tuple[tuple[str, str], ...] = ()
    """``(valueName, value)`` pairs."""
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True, slots=True)
class CapAlert:
    """One CAP 1.2 ``alert`` message."""

    identifier: str
    """Unique per sender; no spaces, commas, ``<`` or ``&``."""
    sender: str
    """Who sent it (an e-mail-like address); no spaces, commas, ``<`` or ``&``."""
    sent: dt.datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    restriction: str = ""
    """Required when ``scope`` is Restricted."""
    addresses: str = ""
    """Required when ``scope`` is Private (space-separated; multi-word in quotes)."""
    note: str = ""
    references: tuple[CapReference, ...] = ()
    """The alerts an Update/Cancel/Ack/Error refers to."""
    infos: tuple[CapInfo, ...] = ()
