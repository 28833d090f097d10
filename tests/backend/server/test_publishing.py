"""Publishing over a real server (SQLite and PostgreSQL): the notice commands end to end,
each console getting exactly what its user may see of the notice events (staff of the
area the workflow, a recipient agency desk only the inbox item, another area nothing),
the two-person rule on the wire, and the public CAP feed over real HTTP (Atom index, CAP
1.2 alerts valid against the OASIS schema, ETag, 404). An exercise instance publishes to
its consoles only and serves no feed."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import urllib.error
import urllib.request
from pathlib import Path

import msgspec
import pytest

from backend.authz.principal import Principal
from backend.cap.codec import decode_alert
from backend.cap.model import MsgType, Severity
from backend.cap.testing import assert_valid_cap
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from realtime.client import CommandError
from realtime.protocol import (
    CAP_FEED_PATH,
    ApproveNotice,
    CancelNotice,
    Channel,
    Contact,
    DeliveryState,
    EnterpriseDetails,
    ExerciseLabel,
    ExerciseState,
    GetNotice,
    InboxResult,
    ListInbox,
    ListNotices,
    MarkNoticeRead,
    NoticeDetail,
    NoticeResult,
    NoticesResult,
    RegistryItemInput,
    Role,
    SaveNotice,
    SubmitNotice,
)
from tests.backend.conftest import Console, open_console
from tests.backend.publishing.conftest import leak_notice

XIHU = "330106"
QUIET = 0.3
USERS = (
    # username, role, agency, jurisdiction
    ("drafter", Role.OFFICER, None, XIHU),
    ("leader", Role.SUPERVISOR, None, ""),
    ("fire_desk", Role.AGENCY, "fire", "3301"),
    ("sh_viewer", Role.VIEWER, None, "310104"),
)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


async def _fetch(
    server: DutyDeskServer, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return await asyncio.to_thread(_get, f"http://127.0.0.1:{server.port}{path}", headers)


async def _users(server: DutyDeskServer) -> dict[str, Principal]:
    return {
        name: await server.users.add_user(
            name, f"pw-{name}-long", role, agency=agency, jurisdiction=area
        )
        for name, role, agency, area in USERS
    }


async def _consoles(server: DutyDeskServer) -> dict[str, Console]:
    return {name: await open_console(server, name, f"pw-{name}-long") for name, *_ in USERS}


def _notice_kinds(console: Console) -> list[tuple[str, bool, bool]]:
    """(kind, has the workflow, has the inbox item) of each notice event received."""
    return [
        (e.kind, e.notice is not msgspec.UNSET, e.inbox is not msgspec.UNSET)
        for e in console.recorder.events
        if e.kind.startswith("notice.")
    ]


async def test_notices_end_to_end_with_scoped_fan_out_and_the_cap_feed(
    server: DutyDeskServer,
) -> None:
    principals = await _users(server)
    await server.registry_items.save(
        principals["leader"],
        RegistryItemInput(
            code="ENT-TANKS",
            name="储罐公司",
            jurisdiction=XIHU,
            lat=30.27,
            lon=120.12,
            details=EnterpriseDetails(contacts=[Contact(name="张三", phone="13800000001")]),
        ),
        None,
    )
    consoles = await _consoles(server)
    try:
        drafter, leader, fire = consoles["drafter"], consoles["leader"], consoles["fire_desk"]
        saved = await drafter.client.request(SaveNotice(req="", notice=leak_notice()))
        assert isinstance(saved, NoticeResult)
        notice = saved.notice
        pending = await drafter.client.request(
            SubmitNotice(req="", notice_id=notice.id, version=notice.version)
        )
        assert isinstance(pending, NoticeResult)
        with pytest.raises(CommandError, match="role officer may not approve"):
            await drafter.client.request(
                ApproveNotice(req="", notice_id=notice.id, version=pending.notice.version)
            )
        published = await leader.client.request(
            ApproveNotice(req="", notice_id=notice.id, version=pending.notice.version)
        )
        assert isinstance(published, NoticeResult)
        await fire.recorder.wait_for(lambda: _notice_kinds(fire))
        await asyncio.sleep(QUIET)

        workflow = [("notice.saved", True, False), ("notice.submitted", True, False)]
        assert _notice_kinds(drafter)[:3] == [*workflow, ("notice.published", True, True)]
        # The agency desk (a recipient): the published notice as an inbox item, nothing of
        # the workflow, who decided, nor the other recipients.
        assert _notice_kinds(fire) == [("notice.published", False, True)]
        (event,) = [e for e in fire.recorder.events if e.kind.startswith("notice.")]
        assert (event.actor, event.fields) == ("", [])
        assert _notice_kinds(consoles["sh_viewer"]) == []

        inbox = await fire.client.request(ListInbox(req=""))
        assert isinstance(inbox, InboxResult)
        assert [item.title for item in inbox.items] == ["液氨槽车泄漏预警"]
        read = await fire.client.request(MarkNoticeRead(req="", notice_id=notice.id))
        assert isinstance(read, InboxResult)
        assert read.items[0].read_at is not None
        listed = await consoles["sh_viewer"].client.request(ListNotices(req=""))
        assert isinstance(listed, NoticesResult)
        assert listed.notices == []

        await _check_the_feed(server, published.notice.cap_identifier)
        cancelled = await leader.client.request(
            CancelNotice(
                req="", notice_id=notice.id, version=published.notice.version, reason="险情解除"
            )
        )
        assert isinstance(cancelled, NoticeResult)
        status, _, body = await _fetch(server, CAP_FEED_PATH)
        assert status == 200
        cancel_path = f"/cap/alerts/{published.notice.cap_identifier}.cancel.xml"
        assert cancel_path in body.decode()
        status, _, xml = await _fetch(server, cancel_path)
        assert status == 200
        assert_valid_cap(xml)
        alert = decode_alert(xml)
        assert alert.msg_type is MsgType.CANCEL
        assert alert.references[0].identifier == published.notice.cap_identifier
    finally:
        for console in consoles.values():
            await console.close()


async def _check_the_feed(server: DutyDeskServer, identifier: str) -> None:
    status, headers, body = await _fetch(server, CAP_FEED_PATH)
    assert status == 200
    assert headers["Content-Type"].startswith("application/atom+xml")
    text = body.decode()
    assert "<entry>" in text or ":entry" in text or "<entry " in text
    link = re.search(r'href="(/cap/alerts/[^"]+\.xml)"', text)
    assert link is not None
    assert link.group(1) == f"/cap/alerts/{identifier}.xml"
    status, _, again = await _fetch(server, CAP_FEED_PATH, {"If-None-Match": headers["ETag"]})
    assert (status, again) == (304, b"")
    status, headers, xml = await _fetch(server, link.group(1))
    assert status == 200
    assert headers["Content-Type"] == "application/cap+xml"
    assert_valid_cap(xml)
    alert = decode_alert(xml)
    assert (alert.identifier, alert.msg_type) == (identifier, MsgType.ALERT)
    info = alert.infos[0]
    assert (info.headline, info.severity, info.event) == (
        "液氨槽车泄漏预警",
        Severity.SEVERE,
        "危险化学品泄漏",
    )
    assert info.areas[0].geocodes == (("GB/T 2260", XIHU),)
    for path in ("/cap/alerts/nothing.xml", "/cap/alerts/../feed.atom", "/cap/other"):
        assert (await _fetch(server, path))[0] == 404


async def test_the_two_person_rule_on_the_wire(server: DutyDeskServer) -> None:
    await _users(server)
    leader = await open_console(server, "leader", "pw-leader-long")
    try:
        saved = await leader.client.request(SaveNotice(req="", notice=leak_notice()))
        assert isinstance(saved, NoticeResult)
        pending = await leader.client.request(
            SubmitNotice(req="", notice_id=saved.notice.id, version=saved.notice.version)
        )
        assert isinstance(pending, NoticeResult)
        with pytest.raises(CommandError, match="two-person rule") as refused:
            await leader.client.request(
                ApproveNotice(req="", notice_id=saved.notice.id, version=pending.notice.version)
            )
        assert refused.value.code == "forbidden"
        # The session goes on.
        listed = await leader.client.request(ListNotices(req=""))
        assert isinstance(listed, NoticesResult)
        assert [n.state for n in listed.notices] == ["pending"]
    finally:
        await leader.close()


async def test_an_exercise_publishes_to_its_consoles_only(tmp_path: Path) -> None:
    label = ExerciseLabel(run_id="r1", title="演练", speed=1.0, state=ExerciseState.RUNNING)
    config = ServerConfig(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'exercise.db'}",
        data_dir=tmp_path,
        port=0,
        cipher=FieldCipher.generate(),
        exercise=label,
        record_inputs=False,
        auto_record=False,
    )
    server = DutyDeskServer(config)
    server.channel_adapters[Channel.SMS] = object()  # type: ignore[assignment]
    await server.start()
    try:
        assert server.channel_adapters == {}  # nothing leaves an exercise
        assert not server.publishing.outside
        officer = await server.users.add_user("ex_officer", "pw-ex-officer", Role.OFFICER)
        boss = await server.users.add_user("ex_boss", "pw-ex-boss-long", Role.SUPERVISOR)
        draft = await server.publishing.save(officer, leak_notice())
        pending = await server.publishing.submit(officer, draft.id, draft.version)
        published = await server.publishing.approve(boss, pending.id, pending.version)
        _, receipts = await server.publishing.get(boss, published.id)
        assert receipts
        assert {r.channel for r in receipts} == {Channel.CONSOLE}
        assert (await _fetch(server, CAP_FEED_PATH))[0] == 404
    finally:
        await server.close()


async def test_an_expired_notice_leaves_the_feed(server: DutyDeskServer) -> None:
    principals = await _users(server)
    service = server.publishing
    past = service.now() - dt.timedelta(minutes=1)
    published = []
    for title, expires in (("已过期的通知", past), ("有效的通知", None)):
        notice = leak_notice(title=title, expires_at=expires)
        draft = await service.save(principals["drafter"], notice)
        pending = await service.submit(principals["drafter"], draft.id, draft.version)
        published.append(await service.approve(principals["leader"], pending.id, pending.version))
    status, _, body = await _fetch(server, CAP_FEED_PATH)
    assert status == 200
    text = body.decode()
    assert "有效的通知" in text
    assert "已过期的通知" not in text
    # Its alert stays where it was published (an integrator may still fetch it).
    expired = published[0].cap_identifier
    assert (await _fetch(server, f"/cap/alerts/{expired}.xml"))[0] == 200


async def test_an_enterprise_console_gets_only_the_notices_published_to_its_enterprise(
    server: DutyDeskServer,
) -> None:
    """Enterprise users over the wire: the enterprise inside the notice's area gets the
    published notice as an inbox item (never the workflow), reads it (its console receipt
    turns ``read`` for the staff), and may not list the bureau's notices; an enterprise of
    another area gets nothing, live or in its inbox."""
    principals = await _users(server)
    for code, name, area in (("ENT-TANKS", "储罐公司", XIHU), ("ENT-SH", "浦江化工", "310104")):
        await server.registry_items.save(
            principals["leader"],
            RegistryItemInput(
                code=code,
                name=name,
                jurisdiction=area,
                details=EnterpriseDetails(contacts=[Contact(name="李四", phone="13800000002")]),
            ),
            None,
        )
    await server.users.add_user(
        "tanks", "pw-tanks-long", Role.ENTERPRISE, jurisdiction=XIHU, enterprise="ENT-TANKS"
    )
    await server.users.add_user(
        "pujiang", "pw-pujiang-long", Role.ENTERPRISE, jurisdiction="310104", enterprise="ENT-SH"
    )
    drafter = await open_console(server, "drafter", "pw-drafter-long")
    leader = await open_console(server, "leader", "pw-leader-long")
    tanks = await open_console(server, "tanks", "pw-tanks-long")
    pujiang = await open_console(server, "pujiang", "pw-pujiang-long")
    try:
        saved = await drafter.client.request(
            SaveNotice(req="", notice=leak_notice(channels=[Channel.CONSOLE]))
        )
        assert isinstance(saved, NoticeResult)
        pending = await drafter.client.request(
            SubmitNotice(req="", notice_id=saved.notice.id, version=saved.notice.version)
        )
        assert isinstance(pending, NoticeResult)
        published = await leader.client.request(
            ApproveNotice(req="", notice_id=saved.notice.id, version=pending.notice.version)
        )
        assert isinstance(published, NoticeResult)
        await tanks.recorder.wait_for(lambda: _notice_kinds(tanks))
        await asyncio.sleep(QUIET)

        assert _notice_kinds(tanks) == [("notice.published", False, True)]
        assert _notice_kinds(pujiang) == []
        inbox = await tanks.client.request(ListInbox(req=""))
        assert isinstance(inbox, InboxResult)
        assert [item.title for item in inbox.items] == ["液氨槽车泄漏预警"]
        elsewhere = await pujiang.client.request(ListInbox(req=""))
        assert isinstance(elsewhere, InboxResult)
        assert elsewhere.items == []
        with pytest.raises(CommandError, match="may not") as refused:
            await tanks.client.request(ListNotices(req=""))
        assert refused.value.code == "forbidden"

        read = await tanks.client.request(MarkNoticeRead(req="", notice_id=saved.notice.id))
        assert isinstance(read, InboxResult)
        assert read.items[0].read_at is not None
        detail = await leader.client.request(GetNotice(req="", notice_id=saved.notice.id))
        assert isinstance(detail, NoticeDetail)
        enterprise_rows = [r for r in detail.receipts if r.recipient_code == "ENT-TANKS"]
        assert [(r.channel, r.state) for r in enterprise_rows] == [
            (Channel.CONSOLE, DeliveryState.READ)
        ]
        assert not [r for r in detail.receipts if r.recipient_code == "ENT-SH"]
    finally:
        for console in (drafter, leader, tanks, pujiang):
            await console.close()
