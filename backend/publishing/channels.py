"""The seam between the publishing workflow and the channels that carry a notice out.

The workflow (:mod:`backend.publishing.service`) stores one delivery row per recipient
and channel before it sends anything (nothing accepted is lost: a restart resumes the
queued rows), then hands each to the channel's :class:`ChannelAdapter`. An adapter sends
and reports; it never touches the database. Delivery reports that arrive later (an SMPP
delivery receipt) come through :meth:`ChannelAdapter.receipts` carrying the reference
:meth:`ChannelAdapter.send` returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from realtime.protocol import Channel, DeliveryState


class Error(Exception):
    """A channel could not take a message."""


class DeliveryError(Error):
    """Sending failed. ``permanent``: retrying will not help (a bad address, refused
    content); otherwise the workflow retries with back-off."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one recipient on one channel."""

    delivery_id: int
    """The delivery row's id: the same id is never sent twice once ``send`` returned."""
    address: str
    """Plain (decrypted) phone number or e-mail address."""
    subject: str
    """E-mail subject (SMS: unused)."""
    text: str
    """The body as the channel carries it (SMS: the whole text; the adapter splits it)."""


@dataclass(frozen=True, slots=True)
class ChannelReceipt:
    """A later report about a message an adapter sent."""

    reference: str
    """What :meth:`ChannelAdapter.send` returned for it."""
    state: DeliveryState
    """``delivered`` or ``failed``."""
    at: dt.datetime
    error: str = ""


class ChannelAdapter(Protocol):
    """A way out for notices (SMS through an SMPP gateway, e-mail through SMTP)."""

    @property
    def channel(self) -> Channel:
        """The channel it carries."""
        ...

    async def send(self, message: Outgoing) -> str:
        """Hand ``message`` to the channel; return its reference (the SMSC's message id,
        the e-mail's Message-ID). Raises :class:`DeliveryError`."""
        ...

    def receipts(self) -> AsyncIterator[ChannelReceipt]:
        """Delivery reports as they arrive (an adapter without any yields none)."""
        ...

    async def close(self) -> None:
        """Stop: close connections, end :meth:`receipts`."""
        ...
