"""The demo's publishing (信息发布): while the night shift works the tanker's leak, its
supervisor drafts a warning for the enterprises around the tanker and for the public,
submits it, and a second person (the duty leader, a supervisor of its own) approves it,
so it is published: the enterprises' and agencies' consoles get it in their inbox, the
enterprises' contacts get an SMS (the demo's SMSC simulator: never a carrier) and the
public CAP feed carries it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import secrets

from backend.cli.night_shift import SUPERVISOR, NightShift
from backend.server.embedded import ServerThread
from realtime.client import ClientError, ConnectionState, DutyDeskClient
from realtime.protocol import (
    ApproveNotice,
    Audience,
    Channel,
    Event,
    NoticeArea,
    NoticeInput,
    NoticeKind,
    NoticeResult,
    Role,
    SaveNotice,
    Snapshot,
    SubmitNotice,
    WarningLevel,
    Welcome,
)

logger = logging.getLogger(__name__)

PUBLISHER = "duty_leader"
"""The second person: a supervisor who approves what the night shift's supervisor drafts."""
TANKER = (32.2402, 118.7511)
"""Where the demo's tanker overturned (沿江大道 K12+300)."""
RADIUS_DEG = 0.02
"""About 2 km around the tanker: the enterprises inside are warned."""


class _Quiet:
    """A listener that needs nothing from the stream."""

    def on_state(self, state: ConnectionState, detail: str) -> None:
        """Nothing to show."""

    def on_welcome(self, welcome: Welcome) -> None:
        """Nothing to show."""

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """Nothing to show."""

    def on_event(self, event: Event) -> None:
        """Nothing to show."""


def tanker_warning() -> NoticeInput:
    """The warning the night shift publishes about the tanker's ammonia leak."""
    lat, lon = TANKER
    square = [
        (lat - RADIUS_DEG, lon - RADIUS_DEG),
        (lat - RADIUS_DEG, lon + RADIUS_DEG),
        (lat + RADIUS_DEG, lon + RADIUS_DEG),
        (lat + RADIUS_DEG, lon - RADIUS_DEG),
    ]
    return NoticeInput(
        kind=NoticeKind.WARNING,
        level=WarningLevel.ORANGE,
        title="沿江大道液氨槽车泄漏橙色预警",
        body="沿江大道 K12+300 一辆液氨槽车侧翻泄漏，消防正在堵漏洗消。"
        "周边 2 公里内企业立即停止动火作业，做好人员防护。",
        event="危险化学品泄漏",
        instruction="关闭门窗和通风设备，人员向上风向撤离，勿靠近现场。",
        area=NoticeArea(polygon=square, description="沿江大道 K12+300 周边 2 公里"),
        audience=[Audience.ENTERPRISES, Audience.AGENCIES, Audience.PUBLIC],
        channels=[Channel.CONSOLE, Channel.SMS, Channel.CAP],
    )


def start(
    server: ServerThread, shift: NightShift, *, after: float = 8.0
) -> concurrent.futures.Future[None]:
    """Create the duty leader and publish the tanker's warning ``after`` seconds from now
    (the night shift is at work by then); cancel the future to stop it."""
    password = secrets.token_urlsafe(12)
    server.add_user(PUBLISHER, password, Role.SUPERVISOR)
    drafter = (SUPERVISOR, shift.passwords[SUPERVISOR])
    return server.submit(publish(server.console_url, drafter, (PUBLISHER, password), after=after))


async def publish(
    url: str, drafter: tuple[str, str], approver: tuple[str, str], *, after: float
) -> None:
    """Draft and submit as ``drafter``, approve as ``approver``; a refusal is logged."""
    await asyncio.sleep(after)
    clients = [
        DutyDeskClient(url, _Quiet(), username=name, password=pw, client_name="dutydesk-demo")
        for name, pw in (drafter, approver)
    ]
    runs = [
        asyncio.create_task(c.run(), name=f"demo-publishing-{i}") for i, c in enumerate(clients)
    ]
    try:
        for client in clients:
            await client.wait_live(30)
        writer, leader = clients
        saved = await writer.request(SaveNotice(req="", notice=tanker_warning()))
        if not isinstance(saved, NoticeResult):
            raise ClientError(f"unexpected answer {type(saved).__name__}")
        notice = saved.notice
        submitted = await writer.request(
            SubmitNotice(req="", notice_id=notice.id, version=notice.version)
        )
        if not isinstance(submitted, NoticeResult):
            raise ClientError(f"unexpected answer {type(submitted).__name__}")
        await asyncio.sleep(2.0)
        published = await leader.request(
            ApproveNotice(req="", notice_id=notice.id, version=submitted.notice.version)
        )
        if isinstance(published, NoticeResult):
            logger.info(
                "demo publishing: notice %s published to %s recipients (CAP %s)",
                notice.id,
                published.notice.counts.recipients,
                published.notice.cap_identifier,
            )
    except (ClientError, TimeoutError) as exc:
        logger.warning("the demo's publishing stopped: %s", exc)
    finally:
        for client in clients:
            await client.close()
        await asyncio.gather(*runs, return_exceptions=True)
