"""``dutydesk serve --weather-dir DIR``: CAP alerts dropped into a folder (by the
meteorological service's feed, a mail rule, an operator) are imported as they arrive.

Every scan (each 30 s) imports the ``*.xml`` files of the folder, oldest name first, for
every hazard source of the registry; an imported file is moved to ``DIR/imported/``, a
refused one (not CAP, expired, …) to ``DIR/refused/`` with ``NAME.reason.txt`` beside it
saying why. A database failure leaves the file where it is: the next scan tries again.
A file changed in the last few seconds is left for the next scan (a feed that writes in
place rather than renaming may not be done: a half-written alert must not be refused).
A name already archived gets a number (``NAME.2.xml``): no earlier file is overwritten.
With several instances one of them scans (a lease).
"""

from __future__ import annotations

import asyncio
import logging
import time
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
SETTLE_SECONDS: Final = 5.0
"""A file changed more recently than this is left for the next scan."""
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
        settle: float = SETTLE_SECONDS,
        lease: Lease | None = None,
    ) -> None:
        self.folder = folder
        self._service = service
        self._settle = settle
        self._periodic = Periodic(
            "weather-folder",
            self._tick,
            interval=interval,
            immediately=True,  # alerts that came while the server was down wait no longer
            log=logger,
            lease=lease,
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
        settled_before = time.time() - self._settle
        pending: list[Path] = []
        for path in sorted(self.folder.glob("*.xml")):
            try:
                status = path.stat()
            except OSError:
                continue  # moved away meanwhile
            if not path.is_file():
                continue
            if status.st_mtime > settled_before:
                logger.debug("weather alert %s still changing; next scan", path.name)
                continue
            pending.append(path)
        return pending

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
    folder = path.parent / where
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, path.name)
    path.replace(target)
    if reason:
        (folder / f"{target.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/STEM.N.xml`` when a file of that name is there."""
    target = folder / name
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{Path(name).stem}.{number}{Path(name).suffix}"
    return target
