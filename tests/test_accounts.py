"""Finding the account a message came from writes only what changed: under load, a write at
every message would hold SQLite's write lock for the whole conversation step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.db import Database
from bot.messages import Channel
from bot.models import (
    ChannelAccount,
    ConversationState,
    Member,
    Organisation,
    OutboxMessage,
    utcnow,
)
from bot.services.accounts import EMPTY_ACCOUNT_TTL, SEEN_RESOLUTION, AccountService
from bot.services.audit import AuditService
from jobs.housekeeping import Housekeeping


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


async def test_accounts_that_hold_nothing_are_forgotten_a_day_after_they_last_wrote(
    database: Database,
) -> None:
    old = utcnow() - EMPTY_ACCOUNT_TTL - timedelta(hours=1)
    async with database.session() as session, session.begin():
        unit = Organisation(name="Chi bộ Thử", path="")
        session.add(unit)
        await session.flush()
        member = Member(card_number="90000099", full_name="Người Thử", organisation_id=unit.id)
        session.add(member)
        await session.flush()

        def account(name: str, **values: object) -> ChannelAccount:
            row = ChannelAccount(channel=Channel.TELEGRAM, external_id=name, chat_id=name, **values)
            session.add(row)
            return row

        account("stray", last_seen_at=old)
        account("stray-mid-flow", last_seen_at=old)
        account("recent")
        account("linked", last_seen_at=old, member_id=member.id, linked_at=old)
        account("consented", last_seen_at=old, consent_version="1", consent_at=old)
        account("guessing", last_seen_at=old, link_failures=2, link_window_started_at=old)
        owed = account("owed-a-message", last_seen_at=old)
        await session.flush()
        mid_flow = await session.scalar(
            select(ChannelAccount.id).where(ChannelAccount.external_id == "stray-mid-flow")
        )
        session.add(ConversationState(account_id=mid_flow, flow="link", step="card"))
        session.add(OutboxMessage(kind="answer", account_id=owed.id, status="pending", payload={}))
    assert await Housekeeping(database).run() == 2
    async with database.session() as session:
        kept = set(await session.scalars(select(ChannelAccount.external_id)))
        states = await session.scalar(select(func.count()).select_from(ConversationState))
    assert kept == {"recent", "linked", "consented", "guessing", "owed-a-message"}
    assert states == 0
