"""The channel adapters a server uses, built from its configuration.

An exercise's instance gets none: a notice published in an exercise reaches the
exercise's consoles only, never a telephone or a mailbox (the workflow sends nothing out
on a channel without an adapter).
"""

from __future__ import annotations

import logging
from typing import Protocol

from backend.publishing.channels import ChannelAdapter
from backend.publishing.settings import SmppSettings, SmtpSettings
from backend.publishing.smpp.client import SmppAdapter
from backend.publishing.smtp_adapter import SmtpAdapter
from realtime.protocol import Channel

logger = logging.getLogger(__name__)


class ChannelConfig(Protocol):
    """What :func:`build_adapters` reads (a :class:`~backend.server.config.ServerConfig`)."""

    @property
    def smpp(self) -> SmppSettings | None: ...
    @property
    def smtp(self) -> SmtpSettings | None: ...
    @property
    def exercise(self) -> object | None: ...


def build_adapters(config: ChannelConfig) -> dict[Channel, ChannelAdapter]:
    """SMS when an SMSC is configured, e-mail when an SMTP relay is; nothing in an
    exercise. The SMS adapter connects when first used."""
    adapters: dict[Channel, ChannelAdapter] = {}
    if config.exercise is not None:
        if config.smpp is not None or config.smtp is not None:
            logger.info("exercise: SMS and e-mail are not sent out of the exercise")
        return adapters
    if config.smpp is not None:
        adapters[Channel.SMS] = SmppAdapter(config.smpp)
    if config.smtp is not None:
        adapters[Channel.EMAIL] = SmtpAdapter(config.smtp)
    return adapters


async def close_adapters(adapters: dict[Channel, ChannelAdapter]) -> None:
    """Close every adapter (at the server's shutdown)."""
    for adapter in adapters.values():
        await adapter.close()
