"""Retention: handbook questions and sent messages' texts older than SOTAY_RETENTION_DAYS are
purged by the daily job; messages still to send and recent rows are left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.models import HandbookQuery, LinkFailure, OutboxMessage
from bot.settings import Settings, SettingsError
from jobs.retention import Retention
from tests.clock import Clock

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _message(text: str, age_days: int, status: str) -> OutboxMessage:
    return OutboxMessage(
        kind="broadcast",
        created_at=NOW - timedelta(days=age_days),
        channel="telegram",
        chat_id="42",
        payload={"text": text},
        status=status,
    )


async def test_old_questions_and_message_texts_are_purged(database: Database) -> None:
    async with database.session() as session, session.begin():
        session.add_all(
            [
                HandbookQuery(
                    asked_at=NOW - timedelta(days=181), question="cũ", answered=True, score=1
                ),
                HandbookQuery(
                    asked_at=NOW - timedelta(days=179), question="mới", answered=True, score=1
                ),
                _message("cũ đã gửi", 181, "sent"),
                _message("cũ bỏ qua", 200, "skipped"),
                _message("cũ còn chờ", 181, "pending"),
                _message("mới đã gửi", 10, "sent"),
                LinkFailure(at=NOW - timedelta(days=2)),
                LinkFailure(at=NOW - timedelta(minutes=5)),
            ]
        )
    settings = Settings.from_mapping({"SOTAY_RETENTION_DAYS": "180"})
    purged = await Retention(database, settings, clock=Clock(NOW)).run()
    assert (purged.queries, purged.messages, purged.link_failures) == (1, 2, 1)
    async with database.session() as session:
        questions = list(await session.scalars(select(HandbookQuery.question)))
        messages = {
            (row.status, row.payload.get("text"), row.chat_id)
            for row in await session.scalars(select(OutboxMessage))
        }
    assert questions == ["mới"]
    assert messages == {
        ("sent", None, None),
        ("skipped", None, None),
        ("pending", "cũ còn chờ", "42"),
        ("sent", "mới đã gửi", "42"),
    }
    # A second run finds nothing left to purge.
    again = await Retention(database, settings, clock=Clock(NOW)).run()
    assert (again.queries, again.messages, again.link_failures) == (0, 0, 0)


def test_retention_days_default_and_validation() -> None:
    assert Settings.from_mapping({}).retention_days == 180
    assert Settings.from_mapping({"SOTAY_RETENTION_DAYS": "30"}).retention_days == 30
    for bad in ("0", "0.5", "half a year"):
        with pytest.raises(SettingsError, match="SOTAY_RETENTION_DAYS"):
            Settings.from_mapping({"SOTAY_RETENTION_DAYS": bad})
