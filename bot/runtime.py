"""Wiring for a running process: the database, the conversation core and the work the bot
does on its own (the outbox dispatcher, the reminder and quiz schedulers, the secretaries'
nudges), then the messengers that have tokens and the web app, until a stop signal. The
console chat runs the same core and background work, with console accounts as one more
messenger.

With several processes on PostgreSQL (`sotay run --web` workers behind nginx, `sotay run
--jobs` beside them), the work the bot does on its own runs in exactly one of them at a
time, elected with an advisory lock (bot/leadership.py, LeaderWork below); on SQLite there
is one process and it leads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TextIO

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.console import ConsoleChat, Seat, banner, open_terminal
from bot.channels.console_delivery import ConsoleSender
from bot.channels.delivery import RateLimits, Sender
from bot.channels.telegram import TelegramChannel, TelegramFiles, TelegramSender
from bot.channels.webapp import build_web_app
from bot.channels.zalo import ZaloChannel, ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.demo import find_seat
from bot.leadership import Leadership, SingleProcess, leadership_for
from bot.messages import Channel
from bot.metrics import Metrics
from bot.migrate import open_database
from bot.models import utcnow
from bot.readiness import Readiness
from bot.services import Services, Shared
from bot.services.handbook import load_index
from bot.settings import Settings
from bot.web.app import build_admin_app
from handlers import build_router
from handlers.notices import render_notice
from jobs.daily import DailyScheduler
from jobs.dispatcher import Dispatcher, DispatchSettings
from jobs.housekeeping import Housekeeping, schedule_housekeeping
from jobs.nudges import SecretaryNudges, schedule_nudges
from jobs.probation import ProbationScheduler
from jobs.quizzes import QuizScheduler
from jobs.reminders import ReminderScheduler
from jobs.wakeups import DueWork

log = logging.getLogger(__name__)

# At the end of piped console input, how long to wait for what the last lines set off.
SETTLE_TIMEOUT = 20.0
SETTLE_POLL = 0.4
# How long a `sotay run` on PostgreSQL waits to be elected (and catch up) before it answers.
FIRST_TERM_WAIT = 3.0


@asynccontextmanager
async def open_senders(
    settings: Settings, *, enabled: bool = True
) -> AsyncIterator[dict[str, Sender]]:
    """A sender per messenger that has a token, for the outbox dispatcher (none when not
    `enabled`: a --web worker never dispatches)."""
    senders: dict[str, TelegramSender | ZaloSender] = {}
    if enabled and settings.telegram_token:
        limits = RateLimits(settings.telegram_rate_per_second, settings.telegram_burst, 1.0)
        senders[Channel.TELEGRAM] = TelegramSender(settings, limits=limits)
    if enabled and settings.zalo_token:
        senders[Channel.ZALO] = ZaloSender(settings)
    started = []
    try:
        for sender in senders.values():
            await sender.start()
            started.append(sender)
        yield dict(senders)
    finally:
        for sender in started:
            await sender.stop()


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(claim_timeout=timedelta(seconds=settings.outbox_claim_timeout))


class Role(StrEnum):
    """What one `sotay run` process does."""

    ALL = "all"  # everything (the default): answers updates, stands for the elected work
    WEB = "web"  # `--web`: answers webhooks only; never dispatches nor schedules
    JOBS = "jobs"  # `--jobs`: stands for the elected work only (dispatcher and schedulers)


class LeaderWork:
    """What only the elected process does: the outbox dispatcher and the schedulers (meeting
    reminders, quiz events, the secretaries' nudges, the daily housekeeping and retention
    purge). Started when
    elected, stopped when not.

    One rate budget per bot token (issue #16.2) is kept by only the elected process
    dispatching: one Dispatcher, so one Pacer per token in the whole deployment, and its
    29.5/s is the token's 29.5/s. Sharing a budget through PostgreSQL instead would cost a
    round trip per send and a clock shared across machines, for no gain: one process sends
    30/s with a tenth of a core. Outbox rows are still claimed FOR UPDATE SKIP LOCKED and
    scheduled sends keyed (bot/services/outbox_once.py), so the moment two terms overlap
    in a failover sends nothing twice."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        senders: Mapping[str, Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
    ) -> None:
        self._database = database
        self._settings = settings
        self._senders = senders
        self._clock = clock
        self._metrics = metrics
        self.dispatcher: Dispatcher | None = None
        self.due_work: list[DueWork] = []
        self.ready = asyncio.Event()  # set once a term's catch-up has run
        self._stop = asyncio.Event()
        self._scheduler: AsyncIOScheduler | None = None
        self._quizzes: QuizScheduler | None = None
        self._daily: DailyScheduler | None = None
        self._dispatching: asyncio.Task[None] | None = None
        self._catching_up: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Rows were queued (Shared.notify_outbox); a no-op while another process leads:
        its dispatcher finds them within its poll interval."""
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def poke_schedule(self) -> None:
        """A quiz was scheduled or a daily question's time chosen in chat
        (Shared.notify_schedule)."""
        for work in (self._quizzes, self._daily):
            if work is not None:
                work.poke()

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self.dispatcher = Dispatcher(
            self._database,
            self._senders,
            settings=dispatch_settings(self._settings),
            clock=self._clock,
            metrics=self._metrics,
        )
        self._dispatching = asyncio.create_task(self.dispatcher.run(self._stop))
        # A new scheduler each term: a shut-down APScheduler cannot be started again.
        self._scheduler = AsyncIOScheduler(timezone=self._settings.timezone)
        common = {"clock": self._clock, "notify_outbox": self.wake, "scheduler": self._scheduler}
        reminders = ReminderScheduler(self._database, self._settings, **common)
        self._quizzes = QuizScheduler(self._database, self._settings, **common)
        self._daily = DailyScheduler(self._database, self._settings, **common)
        nudges = SecretaryNudges(
            self._database, self._settings, clock=self._clock, notify_outbox=self.wake
        )
        housekeeping = Housekeeping(self._database, self._settings, clock=self._clock)
        probation = ProbationScheduler(self._database, self._settings, **common)
        self.due_work = [reminders, self._quizzes, self._daily, probation]
        schedule_nudges(self._scheduler, nudges)
        schedule_housekeeping(self._scheduler, housekeeping)
        # The catch-ups as a task: the election watches its lock only once start() returns.
        self._catching_up = asyncio.create_task(self._catch_up(self.due_work, nudges, housekeeping))

    async def _catch_up(
        self, due_work: list[DueWork], nudges: SecretaryNudges, housekeeping: Housekeeping
    ) -> None:
        try:
            for work in due_work:
                await work.start()
            await nudges.run()  # a day the deployment had no leader
            await housekeeping.run()
        except Exception:
            log.exception("leader work: catching up failed; the schedules retry later")
        finally:
            self.ready.set()

    async def stop(self) -> None:
        """Stops at once: no job starts after this; the dispatcher settles the batch in hand."""
        self._stop.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._catching_up is not None:
            self._catching_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._catching_up
        if self._dispatching is not None:
            await self._dispatching
        self.dispatcher, self._quizzes, self._daily, self._scheduler = None, None, None, None
        self._dispatching = self._catching_up = None
        self.due_work = []
        self.ready.clear()


class Bot:
    """The conversation core of a running process, and its work in the background."""

    def __init__(
        self,
        core: ChatCore,
        shared: Shared,
        database: Database,
        channels: list[str],
        work: LeaderWork,
        leadership: Leadership | None,
    ) -> None:
        self.core = core
        self.shared = shared
        self.work = work
        self.leadership = leadership
        self._database = database
        self._channels = channels

    async def settled(self) -> bool:
        """Nothing is due now: no scheduled work, and no message waiting to be sent on
        this process's messengers."""
        now = self.shared.clock()
        for work in self.work.due_work:
            upcoming = await work.next_due()
            if upcoming is not None and upcoming <= now:
                return False
        async with self._database.session() as session:
            outbox = Services.for_session(session, self.shared).outbox
            return not await outbox.waiting(self._channels, now)


