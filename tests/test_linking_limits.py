"""Linking resists guessing from many accounts: limits per card and overall beside the one
per account, the same reply for a roster card and an unknown one, and codes stored as an HMAC
under the server secret."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.messages import Channel, Contact, Incoming, Reply
from bot.models import ActivationCode, AuditEntry, ChannelAccount, Member, OutboxMessage, RoleGrant
from bot.secret_key import derive, embedded_secret_key
from bot.services import Services, Shared
from bot.services.codes import normalise_code
from bot.services.handbook import HandbookIndex
from bot.services.linking import MAX_FAILURES, MEMBER_MAX_FAILURES, OVERALL_MAX_FAILURES
from bot.settings import Settings, SettingsError
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.clock import Clock
from tests.harness import TRAITS, grant, linked, say

# Demo member Trần Thị Bình, Chi bộ Văn phòng (secretary: Nguyễn Văn An).
CARD, PHONE = "90000002", "0900000002"
ASK_CONTACT = text("link.ask_contact", button=text("link.button_contact"))


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))


@pytest.fixture
async def shared(settings: Settings, handbook: HandbookIndex, clock: Clock) -> Shared:
    return Shared(settings, handbook, clock, render=render_notice)


@pytest.fixture
async def linking(database: Database, shared: Shared) -> ChatCore:
    async with database.session() as session, session.begin():
        await seed_demo(session)
        secretary = await session.scalar(select(Member.id).where(Member.card_number == "90000001"))
        session.add(linked(secretary, "100"))
    await grant(database, "90000001", "secretary", "Chi bộ Văn phòng")
    return ChatCore(database, build_router(), shared)


async def to_card_step(core: ChatCore, account: str) -> None:
    await say(core, account, "/start")
    (asked,) = await say(core, account, button="consent:yes")
    assert asked.text == text("link.ask_card")


async def share(core: ChatCore, account: str, phone: str) -> list[Reply]:
    contact = Contact(phone_number=phone, user_id=account)
    return await core.handle(Incoming(Channel.TELEGRAM, account, account, contact=contact), TRAITS)


async def issue_code(database: Database, shared: Shared, card: str) -> str:
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == card))
        assert member is not None
        issued = await Services.for_session(session, shared).codes.issue_for_unit(
            member.organisation_id, issued_by="test", now=shared.clock(), include_linked=True
        )
    return next(c.code for c in issued if c.member_id == member.id)


async def linked_to(database: Database, account: str) -> int | None:
    async with database.session() as session:
        return await session.scalar(
            select(ChannelAccount.member_id).where(ChannelAccount.external_id == account)
        )


async def actions(database: Database) -> list[str]:
    async with database.session() as session:
        return list(await session.scalars(select(AuditEntry.action)))


async def test_fresh_accounts_cannot_pool_their_guesses(
    linking: ChatCore, database: Database, shared: Shared
) -> None:
    code = await issue_code(database, shared, CARD)
    accounts = [f"77{number}" for number in range(6)]
    for account in accounts:
        await to_card_step(linking, account)
    for account in accounts[:5]:
        for _ in range(MAX_FAILURES):
            await say(linking, account, "ZZZZ-ZZZZ")
    assert "link.paused" in await actions(database)
    (refused,) = await say(linking, accounts[5], code)
    assert refused.text == text("link.locked", until="15:10 ngày 25/11/2026")
    assert await linked_to(database, accounts[5]) is None


async def test_linking_resumes_when_the_overall_window_clears(
    linking: ChatCore, database: Database, shared: Shared, clock: Clock
) -> None:
    code = await issue_code(database, shared, CARD)
    for number in range(OVERALL_MAX_FAILURES // MAX_FAILURES):
        await to_card_step(linking, f"77{number}")
        for _ in range(MAX_FAILURES):
            await say(linking, f"77{number}", "ZZZZ-ZZZZ")
    clock.now += timedelta(minutes=11)
    await to_card_step(linking, "779")
    (welcome,) = await say(linking, "779", code)
    assert welcome.text.startswith("Liên kết thành công")


async def test_a_roster_card_reads_like_an_unknown_one_and_costs_an_attempt(
    linking: ChatCore, database: Database
) -> None:
    # A free roster card, an unknown card, and a card already linked on this messenger.
    async with database.session() as session, session.begin():
        taken = await session.scalar(select(Member.id).where(Member.card_number == "90000005"))
        session.add(
            ChannelAccount(channel="telegram", external_id="500", chat_id="500", member_id=taken)
        )
    replies = {}
    for account, card in (("601", CARD), ("602", "12345678"), ("603", "90000005")):
        await to_card_step(linking, account)
        (reply,) = await say(linking, account, card)
        replies[card] = (reply.text, reply.contact_request, reply.buttons)
    assert len(set(replies.values())) == 1
    assert replies[CARD][0] == ASK_CONTACT
    # Each cost an attempt: the wrong phone that follows leaves the same count.
    mismatches = set()
    for account in ("601", "602", "603"):
        (reply,) = await share(linking, account, "0912345678")
        mismatches.add(reply.text)
    assert mismatches == {text("link.phone_mismatch", left=MAX_FAILURES - 2)}


async def test_guessing_one_card_locks_it_and_tells_the_secretary(
    linking: ChatCore, database: Database, clock: Clock
) -> None:
    for number in range(MEMBER_MAX_FAILURES):
        account = f"80{number}"
        await to_card_step(linking, account)
        await say(linking, account, CARD)
        (reply,) = await share(linking, account, "0912345678")
        assert reply.text == text("link.phone_mismatch", left=MAX_FAILURES - 2)
    async with database.session() as session:
        (entry,) = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "link.card_locked")
        )
        secretaries = set(
            await session.scalars(
                select(RoleGrant.member_id).where(
                    RoleGrant.role == "secretary",
                    RoleGrant.organisation_id == Member.organisation_id,
                    Member.card_number == CARD,
                )
            )
        )
        alerts = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "link_alert"))
        ).all()
    assert CARD not in str(entry.details) and entry.target and entry.target.startswith("member:")
    assert secretaries and {a.member_id for a in alerts} == secretaries
    assert alerts[0].payload["text"] == text(
        "link.guessing",
        name="Trần Thị Bình",
        unit="Chi bộ Văn phòng",
        until="16:00 ngày 25/11/2026",
    )
    # The owner, with the right phone, is told of the lock; an hour later links.
    await to_card_step(linking, "899")
    await say(linking, "899", CARD)
    (locked,) = await share(linking, "899", PHONE)
    assert locked.text == text("link.locked", until="16:00 ngày 25/11/2026")
    assert await linked_to(database, "899") is None
    clock.now += timedelta(hours=1, minutes=1)
    await to_card_step(linking, "899")
    await say(linking, "899", CARD)
    (welcome,) = await share(linking, "899", PHONE)
    assert welcome.text.startswith("Liên kết thành công")


async def test_codes_are_stored_as_an_hmac_under_the_server_secret(
    linking: ChatCore, database: Database, shared: Shared
) -> None:
    code = await issue_code(database, shared, CARD)
    async with database.session() as session:
        member_id = await session.scalar(select(Member.id).where(Member.card_number == CARD))
        stored = await session.scalar(
            select(ActivationCode.code_hash).where(ActivationCode.member_id == member_id)
        )
    plain = normalise_code(code).encode()
    assert stored != hashlib.sha256(plain).hexdigest()
    key = derive(shared.settings.secret_key, "activation codes")
    assert stored == hmac.new(key, plain, hashlib.sha256).hexdigest()


async def test_codes_hashed_before_the_migration_still_link_until_they_expire(
    linking: ChatCore, database: Database, clock: Clock
) -> None:
    async with database.session() as session, session.begin():
        member_id = await session.scalar(select(Member.id).where(Member.card_number == CARD))
        for code, days in (("ABCD-EFGH", 3), ("ABCD-EFGK", -1)):
            session.add(
                ActivationCode(
                    member_id=member_id,
                    code_hash=hashlib.sha256(normalise_code(code).encode()).hexdigest(),
                    hash_scheme="sha256",
                    created_at=clock.now - timedelta(days=10),
                    expires_at=clock.now + timedelta(days=days),
                    issued_by="test",
                )
            )
    await to_card_step(linking, "901")
    (expired,) = await say(linking, "901", "ABCD-EFGK")
    assert expired.text == text("link.bad_code", left=MAX_FAILURES - 1)
    (welcome,) = await say(linking, "901", "ABCD-EFGH")
    assert welcome.text.startswith("Liên kết thành công")


def test_a_messenger_needs_the_secret_key() -> None:
    with pytest.raises(SettingsError, match="SOTAY_SECRET_KEY"):
        Settings.from_mapping({"TELEGRAM_TOKEN": "1:abc"})
    with pytest.raises(SettingsError, match="SOTAY_SECRET_KEY"):
        Settings.from_mapping({"TELEGRAM_TOKEN": "1:abc", "SOTAY_SECRET_KEY": "short"})
    settings = Settings.from_mapping({"TELEGRAM_TOKEN": "1:abc", "SOTAY_SECRET_KEY": "k" * 32})
    assert settings.secret_key == "k" * 32


def test_the_embedded_secret_is_generated_once_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = embedded_secret_key(path)
    assert len(first) >= 32 and embedded_secret_key(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]


def test_button_seals_derive_from_the_secret_key() -> None:
    one = Shared(Settings(secret_key="a" * 32, telegram_token="1:x"))
    two = Shared(Settings(secret_key="b" * 32, telegram_token="1:x"))
    assert one.seal_key != two.seal_key
    assert one.seal_key == Shared(Settings(secret_key="a" * 32)).seal_key
    assert one.seal_key != one.code_key
