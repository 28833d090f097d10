"""How to reach the channels' gateways (``ServerConfig.smpp`` / ``ServerConfig.smtp``).

Plain values: the secrets in them are read from files by ``dutydesk serve`` (never taken
from the command line, where ``ps`` would show them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SmppSettings:
    """An SMPP 3.4 SMSC (the carrier's SMS gateway) and our account on it."""

    host: str
    port: int
    system_id: str
    password: str = ""
    system_type: str = ""
    source_addr: str = ""
    """Our sender number or service code (短信接入号); empty: the SMSC's default."""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    window: int = 10
    """Submits outstanding (sent, not answered) at once."""
    enquire_link_interval: float = 30.0
    """Seconds of keepalive between enquire_links on an idle link."""
    response_timeout: float = 10.0
    """Seconds to wait for an answer to a request."""
    connect_timeout: float = 10.0
    send_timeout: float = 30.0
    """Longest a send waits for a bound link before failing (temporarily)."""
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    """Back-off between reconnection attempts doubles from ``min`` up to ``max``."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """An SMTP relay and our account on it."""

    host: str
    port: int
    sender: str
    """The From address (e.g. ``值班台 <dutydesk@yjj.example.gov.cn>``)."""
    user: str = ""
    """Log in when set (after STARTTLS when :attr:`starttls`)."""
    password: str = ""
    starttls: bool = False
    timeout: float = 30.0
    """Seconds to wait for each answer of the relay."""
    message_timeout: float = 120.0
    """Longest one message may take, all its commands together (a relay that trickles
    its answers line by line must not hold a sending slot for good)."""
    concurrency: int = 4
    """Messages sent at once (each over its own connection)."""