@asynccontextmanager
async def running_bot(
    settings: Settings,
    database: Database,
    senders: Mapping[str, Sender],
    *,
    clock: Callable[[], datetime] = utcnow,
    role: Role = Role.ALL,
    metrics: Metrics | None = None,
    leadership: Leadership | None = None,
) -> AsyncIterator[Bot]:
    """The conversation core, with the process standing for the elected work (LeaderWork)
    unless it only answers webhooks. On SQLite the process leads at once, and the first
    catch-up (reminders, quizzes, nudges) has run when this yields."""
    work = LeaderWork(database, settings, senders, clock=clock, metrics=metrics)
    shared = Shared(
        settings,
        load_index(),
        clock=clock,
        notify_outbox=work.wake,
        notify_schedule=work.poke_schedule,
        render=render_notice,
        metrics=metrics,
    )
    stop = asyncio.Event()
    electing: asyncio.Task[None] | None = None
    if role is not Role.WEB:
        leadership = leadership or leadership_for(settings.database_url)
        if metrics is not None:
            metrics.watch_leadership(leadership)
        electing = asyncio.create_task(leadership.run(work.start, work.stop, stop))
        if isinstance(leadership, SingleProcess):
            await _first_done(work.ready.wait(), electing)
        elif role is Role.ALL:
            # Usually the only process: what was due while it was down is sent before it
            # answers. If another process leads, it goes on after this wait.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first_done(work.ready.wait(), electing), FIRST_TERM_WAIT)
    else:
        leadership = None
    try:
        yield Bot(
            ChatCore(database, build_router(), shared),
            shared,
            database,
            list(senders),
            work,
            leadership,
        )
    finally:
        stop.set()
        if electing is not None:
            await electing  # stops the work if it led, then releases the lock


