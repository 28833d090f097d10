"""Where the backend keeps its data and which database it uses by default."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """Return the per-user data folder (``$XDG_DATA_HOME/dutydesk`` or ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dutydesk"


def sqlite_url(data_dir: Path) -> str:
    """Return the SQLAlchemy URL of the embedded database inside ``data_dir``."""
    return f"sqlite+aiosqlite:///{data_dir / 'dutydesk.db'}"
