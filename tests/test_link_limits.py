"""Linking attacks from issue #14 item 5, end to end on Telegram: brute force spread across
accounts, a member's card guessed from many accounts, and telling roster cards apart."""

# ruff: noqa: F811 (the fixtures come from test_linking_e2e)

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import Database
from bot.keys import Keys
from bot.models import (
    AuditEntry,
    ChannelAccount,
    ConversationState,
    Member,
    OutboxMessage,
    RoleGrant,
)
from bot.services.codes import CodeService
from bot.services.linking import CARD_MAX_FAILURES, MAX_FAILURES, OVERALL_MAX_FAILURES
from bot.services.permissions import Role
from bot.texts import text
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.secret import TEST_SECRET_KEY
from tests.test_linking_e2e import (  # noqa: F401
    CARD,
    PHONE,
    USER,
    clock,
    linked_member,
    say,
    server,
    share,
    telegram,
    to_card_step,
)

WRONG_CODE = "ZZZZ-ZZZZ"
UNKNOWN_CARD = "12345678"
SECRETARY_CARD = "90000006"  # secretary of Chi bộ Sở Tư pháp, the unit of CARD's member


async def _audit(database: Database, action: str) -> list[AuditEntry]:
    async with database.session() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def _issue_code(database: Database, clock: Clock) -> str:
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == CARD))
        assert member is not None
        issued = await CodeService(session, Keys(TEST_SECRET_KEY.encode())).issue_for_unit(
            member.organisation_id, issued_by="test", now=clock.now
        )
    return next(c.code for c in issued if c.member_id == member.id)


async def test_wrong_codes_from_five_accounts_pause_linking_for_everyone(
    server: FakeTelegramServer, telegram: object, database: Database, clock: Clock
) -> None:
    assert (MAX_FAILURES, OVERALL_MAX_FAILURES) == (5, 20)
    code = await _issue_code(database, clock)
    attackers = [USER + 100 + n for n in range(5)]
    replies = []
    for user in attackers:
        await to_card_step(server, user)
        replies += [(await say(server, WRONG_CODE, user=user))["text"] for _ in range(6)]
    # Each account is locked after its fifth failure; after the twentieth overall, the fifth
    # account is refused before its codes are even tried.
    assert replies[:4] == [text("link.bad_code", left=left) for left in (4, 3, 2, 1)]
    assert replies[4].startswith(text("link.locked", until="")[:30])
    assert replies[-6:] == [text("link.busy")] * 6
    (paused,) = await _audit(database, "link.overall_paused")
    assert paused.details == {"failures": 20, "minutes": 10}

    # A sixth account with the right code is refused while the pause lasts...
    sixth = USER + 200
    await to_card_step(server, sixth)
    assert (await say(server, code, user=sixth))["text"] == text("link.busy")
    assert await linked_member(database, sixth) is None
    # ...and links once it is over.
    clock.now += timedelta(minutes=11)
    welcome = await say(server, code, user=sixth)
    assert welcome["text"] == text("link.linked", name="Phạm Quốc Dũng", unit="Chi bộ Sở Tư pháp")


async def test_a_card_guessed_from_many_accounts_is_locked_and_its_secretary_told(
    server: FakeTelegramServer, telegram: object, database: Database, clock: Clock
) -> None:
    assert CARD_MAX_FAILURES == 5
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == CARD))
        secretary = await session.scalar(select(Member).where(Member.card_number == SECRETARY_CARD))
        assert member is not None and secretary is not None
        session.add(
            RoleGrant(
                member_id=secretary.id,
                role=Role.SECRETARY,
                organisation_id=member.organisation_id,
                granted_by="test",
            )
        )
    for n in range(CARD_MAX_FAILURES):
        user = USER + 300 + n
        await to_card_step(server, user)
        await say(server, CARD, user=user)
        assert (await share(server, "0912345678", user=user))["text"] == text(
            "link.phone_mismatch", left=4
        )
    # The card's own member, from a new account with the right phone, waits out the lock.
    owner = USER + 400
    await to_card_step(server, owner)
    assert (await say(server, CARD, user=owner))["text"] == text("link.card_locked")
    async with database.session() as session:
        member_id = await session.scalar(select(Member.id).where(Member.card_number == CARD))
        secretary_id = await session.scalar(
            select(Member.id).where(Member.card_number == SECRETARY_CARD)
        )
        alerts = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "link_alert"))
        )
    (locked,) = await _audit(database, "link.card_locked")
    assert locked.target == f"member:{member_id}" and locked.details == {"failures": 5}
    assert [a.member_id for a in alerts] == [secretary_id]
    assert alerts[0].payload["text"] == text(
        "link.card_locked_notice", count=5, name="Phạm Quốc Dũng", unit="Chi bộ Sở Tư pháp"
    )
    clock.now += timedelta(minutes=61)
    await to_card_step(server, owner)
    await say(server, CARD, user=owner)
    assert (await share(server, PHONE, user=owner))["text"].startswith("Liên kết thành công")


async def test_roster_cards_cannot_be_told_from_others(
    server: FakeTelegramServer, telegram: object, database: Database
) -> None:
    """Known, unknown and already linked cards: the same text, buttons and next step, and
    none costs an attempt; an unknown card locks like a known one, without an alert."""
    await to_card_step(server)
    await say(server, CARD)
    await share(server, PHONE)  # CARD is now linked to USER
    answers, steps = [], []
    for n, card in enumerate((CARD, UNKNOWN_CARD, "90000005")):
        user = USER + 500 + n
        await to_card_step(server, user)
        reply = await say(server, card, user=user)
        answers.append((reply["text"], reply["reply_markup"]))
        async with database.session() as session:
            step = (
                await session.execute(
                    select(ConversationState.flow, ConversationState.step)
                    .join(ChannelAccount, ChannelAccount.id == ConversationState.account_id)
                    .where(ChannelAccount.external_id == str(user))
                )
            ).one()
        steps.append(tuple(step))
        # No attempt was spent: the first phone check still has all five.
        failed = await share(server, "0912345678", user=user)
        assert failed["text"] == text("link.phone_mismatch", left=4)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == text("link.ask_contact", button="Chia sẻ số điện thoại")
    assert steps == [("link", "contact")] * 3

    for n in range(4):
        user = USER + 600 + n
        await to_card_step(server, user)
        await say(server, UNKNOWN_CARD, user=user)
        await share(server, "0912345678", user=user)
    late = USER + 700
    await to_card_step(server, late)
    assert (await say(server, UNKNOWN_CARD, user=late))["text"] == text("link.card_locked")
    (locked,) = await _audit(database, "link.card_locked")
    assert locked.target is None
    async with database.session() as session:
        assert not list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "link_alert"))
        )
