"""The probationary year: /dubi's timeline for the member and for their secretary, and the
reminders a month before the end (member, sponsors) and at the end (secretaries), each sent
once across runs and restarts, and delivered by the dispatcher through the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

import pytest
from sqlalchemy import select, update

from bot.chat import ChatCore
from bot.db import Database
from bot.models import Member, OutboxMessage, ProbationReminder
from bot.settings import Settings
from bot.texts import text
from jobs.probation import ProbationReminders
from tests.clock import Clock
from tests.fakes.telegram_api import FakeTelegramServer
from tests.harness import say
from tests.quiz_harness import HCM
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING
from tests.test_dispatcher import drain

# Lê Minh Châu (MEMBER, probationary in Chi bộ Văn phòng) was admitted on 28/12/2025,
# sponsored by the secretary Nguyễn Văn An and by Trần Thị Bình (who has no account).
ADMITTED = date(2025, 12, 28)
BINH = "90000002"
TIMELINE = text(
    "probation.timeline",
    name="Lê Minh Châu",
    admitted="28/12/2025",
    prepare="28/11/2026",
    ends="28/12/2026",
    consider="08/02/2027",  # 30 working days after the end
    status=text("probation.status_left", days=33),
)


@pytest.fixture
async def probation(database: Database, units: dict[str, int]) -> None:
    async with database.session() as session, session.begin():
        await session.execute(
            update(Member)
            .where(Member.card_number == MEMBER)
            .values(admission_date=ADMITTED, sponsor_card_1=SECRETARY, sponsor_card_2=BINH)
        )


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


def job(database: Database, settings: Settings, clock: Clock) -> ProbationReminders:
    return ProbationReminders(database, settings, clock=clock)


async def queued(database: Database) -> list[tuple[str | None, str, str]]:
    """(chat, status, text) of the probation reminders in the outbox."""
    async with database.session() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.status, OutboxMessage.payload)
            .where(OutboxMessage.kind == "probation")
            .order_by(OutboxMessage.id)
        )
        return [(chat, status, payload["text"]) for chat, status, payload in rows]


async def test_the_member_sees_their_timeline(chat: ChatCore, probation: None) -> None:
    (reply,) = await say(chat, MEMBER, "/dubi")
    assert reply.text == TIMELINE
    assert reply.buttons == ()


async def test_a_secretary_sees_the_probationary_members_of_their_unit_only(
    chat: ChatCore, probation: None
) -> None:
    own, unit = await say(chat, SECRETARY, "/dubi")
    assert own.text == text("probation.not_probationary")
    # Đỗ Thanh Nam, probationary in Chi bộ thôn Đông, is not the secretary's to see.
    assert unit.text == "\n".join(
        [
            text("probation.unit_title"),
            text(
                "probation.unit_line",
                name="Lê Minh Châu",
                unit="Chi bộ Văn phòng",
                ends="28/12/2026",
                consider="08/02/2027",
            ),
        ]
    )
    _, other = await say(chat, SIBLING, "/dubi")
    assert other.text == text("probation.unit_none")


async def test_without_an_admission_date_the_member_is_told_whom_to_ask(
    chat: ChatCore, units: dict[str, int]
) -> None:
    (reply,) = await say(chat, MEMBER, "/dubi")
    assert reply.text == text("probation.no_date")
    (unlinked,) = await say(chat, "555", "/dubi")
    assert unlinked.text == text("link.required")


async def test_reminders_are_sent_once_on_their_days(
    database: Database, settings: Settings, clock: Clock, probation: None
) -> None:
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=HCM))
    assert await job(database, settings, clock).run() == 0
    clock.set(datetime(2026, 11, 28, 8, 0, tzinfo=HCM))
    assert await job(database, settings, clock).run() == 3
    prepare = [
        (
            MEMBER,
            "pending",
            text("probation.self_review", ends="28/12/2026", consider="08/02/2027"),
        ),
        (
            SECRETARY,
            "pending",
            text(
                "probation.sponsor",
                name="Lê Minh Châu",
                unit="Chi bộ Văn phòng",
                ends="28/12/2026",
                consider="08/02/2027",
            ),
        ),
        # Bình has no account: the row says the reminder did not reach her.
        (
            None,
            "skipped",
            text(
                "probation.sponsor",
                name="Lê Minh Châu",
                unit="Chi bộ Văn phòng",
                ends="28/12/2026",
                consider="08/02/2027",
            ),
        ),
    ]
    assert await queued(database) == prepare
    # Run again the same day, and after a restart the next day: nothing twice.
    assert await job(database, settings, clock).run() == 0
    clock.advance(days=1)
    assert await job(database, settings, clock).run() == 0
    # The 12 months end: the secretary is asked to put the recognition on an agenda.
    clock.set(datetime(2026, 12, 28, 8, 0, tzinfo=HCM))
    assert await job(database, settings, clock).run() == 1
    assert (await queued(database))[3:] == [
        (
            SECRETARY,
            "pending",
            text(
                "probation.agenda",
                name="Lê Minh Châu",
                unit="Chi bộ Văn phòng",
                ends="28/12/2026",
                consider="08/02/2027",
            ),
        )
    ]
    assert await job(database, settings, clock).run() == 0
    async with database.session() as session:
        kinds = sorted((await session.scalars(select(ProbationReminder.kind))).all())
    assert kinds == ["agenda", "self_review", "sponsor", "sponsor"]


async def test_nothing_is_sent_after_the_deadline_or_once_recognised(
    database: Database, settings: Settings, clock: Clock, probation: None
) -> None:
    # The process was down for the whole window: too late to remind anyone.
    clock.set(datetime(2027, 2, 9, 8, 0, tzinfo=HCM))
    assert await job(database, settings, clock).run() == 0
    # A member recognised early (the roster says chính thức) is not reminded.
    async with database.session() as session, session.begin():
        await session.execute(
            update(Member).where(Member.card_number == MEMBER).values(probationary=False)
        )
    clock.set(datetime(2026, 12, 28, 8, 0, tzinfo=HCM))
    assert await job(database, settings, clock).run() == 0
    assert await queued(database) == []


async def test_the_dispatcher_delivers_the_reminder_on_telegram(
    database: Database,
    settings: Settings,
    clock: Clock,
    probation: None,
    server: FakeTelegramServer,
    database_url: str,
) -> None:
    clock.set(datetime(2026, 11, 28, 8, 0, tzinfo=HCM))
    assert await job(database, settings, clock).run() == 3
    await drain(database, server, database_url)
    texts = {
        chat: [m["text"] for m in server.sent_messages(int(chat))] for chat in (MEMBER, SECRETARY)
    }
    assert texts[MEMBER] == [
        text("probation.self_review", ends="28/12/2026", consider="08/02/2027")
    ]
    assert texts[SECRETARY] == [
        text(
            "probation.sponsor",
            name="Lê Minh Châu",
            unit="Chi bộ Văn phòng",
            ends="28/12/2026",
            consider="08/02/2027",
        )
    ]
