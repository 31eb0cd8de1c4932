"""What the durable intake (bot/channels/intake.py, issue #14 item 1) costs per update, and
what the webhook's body limit saves in memory.

1. `intake_ms_per_update`: storing one update in its own transaction, as the webhook does
   before its 200 (one at a time, so this is the latency a webhook call gains);
2. `direct_ms_per_update` and `through_intake_ms_per_update`: answering `--updates` /help
   messages of as many chats, one at a time, with the real chat core, first called directly
   (what the adapters did before), then stored and answered by the intake processor (look,
   claim, handle, record, finish) with a receiver that sends nothing;
   `processing_overhead_ms_per_update` is the difference, `intake_total_overhead_*` adds the
   store. `*_cpu_ms_*` lines give the same in this process's CPU time, less swayed by other
   work on the machine;
3. `webhook_rss_growth_mb`: the web app's resident memory growth while 100 clients each
   stream a 10 MB body at the webhook (refused with 413 after 256 KiB).

Runs on a SQLite file in a temporary directory, or on `--database-url` (a throwaway
database: its rows are deleted).

    .venv/bin/python benchmarks/intake.py [--updates 500] [--database-url URL]"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from benchmarks.harness import empty_tables  # noqa: E402
from bot.channels.intake import Entry, IntakeProcessor, receive  # noqa: E402
from bot.channels.telegram import TELEGRAM_TRAITS  # noqa: E402
from bot.channels.webapp import TELEGRAM_SECRET_HEADER, TELEGRAM_WEBHOOK_PATH  # noqa: E402
from bot.channels.webapp import _webhook as webhook_route  # noqa: E402
from bot.chat import ChatCore  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.messages import Channel, ChannelTraits, Incoming, Reply  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import IntakeUpdate  # noqa: E402
from bot.services import Shared  # noqa: E402
from bot.services.handbook import load_index  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers import build_router  # noqa: E402
from handlers.notices import render_notice  # noqa: E402

SECRET = "benchmark-secret"


class SilentReceiver:
    """Reads the stored /help updates; sends nothing."""

    channel = Channel.TELEGRAM
    traits: ChannelTraits = TELEGRAM_TRAITS

    def incoming(self, payload: dict[str, Any]) -> Incoming | None:
        return Incoming(Channel.TELEGRAM, payload["chat"], payload["chat"], text="/help")

    async def deliver(
        self, payload: dict[str, Any], incoming: Incoming, replies: list[Reply]
    ) -> None:
        return None


def _entries(count: int, offset: int) -> list[Entry]:
    return [
        Entry(str(offset + n), str(offset + n), {"chat": str(offset + n)}) for n in range(count)
    ]


class Timer:
    """Wall and CPU milliseconds per item since it was made."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def per_item(self) -> tuple[float, float]:
        wall = (time.perf_counter() - self._wall) * 1000 / self._count
        return wall, (time.process_time() - self._cpu) * 1000 / self._count


async def _store_one_by_one(database: Database, count: int) -> tuple[float, float]:
    entries = _entries(count, 1_000_000)
    timer = Timer(count)
    for entry in entries:
        await receive(database, Channel.TELEGRAM, [entry])
    return timer.per_item()


async def _direct(core: ChatCore, count: int) -> tuple[float, float]:
    timer = Timer(count)
    for n in range(1, count + 1):
        await core.handle(Incoming(Channel.TELEGRAM, str(n), str(n), text="/help"), TELEGRAM_TRAITS)
    return timer.per_item()


async def _through_intake(database: Database, core: ChatCore, count: int) -> tuple[float, float]:
    await receive(database, Channel.TELEGRAM, _entries(count, 2_000_000))
    processor = IntakeProcessor(database, core, SilentReceiver(), concurrency=1)
    stop = asyncio.Event()
    timer = Timer(count)
    running = asyncio.create_task(processor.run(stop))
    open_rows = select(func.count()).where(IntakeUpdate.finished_at.is_(None))
    while True:
        async with database.session() as session:
            if not await session.scalar(open_rows):
                break
        await asyncio.sleep(0.05)
    result = timer.per_item()
    stop.set()
    await running
    return result


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _rss_growth_under_large_bodies(clients: int = 100, megabytes: int = 10) -> float:
    async def feed(_data: dict[str, Any]) -> None:
        return None

    app = web.Application()
    app.router.add_post(
        TELEGRAM_WEBHOOK_PATH, webhook_route("Telegram", TELEGRAM_SECRET_HEADER, SECRET, feed)
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    before = _rss_mb()
    peak = before
    chunk = b" " * 65536

    async def body() -> AsyncIterator[bytes]:
        for _ in range(megabytes * 16):
            yield chunk

    async def post(session: aiohttp.ClientSession) -> None:
        try:
            async with session.post(
                server.make_url(TELEGRAM_WEBHOOK_PATH),
                data=body(),
                headers={TELEGRAM_SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            ) as response:
                await response.read()
        except aiohttp.ClientError:
            pass  # the server closes the connection after its 413

    async def watch(done: asyncio.Event) -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb())
            await asyncio.sleep(0.01)

    done = asyncio.Event()
    watcher = asyncio.create_task(watch(done))
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(post(session) for _ in range(clients)))
    done.set()
    await watcher
    await server.close()
    return peak - before


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = arguments.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'intake.db'}"
        settings = Settings.from_mapping({"SOTAY_DATABASE_URL": url})
        await asyncio.to_thread(upgrade, settings.database_url)
        database = Database(settings.database_url)
        try:
            await empty_tables(database)
            core = ChatCore(
                database, build_router(), Shared(settings, load_index(), render=render_notice)
            )
            await _direct(core, 20)  # warm-up
            await _through_intake(database, core, 20)
            await empty_tables(database)
            store = await _store_one_by_one(database, arguments.updates)
            await empty_tables(database)
            direct = await _direct(core, arguments.updates)
            await empty_tables(database)
            through = await _through_intake(database, core, arguments.updates)
            await empty_tables(database)
        finally:
            await database.dispose()
    growth = await _rss_growth_under_large_bodies()
    print(f"database: {settings.database_url.split(':', 1)[0]}")
    print(f"updates: {arguments.updates}")
    for unit, index in (("ms", 0), ("cpu_ms", 1)):
        print(f"intake_{unit}_per_update: {store[index]:.2f}")
        print(f"direct_{unit}_per_update: {direct[index]:.2f}")
        print(f"through_intake_{unit}_per_update: {through[index]:.2f}")
        overhead = through[index] - direct[index]
        print(f"processing_overhead_{unit}_per_update: {overhead:.2f}")
        print(f"intake_total_overhead_{unit}_per_update: {overhead + store[index]:.2f}")
    print(f"webhook_rss_growth_mb: {growth:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--database-url")
    asyncio.run(main(parser.parse_args()))
