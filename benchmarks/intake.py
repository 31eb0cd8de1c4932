"""What the durable intake costs per update (issue #14.1), in one process on a SQLite file in a
temporary directory (or `--database-url`, a throwaway database whose rows are deleted):

1. store: one update stored per transaction, as each webhook call stores its own (the time
   before the 200), milliseconds per update;
2. the same updates (a linked member's /help, each of another chat) answered by the real
   chat core, once called directly and once stored and taken through the intake processor
   (store, claim, done in the conversation's transaction, settle); the CPU time of the
   process per update, and the difference.

    .venv/bin/python benchmarks/intake.py [--updates 600] [--database-url URL]

Prints `name: value` lines."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select  # noqa: E402

from benchmarks.harness import empty_tables  # noqa: E402
from bot.channels.intake import Intake  # noqa: E402
from bot.channels.telegram import TELEGRAM_TRAITS  # noqa: E402
from bot.chat import ChatCore  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.messages import Channel, Incoming, Reply  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import IntakeUpdate  # noqa: E402
from bot.services import Shared  # noqa: E402
from bot.services.handbook import load_index  # noqa: E402
from bot.services.intake import Arrival  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers import build_router  # noqa: E402
from handlers.notices import render_notice  # noqa: E402

FIRST_CHAT = 700_000


async def _discard(chat_id: str, replies: list[Reply]) -> None:
    pass


def _incoming(chat: int) -> Incoming:
    return Incoming(Channel.TELEGRAM, str(chat), str(chat), text="/help")


async def _direct(core: ChatCore, chats: range) -> float:
    started = time.process_time()
    for chat in chats:
        await core.answer(_incoming(chat), TELEGRAM_TRAITS, _discard)
    return time.process_time() - started


async def _through_intake(database: Database, core: ChatCore, chats: range) -> float:
    async def handle(raw: dict[str, Any]) -> None:
        await core.answer(_incoming(raw["chat"]), TELEGRAM_TRAITS, _discard)

    intake = Intake(database, Channel.TELEGRAM, handle)
    started = time.process_time()
    await intake.start()
    for chat in chats:
        await intake.store([Arrival(f"b{chat}", str(chat), {"chat": chat})])
    while True:
        async with database.session() as session:
            waiting = await session.scalar(
                select(func.count()).where(IntakeUpdate.done_at.is_(None))
            )
        if not waiting:
            break
        await asyncio.sleep(0.02)
    await intake.stop()
    return time.process_time() - started


async def _store_ms(database: Database, updates: int) -> float:
    intake = Intake(database, Channel.TELEGRAM, _never)
    samples = []
    for n in range(updates):
        started = time.perf_counter()
        await intake.store([Arrival(f"s{n}", str(FIRST_CHAT + n), {"update_id": n})])
        samples.append((time.perf_counter() - started) * 1000)
    async with database.session() as session, session.begin():
        await session.execute(delete(IntakeUpdate))
    return statistics.mean(samples)


async def _never(raw: dict[str, Any]) -> None:
    raise AssertionError("not handled here")


async def main(updates: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{tmp}/intake.db"
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        await empty_tables(database)
        settings = Settings.from_mapping({"SOTAY_DATABASE_URL": url})
        core = ChatCore(
            database, build_router(), Shared(settings, load_index(), render=render_notice)
        )
        store_ms = await _store_ms(database, updates)
        # Warm-up, then each chat's first message (its account made) in both runs.
        await _direct(core, range(FIRST_CHAT - 50, FIRST_CHAT))
        direct = await _direct(core, range(FIRST_CHAT, FIRST_CHAT + updates))
        intake = await _through_intake(
            database, core, range(FIRST_CHAT + updates, FIRST_CHAT + 2 * updates)
        )
        await database.dispose()
    print(f"updates: {updates}")
    print(f"store_ms_per_update: {store_ms:.2f}")
    print(f"cpu_ms_per_update_direct: {direct / updates * 1000:.2f}")
    print(f"cpu_ms_per_update_intake: {intake / updates * 1000:.2f}")
    print(f"cpu_ms_per_update_extra: {(intake - direct) / updates * 1000:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--database-url")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.updates, arguments.database_url))
