"""Linking an account on Telegram, end to end through python-telegram-bot and the fake Bot
API server: consent, card number, a verified contact, codes, the lockout, unlinking and erasure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.channels.telegram import TelegramChannel
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.keys import Keys
from bot.models import ActivationCode, AuditEntry, ChannelAccount, ConversationState, Member
from bot.services import Shared
from bot.services.codes import CodeService
from bot.services.handbook import HandbookIndex
from bot.services.linking import CONSENT_VERSION
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.secret import TEST_SECRET_KEY
from tests.telegram_harness import keyboard_labels, running_channel, telegram_settings

USER = 7001
# Demo member 90000004 (Phạm Quốc Dũng, Chi bộ Sở Tư pháp) has phone 0900000004.
CARD, PHONE = "90000004", "0900000004"


THIS_ACCOUNT = select(ChannelAccount).where(
    ChannelAccount.channel == "telegram", ChannelAccount.external_id == str(USER)
)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture
async def telegram(
    server: FakeTelegramServer,
    database: Database,
    database_url: str,
    clock: Clock,
    handbook: HandbookIndex,
) -> AsyncIterator[TelegramChannel]:
    async with database.session() as session, session.begin():
        await seed_demo(session)
    settings = telegram_settings(server, database_url)
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, clock, render=render_notice)
    )
    async with running_channel(settings, core) as channel:
        yield channel


async def say(server: FakeTelegramServer, message: str, user: int = USER) -> dict:
    """Send a text and return the bot's last reply to it."""
    before = len(server.calls_to("sendMessage", chat_id=user))
    server.push_message(user, message)
    calls = await server.wait_for("sendMessage", before + 1, chat_id=user)
    return calls[-1].params


async def press(server: FakeTelegramServer, data: str, user: int = USER) -> dict:
    before = len(server.calls_to("sendMessage", chat_id=user))
    server.push_callback(user, data)
    calls = await server.wait_for("sendMessage", before + 1, chat_id=user)
    return calls[-1].params


async def share(
    server: FakeTelegramServer, phone: str, *, owner: int | None = None, user: int = USER
) -> dict:
    before = len(server.calls_to("sendMessage", chat_id=user))
    server.push_contact(user, phone, contact_user_id=user if owner is None else owner)
    calls = await server.wait_for("sendMessage", before + 1, chat_id=user)
    return calls[-1].params


async def welcomed(server: FakeTelegramServer, push: Callable[[], object]) -> dict:
    """Does `push` (the step that links) and returns the welcome, after checking that the
    first-run tour's first step follows it with «Tiếp» and «Bỏ qua»."""
    before = len(server.calls_to("sendMessage", chat_id=USER))
    push()
    calls = await server.wait_for("sendMessage", before + 2, chat_id=USER)
    welcome, tour = calls[before : before + 2]
    assert tour.params["text"].startswith(
        text("tour.step", number=1, total=5, title=text("tour.title_member"))
    )
    assert keyboard_labels(tour.params) == [text("tour.button_next"), text("tour.button_skip")]
    return welcome.params


async def to_card_step(server: FakeTelegramServer, user: int = USER) -> None:
    """/start (welcome and consent question), then agree."""
    before = len(server.calls_to("sendMessage", chat_id=user))
    server.push_message(user, "/start")
    await server.wait_for("sendMessage", before + 2, chat_id=user)
    assert (await press(server, "consent:yes", user=user))["text"] == text("link.ask_card")


async def link_by_phone(server: FakeTelegramServer) -> None:
    await to_card_step(server)
    await say(server, CARD)
    welcome = await welcomed(server, lambda: server.push_contact(USER, PHONE, contact_user_id=USER))
    assert welcome["text"].startswith("Liên kết thành công")


async def linked_member(database: Database, user: int = USER) -> int | None:
    async with database.session() as session:
        return await session.scalar(
            select(ChannelAccount.member_id).where(
                ChannelAccount.channel == "telegram", ChannelAccount.external_id == str(user)
            )
        )


