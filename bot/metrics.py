"""What an operator watches, in the Prometheus format (prometheus-client): updates handled,
reply latency, handler errors, outbox depth, sends by result, whether this process leads,
and handbook questions answered or not found.

One `Metrics` per process, with its own registry (tests make as many as they like); each
worker is scraped on its own port, so counters are per process and Prometheus adds them up
(`sum by (outcome) (rate(sotay_updates_total[5m]))`). The outbox depth is the database's,
the same from every process: take `max` of it, not `sum`.

    metrics = Metrics()
    metrics.update_handled(Channel.TELEGRAM, Outcome.ANSWERED, seconds=0.012)
    metrics.watch_outbox(database)       # queried when scraped, at most every few seconds
    metrics.watch_leadership(leadership)
    app.router.add_get("/metrics", metrics_handler(metrics))
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bot.channels.delivery import DeliveryError, RecipientBlocked, RetryLater
from bot.db import Database
from bot.leadership import Leadership
from bot.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

# Seconds from an update's arrival to the last reply sent: a member notices past ~1 s.
REPLY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OUTBOX_CACHE_SECONDS = 5.0  # scrapes closer together than this reuse the last count
OUTBOX_QUERY_TIMEOUT = 2.0
# Rows the dispatcher still has to settle; final ones (sent, failed...) are counted by
# sotay_sends_total instead, since counting them would scan the whole history.
WAITING = ("pending", "sending")


class Outcome(StrEnum):
    """What became of one incoming update."""

    ANSWERED = "answered"  # the conversation ran and its replies were sent
    IGNORED = "ignored"  # not for the bot (a group chat, an edit, an unknown kind)
    ERROR = "error"  # a handler failed (the member got the apology) or sending failed


class SendResult(StrEnum):
    """The outcome of one outbox send."""

    SENT = "sent"
    RATE_LIMITED = "429"  # put back and retried after the messenger's retry_after
    BLOCKED = "blocked"  # the member blocked the bot: the account gets no more
    RETRY = "retry"  # a transient error: tried again with backoff
    FAILED = "failed"  # refused for good, or out of attempts


def send_result(error: DeliveryError | None, *, will_retry: bool) -> SendResult:
    """What to count for a send the dispatcher settled: `error` is what the sender raised
    (None: sent), `will_retry` whether the row goes back to the queue."""
    if error is None:
        return SendResult.SENT
    if isinstance(error, RetryLater):
        return SendResult.RATE_LIMITED
    if isinstance(error, RecipientBlocked):
        return SendResult.BLOCKED
    return SendResult.RETRY if will_retry else SendResult.FAILED


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, memory, fds
        PlatformCollector(registry=self.registry)
        self._updates = Counter(
            "sotay_updates",
            "Incoming updates handled, by messenger and outcome.",
            ["messenger", "outcome"],
            registry=self.registry,
        )
        self._reply_seconds = Histogram(
            "sotay_reply_seconds",
            "Seconds from an update's arrival to its last reply sent.",
            ["messenger"],
            buckets=REPLY_BUCKETS,
            registry=self.registry,
        )
        self._handler_errors = Counter(
            "sotay_handler_errors",
            "Updates whose handler raised (the member got the apology).",
            ["messenger"],
            registry=self.registry,
        )
        self._sends = Counter(
            "sotay_sends",
            "Outbox sends, by messenger and result.",
            ["messenger", "result"],
            registry=self.registry,
        )
        self._handbook = Counter(
            "sotay_handbook_questions",
            "Handbook questions, answered or not found.",
            ["result"],
            registry=self.registry,
        )
        self._leader = Gauge(
            "sotay_leader",
            "1 while this process runs the schedulers and the dispatcher.",
            registry=self.registry,
        )
        self._outbox: OutboxDepth | None = None

    # --- Recording --------------------------------------------------------------------------

    def update_handled(self, messenger: str, outcome: Outcome, *, seconds: float) -> None:
        """One update done; `seconds` from its arrival to the last reply sent."""
        self._updates.labels(messenger, outcome).inc()
        if outcome is not Outcome.IGNORED:
            self._reply_seconds.labels(messenger).observe(seconds)

    def handler_error(self, messenger: str) -> None:
        self._handler_errors.labels(messenger).inc()

    def send(self, messenger: str, result: SendResult) -> None:
        self._sends.labels(messenger, result).inc()

    def handbook_question(self, *, answered: bool) -> None:
        self._handbook.labels("answered" if answered else "not_found").inc()

    # --- Sources read when scraped -----------------------------------------------------------

    def watch_leadership(self, leadership: Leadership) -> None:
        self._leader.set_function(lambda: 1.0 if leadership.held else 0.0)

    def watch_outbox(
        self,
        database: Database,
        *,
        cache_seconds: float = OUTBOX_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> OutboxDepth:
        """Counts the outbox when scraped, at most every `cache_seconds`."""
        self._outbox = OutboxDepth(database, cache_seconds=cache_seconds, clock=clock)
        self.registry.register(self._outbox)
        return self._outbox

    async def refresh(self) -> None:
        """Reads what is counted in the database; called before each scrape."""
        if self._outbox is not None:
            await self._outbox.refresh()


class OutboxDepth(Collector):
    """Rows waiting in the outbox by messenger and status, and how long the oldest due one
    has waited; two queries on the outbox's status index, at most every `cache_seconds`."""

    def __init__(
        self,
        database: Database,
        *,
        cache_seconds: float = OUTBOX_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._database = database
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._now = now
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self._depth: list[tuple[str, str, int]] = []
        self._oldest_due: float | None = None
        self._reachable = True
        self.queries = 0  # how many times the database was asked (for tests)

    async def refresh(self) -> None:
        async with self._lock:  # scrapes at once share one query
            if self._read_at is not None and self._clock() - self._read_at < self._cache_seconds:
                return
            try:
                await asyncio.wait_for(self._query(), OUTBOX_QUERY_TIMEOUT)
            except Exception as error:
                # The scrape still answers (without these figures): /readyz says why.
                if self._reachable:
                    log.warning("metrics: outbox depth not counted: %s", type(error).__name__)
                self._reachable = False
                self._depth, self._oldest_due, self._read_at = [], None, None
                return
            self._reachable = True
            self._read_at = self._clock()

    async def _query(self) -> None:
        self.queries += 1
        now = self._now()
        async with self._database.session() as session:
            rows = await session.execute(
                select(OutboxMessage.channel, OutboxMessage.status, func.count())
                .where(OutboxMessage.status.in_(WAITING))
                .group_by(OutboxMessage.channel, OutboxMessage.status)
            )
            depth = [(channel or "none", status, count) for channel, status, count in rows]
            oldest = await session.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now
                )
            )
        self._depth = sorted(depth)
        self._oldest_due = None if oldest is None else (now - oldest).total_seconds()

    def collect(self) -> Iterable[Metric]:
        if self._read_at is None:
            return []
        depth = GaugeMetricFamily(
            "sotay_outbox_depth",
            "Outbox rows not yet settled, by messenger and status (the database's figure).",
            labels=["messenger", "status"],
        )
        for channel, status, count in self._depth:
            depth.add_metric([channel, status], count)
        oldest = GaugeMetricFamily(
            "sotay_outbox_oldest_due_seconds",
            "How long the oldest pending row that is due has waited (0: none waits).",
            value=max(self._oldest_due or 0.0, 0.0),
        )
        return [depth, oldest]

    def describe(self) -> Sequence[Metric]:
        return []  # the families are only known once counted


def metrics_handler(metrics: Metrics) -> Handler:
    """The aiohttp handler for GET /metrics, in the format the scraper asks for (the
    Prometheus text format, or OpenMetrics)."""

    async def handle(request: web.Request) -> web.Response:
        await metrics.refresh()
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encoder(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": content_type})

    return handle