async def _first_done(waiting: Awaitable[object], electing: asyncio.Task[None]) -> None:
    """Waits for `waiting`, or for the election to end (it failed: raise its error)."""
    ready = asyncio.ensure_future(waiting)
    try:
        await asyncio.wait([ready, electing], return_when=asyncio.FIRST_COMPLETED)
    finally:
        ready.cancel()
    if electing.done():
        electing.result()


class PollingOnWebWorker(ValueError):
    """`sotay run --web` with a messenger polling: two pollers of one token get 409s."""


async def run_messengers(
    settings: Settings, *, host: str, stop: asyncio.Event, role: Role = Role.ALL
) -> None:
    """Runs until `stop`, as `role` says: Telegram and Zalo (polling or webhook) with the
    web app, and (unless --web) standing for the dispatcher and schedulers; --jobs
    answers no update and serves only /healthz, /readyz and /metrics."""
    if role is Role.WEB and (
        (settings.telegram_token and not settings.telegram_webhook_mode)
        or (settings.zalo_token and not settings.zalo_webhook_mode)
    ):
        raise PollingOnWebWorker(
            "sotay run --web answers webhooks only: set TELEGRAM_WEBHOOK_URL / ZALO_WEBHOOK_URL"
        )
    metrics = Metrics()
    async with (
        open_database(settings) as database,
        open_senders(settings, enabled=role is not Role.WEB) as senders,
        running_bot(settings, database, senders, role=role, metrics=metrics) as bot,
    ):
        metrics.watch_outbox(database)
        answers = role is not Role.JOBS
        telegram = (
            TelegramChannel(settings, bot.core, database=database)
            if answers and settings.telegram_token
            else None
        )
        if telegram is not None:
            # Handlers fetch files members send (question sheets) through the shared services.
            bot.shared.files.register(Channel.TELEGRAM, TelegramFiles(telegram.application.bot))
        zalo = (
            ZaloChannel(settings, bot.core, database=database)
            if answers and settings.zalo_token
            else None
        )
        started: dict[str, Callable[[], bool]] = {}
        if telegram is not None:
            started[Channel.TELEGRAM] = lambda: telegram.started
        if zalo is not None:
            started[Channel.ZALO] = lambda: zalo.started
        runner: web.AppRunner | None = None
        if settings.serves_http or role is Role.JOBS:
            app = build_web_app(
                telegram,
                settings.telegram_webhook_secret,
                zalo=zalo,
                zalo_secret=settings.zalo_webhook_secret,
                admin=build_admin_app(database, bot.shared),
                readiness=Readiness(database, started),
                metrics=metrics,
            )
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, host, settings.http_port).start()
            log.info("web app listening on %s:%s (%s)", host, settings.http_port, role)
        try:
            if telegram is not None:
                await telegram.start()
            if zalo is not None:
                await zalo.start()
            await stop.wait()
        finally:
            if telegram is not None:
                await telegram.stop()
            if zalo is not None:
                await zalo.stop()
            if runner is not None:
                await runner.cleanup()


