"""The publishing workflow against a real database (SQLite and PostgreSQL): draft,
submit, approve by a second person, reject and edit again, withdraw; stale versions; who
may see and do what; the recipients an approval chooses, each delivery stored with the
publishing event; the inbox of enterprises and agency desks."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import select

from backend.authz import policy
from backend.errors import Error, ForbiddenError, ValidationError
from backend.publishing.subscribers import SubscriberStore
from backend.storage.models import NoticeDelivery
from realtime.protocol import (
    Audience,
    Channel,
    DeliveryState,
    ErrorCode,
    InboxItem,
    NoticeArea,
    NoticeState,
    RecipientKind,
)
from tests.backend.publishing.conftest import (
    FIRE_DESK,
    MILL,
    MILL_PHONE,
    OFFICER,
    OTHER_OFFICER,
    POLICE_SH,
    SH_FIRM,
    SH_SUPERVISOR,
    SUPERVISOR,
    SUPERVISOR2,
    TANKS,
    TANKS_EMAIL,
    TANKS_PHONE,
    VIEWER,
    Env,
    leak_notice,
)

HIDDEN = "no such notice in your area"


async def test_a_notice_is_drafted_submitted_approved_and_published_with_its_deliveries(
    env: Env,
) -> None:
    service = env.service
    draft = await service.save(OFFICER, leak_notice())
    assert (draft.state, draft.version, draft.jurisdiction) == (NoticeState.DRAFT, 1, "330106")
    pending = await service.submit(OFFICER, draft.id, draft.version)
    assert (pending.state, pending.submitted_by) == (NoticeState.PENDING, "officer1")
    published = await service.approve(SUPERVISOR, pending.id, pending.version, "同意发布")
    assert published.state is NoticeState.PUBLISHED
    assert published.decided_by == "leader1"
    assert published.cap_identifier.startswith("dutydesk@localhost.notice.")

    view, receipts = await service.get(VIEWER, published.id)
    rows = {(r.recipient_code, r.channel, r.address, r.state) for r in receipts}
    # The enterprises of Xihu (not Shanghai's, not the retired one), every active agency,
    # the CAP feed; each phone and e-mail once, masked.
    assert ("ENT-TANKS", Channel.CONSOLE, "ENT-TANKS 公司", DeliveryState.SENT) in rows
    assert ("ENT-TANKS", Channel.SMS, "138****0001", DeliveryState.QUEUED) in rows
    assert ("ENT-TANKS", Channel.EMAIL, "s***@tanks.example.cn", DeliveryState.QUEUED) in rows
    assert ("ENT-MILL", Channel.SMS, "139****0002", DeliveryState.QUEUED) in rows
    assert ("cap", Channel.CAP, "", DeliveryState.DELIVERED) in rows
    assert ("fire", Channel.CONSOLE) in {(r.recipient_code, r.channel) for r in receipts}
    assert not {"ENT-SH", "ENT-OLD"} & {r.recipient_code for r in receipts}
    assert sum(1 for r in receipts if r.recipient_code == "ENT-MILL") == 2  # console + 1 SMS
    assert view.counts.queued == 3
    assert view.counts.recipients == len({(r.recipient_kind, r.recipient_code) for r in receipts})

    kinds = [event.kind for event in env.published]
    assert kinds == ["notice.saved", "notice.submitted", "notice.published"]
    assert [event.actor for event in env.published] == ["officer1", "officer1", "leader1"]
    event = env.published[-1]
    assert "enterprise:ENT-TANKS" in event.fields
    assert "agency:fire" in event.fields
    assert isinstance(event.inbox, InboxItem)
    assert event.inbox.title == "液氨槽车泄漏预警"


async def test_addresses_are_stored_encrypted(env: Env) -> None:
    await env.publish()
    async with env.sessions() as session:
        stored = list(await session.scalars(select(NoticeDelivery)))
    blob = " ".join(f"{row.address_enc} {row.address_masked}" for row in stored)
    assert TANKS_PHONE not in blob
    assert TANKS_EMAIL not in blob
    assert MILL_PHONE not in blob
    addresses = {env.cipher.decrypt(row.address_enc) for row in stored if row.address_enc}
    assert addresses == {TANKS_PHONE, TANKS_EMAIL, MILL_PHONE}


async def test_two_person_rule_refuses_the_drafter_and_the_submitter(env: Env) -> None:
    service = env.service
    # A supervisor drafts: they may not approve their own notice.
    draft = await service.save(SUPERVISOR, leak_notice())
    pending = await service.submit(SUPERVISOR, draft.id, draft.version)
    with pytest.raises(ForbiddenError, match="two-person rule"):
        await service.approve(SUPERVISOR, pending.id, pending.version)
    # Another supervisor submits someone's draft: the submitter may not approve either.
    other = await service.save(OFFICER, leak_notice())
    submitted = await service.submit(SUPERVISOR2, other.id, other.version)
    with pytest.raises(ForbiddenError, match="two-person rule"):
        await service.approve(SUPERVISOR2, submitted.id, submitted.version)
    assert (await service.approve(SUPERVISOR, submitted.id, submitted.version)).state is (
        NoticeState.PUBLISHED
    )
    assert (await service.approve(SUPERVISOR2, pending.id, pending.version)).state is (
        NoticeState.PUBLISHED
    )


async def test_stale_versions_are_refused(env: Env) -> None:
    service = env.service
    draft = await service.save(OFFICER, leak_notice())
    changed = await service.save(OFFICER, leak_notice(title="更正"), draft.id, draft.version)
    assert changed.version == 2
    with pytest.raises(Error) as stale:
        await service.save(OFFICER, leak_notice(), draft.id, draft.version)
    assert stale.value.code is ErrorCode.STALE_VERSION
    pending = await service.submit(OFFICER, changed.id, changed.version)
    with pytest.raises(Error) as again:
        await service.approve(SUPERVISOR, pending.id, changed.version)
    assert again.value.code is ErrorCode.STALE_VERSION


async def test_a_rejected_notice_is_edited_and_submitted_again(env: Env) -> None:
    service = env.service
    draft = await service.save(OFFICER, leak_notice())
    pending = await service.submit(OFFICER, draft.id, draft.version)
    rejected = await service.reject(SUPERVISOR, pending.id, pending.version, "范围过大")
    assert (rejected.state, rejected.reason, rejected.decided_by) == (
        NoticeState.REJECTED,
        "范围过大",
        "leader1",
    )
    with pytest.raises(ValidationError, match="not waiting for a decision"):
        await service.approve(SUPERVISOR, rejected.id, rejected.version)
    edited = await service.save(
        OFFICER, leak_notice(title="缩小范围"), rejected.id, rejected.version
    )
    assert edited.state is NoticeState.DRAFT
    again = await service.submit(OFFICER, edited.id, edited.version)
    assert again.state is NoticeState.PENDING
    assert again.reason == ""
    # Only drafts and rejected notices change.
    with pytest.raises(ValidationError, match="cannot be changed"):
        await service.save(OFFICER, leak_notice(), again.id, again.version)
    assert env.published[2].note == "范围过大"


async def test_only_the_drafter_or_a_supervisor_changes_a_draft_and_others_never_see_it(
    env: Env,
) -> None:
    service = env.service
    draft = await service.save(OFFICER, leak_notice())
    # Another officer of the area: the draft is not theirs to see (refused like a missing one).
    with pytest.raises(ForbiddenError, match=HIDDEN):
        await service.get(OTHER_OFFICER, draft.id)
    assert await service.list_notices(OTHER_OFFICER) == []
    assert [n.id for n in await service.list_notices(SUPERVISOR)] == [draft.id]
    edited = await service.save(SUPERVISOR, leak_notice(title="领导修改"), draft.id, 1)
    assert edited.notice.title == "领导修改"
    pending = await service.submit(OFFICER, edited.id, edited.version)
    # Submitted: the staff of the area see it; another officer still may not change it.
    assert [n.id for n in await service.list_notices(OTHER_OFFICER)] == [pending.id]
    with pytest.raises(ForbiddenError, match="only its drafter or a supervisor"):
        await service.save(OTHER_OFFICER, leak_notice(), draft.id, pending.version)


async def test_another_area_never_sees_a_notice(env: Env) -> None:
    notice_id = await env.publish()
    assert await env.service.list_notices(SH_SUPERVISOR) == []
    for attempt in (
        env.service.get(SH_SUPERVISOR, notice_id),
        env.service.get(SH_SUPERVISOR, 999_999),
        env.service.cancel(SH_SUPERVISOR, notice_id, 3, "越权"),
    ):
        with pytest.raises(ForbiddenError, match=HIDDEN):
            await attempt
    # Nor may a draft reach beyond the drafter's area.
    with pytest.raises(ValidationError, match="outside your area"):
        await env.service.save(OFFICER, leak_notice(area=NoticeArea(jurisdictions=["310104"])))


async def test_recipients_see_their_inbox_only(env: Env) -> None:
    notice_id = await env.publish()
    service = env.service
    (item,) = await service.inbox(TANKS)
    assert (item.id, item.title, item.area, item.read_at) == (
        notice_id,
        "液氨槽车泄漏预警",
        "西湖区",
        None,
    )
    assert [i.id for i in await service.inbox(MILL)] == [notice_id]
    assert [i.id for i in await service.inbox(FIRE_DESK)] == [notice_id]
    # Another area's enterprise, and another area's desk of a listed agency: nothing.
    assert await service.inbox(SH_FIRM) == []
    assert await service.inbox(POLICE_SH) == []
    with pytest.raises(ForbiddenError, match=HIDDEN):
        await service.mark_read(SH_FIRM, notice_id)
    read = await service.mark_read(TANKS, notice_id)
    assert read.read_at == env.clock.now
    _, receipts = await service.get(SUPERVISOR, notice_id)
    console = {r.recipient_code: r.state for r in receipts if r.channel is Channel.CONSOLE}
    assert console["ENT-TANKS"] is DeliveryState.READ
    assert console["ENT-MILL"] is DeliveryState.DELIVERED  # its console listed it
    assert console["police"] is DeliveryState.SENT


async def test_the_fan_out_gives_a_recipient_the_inbox_item_only(env: Env) -> None:
    await env.publish()
    event = env.published[-1]
    assert policy.can_see_event(SUPERVISOR, event)
    assert policy.event_as_seen(SUPERVISOR, event) is event
    for recipient in (TANKS, MILL, FIRE_DESK):
        assert policy.can_see_event(recipient, event)
        seen = policy.event_as_seen(recipient, event)
        assert seen.notice is msgspec.UNSET
        assert (seen.fields, seen.actor, seen.inbox) == ([], "", event.inbox)
    for outsider in (SH_FIRM, POLICE_SH, SH_SUPERVISOR):
        assert not policy.can_see_event(outsider, event)
    # The workflow before publishing reaches no recipient; a draft only its drafter and
    # the supervisors.
    saved = env.published[0]
    assert not policy.can_see_event(TANKS, saved)
    assert policy.can_see_event(OFFICER, saved)
    assert policy.can_see_event(SUPERVISOR, saved)
    assert not policy.can_see_event(OTHER_OFFICER, saved)


async def test_withdrawing_fails_what_is_still_queued_and_tells_the_recipients(env: Env) -> None:
    notice_id = await env.publish()
    view, _ = await env.service.get(SUPERVISOR, notice_id)
    with pytest.raises(ForbiddenError, match="may not approve"):
        await env.service.cancel(OTHER_OFFICER, notice_id, view.version, "撤回")
    cancelled = await env.service.cancel(SUPERVISOR2, notice_id, view.version, "险情解除")
    assert cancelled.state is NoticeState.CANCELLED
    assert cancelled.reason == "险情解除"
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    assert {r.state for r in receipts if r.channel is Channel.SMS} == {DeliveryState.FAILED}
    event = env.published[-1]
    assert event.kind == "notice.cancelled"
    assert "enterprise:ENT-TANKS" in event.fields
    assert isinstance(event.inbox, InboxItem)
    assert event.inbox.cancelled
    (item,) = await env.service.inbox(TANKS)
    assert item.cancelled


async def test_an_exercise_publishes_to_consoles_only(env: Env) -> None:
    env.service.outside = False
    notice_id = await env.publish()
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    assert {r.channel for r in receipts} == {Channel.CONSOLE}
    assert {r.recipient_kind for r in receipts} == {RecipientKind.ENTERPRISE, RecipientKind.AGENCY}


async def test_a_polygon_chooses_the_enterprises_inside_it(env: Env) -> None:
    # A small square around the tank farm (30.27, 120.12) only.
    square = [(30.26, 120.11), (30.26, 120.13), (30.275, 120.13), (30.275, 120.11)]
    notice = leak_notice(
        area=NoticeArea(polygon=square), audience=[Audience.ENTERPRISES], channels=[Channel.CONSOLE]
    )
    notice_id = await env.publish(notice)
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    assert [r.recipient_code for r in receipts] == ["ENT-TANKS"]


async def test_bad_input_gets_a_clear_error(env: Env) -> None:
    cases = {
        "at least 3 points": leak_notice(area=NoticeArea(polygon=[(30.2, 120.1), (30.3, 120.2)])),
        "audience": leak_notice(audience=[]),
        "channel": leak_notice(channels=[]),
        "public only": leak_notice(audience=[Audience.ENTERPRISES]),
    }
    for message, notice in cases.items():
        with pytest.raises(ValidationError, match=message):
            await env.service.save(OFFICER, notice)
    assert env.published == []


async def test_public_subscribers_of_the_area_get_sms_and_email(env: Env) -> None:
    subscribers = SubscriberStore(env.sessions, env.cipher)
    near = await subscribers.add("330106001", phone="13700000003", email="wang@example.cn")
    await subscribers.add("310104", phone="13700000004")
    notice_id = await env.publish()
    _, receipts = await env.service.get(SUPERVISOR, notice_id)
    public = {
        (r.recipient_code, r.channel, r.address)
        for r in receipts
        if r.recipient_kind is RecipientKind.PUBLIC
    }
    assert public == {
        ("cap", Channel.CAP, ""),
        (f"s{near}", Channel.SMS, "137****0003"),
        (f"s{near}", Channel.EMAIL, "w***@example.cn"),
    }
