"""Human words for publishing: kinds, levels (with their colours), states, audiences,
channels, delivery states, through Qt's translator (English source, Chinese in
``resources/translations``)."""

from __future__ import annotations

import msgspec
from PySide6.QtCore import QCoreApplication

# One set of level words and colours for warnings raised and warnings published.
from desktop.early_warning.labels import LEVEL_COLOURS, level_label
from realtime.event_kinds import EventKind
from realtime.protocol import (
    Audience,
    Channel,
    DeliveryState,
    Event,
    NoticeKind,
    NoticeState,
    RecipientKind,
)

__all__ = [
    "LEVEL_COLOURS",
    "audience_label",
    "channel_label",
    "delivery_label",
    "kind_label",
    "level_label",
    "recipient_kind_label",
    "state_label",
]


def kind_label(kind: NoticeKind) -> str:
    """预警 or 通知."""
    return {
        NoticeKind.WARNING: QCoreApplication.translate("Publishing", "Warning"),
        NoticeKind.NOTICE: QCoreApplication.translate("Publishing", "Notice"),
    }[kind]


def state_label(state: NoticeState) -> str:
    """草稿, 待审批, 已退回, 已发布, 已撤回."""
    return {
        NoticeState.DRAFT: QCoreApplication.translate("Publishing", "Draft"),
        NoticeState.PENDING: QCoreApplication.translate("Publishing", "Awaiting approval"),
        NoticeState.REJECTED: QCoreApplication.translate("Publishing", "Sent back"),
        NoticeState.PUBLISHED: QCoreApplication.translate("Publishing", "Published"),
        NoticeState.CANCELLED: QCoreApplication.translate("Publishing", "Withdrawn"),
    }[state]


def audience_label(audience: Audience) -> str:
    """企业, 部门, 公众."""
    return {
        Audience.ENTERPRISES: QCoreApplication.translate("Publishing", "Enterprises"),
        Audience.AGENCIES: QCoreApplication.translate("Publishing", "Agencies"),
        Audience.PUBLIC: QCoreApplication.translate("Publishing", "Public"),
    }[audience]


def channel_label(channel: Channel) -> str:
    """控制台, 短信, 邮件, CAP."""
    return {
        Channel.CONSOLE: QCoreApplication.translate("Publishing", "Console"),
        Channel.SMS: QCoreApplication.translate("Publishing", "SMS"),
        Channel.EMAIL: QCoreApplication.translate("Publishing", "E-mail"),
        Channel.CAP: QCoreApplication.translate("Publishing", "CAP feed"),
    }[channel]


def delivery_label(state: DeliveryState) -> str:
    """排队, 已发送, 已送达, 已读, 失败."""
    return {
        DeliveryState.QUEUED: QCoreApplication.translate("Publishing", "Queued"),
        DeliveryState.SENT: QCoreApplication.translate("Publishing", "Sent"),
        DeliveryState.DELIVERED: QCoreApplication.translate("Publishing", "Delivered"),
        DeliveryState.READ: QCoreApplication.translate("Publishing", "Read"),
        DeliveryState.FAILED: QCoreApplication.translate("Publishing", "Failed"),
    }[state]


def recipient_kind_label(kind: RecipientKind) -> str:
    """企业, 部门, 公众."""
    return {
        RecipientKind.ENTERPRISE: QCoreApplication.translate("Publishing", "Enterprise"),
        RecipientKind.AGENCY: QCoreApplication.translate("Publishing", "Agency"),
        RecipientKind.PUBLIC: QCoreApplication.translate("Publishing", "Public"),
    }[kind]


def notice_event_text(event: Event) -> str | None:
    """What a ``notice.*`` event says in the event log (None for other events): the
    notice's level, kind and title; when published, how many consoles it went to (the
    event's ``fields`` name them by code, which is the server's business, not the log's)."""
    if not isinstance(event.notice, msgspec.UnsetType):
        notice = event.notice.notice
        kind, level, title = notice.kind, notice.level, notice.title
    elif not isinstance(event.inbox, msgspec.UnsetType):
        kind, level, title = event.inbox.kind, event.inbox.level, event.inbox.title
    else:
        return None
    parts = [f"{level_label(level)}{kind_label(kind)}", f"「{title}」"]
    if event.kind == EventKind.NOTICE_PUBLISHED and event.fields:
        parts.append(
            QCoreApplication.translate("Publishing", "recipients' consoles: {count}").format(
                count=len(event.fields)
            )
        )
    return " · ".join(parts)