async def run(settings: Settings, *, host: str, role: Role = Role.ALL) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await run_messengers(settings, host=host, stop=stop, role=role)


async def run_dispatcher(settings: Settings) -> None:
    """The elected work without the web app (`sotay dispatcher`): it stands for the same
    election as `sotay run`, so it never doubles a token's sending rate."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with open_database(settings) as database, open_senders(settings) as senders:
        work = LeaderWork(database, settings, senders)
        await leadership_for(settings.database_url).run(work.start, work.stop, stop)


@asynccontextmanager
async def serving_console(
    settings: Settings, database: Database, shared: Shared
) -> AsyncIterator[None]:
    """Beside the console chat, the web console on 127.0.0.1 when SOTAY_HTTP_PORT is set,
    so /dangnhap's link opens on demo data."""
    if not settings.http_port_set:
        yield
        return
    runner = web.AppRunner(build_web_app(None, None, admin=build_admin_app(database, shared)))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", settings.http_port).start()
        yield
    finally:
        await runner.cleanup()


class NoSeat(LookupError):
    """The demo data has no member holding the role asked for."""


async def _settle(bot: Bot, stop: asyncio.Event) -> None:
    """Waits until nothing is due or on its way (twice in a row: a notice's final report
    is queued just after its last delivery), at most SETTLE_TIMEOUT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT
    quiet = 0
    while quiet < 2 and loop.time() < deadline and not stop.is_set():
        await asyncio.sleep(SETTLE_POLL)
        quiet = quiet + 1 if await bot.settled() else 0


async def run_console(
    settings: Settings,
    role: str | None,
    stdin: TextIO,
    stdout: TextIO,
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """The console chat as the demo member holding `role` (by default the plain member),
    over the same core and background work as `sotay run`; the outbox delivers to console
    accounts. Messages for Telegram and Zalo stay in the outbox for `sotay run`. Ends at
    the end of input, or when `stop` is set (by default, by Ctrl+C or a stop signal)."""
    if stop is None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
    async with open_database(settings) as database:

        async def seats(wanted: str | None) -> Seat | None:
            async with database.session() as session, session.begin():
                return await find_seat(session, wanted)

        seat = await seats(role)
        if seat is None:
            assert role is not None  # without a role, an unlinked console account will do
            raise NoSeat(role)
        with open_terminal(stdin, stdout) as terminal:
            sender = ConsoleSender(terminal.show)
            # Seated before the dispatcher starts: what waited for this member shows first.
            sender.chat_id = seat.account
            terminal.show(banner(seat))
            async with (
                running_bot(settings, database, {Channel.CONSOLE: sender}) as bot,
                serving_console(settings, database, bot.shared),
            ):
                chat = ConsoleChat(bot.core, terminal, sender, seats)
                ended = await chat.run(seat, stop)
                if ended and not terminal.interactive:
                    await _settle(bot, stop)
            chat.close()
