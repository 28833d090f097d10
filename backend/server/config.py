"""How to run a server: :class:`ServerConfig`, what ``dutydesk serve`` and the tests fill
in and :class:`backend.server.app.DutyDeskServer` runs by."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backend.alarms.reveals import DEFAULT_REVEALS_PER_HOUR
from backend.dangers.deadlines import CHECK_INTERVAL as DANGER_CHECK_INTERVAL
from backend.early_warning.detector import WarningSettings
from backend.incidents.catalogue import Catalogue
from backend.publishing.settings import SmppSettings, SmtpSettings
from backend.recommend.ranking import DEFAULT_COVER_MINUTES
from backend.registry.users import SESSION_TOKEN_LIFETIME
from backend.security import DEFAULT_HASH_QUEUE, DEFAULT_HASH_WORKERS, FieldCipher
from backend.sensors.rules import SensorConfig
from backend.server.handshake import LoginLimits
from backend.server.sessions import SESSION_CHECK_INTERVAL, SESSION_TOUCH_INTERVAL
from backend.vehicles.rules import RulesConfig
from devices.jt808.gateway.limits import LimitOptions
from realtime.protocol import (
    CONSOLE_RATE_BURST,
    CONSOLE_RATE_PER_SECOND,
    DEFAULT_MAX_ATTACHMENT_BYTES,
    CameraView,
    ExerciseLabel,
    Role,
    UnitView,
)

CONSOLE_TICK_S = 0.010
"""How often live positions and readings go out to consoles, coalesced (``serve
--console-tick``). 10 ms, not 25: at 20,000 locations/s it brought sent → console p99
under 100 ms (bench/scaleout.py) for no measurable CPU, servers' or consoles'."""


@dataclass(slots=True)
class ServerConfig:
    """How to run the server."""

    db_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    allowed_origins: Sequence[str] = ()
    """Browser origins allowed to connect; clients that send no Origin are always allowed."""
    cipher: FieldCipher | None = None
    seed_units: Sequence[UnitView] = ()
    console_rate_per_second: float = CONSOLE_RATE_PER_SECOND
    console_rate_burst: int = CONSOLE_RATE_BURST
    jt808_auto_register: bool = False
    """Give unknown JT/T 808 terminals an auth code (and a registry entry) on registration."""
    jt808_listen: tuple[str, int] | None = None
    """Run a JT/T 808 TCP gateway in this process on (host, port)."""
    jt808_offline_after: float = 180.0
    """Seconds of silence after which a terminal counts as offline."""
    jt808_max_frames_per_second: float = 20.0
    """Per-connection frame rate limit (a terminal reports every few seconds)."""
    jt808_limits: LimitOptions = field(default_factory=LimitOptions)
    """The gateway's login deadline and connection caps."""
    telemetry_commit_delay: float = 0.01
    """Longest a position or reading waits for its group commit (under load the batches
    grow by themselves while the previous commit runs)."""
    telemetry_fanout_interval: float = CONSOLE_TICK_S
    """How often coalesced telemetry goes to consoles (the map redraws on its own timer)."""
    seed_sensors: Sequence[SensorConfig] = ()
    """Sensors to register at start unless already known (samples, demos)."""
    seed_cameras: Sequence[CameraView] = ()
    """Cameras to register at start unless their code is known (samples, demos)."""
    vehicle_rules: RulesConfig | None = None
    """Rules checked on every live vehicle fix (overspeed, geofences, night ban, …)."""
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    """Failed logins tolerated per address and per user before refusing without a check."""
    login_hash_workers: int = DEFAULT_HASH_WORKERS
    """Password checks (argon2) computed at once."""
    login_hash_queue: int = DEFAULT_HASH_QUEUE
    """Password checks allowed to wait; logins beyond are answered 503 at once."""
    reveals_per_hour: int = DEFAULT_REVEALS_PER_HOUR
    """Reveals of protected personal data one user may make in any hour."""
    session_lifetime: dt.timedelta = SESSION_TOKEN_LIFETIME
    """How long a console session (and its token) lasts from the password login."""
    session_check_interval: float = SESSION_CHECK_INTERVAL
    """Seconds between checks for sessions ended elsewhere (the CLI) or expired."""
    session_touch_interval: float = SESSION_TOUCH_INTERVAL
    """Seconds between updates of the open sessions' ``last_seen_at``."""
    require_totp: Collection[Role] = ()
    """Roles that must log in with a second factor (TOTP)."""
    tls_cert: Path | None = None
    """PEM certificate (chain): serve ``wss://`` and ``https://`` instead of plain."""
    tls_key: Path | None = None
    """PEM private key of :attr:`tls_cert` (``None``: inside the certificate file)."""
    preload_jurisdictions: bool = False
    """Read every province's districts at start (≈ 0.3 s once per process, off the event
    loop) instead of each at the first point placed in it (5–30 ms on the event loop)."""
    catalogue: Catalogue | None = None
    """The event catalogue (``None``: the file ``$DUTYDESK_CATALOGUE`` names, else the
    shipped default)."""
    deadline_check_interval: float = 1.0
    """Seconds between checks of the open tasks' deadlines."""
    danger_check_interval: float = DANGER_CHECK_INTERVAL
    """Seconds between checks of the hidden dangers' deadlines and escalations."""
    clock: Callable[[], dt.datetime] | None = None
    """The clock task deadlines run on (``None``: the system's; tests give their own)."""
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    """Largest attachment of an incident's chat (stored under ``data_dir/attachments``)."""
    cover_minutes: float = DEFAULT_COVER_MINUTES
    """Recommendation: within how many minutes another available team must reach a sent
    team's base, else the ranking warns ``no_cover`` for its jurisdiction."""
    exercise: ExerciseLabel | None = None
    """Set: this instance is an exercise (演练) and marks every message it sends."""
    record_inputs: bool = True
    """Keep the input journal (device input and commands as received) and record around
    every incident (an exercise instance sets it False)."""
    journal_hours: float = 72.0
    """Hours the input journal keeps (older hourly segments are deleted)."""
    auto_record: bool = True
    """Record a window around every incident automatically (``data_dir/recordings``)."""
    record_before: dt.timedelta = dt.timedelta(minutes=15)
    """An automatic recording starts this long before its incident opened."""
    record_after: dt.timedelta = dt.timedelta(minutes=15)
    """An automatic recording ends this long after its incident closed."""
    worker_relay: tuple[Path, int, int] | None = None
    """(folder, this worker's number, number of workers): live positions are relayed to
    the other workers' consoles (``backend.server.telemetry_relay``)."""
    cluster_relay: bool = True
    """On PostgreSQL, relay live positions to the consoles of the other instances
    (``backend.server.cluster_relay``; nothing is sent while no other instance listens)."""
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies (addresses or CIDR blocks) whose ``X-Forwarded-For`` names the
    client: the login throttle and the session list use the client's address then."""
    reuse_port: bool = False
    """Listen with SO_REUSEPORT: worker processes share the ports, the kernel spreads
    connections over them (``dutydesk serve --workers N``)."""
    smpp: SmppSettings | None = None
    """The SMS gateway (SMPP 3.4 SMSC) published notices go out through."""
    smtp: SmtpSettings | None = None
    """The SMTP relay published notices go out through by e-mail."""
    cap_sender: str = "dutydesk@localhost"
    """``sender`` of the CAP alerts this server publishes (no spaces or commas; also the
    stem of their identifiers)."""
    early_warning: WarningSettings = field(default_factory=WarningSettings)
    """How early warnings (预警) are raised from sensor trends (docs/early-warning.md)."""
    weather_dir: Path | None = None
    """CAP weather alerts dropped here are imported (never in an exercise)."""
    notice_rate_per_second: float = 20.0
    """Most SMS or e-mails of published notices sent per second, per channel."""
    notice_retry_after: float = 5.0
    """Seconds before a failed SMS or e-mail is tried again (doubling, at most 5 tries)."""
    notice_report_every: float = 2.0
    """Seconds between two ``notice.delivery`` events of one notice (counts coalesced)."""
