"""Roles of a process (issue #16.1-2): a --web worker answers webhooks and never sends the
outbox nor schedules; of several processes on PostgreSQL only the elected one dispatches, so
one bot token keeps one rate budget, and another takes over when it stops."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.channels.delivery import RateLimits
from bot.db import Database
from bot.leadership import AdvisoryLockElection
from bot.messages import Channel, Reply
from bot.models import OutboxMessage, utcnow
from bot.runtime import Bot, LeaderWork, PollingOnWebWorker, Role, run_messengers, running_bot
from bot.services import Services, Shared
from bot.settings import Settings
from bot.texts import text
from tests.fakes.telegram_api import FakeTelegramServer
from tests.outbox_harness import add_unit
from tests.secret import TEST_SECRET_KEY

SECRET = "roles-test-secret"
# 20 a second with bursts of 5: two dispatchers pacing alone would send 40 a second.
LIMITS = RateLimits(per_second=20, burst=5, per_chat_interval=0.0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _queue(database: Database, member_ids: list[int]) -> None:
    async with database.session() as session, session.begin():
        outbox = Services.for_session(session, Shared(Settings())).outbox
        await outbox.enqueue_members(member_ids, Reply("Thông báo"), kind="notice", now=utcnow())


async def _pending(database: Database) -> int:
    async with database.session() as session:
        rows = await session.scalars(select(OutboxMessage.status))
        return sum(1 for status in rows if status == "pending")


async def test_a_web_worker_refuses_to_poll(database_url: str, database: Database) -> None:
    settings = Settings.from_mapping(
        {
            "SOTAY_DATABASE_URL": database_url,
            "TELEGRAM_TOKEN": "1:polling",
            "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
        }
    )
    with pytest.raises(PollingOnWebWorker, match="TELEGRAM_WEBHOOK_URL"):
        await run_messengers(settings, host="127.0.0.1", stop=asyncio.Event(), role=Role.WEB)


async def test_a_web_worker_answers_webhooks_and_never_sends_the_outbox(
    database_url: str, database: Database
) -> None:
    unit = await add_unit(database, ["Tỉnh", "Chi bộ Web"], linked=3)
    await _queue(database, unit.member_ids)
    port = _free_port()
    async with FakeTelegramServer() as server:
        settings = Settings.from_mapping(
            {
                "SOTAY_DATABASE_URL": database_url,
                "TELEGRAM_TOKEN": server.token,
                "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
                "TELEGRAM_BASE_URL": server.base_url,
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/telegram/webhook",
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "SOTAY_HTTP_PORT": str(port),
            }
        )
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_messengers(settings, host="127.0.0.1", stop=stop, role=Role.WEB)
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(100):
                    try:
                        async with http.get(f"{base}/readyz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
                update = server.make_message_update(4242, "/start")
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                async with http.post(
                    f"{base}/telegram/webhook", json=update, headers=headers
                ) as response:
                    assert response.status == 200
                welcome, _consent = await server.wait_for("sendMessage", 2, chat_id=4242)
                assert welcome.params["text"] == text("start.welcome")
                await asyncio.sleep(2.5)  # longer than a dispatcher's poll interval
                async with http.get(f"{base}/metrics") as response:
                    assert response.status == 200
                    scraped = await response.text()
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
    # The notices are for the elected process: nothing sent them from here.
    assert await _pending(database) == 3
    assert [m["chat_id"] for m in server.sent_messages()] == [4242, 4242]
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
    }
    answered = (("messenger", "telegram"), ("outcome", "answered"))
    assert samples[("sotay_updates_total", answered)] == 1
    assert samples[("sotay_outbox_depth", (("messenger", "telegram"), ("status", "pending")))] == 3
    assert samples[("sotay_reply_seconds_count", (("messenger", "telegram"),))] == 1


class Recording:
    """A Telegram sender that records when it sent what, for the rate-budget check."""

    channel = Channel.TELEGRAM
    limits = LIMITS
    numbered_choices = False

    def __init__(self, sent: list[tuple[float, str, str]], name: str) -> None:
        self._sent = sent
        self._name = name

    async def deliver(self, chat_id: str, reply: Reply) -> str:
        self._sent.append((time.monotonic(), self._name, chat_id))
        return str(len(self._sent))

    async def edit(self, chat_id: str, message_id: str, text: str) -> None:
        pass


@asynccontextmanager
async def _process(
    database_url: str, key: int, name: str, sent: list[tuple[float, str, str]]
) -> AsyncIterator[Bot]:
    """One `sotay run --jobs` process's work, in this test's event loop."""
    database = Database(database_url)
    election = AdvisoryLockElection(database_url, key=key, check_every=0.2)
    settings = Settings.from_mapping({"SOTAY_DATABASE_URL": database_url})
    try:
        async with running_bot(
            settings,
            database,
            {Channel.TELEGRAM: Recording(sent, name)},
            role=Role.JOBS,
            leadership=election,
        ) as bot:
            yield bot
    finally:
        await database.dispose()


async def _wait_for(condition: Callable[[], bool], seconds: float) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "timed out"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_of_two_processes_only_the_leader_sends_within_one_budget_and_the_other_takes_over(
    database_url: str, database: Database
) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("several processes need PostgreSQL (set SOTAY_TEST_DATABASE_URL)")
    key = random.randrange(1, 2**62)
    first = await add_unit(database, ["Tỉnh", "Chi bộ A"], linked=60, first_chat=20_000)
    later = await add_unit(database, ["Tỉnh", "Chi bộ B"], linked=10, first_chat=30_000)
    sent: list[tuple[float, str, str]] = []
    stacks = {name: AsyncExitStack() for name in ("a", "b")}
    try:
        bots = {
            name: await stack.enter_async_context(_process(database_url, key, name, sent))
            for name, stack in stacks.items()
        }
        await _wait_for(lambda: any(b.leadership.held for b in bots.values()), 10)
        await _queue(database, first.member_ids)
        await _wait_for(lambda: len(sent) >= 60, 20)
        await asyncio.sleep(0.5)
        # Sixty sends, once each, all from the leader, within 20/s with bursts of 5.
        assert sorted(chat for _, _, chat in sent) == sorted(str(c) for c in first.chats)
        senders = {name for _, name, _ in sent}
        assert len(senders) == 1
        times = [at for at, _, _ in sent]
        busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
        assert busiest <= LIMITS.per_second + LIMITS.burst
        (leader,) = senders
        follower = "b" if leader == "a" else "a"
        # The leader stops; rows queued meanwhile go out from the other, once.
        stopped = time.monotonic()
        await stacks.pop(leader).aclose()
        await _queue(database, later.member_ids)
        await _wait_for(lambda: len(sent) >= 70, 10)
        assert time.monotonic() - stopped < 10
        assert bots[follower].leadership.held
        assert sorted(chat for _, _, chat in sent[60:]) == sorted(str(c) for c in later.chats)
        assert {name for _, name, _ in sent[60:]} == {follower}
        await asyncio.sleep(0.5)
        assert len(sent) == 70
    finally:
        for stack in stacks.values():
            await stack.aclose()


async def test_leader_work_stops_at_once_and_starts_again_for_a_new_term(
    database_url: str, database: Database
) -> None:
    """Leadership lost: no dispatcher, no scheduler job after stop(); elected again, a new
    term runs both again (an APScheduler that was shut down cannot be restarted)."""
    sent: list[tuple[float, str, str]] = []
    settings = Settings.from_mapping({"SOTAY_DATABASE_URL": database_url})
    work = LeaderWork(database, settings, {Channel.TELEGRAM: Recording(sent, "a")})
    unit = await add_unit(database, ["Tỉnh", "Chi bộ C"], linked=2, first_chat=40_000)
    for term in range(2):
        await work.start()
        await asyncio.wait_for(work.ready.wait(), 10)
        assert work.dispatcher is not None
        # Meeting reminders, quiz windows, the question a day, the probationary year.
        assert [type(w).__name__ for w in work.due_work] == [
            "ReminderScheduler",
            "QuizScheduler",
            "DailyScheduler",
            "ProbationScheduler",
        ]
        await _queue(database, unit.member_ids)
        work.wake()
        wanted = 2 * (term + 1)
        await _wait_for(lambda wanted=wanted: len(sent) == wanted, 10)
        await work.stop()
        assert work.dispatcher is None and work.due_work == []
    await _queue(database, unit.member_ids)
    work.wake()  # no-op: nobody dispatches after the term ended
    await asyncio.sleep(0.5)
    assert len(sent) == 4
    assert await _pending(database) == 2
