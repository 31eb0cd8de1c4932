"""/thongbao and its follow-ups, through the chat core."""

from __future__ import annotations

from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.models import (
    AuditEntry,
    OutboxMessage,
)
from bot.texts import text
from tests.harness import say
from tests.secretaries_harness import MEMBER, NOTICE, SECRETARY, SIBLING


async def _rows(database: Database) -> list[OutboxMessage]:
    async with database.session() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_secretary_writes_previews_and_sends_to_their_chi_bo(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    (ask,) = await say(core, SECRETARY, "/thongbao")
    assert ask.text == text("broadcast.ask_text", limit=1800)
    (menu,) = await say(core, SECRETARY, NOTICE)
    assert [b.label for b in menu.flat_buttons] == ["☑ Chi bộ Văn phòng", "Xem trước", "Hủy"]
    (preview,) = await say(core, SECRETARY, button="bc:preview")
    assert "Người nhận: 3 đảng viên, trong đó 2 đã liên kết" in preview.text
    assert "1 chưa liên kết" in preview.text and NOTICE in preview.text
    assert [b.label for b in preview.flat_buttons] == ["Gửi", "Hủy"]
    (queued,) = await say(core, SECRETARY, button="bc:send")
    rows = await _rows(database)
    broadcast_id = rows[-1].broadcast_id
    assert queued.text == text("broadcast.queued", id=broadcast_id, linked=2)
    recipients = [r for r in rows if r.broadcast_id == broadcast_id]
    assert sorted((r.chat_id or "-", r.status) for r in recipients) == [
        ("-", "skipped"),
        (SECRETARY, "pending"),
        (MEMBER, "pending"),
    ]
    assert (
        NOTICE in recipients[0].payload["text"] and "Nguyễn Văn An" in recipients[0].payload["text"]
    )
    progress = [r for r in rows if r.kind == "progress"]
    assert [p.chat_id for p in progress] == [SECRETARY]
    async with database.session() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "broadcast.send" in actions


async def test_a_member_cannot_broadcast(core: ChatCore, units: dict[str, int]) -> None:
    assert [r.text for r in await say(core, MEMBER, "/thongbao")] == [text("secretary.not_allowed")]


async def test_a_forged_button_for_another_unit_is_refused(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    await say(core, SECRETARY, "/thongbao")
    await say(core, SECRETARY, NOTICE)
    sibling = units["Chi bộ Sở Tư pháp"]
    (refused,) = await say(core, SECRETARY, button=f"bcu:{sibling}")
    assert refused.text == text("secretary.not_allowed")
    await say(core, SECRETARY, button="bc:send")
    assert {r.chat_id for r in await _rows(database)} <= {SECRETARY, MEMBER, None}


async def test_details_and_cancel_are_for_the_sender_only(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    await say(core, SECRETARY, "/thongbao")
    await say(core, SECRETARY, NOTICE)
    await say(core, SECRETARY, button="bc:send")
    broadcast_id = (await _rows(database))[-1].broadcast_id
    (details,) = await say(core, SECRETARY, f"/thongbao_chitiet_{broadcast_id}")
    assert details.text.splitlines()[0] == text("broadcast.unreached_title", id=broadcast_id)
    assert "• Trần Thị Bình (Chi bộ Văn phòng): chưa liên kết tài khoản" in details.text
    (other,) = await say(core, SIBLING, f"/thongbao_chitiet {broadcast_id}")
    assert other.text == text("broadcast.not_found", id=str(broadcast_id))
    (refused,) = await say(core, SIBLING, f"/thongbao_huy {broadcast_id}")
    assert refused.text == text("broadcast.not_found", id=str(broadcast_id))
    (cancelled,) = await say(core, SECRETARY, f"/thongbao_huy {broadcast_id}")
    assert cancelled.text == text("broadcast.cancelled", count=2, id=broadcast_id)
    statuses = {r.status for r in await _rows(database) if r.broadcast_id == broadcast_id}
    assert statuses == {"cancelled", "skipped"}
    (usage,) = await say(core, SECRETARY, "/thongbao_huy")
    assert usage.text == text("broadcast.usage_id", command="thongbao_huy")
