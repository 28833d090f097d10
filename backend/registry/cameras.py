"""The camera registry: where the cameras are, whose they are, and where their video comes from.

Stream addresses often carry credentials, so they are stored encrypted with the data key
(:class:`~backend.security.FieldCipher`) next to a masked copy. Consoles get the real
address only for the cameras their user may see (:func:`backend.authz.policy.can_see_camera`);
listings, logs and the command line only ever show the masked copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.alarms import grants
from backend.authz import policy as authz
from backend.authz.principal import Principal
from backend.jurisdictions.placing import settle
from backend.jurisdictions.tree import JurisdictionTree
from backend.runtime.clock import utc_now
from backend.security import Error as SecurityError
from backend.security import FieldCipher
from backend.storage.models import CameraRecord
from realtime.protocol import CameraView
from realtime.streams import Error as StreamError
from realtime.streams import mask_stream_url, validate_stream_url

logger = logging.getLogger(__name__)

MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 128
MAX_LABEL_LENGTH = 128
"""Longest agency, hazard source and enterprise names (the columns' sizes)."""
MAX_JURISDICTION_LENGTH = 32


class Error(Exception):
    """A camera was refused or not found; the message says why (never with credentials)."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did: how many cameras were new, changed, or left as they were."""

    added: int
    updated: int
    unchanged: int
    warnings: tuple[str, ...] = ()
    """Cameras placed in another jurisdiction than the file gave (placed wins)."""


def validate(camera: CameraView) -> CameraView:
    """Return ``camera`` with its text fields stripped, or raise :class:`Error`."""
    code, name = camera.code.strip(), camera.name.strip()
    if not code or any(character.isspace() for character in code):
        raise Error(f"camera code {code!r} must be non-empty and without spaces")
    if len(code) > MAX_CODE_LENGTH:
        raise Error(f"camera code {code!r} is longer than {MAX_CODE_LENGTH} characters")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise Error(f"camera {code}: a name of 1 to {MAX_NAME_LENGTH} characters is required")
    if not (math.isfinite(camera.lat) and -90.0 <= camera.lat <= 90.0):
        raise Error(f"camera {code}: latitude {camera.lat} is outside -90…90")
    if not (math.isfinite(camera.lon) and -180.0 <= camera.lon <= 180.0):
        raise Error(f"camera {code}: longitude {camera.lon} is outside -180…180")
    labels = {
        "agency": camera.agency.strip(),
        "hazard source": camera.hazard_source.strip(),
        "enterprise": camera.enterprise.strip(),
    }
    for what, value in labels.items():
        if len(value) > MAX_LABEL_LENGTH:
            raise Error(f"camera {code}: the {what} is longer than {MAX_LABEL_LENGTH} characters")
    jurisdiction = camera.jurisdiction.strip()
    if len(jurisdiction) > MAX_JURISDICTION_LENGTH or not (
        jurisdiction == "" or jurisdiction.isdigit()
    ):
        raise Error(f"camera {code}: jurisdiction {jurisdiction!r} must be a region-code prefix")
    try:
        stream_url = validate_stream_url(camera.stream_url)
    except StreamError as exc:
        raise Error(f"camera {code}: {exc}") from exc
    return CameraView(
        id=camera.id,
        code=code,
        name=name,
        lat=camera.lat,
        lon=camera.lon,
        agency=labels["agency"],
        jurisdiction=jurisdiction,
        hazard_source=labels["hazard source"],
        enterprise=labels["enterprise"],
        stream_url=stream_url,
    )


class CameraRegistry:
    """Stores cameras and answers who may watch which."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        jurisdictions: JurisdictionTree | None = None,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._jurisdictions = jurisdictions
        self._unreadable: set[str] = set()
        """Codes whose stored address could not be decrypted (logged once each)."""

    def place(self, camera: CameraView) -> tuple[CameraView, str]:
        """``camera`` with the jurisdiction it stands in (placed wins over a given code
        that disagrees), and the warning to show when they disagreed."""
        if self._jurisdictions is None:
            return camera, ""
        settled = settle(
            camera.jurisdiction,
            self._jurisdictions.place(camera.lat, camera.lon),
            what=f"camera {camera.code}",
        )
        if settled.code != camera.jurisdiction:
            camera = msgspec.structs.replace(camera, jurisdiction=settled.code)
        return camera, settled.warning

    async def add(self, camera: CameraView) -> CameraView:
        """Register a new camera where it stands; refuse a code that is already registered."""
        checked, warning = self.place(validate(camera))
        if warning:
            logger.warning("%s", warning)
        async with self._sessions.begin() as session:
            existing = await session.scalar(
                select(CameraRecord.id).where(CameraRecord.code == checked.code)
            )
            if existing is not None:
                raise Error(f"camera {checked.code} is already registered")
            record = self._new_record(checked, utc_now())
            session.add(record)
            await session.flush()
            view = self._view(record, stream_url=checked.stream_url)
        logger.info("camera %s (%s) registered: %s", view.code, view.name, record.stream_url_masked)
        return view

    async def import_cameras(
        self, cameras: Iterable[CameraView], *, only_new: bool = False
    ) -> ImportOutcome:
        """Insert cameras whose code is new and update the others (unless ``only_new``).

        Everything is validated first and written in one transaction: a bad row changes
        nothing. Each camera lies where it stands (:meth:`place`).
        """
        placed = [self.place(validate(camera)) for camera in cameras]
        checked = [camera for camera, _ in placed]
        warnings = tuple(warning for _, warning in placed if warning)
        codes = [camera.code for camera in checked]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise Error(f"camera codes appear more than once: {', '.join(duplicates)}")
        added = updated = unchanged = 0
        now = utc_now()
        async with self._sessions.begin() as session:
            known = {
                record.code: record
                for record in await session.scalars(
                    select(CameraRecord).where(CameraRecord.code.in_(codes))
                )
            }
            for camera in checked:
                record = known.get(camera.code)
                if record is None:
                    session.add(self._new_record(camera, now))
                    added += 1
                elif only_new or not self._update(record, camera, now):
                    unchanged += 1
                else:
                    updated += 1
        if added or updated:
            logger.info("cameras imported: %s new, %s updated", added, updated)
        return ImportOutcome(added=added, updated=updated, unchanged=unchanged, warnings=warnings)

    async def remove(self, code: str) -> None:
        """Remove a camera from the registry."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(CameraRecord).where(CameraRecord.code == code.strip())
            )
            if not getattr(result, "rowcount", 0):
                raise Error(f"no camera {code}")
        logger.info("camera %s removed", code)

    async def list_masked(self) -> list[CameraView]:
        """Every camera with its stream address masked (for the command line and listings)."""
        async with self._sessions() as session:
            records = await session.scalars(select(CameraRecord).order_by(CameraRecord.code))
            return [self._view(record, stream_url=record.stream_url_masked) for record in records]

    async def visible_to(self, principal: Principal) -> list[CameraView]:
        """The cameras ``principal`` may watch, with their real stream addresses: those of
        their scope and those shared with their agency now (grants in force)."""
        async with self._sessions() as session:
            records = list(await session.scalars(select(CameraRecord).order_by(CameraRecord.code)))
            shared = await grants.cameras_shared(session, principal)
        views = []
        for record in records:
            with_agencies = [principal.agency] if record.id in shared and principal.agency else []
            if not authz.can_see_camera(
                principal, record.jurisdiction, record.agency, shared=with_agencies
            ):
                continue
            views.append(self._view(record, stream_url=self._stream_url(record)))
        return views

    # ------------------------------------------------------------------ internals

    def _stream_url(self, record: CameraRecord) -> str:
        try:
            url = self._cipher.decrypt(record.stream_url_enc)
        except SecurityError as exc:
            if record.code not in self._unreadable:
                self._unreadable.add(record.code)
                logger.warning(
                    "camera %s: its stream address cannot be read (%s); re-import it "
                    "with this server's data key",
                    record.code,
                    exc,
                )
            return ""
        self._unreadable.discard(record.code)
        return url

    def _new_record(self, camera: CameraView, now: dt.datetime) -> CameraRecord:
        return CameraRecord(
            code=camera.code,
            name=camera.name,
            lat=camera.lat,
            lon=camera.lon,
            agency=camera.agency,
            jurisdiction=camera.jurisdiction,
            hazard_source=camera.hazard_source,
            enterprise=camera.enterprise,
            stream_url_enc=self._cipher.encrypt(camera.stream_url),
            stream_url_masked=mask_stream_url(camera.stream_url),
            created_at=now,
            updated_at=now,
        )

    def _update(self, record: CameraRecord, camera: CameraView, now: dt.datetime) -> bool:
        """Bring ``record`` to ``camera``; return whether anything changed."""
        fields = {
            "name": camera.name,
            "lat": camera.lat,
            "lon": camera.lon,
            "agency": camera.agency,
            "jurisdiction": camera.jurisdiction,
            "hazard_source": camera.hazard_source,
            "enterprise": camera.enterprise,
        }
        changed = [name for name, value in fields.items() if getattr(record, name) != value]
        for name in changed:
            setattr(record, name, fields[name])
        if self._stream_url(record) != camera.stream_url:
            record.stream_url_enc = self._cipher.encrypt(camera.stream_url)
            record.stream_url_masked = mask_stream_url(camera.stream_url)
            changed.append("stream_url")
        if changed:
            record.updated_at = now
        return bool(changed)

    @staticmethod
    def _view(record: CameraRecord, *, stream_url: str) -> CameraView:
        return CameraView(
            id=record.id,
            code=record.code,
            name=record.name,
            lat=record.lat,
            lon=record.lon,
            agency=record.agency,
            jurisdiction=record.jurisdiction,
            hazard_source=record.hazard_source,
            enterprise=record.enterprise,
            stream_url=stream_url,
        )