async def audit_actions(database: Database) -> list[str]:
    async with database.session() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_consent_refused_stores_no_consent(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    server.push_message(USER, "/start")
    await server.wait_for("sendMessage", 2, chat_id=USER)
    reply = await press(server, "consent:no")
    assert reply["text"] == text("link.declined")
    async with database.session() as session:
        account = await session.scalar(THIS_ACCOUNT)
    assert account is not None and account.consent_at is None and account.member_id is None
    # Without consent, a card number is not taken as linking input.
    assert (await say(server, CARD))["text"] != text("link.ask_contact", button="x")
    assert await linked_member(database) is None


async def test_right_card_and_own_contact_link_the_account(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database, clock: Clock
) -> None:
    await to_card_step(server)
    prompt = await say(server, CARD)
    assert prompt["text"] == text("link.ask_contact", button="Chia sẻ số điện thoại")
    assert prompt["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    # Telegram sends numbers in international form.
    welcome = await welcomed(
        server, lambda: server.push_contact(USER, "+84 900 000 004", contact_user_id=USER)
    )
    assert welcome["text"] == text("link.linked", name="Phạm Quốc Dũng", unit="Chi bộ Sở Tư pháp")
    assert welcome["reply_markup"] == {"remove_keyboard": True}
    async with database.session() as session:
        account = await session.scalar(THIS_ACCOUNT)
        member = await session.scalar(select(Member).where(Member.card_number == CARD))
    assert account is not None and member is not None
    assert account.member_id == member.id
    assert account.consent_version == CONSENT_VERSION and account.consent_at == clock.now
    assert "account.link" in await audit_actions(database)
    # Once linked, /start greets by name.
    assert "Phạm Quốc Dũng" in (await say(server, "/start"))["text"]


async def test_wrong_card_is_refused_at_the_phone_check(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await to_card_step(server)
    reply = await say(server, "12345678")
    assert reply["text"] == text("link.ask_contact", button="Chia sẻ số điện thoại")
    assert (await share(server, PHONE))["text"] == text("link.phone_mismatch", left=4)
    assert await linked_member(database) is None


async def test_someone_elses_contact_is_refused(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await to_card_step(server)
    await say(server, CARD)
    reply = await share(server, PHONE, owner=USER + 99)
    assert reply["text"] == text("link.not_own_contact", button="Chia sẻ số điện thoại", left=4)
    assert keyboard_labels(reply) == ["Chia sẻ số điện thoại"]
    assert await linked_member(database) is None


async def test_own_contact_with_another_number_is_refused(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await to_card_step(server)
    await say(server, CARD)
    reply = await share(server, "0912345678")
    assert reply["text"] == text("link.phone_mismatch", left=4)
    assert await linked_member(database) is None


async def test_five_failures_lock_linking_for_an_hour(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database, clock: Clock
) -> None:
    await to_card_step(server)
    await say(server, "11111111")
    for left in (4, 3, 2, 1):
        assert (await share(server, PHONE))["text"] == text("link.phone_mismatch", left=left)
    locked = await share(server, PHONE)
    assert locked["text"] == text("link.locked", until="16:00 ngày 25/11/2026")
    assert "account.link_locked" in await audit_actions(database)
    # Even the right card is refused while locked.
    assert (await say(server, "/start"))["text"] == text(
        "link.locked", until="16:00 ngày 25/11/2026"
    )
    clock.now += timedelta(hours=1, minutes=1)
    await to_card_step(server)
    assert (await say(server, CARD))["text"].startswith("Đã nhận số thẻ")


async def test_failures_spread_over_more_than_an_hour_do_not_lock(
    server: FakeTelegramServer, telegram: TelegramChannel, clock: Clock
) -> None:
    await to_card_step(server)
    await say(server, "11111111")
    for _ in range(4):
        await share(server, PHONE)
    clock.now += timedelta(minutes=61)
    assert (await share(server, PHONE))["text"] == text("link.phone_mismatch", left=4)


async def test_an_activation_code_links_once(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database, clock: Clock
) -> None:
    async with database.session() as session, session.begin():
        member = await session.scalar(select(Member).where(Member.card_number == CARD))
        assert member is not None
        issued = await CodeService(session, Keys(TEST_SECRET_KEY.encode())).issue_for_unit(
            member.organisation_id, issued_by="test", now=clock.now
        )
    code = next(c.code for c in issued if c.member_id == member.id)
    await to_card_step(server)
    welcome = await welcomed(
        server, lambda: server.push_message(USER, code.lower().replace("-", " "))
    )
    assert welcome["text"] == text("link.linked", name="Phạm Quốc Dũng", unit="Chi bộ Sở Tư pháp")
    # The same code from another account is refused.
    other = USER + 1
    await to_card_step(server, other)
    assert (await say(server, code, user=other))["text"] == text("link.bad_code", left=4)
    assert await linked_member(database, other) is None
    async with database.session() as session:
        hashes = list(await session.scalars(select(ActivationCode.code_hash)))
    assert code not in hashes and code.replace("-", "") not in hashes


async def test_a_member_links_one_account_per_messenger(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await link_by_phone(server)
    other = USER + 2
    await to_card_step(server, other)
    # Only the card's own phone learns that the card is linked elsewhere.
    await say(server, CARD, user=other)
    assert (await share(server, PHONE, user=other))["text"] == text("link.already_linked")
    # After /huylienket on the first account, the second may link.
    assert (await say(server, "/huylienket"))["text"] == text("link.unlink_confirm")
    assert (await press(server, "unlink:yes"))["text"] == text("link.unlinked")
    assert await linked_member(database) is None
    await to_card_step(server, other)
    await say(server, CARD, user=other)
    assert (await share(server, PHONE, user=other))["text"].startswith("Liên kết thành công")


async def test_my_data_is_sent_as_a_file_without_full_numbers(
    server: FakeTelegramServer, telegram: TelegramChannel
) -> None:
    await link_by_phone(server)
    assert (await say(server, "/dulieu"))["text"] == text("privacy.data_summary")
    (document,) = await server.wait_for("sendDocument", chat_id=USER)
    upload = document.params["document"]
    data = json.loads(upload.content)
    assert upload.file_name == "du-lieu-ca-nhan.json"
    assert data["dang_vien"]["ho_ten"] == "Phạm Quốc Dũng"
    assert data["dang_vien"]["so_the"] == "***0004"
    assert CARD not in upload.content.decode() and PHONE not in upload.content.decode()


async def test_erasing_my_data_unlinks_and_forgets_consent(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await link_by_phone(server)
    confirm = await say(server, "/xoadulieu")
    assert keyboard_labels(confirm) == ["Xóa dữ liệu của tôi", "Không, giữ lại"]
    assert (await press(server, "erase:no"))["text"] == text("privacy.kept")
    assert await linked_member(database) is not None
    async with database.session() as session:
        account_id = (await session.scalar(THIS_ACCOUNT)).id  # type: ignore[union-attr]
    assert (await press(server, "erase:yes"))["text"] == text("privacy.erased")
    async with database.session() as session:
        # The Telegram id is gone; the emptied row stays, as audit lines name account:N.
        assert await session.scalar(THIS_ACCOUNT) is None
        account = await session.get(ChannelAccount, account_id)
        states = await session.scalar(select(func.count()).select_from(ConversationState))
        members = await session.scalar(select(func.count()).select_from(Member))
    assert account is not None and account.external_id == f"erased-{account_id}"
    assert account.chat_id == "" and account.member_id is None and account.consent_at is None
    assert states == 0
    assert members == 12  # the roster is the committee's and stays
    assert {"account.erase", "consent.withdraw", "account.unlink"} <= set(
        await audit_actions(database)
    )


async def test_withdrawing_consent_unlinks(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await link_by_phone(server)
    asked = await say(server, "/rutdongy")
    assert asked["text"] == text("privacy.withdraw_confirm")
    assert keyboard_labels(asked) == ["Đúng, tôi chắc chắn", "Không, giữ lại"]
    assert (await press(server, "withdraw:no"))["text"] == text("privacy.kept")
    assert await linked_member(database) is not None
    assert (await press(server, "withdraw:yes"))["text"] == text("privacy.consent_withdrawn")
    assert await linked_member(database) is None


async def test_unlinking_asks_first(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await link_by_phone(server)
    asked = await say(server, "/huylienket")
    assert asked["text"] == text("link.unlink_confirm")
    assert keyboard_labels(asked) == ["Đúng, tôi chắc chắn", "Không, giữ lại"]
    assert (await press(server, "unlink:no"))["text"] == text("unlink.kept")
    assert await linked_member(database) is not None
    assert (await press(server, "unlink:yes"))["text"] == text("link.unlinked")
    assert await linked_member(database) is None
    assert (await say(server, "/huylienket"))["text"] == text("link.not_linked")


async def test_audit_entries_hold_no_phone_or_card_numbers(
    server: FakeTelegramServer, telegram: TelegramChannel, database: Database
) -> None:
    await link_by_phone(server)
    await say(server, "/huylienket")
    await press(server, "unlink:yes")
    async with database.session() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    dumped = json.dumps([[e.actor, e.action, e.target, e.details] for e in entries])
    assert CARD not in dumped and PHONE not in dumped and "900000004" not in dumped
