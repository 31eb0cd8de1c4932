"""Issue #14 item 6: handbook question texts and outbox bodies older than
SOTAY_RETENTION_DAYS are emptied by the leader's daily job; recent ones, and messages not yet
sent, are left alone."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db import Database
from bot.models import AuditEntry, HandbookQuery, LinkFailure, OutboxMessage
from bot.runtime import LeaderWork
from bot.settings import Settings
from jobs.housekeeping import JOB_ID, Housekeeping

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


async def test_old_texts_and_bodies_are_purged(database: Database, settings: Settings) -> None:
    old, recent = NOW - timedelta(days=181), NOW - timedelta(days=179)
    async with database.session() as session, session.begin():
        for at, words in ((old, "câu hỏi cũ, gọi 0912***678"), (recent, "câu hỏi mới")):
            session.add(
                HandbookQuery(
                    asked_at=at, question=words, answered=False, score=0.1, asker_key="k" * 64
                )
            )
        for at, status in ((old, "sent"), (old, "pending"), (recent, "sent")):
            session.add(
                OutboxMessage(
                    created_at=at,
                    kind="notice",
                    status=status,
                    payload={"text": f"{status} {at:%d/%m}"},
                    error="x",
                )
            )
        session.add_all(
            [
                LinkFailure(failed_at=NOW - timedelta(days=2)),
                LinkFailure(failed_at=NOW - timedelta(hours=2)),
            ]
        )
    assert Settings.from_mapping({}).retention_days == 180
    job = Housekeeping(database, replace(settings, retention_days=180), clock=lambda: NOW)
    assert await job.run() == {
        "handbook_queries": 1,
        "outbox": 1,
        "link_failures": 1,
        "intake_updates": 0,
        "empty_accounts": 0,
    }
    async with database.session() as session:
        queries = (
            await session.execute(
                select(HandbookQuery.question, HandbookQuery.asker_key).order_by(HandbookQuery.id)
            )
        ).all()
        bodies = list(
            await session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id))
        )
        failures = len(list(await session.scalars(select(LinkFailure.id))))
        (audit,) = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retention.purge")
        )
    assert queries == [("", None), ("câu hỏi mới", "k" * 64)]
    assert bodies == [{}, {"text": f"pending {old:%d/%m}"}, {"text": f"sent {recent:%d/%m}"}]
    assert failures == 1
    assert audit.details == {
        "days": 180,
        "handbook_queries": 1,
        "outbox": 1,
        "link_failures": 1,
    }
    # Run again: nothing left to purge, no audit line.
    assert await job.run() == {
        "handbook_queries": 0,
        "outbox": 0,
        "link_failures": 0,
        "intake_updates": 0,
        "empty_accounts": 0,
    }


async def test_the_elected_process_purges_at_start_and_daily(
    database: Database, database_url: str
) -> None:
    async with database.session() as session, session.begin():
        session.add(
            HandbookQuery(
                asked_at=datetime.now(UTC) - timedelta(days=200),
                question="câu hỏi rất cũ",
                answered=False,
                score=0.1,
            )
        )
    settings = Settings.from_mapping({"SOTAY_DATABASE_URL": database_url})
    work = LeaderWork(database, settings, {})
    await work.start()
    try:
        await asyncio.wait_for(work.ready.wait(), 10)
        job = work._scheduler.get_job(JOB_ID)  # type: ignore[union-attr]
        assert job is not None and str(job.trigger).startswith("cron[hour='3', minute='0'")
    finally:
        await work.stop()
    async with database.session() as session:
        assert list(await session.scalars(select(HandbookQuery.question))) == [""]
