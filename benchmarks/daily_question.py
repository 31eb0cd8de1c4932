"""The question a day for 100,000 opted-in members: planning and queuing them (Leitner pick,
one daily_questions row and one keyed outbox row each), then delivering them through the
outbox dispatcher to the fake Bot API server on 127.0.0.1, which enforces a rate limit (429
with retry_after past it) while the dispatcher paces itself just under it.

`ratio` is the delivery's wall time against the bound the limit implies (members / rate).
The default limit is Telegram's own 30 a second, so 100,000 messages take 56 minutes however
good the sender is; `--rate 150` runs the same pipeline against a faster fake messenger (the
dispatcher, recording each outcome in its own transaction, is then the bottleneck).
Also: a second planning run (a restart) queues nothing, and nothing is lost or sent twice.
Prints `name: value` lines. Run from the repo root:
.venv/bin/python benchmarks/daily_question.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks.broadcast import delivery, populate, remaining  # noqa: E402
from bot.channels.delivery import RateLimits  # noqa: E402
from bot.channels.telegram import TelegramSender  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import DailyQuestion, DailySubscription, Member, OutboxMessage, utcnow  # noqa: E402
from bot.services import Services, Shared  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.notices import render_notice  # noqa: E402
from jobs.dispatcher import Dispatcher  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramServer  # noqa: E402

TELEGRAM_LIMIT = 30.0
# The dispatcher paces itself this far under the server's limit, as 29.5 is under 30.
PACE = 29.5 / 30.0


async def opt_in(database: Database, settings: Settings) -> None:
    """Every member opted in yesterday for a minute ago: today's question is owed now."""
    now = utcnow()
    local = now.astimezone(settings.timezone)
    minute = max(0, local.hour * 60 + local.minute - 1)
    async with database.session() as session, session.begin():
        ids = list(await session.scalars(select(Member.id)))
        for start in range(0, len(ids), 5000):
            await session.execute(
                insert(DailySubscription),
                [
                    {
                        "member_id": member_id,
                        "send_minute": minute,
                        "active": True,
                        "since": now - timedelta(days=1),
                    }
                    for member_id in ids[start : start + 5000]
                ],
            )


async def plan(database: Database, settings: Settings) -> int:
    async with database.session() as session, session.begin():
        services = Services.for_session(session, Shared(settings, render=render_notice))
        return await services.daily.plan_due()


async def count(database: Database, table: type) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(table)) or 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument(
        "--rate", type=float, default=TELEGRAM_LIMIT, help="the fake server's limit"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'daily.db'}"
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        await populate(database, args.members)
        async with FakeTelegramServer(rate_limit_per_second=args.rate) as server:
            settings = Settings.from_mapping(
                {
                    "SOTAY_DATABASE_URL": url,
                    "TELEGRAM_TOKEN": server.token,
                    "TELEGRAM_BASE_URL": server.base_url,
                }
            )
            await opt_in(database, settings)
            started = time.perf_counter()
            queued = await plan(database, settings)
            planned = time.perf_counter() - started
            again = await plan(database, settings)
            sender = TelegramSender(
                settings, limits=RateLimits(args.rate * PACE, 1, per_chat_interval=1.0)
            )
            await sender.start()
            stop = asyncio.Event()
            started = time.perf_counter()
            task = asyncio.create_task(Dispatcher(database, {"telegram": sender}).run(stop))
            while await remaining(database):  # noqa: ASYNC110 - the outbox is the only signal
                await asyncio.sleep(0.2)
            wall = time.perf_counter() - started
            stop.set()
            await task
            await sender.stop()
            delivered, lost, duplicated = delivery(server, args.members)
            refused = sum(1 for c in server.calls_to("sendMessage") if c.error_code == 429)
        rows = await count(database, DailyQuestion)
        outbox = await count(database, OutboxMessage)
        await database.dispose()
    bound = args.members / args.rate
    print(f"members: {args.members}")
    print(f"plan_enqueue_seconds: {planned:.1f}")
    print(f"queued: {queued}")
    print(f"daily_question_rows: {rows}")
    print(f"outbox_rows: {outbox}")
    print(f"queued_by_a_second_run: {again}")
    print(f"fake_limit_per_second: {args.rate:g}")
    print(f"wall_seconds: {wall:.1f}")
    print(f"bound_seconds: {bound:.1f}")
    print(f"ratio: {wall / bound:.3f}")
    print(f"delivered: {delivered}")
    print(f"lost: {lost}")
    print(f"duplicated: {duplicated}")
    print(f"answers_429: {refused}")
    print(f"telegram_bound_minutes: {args.members / TELEGRAM_LIMIT / 60:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
