"""/kenh: a member linked on Telegram and Zalo picks the one that receives notices and
reminders; the outbox then sends there and never to both."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.channels.console import CONSOLE_TRAITS, CONSOLE_USER
from bot.channels.zalo import ZALO_TRAITS
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel, Incoming, Reply
from bot.models import AuditEntry, ChannelAccount, Member, utcnow
from bot.services.outbox import recipients
from bot.texts import text
from tests.harness import linked, say
from tests.secretaries_harness import MEMBER

ZALO_USER = "zalo-user-3"


async def _member_id(database: Database) -> int:
    async with database.session() as session:
        member_id = await session.scalar(select(Member.id).where(Member.card_number == MEMBER))
    assert member_id is not None
    return member_id


async def _link_zalo(database: Database, member_id: int) -> None:
    async with database.session() as session, session.begin():
        session.add(linked(member_id, ZALO_USER, "zalo"))


async def _say_on_zalo(core: ChatCore, body: str) -> list[Reply]:
    return await core.handle(Incoming(Channel.ZALO, ZALO_USER, ZALO_USER, text=body), ZALO_TRAITS)


async def _preferred(database: Database, member_id: int) -> str | None:
    async with database.session() as session:
        return await session.scalar(select(Member.preferred_channel).where(Member.id == member_id))


async def _notice_chats(database: Database, member_id: int) -> list[tuple[str | None, str | None]]:
    async with database.session() as session:
        return [(r.channel, r.chat_id) for r in await recipients(session, [member_id])]


async def _audit(database: Database) -> list[AuditEntry]:
    async with database.session() as session:
        query = select(AuditEntry).where(AuditEntry.action == "channel.prefer")
        return list((await session.scalars(query)).all())


async def test_a_member_on_both_messengers_moves_notices_to_zalo(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    member_id = await _member_id(database)
    await _link_zalo(database, member_id)
    assert await _notice_chats(database, member_id) == [("telegram", MEMBER)]

    (menu,) = await say(core, MEMBER, "/kenh")
    assert menu.text == text("channel.current", channel="Telegram")
    assert "qua Telegram" in menu.text
    assert [(b.label, b.data) for b in menu.flat_buttons] == [
        ("Telegram", "kenh:telegram"),
        ("Zalo", "kenh:zalo"),
    ]

    (done,) = await say(core, MEMBER, button="kenh:zalo")
    assert done.text == text("channel.chosen", channel="Zalo")
    assert "qua Zalo" in done.text
    assert await _preferred(database, member_id) == "zalo"
    assert await _notice_chats(database, member_id) == [("zalo", ZALO_USER)]
    (again,) = await say(core, MEMBER, "/kenh")
    assert again.text == text("channel.current", channel="Zalo")

    (entry,) = await _audit(database)
    assert entry.actor == f"member:{member_id}"
    assert entry.details == {"channel": "zalo"}
    assert MEMBER not in f"{entry.actor} {entry.target} {entry.details}"


async def test_on_zalo_the_choice_is_a_number(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    member_id = await _member_id(database)
    await _link_zalo(database, member_id)
    await say(core, MEMBER, "/kenh")
    await say(core, MEMBER, button="kenh:zalo")

    (menu,) = await _say_on_zalo(core, "/kenh")
    assert menu.text == text("channel.current", channel="Zalo")
    assert [b.label for b in menu.flat_buttons] == ["Telegram", "Zalo"]
    (done,) = await _say_on_zalo(core, "1")
    assert done.text == text("channel.chosen", channel="Telegram")
    assert await _notice_chats(database, member_id) == [("telegram", MEMBER)]


async def test_a_member_only_on_telegram_is_told_how_to_link_zalo(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    member_id = await _member_id(database)
    (reply,) = await say(core, MEMBER, "/kenh")
    assert reply.text == text("channel.only_one", channel="Telegram", how=text("channel.how_zalo"))
    assert "mã kích hoạt" in reply.text and "Zalo" in reply.text
    assert reply.flat_buttons == []

    (refused,) = await say(core, MEMBER, button="kenh:zalo")
    assert refused.text == text("fallback.stale_button")
    (odd,) = await say(core, MEMBER, button="kenh:console")
    assert odd.text == text("fallback.stale_button")
    assert await _preferred(database, member_id) is None
    assert await _audit(database) == []
    assert await _notice_chats(database, member_id) == [("telegram", MEMBER)]


async def test_a_member_only_on_zalo_is_told_how_to_link_telegram(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    member_id = await _member_id(database)
    await _link_zalo(database, member_id)
    async with database.session() as session, session.begin():
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.external_id == MEMBER)
            .values(member_id=None)
        )
    (reply,) = await _say_on_zalo(core, "/kenh")
    assert reply.text == text("channel.only_one", channel="Zalo", how=text("channel.how_telegram"))
    assert "số thẻ đảng viên" in reply.text and reply.flat_buttons == []


async def test_a_preferred_messenger_no_longer_linked_gives_way_to_the_other(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    member_id = await _member_id(database)
    await _link_zalo(database, member_id)
    await say(core, MEMBER, button="kenh:zalo")
    async with database.session() as session, session.begin():
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.external_id == ZALO_USER)
            .values(member_id=None)
        )
    (reply,) = await say(core, MEMBER, "/kenh")
    assert reply.text == text("channel.only_one", channel="Telegram", how=text("channel.how_zalo"))
    assert await _notice_chats(database, member_id) == [("telegram", MEMBER)]


async def test_an_account_not_linked_cannot_choose(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    (reply,) = await say(core, "55555", "/kenh")
    assert reply.text == text("link.required")
    (pressed,) = await say(core, "55555", button="kenh:telegram")
    assert pressed.text == text("link.required")


async def test_on_the_console_alone_the_member_is_told_messages_arrive_there(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    """A demo seat: no messenger to choose, and the bot's messages do reach the console."""
    member_id = await _member_id(database)
    async with database.session() as session, session.begin():
        await session.execute(update(ChannelAccount).values(member_id=None))
        await session.execute(
            update(ChannelAccount)
            .where(ChannelAccount.external_id == CONSOLE_USER)
            .values(member_id=member_id, linked_at=utcnow())
        )
    incoming = Incoming(Channel.CONSOLE, CONSOLE_USER, CONSOLE_USER, text="/kenh")
    (reply,) = await core.handle(incoming, CONSOLE_TRAITS)
    assert reply.text == text("channel.console")
    assert "hiện ngay trong cửa sổ này" in reply.text
    assert reply.flat_buttons == []
    assert await _notice_chats(database, member_id) == [("console", CONSOLE_USER)]
