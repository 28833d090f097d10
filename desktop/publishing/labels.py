"""Human words for publishing: kinds, levels (with their colours), states, audiences,
channels, delivery states, through Qt's translator (English source, Chinese in
``resources/translations``)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from realtime.protocol import (
    Audience,
    Channel,
    DeliveryState,
    NoticeKind,
    NoticeState,
    RecipientKind,
    WarningLevel,
)

LEVEL_COLOURS = {
    WarningLevel.RED: "#d32f2f",
    WarningLevel.ORANGE: "#f57c00",
    WarningLevel.YELLOW: "#fbc02d",
    WarningLevel.BLUE: "#1976d2",
}
"""The national early-warning colours."""


def _tr(text: str) -> str:
    return QCoreApplication.translate("Publishing", text)


def kind_label(kind: NoticeKind) -> str:
    """预警 or 通知."""
    return {NoticeKind.WARNING: _tr("Warning"), NoticeKind.NOTICE: _tr("Notice")}[kind]


def level_label(level: WarningLevel) -> str:
    """红色 … 蓝色."""
    return {
        WarningLevel.RED: _tr("Red"),
        WarningLevel.ORANGE: _tr("Orange"),
        WarningLevel.YELLOW: _tr("Yellow"),
        WarningLevel.BLUE: _tr("Blue"),
    }[level]


def state_label(state: NoticeState) -> str:
    """草稿, 待审批, 已退回, 已发布, 已撤回."""
    return {
        NoticeState.DRAFT: _tr("Draft"),
        NoticeState.PENDING: _tr("Awaiting approval"),
        NoticeState.REJECTED: _tr("Sent back"),
        NoticeState.PUBLISHED: _tr("Published"),
        NoticeState.CANCELLED: _tr("Withdrawn"),
    }[state]


def audience_label(audience: Audience) -> str:
    """企业, 部门, 公众."""
    return {
        Audience.ENTERPRISES: _tr("Enterprises"),
        Audience.AGENCIES: _tr("Agencies"),
        Audience.PUBLIC: _tr("Public"),
    }[audience]


def channel_label(channel: Channel) -> str:
    """控制台, 短信, 邮件, CAP."""
    return {
        Channel.CONSOLE: _tr("Console"),
        Channel.SMS: _tr("SMS"),
        Channel.EMAIL: _tr("E-mail"),
        Channel.CAP: _tr("CAP feed"),
    }[channel]


def delivery_label(state: DeliveryState) -> str:
    """排队, 已发送, 已送达, 已读, 失败."""
    return {
        DeliveryState.QUEUED: _tr("Queued"),
        DeliveryState.SENT: _tr("Sent"),
        DeliveryState.DELIVERED: _tr("Delivered"),
        DeliveryState.READ: _tr("Read"),
        DeliveryState.FAILED: _tr("Failed"),
    }[state]


def recipient_kind_label(kind: RecipientKind) -> str:
    """企业, 部门, 公众."""
    return {
        RecipientKind.ENTERPRISE: _tr("Enterprise"),
        RecipientKind.AGENCY: _tr("Agency"),
        RecipientKind.PUBLIC: _tr("Public"),
    }[kind]
