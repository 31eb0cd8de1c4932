"""Broadcast delivery benchmark against the fake Bot API server on 127.0.0.1.

Modes (all by default):
- rate: 1,473 linked members, the server enforcing 30 messages a second (429 with
  retry_after past it); wall time against the bound 1,473 / 30 s.
- kill: the same broadcast sent by a `sotay dispatcher` process killed with SIGKILL at a
  random moment and started again; delivered, lost and duplicated messages.
- enqueue: queuing one notice for 100,000 members.
Prints `name: value` lines. Run from the repo root: .venv/bin/python benchmarks/broadcast.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import ChannelAccount, Member, OutboxMessage, utcnow  # noqa: E402
from bot.runtime import open_senders  # noqa: E402
from bot.services import Services, Shared  # noqa: E402
from bot.services.organisations import OrganisationService  # noqa: E402
from bot.services.outbox import Status  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.notices import render_notice  # noqa: E402
from jobs.dispatcher import Dispatcher  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramServer  # noqa: E402

PILOT = 1473
LIMIT = 30.0
FIRST_CHAT = 1_000_000


async def populate(database: Database, members: int, *, linked: bool = True) -> int:
    """A unit with `members` members (each linked on Telegram); returns the unit id."""
    async with database.session() as session, session.begin():
        unit = await OrganisationService(session).ensure_path(["Tỉnh", "Đảng bộ", "Chi bộ"])
        now = utcnow()
        for start in range(0, members, 5000):
            rows = [
                {
                    "card_number": str(FIRST_CHAT + i),
                    "full_name": f"Đảng viên {i}",
                    "organisation_id": unit.id,
                    "probationary": False,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(members, start + 5000))
            ]
            await session.execute(insert(Member), rows)
        if linked:
            ids = (await session.execute(select(Member.id, Member.card_number))).all()
            for start in range(0, len(ids), 5000):
                await session.execute(
                    insert(ChannelAccount),
                    [
                        {
                            "channel": "telegram",
                            "external_id": card,
                            "chat_id": card,
                            "member_id": member_id,
                            "linked_at": now,
                            "created_at": now,
                            "last_seen_at": now,
                            "link_failures": 0,
                        }
                        for member_id, card in ids[start : start + 5000]
                    ],
                )
        return unit.id


async def enqueue(database: Database, unit_id: int) -> int:
    async with database.session() as session, session.begin():
        service = Services.for_session(session, Shared(Settings(), render=render_notice))
        broadcast_id, _ = await service.broadcasts.send(
            actor="benchmark",
            body="Thông báo thử nghiệm.",
            unit_ids=[unit_id],
            signature="Ban Tổ chức",
        )
    return broadcast_id


async def remaining(database: Database) -> int:
    async with database.session() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_([Status.PENDING, Status.SENDING]))
            )
            or 0
        )


def delivery(server: FakeTelegramServer, members: int) -> tuple[int, int, int]:
    counts: dict[int, int] = {}
    for message in server.sent_messages():
        counts[int(message["chat_id"])] = counts.get(int(message["chat_id"]), 0) + 1
    delivered = len(counts)
    return delivered, members - delivered, sum(n - 1 for n in counts.values())


def settings_for(url: str, server: FakeTelegramServer) -> Settings:
    return Settings.from_mapping(
        {
            "SOTAY_DATABASE_URL": url,
            "TELEGRAM_TOKEN": server.token,
            # Required with a messenger token; any 32 characters will do here.
            "SOTAY_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
            "TELEGRAM_BASE_URL": server.base_url,
        }
    )


async def rate_mode(folder: Path) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'rate.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    unit = await populate(database, PILOT)
    await enqueue(database, unit)
    async with FakeTelegramServer(rate_limit_per_second=LIMIT) as server:
        settings = settings_for(url, server)
        async with open_senders(settings) as senders:
            stop = asyncio.Event()
            started = time.perf_counter()
            task = asyncio.create_task(Dispatcher(database, senders).run(stop))
            while await remaining(database):  # noqa: ASYNC110 - the outbox is the only signal
                await asyncio.sleep(0.05)
            wall = time.perf_counter() - started
            stop.set()
            await task
        delivered, lost, duplicated = delivery(server, PILOT)
        refused = sum(1 for c in server.calls_to("sendMessage") if c.error_code == 429)
    await database.dispose()
    bound = PILOT / LIMIT
    print(f"rate_members: {PILOT}")
    print(f"rate_wall_seconds: {wall:.1f}")
    print(f"rate_bound_seconds: {bound:.1f}")
    print(f"rate_ratio: {wall / bound:.3f}")
    print(f"rate_delivered: {delivered}")
    print(f"rate_lost: {lost}")
    print(f"rate_duplicated: {duplicated}")
    print(f"rate_429_answers: {refused}")


async def kill_mode(folder: Path, seed: int) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'kill.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    unit = await populate(database, PILOT)
    await enqueue(database, unit)
    kill_after = random.Random(seed).uniform(3.0, 30.0)
    async with FakeTelegramServer(rate_limit_per_second=LIMIT) as server:
        env = {
            **os.environ,
            "SOTAY_DATABASE_URL": url,
            "TELEGRAM_TOKEN": server.token,
            # Required with a messenger token; any 32 characters will do here.
            "SOTAY_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
            "TELEGRAM_BASE_URL": server.base_url,
            "SOTAY_OUTBOX_CLAIM_TIMEOUT": "5",
        }

        async def dispatcher_process() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "dispatcher",
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )

        first = await dispatcher_process()
        await asyncio.sleep(kill_after)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        async with database.session() as session:
            in_flight = (
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == Status.SENDING)
                )
                or 0
            )
        sent_before_kill = len(server.sent_messages())
        second = await dispatcher_process()
        deadline = time.monotonic() + 300
        while await remaining(database) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        second.send_signal(signal.SIGTERM)
        await second.wait()
        delivered, lost, duplicated = delivery(server, PILOT)
    await database.dispose()
    print(f"kill_after_seconds: {kill_after:.1f}")
    print(f"kill_sent_before_kill: {sent_before_kill}")
    print(f"kill_rows_in_flight_at_kill: {in_flight}")
    print(f"kill_delivered: {delivered}")
    print(f"kill_lost: {lost}")
    print(f"kill_duplicated: {duplicated}")


async def enqueue_mode(folder: Path, members: int) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'enqueue.db'}"
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    unit = await populate(database, members)
    started = time.perf_counter()
    await enqueue(database, unit)
    seconds = time.perf_counter() - started
    async with database.session() as session:
        rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
    await database.dispose()
    print(f"enqueue_recipients: {rows}")
    print(f"enqueue_seconds: {seconds:.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["rate", "kill", "enqueue", "all"], default="all")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--enqueue-members", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.mode in ("rate", "all"):
            await rate_mode(Path(folder))
        if args.mode in ("kill", "all"):
            await kill_mode(Path(folder), args.seed)
        if args.mode in ("enqueue", "all"):
            await enqueue_mode(Path(folder), args.enqueue_members)


if __name__ == "__main__":
    asyncio.run(main())
