"""Nudges to secretaries with a controllable clock: from the 20th, units with no regular
meeting next month, sent once across restarts; meetings two days away with no agenda."""

from __future__ import annotations

from datetime import date, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete, select

from bot.db import Database
from bot.models import AuditEntry, OutboxMessage
from bot.services.meetings import Recurrence
from bot.settings import Settings
from bot.texts import text
from jobs.nudges import JOB_ID, SecretaryNudges, schedule_nudges
from tests.harness import services
from tests.secretaries_harness import SECRETARY, SIBLING
from tests.test_meeting_reminders import HCM, MEETING_AT, Clock

OFFICE, JUSTICE = "Chi bộ Văn phòng", "Chi bộ Sở Tư pháp"


async def meeting(
    database: Database,
    clock: Clock,
    unit_id: int,
    *,
    kind: str = "regular",
    agenda: str | None = "Kiểm điểm cuối năm",
    starts_at: datetime | None = MEETING_AT,
    recurrence: Recurrence | None = None,
) -> None:
    async with database.session() as session, session.begin():
        service = services(session, clock).meetings
        await service.create(
            unit_id,
            kind=kind,
            title="",
            place="Hội trường A",
            actor="test",
            agenda=agenda,
            starts_at=None if recurrence else starts_at,
            recurrence=recurrence,
        )


def nudges(database: Database, settings: Settings, clock: Clock) -> SecretaryNudges:
    return SecretaryNudges(database, settings, clock=clock)


async def sent(database: Database) -> list[tuple[str | None, str]]:
    """(chat, text) of every nudge queued."""
    async with database.session() as session:
        rows = await session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.payload)
            .where(OutboxMessage.kind == "nudge")
            .order_by(OutboxMessage.id)
        )
        return [(chat, payload["text"]) for chat, payload in rows]


async def test_units_without_a_regular_meeting_next_month_are_nudged_once(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    # Sở Tư pháp meets monthly; Văn phòng has only a themed meeting in December.
    rule = Recurrence.monthly_day(5, MEETING_AT.time(), starts=date(2026, 11, 1))
    await meeting(database, clock, units[JUSTICE], recurrence=rule)
    await meeting(database, clock, units[OFFICE], kind="themed")
    clock.set(datetime(2026, 11, 19, 8, 0, tzinfo=HCM))
    assert await nudges(database, settings, clock).run() == 0
    clock.set(datetime(2026, 11, 20, 8, 0, tzinfo=HCM))
    assert await nudges(database, settings, clock).run() == 1
    expected = [
        (SECRETARY, text("attendance.nudge_regular", unit=OFFICE, month="12/2026")),
    ]
    assert await sent(database) == expected
    # Restarted the next day: the audit log says it was sent.
    clock.set(datetime(2026, 11, 21, 8, 0, tzinfo=HCM))
    assert await nudges(database, settings, clock).run() == 0
    assert await sent(database) == expected
    async with database.session() as session:
        targets = list(
            await session.scalars(
                select(AuditEntry.target).where(AuditEntry.action == "nudge.sent")
            )
        )
    assert targets == [f"unit:{units[OFFICE]}:regular:2026-12"]


async def test_a_nudge_decided_again_without_its_audit_row_is_queued_once(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    """Two leaders overlapping in a failover both read "not sent": the outbox's unique key,
    not the audit log, keeps the nudge to one."""
    await meeting(
        database, clock, units[JUSTICE], starts_at=datetime(2026, 12, 8, 8, 0, tzinfo=HCM)
    )
    clock.set(datetime(2026, 11, 20, 8, 0, tzinfo=HCM))
    assert await nudges(database, settings, clock).run() == 1
    async with database.session() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.action == "nudge.sent"))
    assert await nudges(database, settings, clock).run() == 0
    assert await sent(database) == [
        (SECRETARY, text("attendance.nudge_regular", unit=OFFICE, month="12/2026"))
    ]
    async with database.session() as session:
        keys = list(await session.scalars(select(OutboxMessage.idempotency_key)))
    assert len(keys) == 1
    assert keys[0].startswith(f"nudge:unit:{units[OFFICE]}:regular:2026-12/m")


async def test_december_nudges_ask_for_january(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await meeting(database, clock, units[JUSTICE], starts_at=datetime(2027, 1, 8, 8, 0, tzinfo=HCM))
    assert (
        await nudges(database, settings, clock).run(datetime(2026, 12, 20, 1, 0, tzinfo=HCM)) == 1
    )
    assert await sent(database) == [
        (SECRETARY, text("attendance.nudge_regular", unit=OFFICE, month="01/2027"))
    ]


async def test_a_meeting_without_an_agenda_is_flagged_two_days_before(
    database: Database, settings: Settings, clock: Clock, units: dict[str, int]
) -> None:
    await meeting(database, clock, units[OFFICE], agenda=None)
    await meeting(database, clock, units[JUSTICE])
    clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=HCM))
    assert await nudges(database, settings, clock).run() == 0
    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=HCM))
    assert await nudges(database, settings, clock).run() == 1
    clock.set(datetime(2026, 12, 3, 8, 0, tzinfo=HCM))
    assert await nudges(database, settings, clock).run() == 0
    flagged = text(
        "attendance.nudge_agenda",
        title="Sinh hoạt chi bộ thường kỳ",
        unit=OFFICE,
        when="19:30 thứ Sáu, 04/12/2026",
    )
    assert await sent(database) == [(SECRETARY, flagged)]
    assert SIBLING not in [chat for chat, _ in await sent(database)]


async def test_the_nudges_run_every_morning(database: Database, settings: Settings) -> None:
    scheduler = AsyncIOScheduler(timezone=HCM)
    schedule_nudges(scheduler, SecretaryNudges(database, settings))
    scheduler.start()
    try:
        job = scheduler.get_job(JOB_ID)
        assert job is not None
        assert (job.next_run_time.hour, job.next_run_time.minute) == (8, 0)
    finally:
        scheduler.shutdown(wait=False)
