"""/metrics: what was counted is what a Prometheus scrape reads, in its format."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.channels.console import CONSOLE_TRAITS
from bot.channels.delivery import (
    ChatNotFound,
    RecipientBlocked,
    RetryLater,
    SenderUnauthorized,
    TransientError,
)
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Incoming
from bot.metrics import Metrics, Outcome, SendResult, metrics_handler, send_result
from bot.models import OutboxMessage, utcnow
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice


@pytest.fixture
async def scrape_client() -> AsyncIterator[tuple[Metrics, TestClient]]:
    metrics = Metrics()
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(metrics))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield metrics, client
    finally:
        await client.close()


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


class Held:
    def __init__(self) -> None:
        self.held = False


async def test_counts_recorded_are_scraped(scrape_client: tuple[Metrics, TestClient]) -> None:
    metrics, client = scrape_client
    metrics.update_handled("telegram", Outcome.ANSWERED, seconds=0.012)
    metrics.update_handled("telegram", Outcome.ANSWERED, seconds=0.3)
    metrics.update_handled("zalo", Outcome.ERROR, seconds=0.02)
    metrics.update_handled("telegram", Outcome.IGNORED, seconds=0.0)
    metrics.handler_error("zalo")
    for result in (SendResult.SENT, SendResult.SENT, SendResult.RATE_LIMITED, SendResult.BLOCKED):
        metrics.send("telegram", result)
    metrics.send("zalo", SendResult.FAILED)
    metrics.handbook_question(answered=True)
    metrics.handbook_question(answered=True)
    metrics.handbook_question(answered=False)

    samples = await scrape(client)

    def value(name: str, **labels: str) -> float | None:
        return samples.get((name, tuple(sorted(labels.items()))))

    assert value("sotay_updates_total", messenger="telegram", outcome="answered") == 2
    assert value("sotay_updates_total", messenger="zalo", outcome="error") == 1
    assert value("sotay_updates_total", messenger="telegram", outcome="ignored") == 1
    assert value("sotay_handler_errors_total", messenger="zalo") == 1
    assert value("sotay_sends_total", messenger="telegram", result="sent") == 2
    assert value("sotay_sends_total", messenger="telegram", result="429") == 1
    assert value("sotay_sends_total", messenger="telegram", result="blocked") == 1
    assert value("sotay_sends_total", messenger="zalo", result="failed") == 1
    assert value("sotay_handbook_questions_total", result="answered") == 2
    assert value("sotay_handbook_questions_total", result="not_found") == 1
    # Ignored updates have no reply, so no latency: two Telegram replies, 12 and 300 ms.
    assert value("sotay_reply_seconds_count", messenger="telegram") == 2
    assert value("sotay_reply_seconds_sum", messenger="telegram") == pytest.approx(0.312)
    assert value("sotay_reply_seconds_bucket", messenger="telegram", le="0.025") == 1
    assert value("sotay_reply_seconds_bucket", messenger="telegram", le="0.5") == 2
    assert value("sotay_leader") == 0
    assert value("process_cpu_seconds_total") is not None
    # No database watched: no outbox figures rather than made-up ones.
    assert not any(name.startswith("sotay_outbox") for name, _ in samples)


async def test_the_leader_gauge_follows_the_election(
    scrape_client: tuple[Metrics, TestClient],
) -> None:
    metrics, client = scrape_client
    leadership = Held()
    metrics.watch_leadership(leadership)  # type: ignore[arg-type]
    assert (await scrape(client))[("sotay_leader", ())] == 0
    leadership.held = True
    assert (await scrape(client))[("sotay_leader", ())] == 1


async def test_openmetrics_is_served_to_a_scraper_that_asks(
    scrape_client: tuple[Metrics, TestClient],
) -> None:
    metrics, client = scrape_client
    metrics.send("telegram", SendResult.SENT)
    response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    body = await response.text()
    assert 'sotay_sends_total{messenger="telegram",result="sent"} 1.0' in body
    assert body.endswith("# EOF\n")


def _row(status: str, channel: str = "telegram", *, due_minutes_ago: float = 0) -> OutboxMessage:
    now = utcnow()
    return OutboxMessage(
        kind="notice",
        channel=channel,
        chat_id="1",
        payload={"text": "x", "buttons": []},
        status=status,
        created_at=now,
        next_attempt_at=now - timedelta(minutes=due_minutes_ago),
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_outbox_depth_is_counted_when_scraped_and_cached_briefly(
    database: Database, scrape_client: tuple[Metrics, TestClient]
) -> None:
    metrics, client = scrape_client
    async with database.session() as session, session.begin():
        session.add_all(
            [
                _row("pending", due_minutes_ago=10),
                _row("pending", due_minutes_ago=1),
                _row("pending", "zalo"),
                _row("sending"),
                *(_row("sent") for _ in range(5)),
                _row("failed"),
            ]
        )
    clock = Clock()
    depth = metrics.watch_outbox(database, cache_seconds=5, clock=clock)

    samples = await scrape(client)
    assert samples[("sotay_outbox_depth", (("messenger", "telegram"), ("status", "pending")))] == 2
    assert samples[("sotay_outbox_depth", (("messenger", "telegram"), ("status", "sending")))] == 1
    assert samples[("sotay_outbox_depth", (("messenger", "zalo"), ("status", "pending")))] == 1
    assert not [key for key in samples if key[0] == "sotay_outbox_depth" and "sent" in str(key)]
    assert 599 < samples[("sotay_outbox_oldest_due_seconds", ())] < 660
    assert depth.queries == 1

    async with database.session() as session, session.begin():
        session.add(_row("pending"))
    await scrape(client)
    clock.now += 4.9  # within the cache: the database is not asked again
    samples = await scrape(client)
    assert depth.queries == 1
    assert samples[("sotay_outbox_depth", (("messenger", "telegram"), ("status", "pending")))] == 2
    clock.now += 0.2
    samples = await scrape(client)
    assert depth.queries == 2
    assert samples[("sotay_outbox_depth", (("messenger", "telegram"), ("status", "pending")))] == 3


async def test_watch_outbox_registers_the_collector(
    database: Database, scrape_client: tuple[Metrics, TestClient]
) -> None:
    metrics, client = scrape_client
    metrics.watch_outbox(database)
    samples = await scrape(client)
    assert samples[("sotay_outbox_oldest_due_seconds", ())] == 0


async def test_a_scrape_while_the_database_is_away_still_answers(
    scrape_client: tuple[Metrics, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    metrics, client = scrape_client
    # Nothing listens on port 1: every query fails at once.
    away = Database("postgresql+asyncpg://sotay:sotay@127.0.0.1:1/none")
    metrics.watch_outbox(away, cache_seconds=0)
    metrics.update_handled("telegram", Outcome.ANSWERED, seconds=0.01)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.metrics"):
            for _ in range(3):
                samples = await scrape(client)
                assert not any(name.startswith("sotay_outbox") for name, _ in samples)
                key = (("messenger", "telegram"), ("outcome", "answered"))
                assert samples[("sotay_updates_total", key)] == 1
    finally:
        await away.dispose()
    said = [r.getMessage() for r in caplog.records if r.name == "bot.metrics"]
    assert len(said) == 1 and said[0].startswith("metrics: outbox depth not counted")


def test_each_dispatcher_outcome_is_counted_as_its_result() -> None:
    assert send_result(None, will_retry=False) is SendResult.SENT
    assert (
        send_result(RetryLater("429 flood control", 3), will_retry=True) is SendResult.RATE_LIMITED
    )
    assert send_result(RecipientBlocked("403"), will_retry=False) is SendResult.BLOCKED
    assert send_result(TransientError("network"), will_retry=True) is SendResult.RETRY
    assert send_result(TransientError("network"), will_retry=False) is SendResult.FAILED
    assert send_result(ChatNotFound("400 chat not found"), will_retry=False) is SendResult.FAILED
    # A refused token keeps the rows for later: retried, not failed.
    assert send_result(SenderUnauthorized("401"), will_retry=True) is SendResult.RETRY


async def test_a_conversation_is_counted_by_outcome_and_a_failing_handler_as_an_error(
    database: Database,
) -> None:
    """ChatCore.answer, as the adapters call it: an answered update, a handler that raises
    (the member gets the apology), and a reply that cannot be sent."""
    from bot.chat import ChatCore
    from bot.messages import ChannelTraits, Incoming, Reply
    from bot.router import Router
    from bot.services import Shared
    from bot.settings import Settings
    from bot.texts import text

    router = Router()
    router.fallback("unknown_command")(lambda _ctx: None)  # resolve() looks it up first

    @router.command("ok")
    async def ok(_ctx: object) -> list[Reply]:
        return [Reply("Được")]

    @router.command("hong")
    async def broken(_ctx: object) -> list[Reply]:
        raise RuntimeError("a bug")

    metrics = Metrics()
    core = ChatCore(database, router, Shared(Settings(), metrics=metrics))
    traits = ChannelTraits(has_buttons=True, text_limit=4096)
    sent: list[tuple[str, list[Reply]]] = []

    async def send(chat_id: str, replies: list[Reply]) -> None:
        sent.append((chat_id, replies))

    async def refused(_chat_id: str, _replies: list[Reply]) -> None:
        raise OSError("network")

    await core.answer(Incoming("telegram", "7", "7", text="/ok"), traits, send)
    await core.answer(Incoming("telegram", "7", "7", text="/hong"), traits, send)
    with pytest.raises(OSError):
        await core.answer(Incoming("telegram", "7", "7", text="/ok"), traits, refused)
    core.ignored("telegram")
    assert [replies[0].text for _, replies in sent] == ["Được", text("errors.internal")]
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(
            __import__("prometheus_client").generate_latest(metrics.registry).decode()
        )
        for s in family.samples
    }
    updates = "sotay_updates_total"
    assert samples[(updates, (("messenger", "telegram"), ("outcome", "answered")))] == 1
    assert samples[(updates, (("messenger", "telegram"), ("outcome", "error")))] == 2
    assert samples[(updates, (("messenger", "telegram"), ("outcome", "ignored")))] == 1
    assert samples[("sotay_handler_errors_total", (("messenger", "telegram"),))] == 1
    assert samples[("sotay_reply_seconds_count", (("messenger", "telegram"),))] == 3


async def test_handbook_questions_asked_in_a_conversation_are_scraped(
    database_url: str, database: Database, handbook: HandbookIndex
) -> None:
    """Through the real handlers: a question the handbook answers and one it does not."""
    settings = Settings.from_mapping(
        {"SOTAY_DATABASE_URL": database_url, "SOTAY_PUBLIC_HANDBOOK": "1"}
    )
    metrics = Metrics()
    core = ChatCore(
        database, build_router(), Shared(settings, handbook, metrics=metrics, render=render_notice)
    )
    for question in ("đảng phí đóng bao nhiêu", "giá vàng hôm nay thế nào"):
        replies = await core.handle(Incoming("console", "5", "5", text=question), CONSOLE_TRAITS)
        assert replies and replies[0].text != text("errors.internal")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for s in family.samples
    }
    questions = "sotay_handbook_questions_total"
    assert samples[(questions, (("result", "answered"),))] == 1
    assert samples[(questions, (("result", "not_found"),))] == 1
