"""Published notices over a real SMS gateway: the server's outbox sends the enterprises'
SMS through the SMPP adapter to the SMSC simulator (real TCP), the simulator's delivery
receipts mark them delivered or undeliverable, a number the SMSC refuses fails for good
at once, and one bad number costs the others nothing; the counts arrive as
``notice.delivery`` events. (SQLite and PostgreSQL.)"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from backend.eventlog import log as eventlog
from backend.publishing.settings import SmppSettings
from backend.publishing.smpp.simulator import SmscSimulator
from backend.security import FieldCipher
from backend.server.app import DutyDeskServer
from backend.server.config import ServerConfig
from realtime.protocol import (
    Audience,
    Channel,
    Contact,
    DeliveryState,
    EnterpriseDetails,
    NoticeView,
    RegistryItemInput,
    Role,
)
from tests.backend.publishing.conftest import leak_notice

GOOD, UNDELIVERABLE, REFUSED = "13800000001", "13800000002", "13800000003"


async def test_sms_go_out_through_the_smsc_and_receipts_come_back(
    db_url: str, tmp_path: Path
) -> None:
    async with SmscSimulator(password="pw", receipt_delay=0.05) as smsc:
        smsc.undeliverable.add(UNDELIVERABLE)
        smsc.fail_numbers.add(REFUSED)
        server = DutyDeskServer(
            ServerConfig(
                db_url=db_url,
                data_dir=tmp_path,
                port=0,
                cipher=FieldCipher.generate(),
                smpp=SmppSettings("127.0.0.1", smsc.port, "dutydesk", password="pw"),
                notice_report_every=0.2,
            )
        )
        await server.start()
        try:
            admin = await server.users.add_user("root", "pw-root-long", Role.ADMIN)
            officer = await server.users.add_user("writer", "pw-writer-long", Role.OFFICER)
            contacts = [
                Contact(name=f"联系人{i}", phone=p)
                for i, p in enumerate((GOOD, UNDELIVERABLE, REFUSED))
            ]
            await server.registry_items.save(
                admin,
                RegistryItemInput(
                    code="ENT-TANKS",
                    name="储罐公司",
                    jurisdiction="330106",
                    details=EnterpriseDetails(contacts=contacts),
                ),
                None,
            )
            notice = leak_notice(
                audience=[Audience.ENTERPRISES], channels=[Channel.CONSOLE, Channel.SMS]
            )
            service = server.publishing
            draft = await service.save(officer, notice)
            pending = await service.submit(officer, draft.id, draft.version)
            published = await service.approve(admin, pending.id, pending.version)

            async def sms_states() -> dict[str, DeliveryState]:
                _, receipts = await service.get(admin, published.id)
                return {r.address: r.state for r in receipts if r.channel is Channel.SMS}

            settled = {
                "138****0001": DeliveryState.DELIVERED,
                "138****0002": DeliveryState.FAILED,
                "138****0003": DeliveryState.FAILED,
            }
            await _eventually(lambda: _equal(sms_states(), settled), 15)
            texts = {t.destination: t.text for t in smsc.texts()}
            assert set(texts) == {GOOD, UNDELIVERABLE}
            assert "液氨槽车泄漏预警" in texts[GOOD]
            _, receipts = await service.get(admin, published.id)
            refused = next(r for r in receipts if r.address == "138****0003")
            assert refused.attempts == 1  # permanent: not retried
            assert refused.error
            # The counts reached the event log (coalesced notice.delivery events).
            await _eventually(lambda: _equal(_last_counts(server), (1, 2)), 5)
        finally:
            await server.close()


async def _last_report(server: DutyDeskServer) -> NoticeView | None:
    async with server.sessions() as session:
        events = await eventlog.events_after(session, 0, 1000)
    reports = [e.notice for e in events if e.kind == "notice.delivery"]
    last = reports[-1] if reports else None
    return last if isinstance(last, NoticeView) else None


async def _last_counts(server: DutyDeskServer) -> tuple[int, int] | None:
    view = await _last_report(server)
    return None if view is None else (view.counts.delivered, view.counts.failed)


async def _equal(actual: Awaitable[object], expected: object) -> bool:
    return await actual == expected


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")
