"""``dutydesk serve --weather-dir DIR``: CAP alerts dropped into a folder (by the
meteorological service's feed, a mail rule, an operator) are imported as they arrive.

Every scan (each 30 s) imports the ``*.xml`` files of the folder, oldest name first, for
every hazard source of the registry; an imported file is moved to ``DIR/imported/``, a
refused one (not CAP, expired, …) to ``DIR/refused/`` with ``NAME.reason.txt`` beside it
saying why. A database failure leaves the file where it is: the next scan tries again.
With several instances one of them scans (a lease).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Final

from backend.authz.principal import Principal
from backend.early_warning import weather
from backend.early_warning.service import EarlyWarningService
from backend.errors import Error as Refusal
from backend.errors import ValidationError
from backend.runtime.leases import Lease
from backend.runtime.periodic import Periodic
from realtime.protocol import MAX_CAP_BYTES, Role

logger = logging.getLogger(__name__)

SCAN_INTERVAL: Final = 30.0
IMPORTER: Final = Principal(0, "weather-dir", "气象预警目录", Role.ADMIN, None, "")
"""Who imports the folder's alerts (the event log names it)."""


class WeatherFolder:
    """Imports the CAP files dropped into a folder (see the module)."""

    def __init__(
        self,
        folder: Path,
        service: EarlyWarningService,
        *,
        interval: float = SCAN_INTERVAL,
        lease: Lease | None = None,
    ) -> None:
        self.folder = folder
        self._service = service
        self._periodic = Periodic(
            "weather-folder", self._tick, interval=interval, log=logger, lease=lease
        )

    def start(self) -> None:
        """Scan now and then every interval."""
        self._periodic.start()

    async def stop(self) -> None:
        """Stop scanning."""
        await self._periodic.stop()

    async def _tick(self) -> None:
        await self.scan()

    async def scan(self) -> int:
        """Import the files there now; return how many were imported."""
        paths = await asyncio.to_thread(self._pending)
        imported = 0
        for path in paths:
            if await self._import(path):
                imported += 1
        return imported

    def _pending(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("*.xml") if p.is_file())

    async def _import(self, path: Path) -> bool:
        try:
            data = await asyncio.to_thread(_read, path)
            result = await weather.import_alert(self._service, IMPORTER, data)
        except OSError as exc:
            logger.warning("weather alert %s not read: %s", path.name, exc)
            return False
        except Refusal as exc:
            logger.warning("weather alert %s refused: %s", path.name, exc.message)
            await asyncio.to_thread(_set_aside, path, "refused", exc.message)
            return False
        logger.info("weather alert %s imported: %s warnings", path.name, len(result.warnings))
        await asyncio.to_thread(_set_aside, path, "imported", "")
        return True


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_CAP_BYTES:
        raise ValidationError(f"{size} bytes: larger than a CAP alert may be ({MAX_CAP_BYTES})")
    return path.read_bytes()


def _set_aside(path: Path, where: str, reason: str) -> None:
    target = path.parent / where
    target.mkdir(exist_ok=True)
    path.replace(target / path.name)
    if reason:
        (target / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
