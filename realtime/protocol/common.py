"""What every part of the wire schema shares: roles, error codes, checked field types and
:class:`Tagged`, the base of every message."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import msgspec


class Role(enum.StrEnum):
    """What a user is allowed to do; checked by the server on every message against the
    permission table (``backend.authz.policy``, rendered in docs/protocol.md)."""

    OFFICER = "officer"
    """值班员: takes and works alarms in their area."""
    SUPERVISOR = "supervisor"
    """值班长/带班领导: an officer who may also override and supervise."""
    AGENCY = "agency"
    """A linked agency's desk (fire, police, 120, …): sees what is dispatched to or
    shared with its agency."""
    VIEWER = "viewer"
    """Read only (a leader's wall display): sees its area, acts on nothing."""
    ADMIN = "admin"
    DEVICE = "device"
    """A device feed's account: sends device messages, never opens a console."""
    TRAINER = "trainer"
    """Runs exercises; on live data it sees like a viewer."""
    ENTERPRISE = "enterprise"
    """企业用户: a user of one supervised enterprise (``UserInfo.enterprise``): reports its
    hidden dangers, works their rectification and reads the notices published to it; sees
    nothing else (no alarms, vehicles, sensors or other enterprises)."""


class ErrorCode(enum.StrEnum):
    """Machine-readable reason carried by every :class:`~realtime.protocol.Error`."""

    BAD_MESSAGE = "bad_message"
    """Not JSON, unknown ``type``, a missing or mistyped field."""
    VALIDATION = "validation"
    """Well formed but meaningless: latitude 120, an empty title, an unknown unit."""
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    """The role or jurisdiction does not allow this."""
    NOT_FOUND = "not_found"
    ILLEGAL_TRANSITION = "illegal_transition"
    STALE_VERSION = "stale_version"
    """The alarm changed since the client read it; reload and decide again."""
    RATE_LIMITED = "rate_limited"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"
    HELLO_EXPECTED = "hello_expected"
    DEVICE_OFFLINE = "device_offline"
    """The device is not connected, so the command cannot reach it now."""
    INTERNAL = "internal"


AwareDateTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]
"""A datetime that must carry its offset (``…Z`` or ``…+08:00``); naive times are refused."""
Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
JurisdictionCode = Annotated[str, msgspec.Meta(max_length=32)]
"""A jurisdiction's code (行政区划代码 and the grid's own below): at most what is stored."""
LongText = Annotated[str, msgspec.Meta(max_length=4000)]


class Tagged(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of every wire message: a JSON object whose ``type`` names its Struct."""
