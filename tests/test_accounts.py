"""Finding the account a message came from writes only what changed: under load, a write at
every message would hold SQLite's write lock for the whole conversation step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import Database
from bot.messages import Channel
from bot.models import ChannelAccount, utcnow
from bot.services.accounts import SEEN_RESOLUTION, AccountService
from bot.services.audit import AuditService


async def touch(database: Database, chat_id: str = "42") -> ChannelAccount:
    async with database.session() as session, session.begin():
        await AccountService(session, AuditService(session)).touch(Channel.TELEGRAM, "42", chat_id)
    async with database.session() as session:
        account = await session.scalar(select(ChannelAccount))
        assert account is not None
        return account


async def set_row(database: Database, **values: object) -> None:
    async with database.session() as session, session.begin():
        account = await session.scalar(select(ChannelAccount))
        for name, value in values.items():
            setattr(account, name, value)


async def test_an_account_seen_recently_is_not_written_again(database: Database) -> None:
    first = await touch(database)
    recently = utcnow() - SEEN_RESOLUTION / 2
    await set_row(database, last_seen_at=recently)
    assert (await touch(database)).last_seen_at == recently
    long_ago = utcnow() - SEEN_RESOLUTION - timedelta(minutes=1)
    await set_row(database, last_seen_at=long_ago)
    assert (await touch(database)).last_seen_at > long_ago
    assert first.id == (await touch(database)).id


async def test_a_new_chat_id_and_an_unblocked_bot_are_recorded(database: Database) -> None:
    await touch(database)
    await set_row(database, blocked_at=utcnow())
    account = await touch(database, chat_id="43")
    assert (account.chat_id, account.blocked_at) == ("43", None)
