"""The public CAP feed on the console port (plain HTTP GET, no login): an Atom 1.0 index
of the published public notices (newest first, expired ones left out) at
:data:`~realtime.protocol.CAP_FEED_PATH`, each entry linking to its CAP 1.2 alert at
:data:`~realtime.protocol.CAP_ALERT_PATH_PREFIX` ``<identifier>.xml`` (a withdrawn notice:
its Cancel, ``<identifier>.cancel.xml``; the original stays served). Answers carry an
``ETag`` and ``Last-Modified`` (``If-None-Match`` gets 304). An exercise serves none: 404.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from sqlalchemy import or_, select
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from backend.cap.codec import encode_alert, format_time
from backend.cap.model import CapAlert
from backend.publishing import cap_alerts, store
from backend.storage.models import NoticeRow
from realtime.protocol import CAP_ALERT_PATH_PREFIX, CAP_FEED_PATH, NoticeState

if TYPE_CHECKING:
    from backend.server.app import DutyDeskServer

CAP_PATH_ROOT: Final = "/cap/"
"""Every path under it is the feed's (anything else there is 404)."""
FEED_ENTRIES: Final = 200
ATOM: Final = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE: Final = "application/cap+xml"
_ALERT_NAME: Final = re.compile(r"[A-Za-z0-9._@-]{1,200}\.xml")
"""What an alert's name can be (the identifiers publishing makes, ``.cancel`` added):
anything else is 404 without a database query (PostgreSQL refuses a NUL in one)."""


async def respond(
    server: DutyDeskServer, connection: ServerConnection, request: Request, path: str
) -> Response:
    """Answer a GET under :data:`CAP_PATH_ROOT`."""
    if server.config.exercise is not None:
        return connection.respond(HTTPStatus.NOT_FOUND, "an exercise publishes no CAP feed\n")
    if path == CAP_FEED_PATH:
        body, updated = await _feed(server)
        return _answer(request, body, updated, "application/atom+xml; charset=utf-8")
    name = path.removeprefix(CAP_ALERT_PATH_PREFIX)
    if path.startswith(CAP_ALERT_PATH_PREFIX) and _ALERT_NAME.fullmatch(name):
        found = await _alert(server, name.removesuffix(".xml"))
        if found is not None:
            return _answer(request, *found, CAP_MEDIA_TYPE)
    return connection.respond(HTTPStatus.NOT_FOUND, "no such CAP alert\n")


def _answer(request: Request, body: bytes, updated: str, media_type: str) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = Headers(
        [("ETag", etag), ("Last-Modified", updated), ("Cache-Control", "public, max-age=30")]
    )
    if request.headers.get("If-None-Match") == etag:
        return Response(HTTPStatus.NOT_MODIFIED, "Not Modified", headers, b"")
    headers["Content-Type"] = media_type
    headers["Content-Length"] = str(len(body))
    return Response(HTTPStatus.OK, "OK", headers, body)


async def _served(server: DutyDeskServer, limit: int) -> Sequence[NoticeRow]:
    now = server.publishing.now()
    async with server.sessions() as session:
        rows = await session.scalars(
            select(NoticeRow)
            .where(
                NoticeRow.public.is_(True),
                NoticeRow.state.in_([NoticeState.PUBLISHED.value, NoticeState.CANCELLED.value]),
                or_(NoticeRow.expires_at.is_(None), NoticeRow.expires_at > now),
            )
            .order_by(NoticeRow.updated_at.desc(), NoticeRow.id.desc())
            .limit(limit)
        )
        return list(rows)


async def _alert(server: DutyDeskServer, identifier: str) -> tuple[bytes, str] | None:
    cancel = identifier.endswith(cap_alerts.CANCEL_SUFFIX)
    original = identifier.removesuffix(cap_alerts.CANCEL_SUFFIX) if cancel else identifier
    async with server.sessions() as session:
        row = await session.scalar(select(NoticeRow).where(NoticeRow.cap_identifier == original))
    if row is None or not cap_alerts.is_served(row):
        return None
    if cancel and row.state != NoticeState.CANCELLED:
        return None
    alert = _cap(server, row, cancel=cancel)
    return encode_alert(alert), email.utils.format_datetime(alert.sent, usegmt=False)


def _cap(server: DutyDeskServer, row: NoticeRow, *, cancel: bool) -> CapAlert:
    area = server.publishing.area_text(store.content_of(row).area.description, row)
    build = cap_alerts.cancel_of if cancel else cap_alerts.alert_of
    return build(row, server.config.cap_sender, area)


async def _feed(server: DutyDeskServer) -> tuple[bytes, str]:
    rows = await _served(server, FEED_ENTRIES)
    sender = server.config.cap_sender
    updated = max((row.updated_at for row in rows), default=None) or server.publishing.now()
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _leaf(feed, "id", f"urn:dutydesk:cap:{sender}")
    _leaf(feed, "title", "DutyDesk 预警信息发布")
    _leaf(feed, "updated", format_time(updated))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _leaf(author, "name", sender)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=CAP_FEED_PATH)
    for row in rows:
        cancelled = row.state == NoticeState.CANCELLED
        alert = _cap(server, row, cancel=cancelled)
        info = alert.infos[0]
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _leaf(entry, "id", f"urn:dutydesk:cap:{alert.identifier}")
        _leaf(entry, "title", ("【解除】" if cancelled else "") + info.headline)
        _leaf(entry, "updated", format_time(row.updated_at))
        _leaf(entry, "summary", info.description)
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            rel="alternate",
            type=CAP_MEDIA_TYPE,
            href=f"{CAP_ALERT_PATH_PREFIX}{alert.identifier}.xml",
        )
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body, email.utils.format_datetime(updated, usegmt=False)


def _leaf(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{name}").text = text
