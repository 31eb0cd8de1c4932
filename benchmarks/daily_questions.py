"""The question a day at province scale: 100,000 members opted in at the same minute.

- plan: the scheduler's run at that minute picks each member's question (Leitner boxes
  over the shipped banks) and queues it in the outbox; its wall time beside the time
  Telegram's limit (30 messages a second) needs to deliver them all (`plan_share_of_bound`:
  how much of the delivery time the planning takes; under 1, delivery is bound only by the
  messenger). A second run at the same minute must queue nothing.
- rate: 1,473 members (the pilot) opted in, planned and delivered through the fake Bot
  API on 127.0.0.1 enforcing 30 a second; wall time from the due minute to the last
  message delivered, against the bound 1,473 / 30 s (`rate_ratio`).

Prints `name: value` lines. Run from the repo root: .venv/bin/python benchmarks/daily_questions.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks.broadcast import LIMIT, PILOT, delivery, populate, remaining  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import DailySubscription, Member, OutboxMessage  # noqa: E402
from bot.runtime import open_senders  # noqa: E402
from bot.settings import Settings  # noqa: E402
from jobs.daily import DailyScheduler  # noqa: E402
from jobs.dispatcher import Dispatcher  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramServer  # noqa: E402

MEMBERS = 100_000
DUE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 19:00 in Vietnam


async def opt_in(database: Database) -> None:
    async with database.session() as session, session.begin():
        ids = list(await session.scalars(select(Member.id)))
        for start in range(0, len(ids), 5000):
            await session.execute(
                insert(DailySubscription),
                [
                    {
                        "member_id": i,
                        "minute": 19 * 60,
                        "active": True,
                        "next_at": DUE,
                        "created_at": DUE,
                    }
                    for i in ids[start : start + 5000]
                ],
            )


async def queued(database: Database) -> int:
    async with database.session() as session:
        return (
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "daily")
            )
            or 0
        )


async def prepared(folder: Path, name: str, members: int) -> tuple[str, Database]:
    url = f"sqlite+aiosqlite:///{folder / name}"
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    await populate(database, members)
    await opt_in(database)
    return url, database


async def plan_mode(folder: Path, members: int) -> None:
    url, database = await prepared(folder, "plan.db", members)
    settings = Settings.from_mapping({"SOTAY_DATABASE_URL": url})
    scheduler = DailyScheduler(database, settings, clock=lambda: DUE)
    started = time.perf_counter()
    planned = await scheduler.handle_due(DUE)
    wall = time.perf_counter() - started
    again = await scheduler.handle_due(DUE)
    rows = await queued(database)
    await database.dispose()
    bound = members / LIMIT
    print(f"plan_members: {members}")
    print(f"plan_queued: {planned}")
    print(f"plan_outbox_rows: {rows}")
    print(f"plan_queued_again: {again}")
    print(f"plan_seconds: {wall:.1f}")
    print(f"plan_per_second: {members / wall:.0f}")
    print(f"bound_seconds: {bound:.1f}")
    print(f"plan_share_of_bound: {wall / bound:.3f}")


async def rate_mode(folder: Path) -> None:
    url, database = await prepared(folder, "rate.db", PILOT)
    async with FakeTelegramServer(rate_limit_per_second=LIMIT) as server:
        settings = Settings.from_mapping(
            {
                "SOTAY_DATABASE_URL": url,
                "TELEGRAM_TOKEN": server.token,
                "TELEGRAM_BASE_URL": server.base_url,
            }
        )
        async with open_senders(settings) as senders:
            stop = asyncio.Event()
            started = time.perf_counter()
            await DailyScheduler(database, settings, clock=lambda: DUE).handle_due(DUE)
            task = asyncio.create_task(Dispatcher(database, senders).run(stop))
            while await remaining(database):  # noqa: ASYNC110 - the outbox is the only signal
                await asyncio.sleep(0.05)
            wall = time.perf_counter() - started
            stop.set()
            await task
        delivered, lost, duplicated = delivery(server, PILOT)
    await database.dispose()
    bound = PILOT / LIMIT
    print(f"rate_members: {PILOT}")
    print(f"rate_wall_seconds: {wall:.1f}")
    print(f"rate_bound_seconds: {bound:.1f}")
    print(f"rate_ratio: {wall / bound:.3f}")
    print(f"rate_delivered: {delivered}")
    print(f"rate_lost: {lost}")
    print(f"rate_duplicated: {duplicated}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--mode", choices=["plan", "rate", "all"], default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.mode in ("plan", "all"):
            await plan_mode(Path(folder), args.members)
        if args.mode in ("rate", "all"):
            await rate_mode(Path(folder))


if __name__ == "__main__":
    asyncio.run(main())
