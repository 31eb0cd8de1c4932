"""Quiz benchmark: many members take one quiz at the same time through the conversation
core (one transaction per tap, as from Telegram), some tapping every answer twice. Reports
per-tap latency and checks that every answer was recorded once and every attempt scored.

    .venv/bin/python benchmarks/quiz_load.py [--members N] [--questions Q] [--database-url URL]

Without a URL it runs on a fresh SQLite file; a PostgreSQL database is migrated first and
must be a throwaway one (its rows are deleted). Prints one `name: value` line per figure."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bot.chat import ChannelTraits, ChatCore
from bot.db import Database
from bot.messages import Channel, Incoming, Reply
from bot.migrate import upgrade
from bot.models import Base, ChannelAccount, Member, QuizAnswer, QuizAttempt, utcnow
from bot.services import Shared
from bot.services.audit import AuditService
from bot.services.handbook import load_index
from bot.services.organisations import OrganisationService
from bot.services.outbox import OutboxService
from bot.services.quizzes.service import Due, Event, QuizService, start_data
from bot.settings import Settings
from handlers import build_router

TELEGRAM = ChannelTraits(has_buttons=True, text_limit=4096, can_share_contact=True)
UNITS = 20
CONCURRENCY = 50


async def _reset(database: Database) -> None:
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


async def _open_quiz(
    database: Database, settings: Settings, count: int, questions: int
) -> tuple[int, list[str]]:
    """`count` members over UNITS chi bộ, each linked on Telegram, and an open quiz for all
    of them: its id and the members' chat ids."""
    chats = []
    async with database.session() as session, session.begin():
        organisations = OrganisationService(session)
        units = [
            await organisations.ensure_path(["Tỉnh ủy", f"Chi bộ {i + 1}"]) for i in range(UNITS)
        ]
        for index in range(count):
            member = Member(
                card_number=f"8{index:07d}",
                full_name=f"Đảng viên {index}",
                organisation_id=units[index % UNITS].id,
            )
            session.add(member)
            await session.flush()
            chat = str(700_000 + index)
            session.add(
                ChannelAccount(
                    channel="telegram",
                    external_id=chat,
                    chat_id=chat,
                    member_id=member.id,
                    linked_at=utcnow(),
                )
            )
            chats.append(chat)
        await session.flush()
        quizzes = QuizService(
            session, OutboxService(session), AuditService(session), utcnow, settings.timezone
        )
        now = utcnow()
        quiz = await quizzes.schedule(
            title="Benchmark",
            unit_ids=[unit.id for unit in units],
            question_count=questions,
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(days=1),
            actor="benchmark",
        )
        await quizzes.run_due(Due(quiz.id, Event.OPEN))
    return quiz.id, chats


async def _take(
    core: ChatCore, quiz_id: int, chat: str, rng: random.Random, timings: list[float]
) -> None:
    """One member's attempt, tapping a random answer to each question (twice, for some)."""

    async def tap(data: str) -> list[Reply]:
        started = time.perf_counter()
        replies = await core.handle(
            Incoming(Channel.TELEGRAM, chat, chat, button_data=data), TELEGRAM
        )
        timings.append(time.perf_counter() - started)
        return replies

    replies = await tap(start_data(quiz_id))
    twice = rng.random() < 0.2  # a fifth of the members tap every answer twice
    while replies and replies[-1].flat_buttons:
        choice = rng.choice(replies[-1].flat_buttons).data
        first = tap(choice)
        replies = await (asyncio.gather(first, tap(choice)) if twice else first)
        if twice:
            replies = max(replies, key=lambda r: len(r[-1].flat_buttons) if r else 0)


async def main(members: int, questions: int, url: str) -> None:
    database = Database(url)
    settings = Settings.from_mapping({"SOTAY_DATABASE_URL": url})
    await _reset(database)
    quiz_id, chats = await _open_quiz(database, settings, members, questions)
    core = ChatCore(database, build_router(), Shared(settings, load_index()))
    rng = random.Random(20261125)
    timings: list[float] = []
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(chat: str) -> None:
        async with limit:
            await _take(core, quiz_id, chat, rng, timings)

    started = time.perf_counter()
    await asyncio.gather(*(one(chat) for chat in chats))
    wall = time.perf_counter() - started
    async with database.session() as session:
        answers = await session.scalar(select(func.count()).select_from(QuizAnswer))
        finished = await session.scalar(
            select(func.count()).where(QuizAttempt.finished_at.is_not(None))
        )
    await _reset(database)
    await database.dispose()
    timings.sort()
    print(f"members: {members}")
    print(f"taps: {len(timings)}")
    print(f"wall_s: {wall:.1f}")
    print(f"tap_p50_ms: {statistics.median(timings) * 1000:.1f}")
    print(f"tap_p95_ms: {timings[int(len(timings) * 0.95)] * 1000:.1f}")
    print(f"tap_max_ms: {timings[-1] * 1000:.1f}")
    print(f"answers_recorded: {answers} (expected {members * questions})")
    print(f"attempts_finished: {finished} (expected {members})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{directory}/quiz.db"
        upgrade(url)
        asyncio.run(main(args.members, args.questions, url))
